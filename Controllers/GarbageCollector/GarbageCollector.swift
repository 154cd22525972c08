public import Orca

/// The garbage collector for objects of kind `T` (one instance per kind in
/// ``GarbageCollectorKinds/all``; together they are Kubernetes' garbage collector):
///
/// - as a **dependent**: owners are looked up by kind, namespace and name and must have the
///   referenced UID. With no solid owner left (every owner missing, of another UID, or waiting
///   for its dependents in a foreground deletion) the object is deleted — in the foreground when
///   it blocks a waiting owner, else in the background; with some solid owners, only the dangling
///   and waiting references are removed.
/// - as an **owner** being deleted: with the `orphan` finalizer, its UID is removed from every
///   dependent's ownerReferences and then the finalizer; with `foregroundDeletion`, dependents
///   are deleted and the finalizer is removed once no dependent with `blockOwnerDeletion` is left.
public struct GarbageCollector<T: ResourceView>: Reconciler {
    public typealias Object = T
    public static var name: String { "garbagecollector" }

    public init() {}

    public static var configuration: ControllerConfiguration {
        var watches: [Watch] = []
        for kind in GarbageCollectorKinds.all {
            watches.append(Watch(kind, .custom { event, context in requests(for: event, kind: kind, context: context) }))
        }
        return ControllerConfiguration(
            watches: watches, workers: 20, watchesPrimary: false,
            indexes: [InformerIndex(kind: T.kind, name: GarbageCollectorKinds.ownerIndex) { record in
                // Read straight from the tree: this runs twice for every event of the kind.
                guard case .array(let owners)? = record.value(at: ["metadata", "ownerReferences"]) else { return [] }
                return owners.compactMap { $0["uid"]?.stringValue }
            }])
    }

    /// The `T` objects an event of `kind` concerns: the object itself when its owners or deletion
    /// state changed; its dependents when it went away or started deleting; its owners when it
    /// (a dependent) went away or changed owners.
    static func requests(for event: InformerEvent, kind: String, context: ObserveContext) -> [ReconcileRequest] {
        let record = event.record
        var relevant: Bool
        switch event {
        case .added(let r, _):
            relevant = r.value(at: ["metadata", "ownerReferences"])?.arrayValue?.isEmpty == false
                || r.value(at: ["metadata", "deletionTimestamp"]) != nil
        case .deleted: relevant = true
        case .updated(let old, let new):
            // Compared as JSON: most updates (status) change none of these, and parsing them is
            // the bulk of the cost.
            relevant = old.uid != new.uid || GarbageCollectorKinds.ownershipFields.contains { old.value(at: $0) != new.value(at: $0) }
        }
        guard relevant else { return [] }
        var out: [ReconcileRequest] = []
        if kind == T.kind, !event.isDeleted { out.append(ReconcileRequest(record)) }
        // Dependents (of kind T) of the object.
        let uid = record.uid
        if !uid.isEmpty {
            for dependent in context.snapshot(T.kind).byIndex(GarbageCollectorKinds.ownerIndex, uid) { out.append(ReconcileRequest(dependent)) }
        }
        // Owners (of kind T) of the object, which may be waiting for it.
        for owner in record.ownerReferences where owner.kind == T.kind {
            out.append(ReconcileRequest(namespace: ResourceKind.forKind(T.kind)?.namespaced == false ? "" : record.namespace, name: owner.name))
        }
        return out
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let record = context.snapshot(T.kind).get(namespace: request.namespace, name: request.name) else { return .done }
        let object = Unstructured(record.object)
        if object.deletionTimestamp != nil {
            if object.finalizers.contains("orphan") {
                try await orphanDependents(of: object, context: context)
                return .done
            }
            if object.finalizers.contains("foregroundDeletion") {
                try await deleteDependents(of: object, context: context)
                return .done
            }
        }
        if !object.ownerReferences.isEmpty {
            try await collect(object, context: context)
        }
        return .done
    }

    enum OwnerState { case solid, dangling, waiting, unresolvable }

    /// Classifies an owner reference: looks the owner up in the cache, confirming a missing or
    /// different owner with a live read (as upstream's uncached GET). A cluster-scoped dependent
    /// cannot have a namespaced owner: such a reference is unresolvable.
    func state(of owner: OwnerReference, dependent: Unstructured, context: ReconcileContext) async throws -> OwnerState {
        guard let kind = ResourceKind.forKind(owner.kind) else { return .solid }
        if dependent.namespace.isEmpty, kind.namespaced {
            await reportInvalidNamespace(owner, dependent: dependent, context: context)
            return .unresolvable
        }
        let namespace = kind.namespaced ? dependent.namespace : ""
        var found = context.snapshot(owner.kind).get(namespace: namespace, name: owner.name).map { Unstructured($0.object) }
        if found?.uid != owner.uid {
            found = try context.client.store.get(kind: owner.kind, namespace: namespace, name: owner.name)
        }
        guard let found, found.uid == owner.uid else {
            await reportInvalidNamespace(owner, dependent: dependent, context: context)
            return .dangling
        }
        if found.deletionTimestamp != nil, found.finalizers.contains("foregroundDeletion") { return .waiting }
        return .solid
    }

