public import OrcaAPI
import OrcaStore

/// Claims objects for a controller as Kubernetes' `ControllerRefManager` does (`ClaimPods`,
/// `ClaimControllerRevisions`): keeps its objects that still match the selector, releases those
/// that stopped matching, adopts matching orphans (after an uncached check that the controller
/// still exists and is not being deleted), and never touches objects controlled by others or
/// terminating orphans. A `finalizer` (the Job controller's `batch.kubernetes.io/job-tracking`)
/// is added on adoption and removed on release.
public struct ControllerRefManager: Sendable {
    /// The controller reference to set on adopted objects (`controller: true`).
    public let owner: OwnerReference
    public let namespace: String
    public let selector: LabelSelector
    /// Whether the controller is being deleted: then it neither adopts nor releases.
    public let deleting: Bool
    public let finalizer: String?

    public init(owner: OwnerReference, namespace: String, selector: LabelSelector, deleting: Bool, finalizer: String? = nil) {
        self.owner = owner
        self.namespace = namespace
        self.selector = selector
        self.deleting = deleting
        self.finalizer = finalizer
    }

    /// The objects the controller owns after claiming (adopted ones as they now are).
    public func claim<T: ResourceView>(_ objects: [T], context: ReconcileContext) async throws -> [T] {
        let uid = owner.uid
        var claimed: [T] = []
        var canAdopt: Bool?
        for object in objects {
            let metadata = object.metadata
            let matches = !selector.isEmpty && selector.matches(metadata.labels)
            if let ref = metadata.ownerReferences.first(where: { $0.controller == true }) {
                guard ref.uid == uid else { continue }
                if matches {
                    claimed.append(object)
                } else if !deleting {
                    try await Self.patch(object, owners: metadata.ownerReferences.filter { $0.uid != uid },
                                         finalizers: finalizer.map { f in metadata.finalizers.filter { $0 != f } }, context: context)
                }
                continue
            }
            guard matches, !deleting, metadata.deletionTimestamp == nil else { continue }
            if canAdopt == nil {
                let fresh = try context.client.store.get(kind: owner.kind, namespace: namespace, name: owner.name)
                canAdopt = fresh?.uid == uid && fresh?.deletionTimestamp == nil
            }
            guard canAdopt == true else { continue }
            var adopted = object
            adopted.metadata.ownerReferences = metadata.ownerReferences + [owner]
            if let finalizer, !metadata.finalizers.contains(finalizer) { adopted.metadata.finalizers = metadata.finalizers + [finalizer] }
            guard try await Self.patch(object, owners: adopted.metadata.ownerReferences,
                                       finalizers: finalizer == nil ? nil : adopted.metadata.finalizers, context: context) else { continue }
            claimed.append(adopted)
        }
        return claimed
    }

    /// Merge-patches an object's owner references and/or finalizers with a UID precondition;
    /// false when the object is gone or is another object by now.
    @discardableResult
    public static func patch<T: ResourceView>(_ object: T, owners: [OwnerReference]? = nil, finalizers: [String]? = nil,
                                              context: ReconcileContext) async throws -> Bool {
        var metadata: JSONObject = ["uid": .string(object.metadata.uid ?? "")]
        if let owners { metadata["ownerReferences"] = owners.isEmpty ? .null : .array(owners.map(\.json)) }
        if let finalizers { metadata["finalizers"] = finalizers.isEmpty ? .null : .array(finalizers.map(JSONValue.string)) }
        do {
            try await context.client.patch(kind: T.kind, namespace: object.metadata.namespace ?? "default", name: object.metadata.name ?? "",
                                           mergePatch: ["metadata": .object(metadata)])
            return true
        } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
            return false
        }
    }
}

/// The pod-claiming use of ``ControllerRefManager`` (ReplicaSet, Job, DaemonSet), under the name
/// Kubernetes gives it.
public typealias PodControllerRefManager = ControllerRefManager

extension Expectations {
    /// The bookkeeping a pod-owning controller does in `observe` (client-go's add/update/delete
    /// pod handlers): a pod controlled by an `ownerKind` object counts as an observed creation, or
    /// as an observed deletion once it has a deletionTimestamp or is gone; a deleted owner drops
    /// its expectations. Keys are `<namespace>/<owner name>`.
    public func observe(_ event: InformerEvent, ownerKind: String) {
        let record = event.record
        if record.kind == ownerKind {
            if case .deleted = event { delete("\(record.namespace)/\(record.name)") }
            return
        }
        guard record.kind == "Pod", let pod = Pod(record.object), let ref = PodUtil.controllerRef(pod), ref.kind == ownerKind else { return }
        let key = "\(record.namespace)/\(ref.name)"
        let podKey = "\(record.namespace)/\(record.name)"
        switch event {
        case .added:
            if pod.metadata.deletionTimestamp != nil { deletionObserved(key, key: podKey) } else { creationObserved(key) }
        case .updated(let old, _):
            if old.object[path: ["metadata", "deletionTimestamp"]] == nil, pod.metadata.deletionTimestamp != nil {
                deletionObserved(key, key: podKey)
            }
        case .deleted:
            deletionObserved(key, key: podKey)
        }
    }
}
