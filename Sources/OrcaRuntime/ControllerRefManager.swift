public import OrcaAPI
import OrcaStore

/// Claims pods for a controller as Kubernetes' `PodControllerRefManager.ClaimPods` does: keeps its
/// pods that still match the selector, releases those that stopped matching, adopts matching
/// orphans (after an uncached check that the controller still exists and is not being deleted),
/// and never touches pods controlled by others or terminating orphans. A `finalizer` (the Job
/// controller's `batch.kubernetes.io/job-tracking`) is added on adoption and removed on release.
public struct PodControllerRefManager: Sendable {
    /// The controller reference to set on adopted pods (`controller: true`).
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

    /// The pods the controller owns after claiming (adopted ones as they now are).
    public func claim(_ pods: [Pod], context: ReconcileContext) async throws -> [Pod] {
        let uid = owner.uid
        var claimed: [Pod] = []
        var canAdopt: Bool?
        for pod in pods {
            let matches = !selector.isEmpty && selector.matches(pod.metadata.labels)
            if let ref = PodUtil.controllerRef(pod) {
                guard ref.uid == uid else { continue }
                if matches {
                    claimed.append(pod)
                } else if !deleting {
                    try await Self.patch(pod, owners: pod.metadata.ownerReferences.filter { $0.uid != uid },
                                         finalizers: finalizer.map { f in pod.metadata.finalizers.filter { $0 != f } }, context: context)
                }
                continue
            }
            guard matches, !deleting, pod.metadata.deletionTimestamp == nil else { continue }
            if canAdopt == nil {
                let fresh = try context.client.store.get(kind: owner.kind, namespace: namespace, name: owner.name)
                canAdopt = fresh?.uid == uid && fresh?.deletionTimestamp == nil
            }
            guard canAdopt == true else { continue }
            var adopted = pod
            adopted.metadata.ownerReferences = pod.metadata.ownerReferences + [owner]
            if let finalizer, !pod.metadata.finalizers.contains(finalizer) { adopted.metadata.finalizers = pod.metadata.finalizers + [finalizer] }
            guard try await Self.patch(pod, owners: adopted.metadata.ownerReferences,
                                       finalizers: finalizer == nil ? nil : adopted.metadata.finalizers, context: context) else { continue }
            claimed.append(adopted)
        }
        return claimed
    }

    /// Merge-patches a pod's owner references and/or finalizers with a UID precondition; false
    /// when the pod is gone or is another pod by now.
    @discardableResult
    public static func patch(_ pod: Pod, owners: [OwnerReference]? = nil, finalizers: [String]? = nil,
                             context: ReconcileContext) async throws -> Bool {
        var metadata: JSONObject = ["uid": .string(pod.metadata.uid ?? "")]
        if let owners { metadata["ownerReferences"] = owners.isEmpty ? .null : .array(owners.map(\.json)) }
        if let finalizers { metadata["finalizers"] = finalizers.isEmpty ? .null : .array(finalizers.map(JSONValue.string)) }
        do {
            try await context.client.patch(kind: "Pod", namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "",
                                           mergePatch: ["metadata": .object(metadata)])
            return true
        } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
            return false
        }
    }
}

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