    /// The graph builder's `reportInvalidNamespaceOwnerRef`: when the owner's UID belongs to an
    /// object in another namespace than the dependent can name, a Warning `OwnerRefInvalidNamespace`
    /// about the dependent.
    func reportInvalidNamespace(_ owner: OwnerReference, dependent: Unstructured, context: ReconcileContext) async {
        guard !owner.uid.isEmpty, context.snapshot(owner.kind).list().contains(where: { $0.uid == owner.uid && $0.namespace != dependent.namespace })
        else { return }
        var reference = ObjectReference()
        reference.kind = dependent.kind
        reference.apiVersion = dependent.apiVersion
        reference.namespace = dependent.namespace.isEmpty ? nil : dependent.namespace
        reference.name = dependent.name
        reference.uid = dependent.uid
        let invalid = "[\(owner.apiVersion)/\(owner.kind), namespace: \(dependent.namespace), name: \(owner.name), uid: \(owner.uid)]"
        await context.events.reporting(as: "garbage-collector-controller").record(
            about: reference, type: "Warning", reason: "OwnerRefInvalidNamespace",
            message: "ownerRef \(invalid) does not exist in namespace \"\(dependent.namespace)\"")
    }

    func collect(_ object: Unstructured, context: ReconcileContext) async throws {
        guard object.deletionTimestamp == nil else { return }
        var solid: [OwnerReference] = []
        var gone: [OwnerReference] = []
        var blocksWaiting = false
        for owner in object.ownerReferences {
            switch try await state(of: owner, dependent: object, context: context) {
            case .solid: solid.append(owner)
            case .dangling: gone.append(owner)
            case .waiting:
                gone.append(owner)
                if owner.blockOwnerDeletion == true { blocksWaiting = true }
            case .unresolvable:
                // Upstream's attemptToDeleteItem gives up on the object (namespacedOwnerOfClusterScopedObjectErr).
                return
            }
        }
        guard !gone.isEmpty else { return }
        if solid.isEmpty {
            do {
                try await context.client.delete(kind: object.kind, namespace: object.namespace, name: object.name,
                                                options: DeleteOptions(propagationPolicy: blocksWaiting ? .foreground : .background,
                                                                       preconditionUID: object.uid))
            } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
                return
            }
        } else {
            let goneUIDs = Set(gone.map(\.uid))
            try await setOwners(object, object.ownerReferences.filter { !goneUIDs.contains($0.uid) }, context: context)
        }
    }

    func setOwners(_ object: Unstructured, _ owners: [OwnerReference], context: ReconcileContext) async throws {
        let value: JSONValue = owners.isEmpty ? .null : .array(owners.map(\.json))
        do {
            try await context.client.patch(kind: object.kind, namespace: object.namespace, name: object.name,
                                           mergePatch: ["metadata": ["ownerReferences": value, "uid": .string(object.uid)]])
        } catch let error as StoreError where error.reason == .notFound {
            return
        }
    }

    func removeFinalizer(_ finalizer: String, from object: Unstructured, context: ReconcileContext) async throws {
        let remaining = object.finalizers.filter { $0 != finalizer }
        do {
            try await context.client.patch(kind: object.kind, namespace: object.namespace, name: object.name,
                                           mergePatch: ["metadata": ["finalizers": remaining.isEmpty ? .null : .array(remaining.map { .string($0) }),
                                                                     "uid": .string(object.uid)]])
        } catch let error as StoreError where error.reason == .notFound {
            return
        }
    }

    /// Every object of any collected kind with an owner reference to `owner`.
    func dependents(of owner: Unstructured, context: ReconcileContext) -> [Unstructured] {
        GarbageCollectorKinds.all.flatMap { kind in
            context.snapshot(kind).byIndex(GarbageCollectorKinds.ownerIndex, owner.uid).map { Unstructured($0.object) }
        }
    }

    func orphanDependents(of owner: Unstructured, context: ReconcileContext) async throws {
        for dependent in dependents(of: owner, context: context) {
            try await setOwners(dependent, dependent.ownerReferences.filter { $0.uid != owner.uid }, context: context)
        }
        try await removeFinalizer("orphan", from: owner, context: context)
    }

    func deleteDependents(of owner: Unstructured, context: ReconcileContext) async throws {
        var blocking = 0
        for dependent in dependents(of: owner, context: context) {
            let reference = dependent.ownerReferences.first { $0.uid == owner.uid }
            if reference?.blockOwnerDeletion == true { blocking += 1 }
            if dependent.deletionTimestamp == nil { try await collect(dependent, context: context) }
        }
        if blocking == 0 { try await removeFinalizer("foregroundDeletion", from: owner, context: context) }
    }
}

/// The kinds the garbage collector tracks.
public enum GarbageCollectorKinds {
    /// The metadata whose change can make an object collectable or affect its dependents.
    static let ownershipFields: [[String]] = [["metadata", "ownerReferences"], ["metadata", "deletionTimestamp"], ["metadata", "finalizers"]]

    public static let all = ["Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ControllerRevision", "Service", "Endpoints", "EndpointSlice", "Node", "Lease", "Namespace"]

    /// The index, on each collected kind's informer, of every owner reference's UID.
    public static let ownerIndex = "gc.ownerUID"

    /// One garbage collector per kind, in ``all``'s order.
    @discardableResult
    public static func install(into manager: ControllerManager) -> [Controller] {
        [manager.register(GarbageCollector<Pod>()),
         manager.register(GarbageCollector<ReplicaSet>()),
         manager.register(GarbageCollector<Deployment>()),
         manager.register(GarbageCollector<StatefulSet>()),
         manager.register(GarbageCollector<DaemonSet>()),
         manager.register(GarbageCollector<Job>()),
         manager.register(GarbageCollector<CronJob>()),
         manager.register(GarbageCollector<ControllerRevision>()),
         manager.register(GarbageCollector<Service>()),
         manager.register(GarbageCollector<Endpoints>()),
         manager.register(GarbageCollector<EndpointSlice>()),
         manager.register(GarbageCollector<Node>()),
         manager.register(GarbageCollector<Lease>()),
         manager.register(GarbageCollector<Namespace>())]
    }
}

extension InformerEvent {
    var isDeleted: Bool { if case .deleted = self { return true } else { return false } }
}
