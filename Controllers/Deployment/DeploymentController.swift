public import Orca

/// Kubernetes' Deployment controller (`pkg/controller/deployment`): claims the ReplicaSets its
/// selector matches, keeps one ReplicaSet per pod template (`<deployment>-<pod-template-hash>`,
/// revisions in `deployment.kubernetes.io/revision`), rolls from the old ones to the new one
/// within maxSurge/maxUnavailable (RollingUpdate) or by scaling the old ones to zero first
/// (Recreate), scales proportionally when the replica count changes mid-rollout, keeps
/// `revisionHistoryLimit` old ReplicaSets, and reports the `Available` and `Progressing`
/// conditions (with `progressDeadlineSeconds`). Rollback through the deprecated `rollbackTo`
/// is not supported (apps/v1 has no such field; `kubectl rollout undo` changes the template).
public struct DeploymentController: Reconciler {
    public typealias Object = Deployment
    public static let name = "deployment"

    public init() {}

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(
            watches: [
                Watch(ReplicaSet.kind, .controllerOwnerOrAdopters),
                // deletePod: a Recreate Deployment waits for its old pods to be gone.
                Watch(Pod.kind, .custom { event, context in
                    guard case .deleted(let pod, _) = event else { return [] }
                    return recreateOwner(of: pod, context: context).map { [$0] } ?? []
                }),
            ],
            workers: 5)
    }

    /// The Recreate Deployment whose ReplicaSet controls `pod`, if any.
    static func recreateOwner(of pod: EventRecord, context: ObserveContext) -> ReconcileRequest? {
        guard let rsRef = pod.ownerReferences.first(where: { $0.controller == true && $0.kind == ReplicaSet.kind }),
              let rs = context.snapshot(ReplicaSet.kind).get(namespace: pod.namespace, name: rsRef.name), rs.uid == rsRef.uid,
              let dRef = rs.ownerReferences.first(where: { $0.controller == true && $0.kind == Deployment.kind }),
              let d = context.snapshot(Deployment.kind).get(namespace: pod.namespace, name: dRef.name), d.uid == dRef.uid,
              d.value(at: ["spec", "strategy", "type"])?.stringValue == "Recreate" else { return nil }
        return ReconcileRequest(namespace: pod.namespace, name: dRef.name)
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let d = context.get(Deployment.self, request),
              let record = context.snapshot(Deployment.kind).get(namespace: request.namespace, name: request.name) else { return .done }
        guard let selector = LabelSelector(specSelector: d.spec.selector.json) else {
            throw TerminalError("deployment \(request.namespace)/\(request.name) has an invalid selector")
        }
        let sync = DeploymentSync(d, record: record, context: context)
        if selector.isEmpty {
            await context.events.record(record, type: "Warning", reason: "SelectingAll",
                                        message: "This deployment is selecting all pods. A non-empty selector is required.")
            if (d.status.observedGeneration ?? 0) < (d.metadata.generation ?? 0) {
                sync.d.status.observedGeneration = d.metadata.generation
                try await sync.writeStatus()
            }
            return .done
        }
        let owner = OwnerReference(apiVersion: Deployment.apiVersion, kind: Deployment.kind, name: d.metadata.name ?? "",
                                   uid: d.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
        let candidates = context.claimCandidates(ReplicaSet.self, namespace: request.namespace, controllerUID: owner.uid)
        let rsList = try await ControllerRefManager(owner: owner, namespace: request.namespace, selector: selector,
                                                    deleting: d.metadata.deletionTimestamp != nil).claim(candidates, context: context)
        sync.owner = owner
        sync.rsList = rsList
        if d.metadata.deletionTimestamp != nil { return try await sync.syncStatusOnly() }
        try await sync.checkPausedConditions()
        if d.spec.paused == true { return try await sync.sync() }
        if try await sync.isScalingEvent() { return try await sync.sync() }
        if d.spec.strategy.type == "Recreate" {
            let pods = context.list(Pod.self, namespace: request.namespace).filter { selector.matches($0.metadata.labels) }
            return try await sync.rolloutRecreate(pods: pods)
        }
        return try await sync.rolloutRolling()
    }
}

/// One sync of one Deployment (`syncDeployment` and what it calls), holding the Deployment as
/// this sync has written it.
final class DeploymentSync {
    var d: Deployment
    let record: EventRecord
    let context: ReconcileContext
    var owner = OwnerReference(apiVersion: Deployment.apiVersion, kind: Deployment.kind, name: "", uid: "")
    var rsList: [ReplicaSet] = []
    typealias Plan = DeploymentPlanning

    init(_ d: Deployment, record: EventRecord, context: ReconcileContext) {
        self.d = d
        self.record = record
        self.context = context
    }

    var namespace: String { d.metadata.namespace ?? "default" }
    var replicas: Int { Plan.replicas(d) }

    func writeStatus() async throws {
        d = try await context.client.updateStatus(d)
    }

    func event(_ reason: String, _ message: String, type: String = "Normal") async {
        await context.events.record(record, type: type, reason: reason, message: message)
    }

    // MARK: ReplicaSets

    /// `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when `create`) and all
    /// old ones, with the revisions brought up to date.
    func allReplicaSets(create: Bool) async throws -> (new: ReplicaSet?, old: [ReplicaSet]) {
        let existingNew = Plan.findNew(d, in: rsList)
        let old = rsList.filter { $0.metadata.uid != existingNew?.metadata.uid }
        let new = try await newReplicaSet(existing: existingNew, old: old, create: create)
        return (new, old)
    }

    /// `getNewReplicaSet`.
    func newReplicaSet(existing: ReplicaSet?, old: [ReplicaSet], create: Bool) async throws -> ReplicaSet? {
        let newRevision = (old.map(Plan.revision).max() ?? 0) + 1
        if var rs = existing {
            let annotationsChanged = Plan.setNewReplicaSetAnnotations(d, &rs, newRevision: newRevision, exists: true)
            if annotationsChanged || (rs.spec.minReadySeconds ?? 0) != (d.spec.minReadySeconds ?? 0) {
                rs.spec.minReadySeconds = d.spec.minReadySeconds.flatMap { $0 == 0 ? nil : $0 }
                return try await context.client.update(rs)
            }
            var needsUpdate = setRevision(rs.metadata.annotations[Plan.revisionAnnotation] ?? "")
            if Plan.progressDeadline(d) != nil, d.status.conditions[type: "Progressing"] == nil {
                setCondition(Plan.condition("Progressing", "True", Plan.foundNewRSReason, "Found new replica set \"\(rs.metadata.name ?? "")\"",
                                            context.now))
                needsUpdate = true
            }
            if needsUpdate { try await writeStatus() }
            return rs
        }
        guard create else { return nil }

        let hash = TemplateHash.compute(d.spec.template, collisionCount: d.status.collisionCount)
        var template = d.spec.template
        var labels = template.metadata.labels
        labels[Plan.uniqueLabelKey] = hash
        template.metadata.labels = labels
        var selector = d.spec.selector
        var matchLabels = selector.matchLabels
        matchLabels[Plan.uniqueLabelKey] = hash
        selector.matchLabels = matchLabels
        var metadata = ObjectMeta()
        metadata.name = "\(d.metadata.name ?? "")-\(hash)"
        metadata.namespace = namespace
        metadata.labels = labels
        var rs = ReplicaSet(metadata: metadata)
        rs.spec.replicas = 0
        if let minReady = d.spec.minReadySeconds, minReady != 0 { rs.spec.minReadySeconds = minReady }
        rs.spec.selector = selector
        rs.spec.template = template
        let count = Plan.newRSNewReplicas(d, all: old + [rs], new: rs)
        rs.spec.replicas = count
        _ = Plan.setNewReplicaSetAnnotations(d, &rs, newRevision: newRevision, exists: false)
        rs.metadata.ownerReferences = [owner]  // after the annotations, in ObjectMeta's field order
        let name = rs.metadata.name ?? ""
        var alreadyExisted = false
        var created: ReplicaSet
        do {
            created = try await context.client.create(rs)
        } catch let error as StoreError where error.reason == .alreadyExists {
            // A slow cache, or a hash collision.
            alreadyExisted = true
            let found = try context.client.store.get(kind: ReplicaSet.kind, namespace: namespace, name: name).flatMap { ReplicaSet($0.value) }
            if let found, found.metadata.ownerReferences.contains(where: { $0.controller == true && $0.uid == owner.uid }),
               Plan.equalIgnoringHash(found.spec.template, d.spec.template) {
                created = found
            } else {
                d.status.collisionCount = (d.status.collisionCount ?? 0) + 1
                d.status = Plan.ordered(d.status)
                try await writeStatus()
                throw error
            }
        } catch let error as StoreError {
            let message = "Failed to create new replica set \"\(name)\": \(error.message)"
            if Plan.progressDeadline(d) != nil {
                setCondition(Plan.condition("Progressing", "False", Plan.failedRSCreateReason, message, context.now))
                try? await writeStatus()
            }
            await event(Plan.failedRSCreateReason, message, type: "Warning")
            throw error
        }
        if !alreadyExisted, count > 0 { await event("ScalingReplicaSet", "Scaled up replica set \(name) to \(count)") }
        var needsUpdate = setRevision(String(newRevision))
        if !alreadyExisted, Plan.progressDeadline(d) != nil {
            setCondition(Plan.condition("Progressing", "True", Plan.newRSReason, "Created new replica set \"\(name)\"", context.now))
            needsUpdate = true
        }
        if needsUpdate { try await writeStatus() }
        rsList.append(created)
        return created
    }

    /// `SetDeploymentRevision`.
    func setRevision(_ revision: String) -> Bool {
        guard d.metadata.annotations[Plan.revisionAnnotation] != revision else { return false }
        var annotations = d.metadata.annotations
        annotations[Plan.revisionAnnotation] = revision
        d.metadata.annotations = annotations
        return true
    }

    func setCondition(_ condition: Condition) {
        var conditions = d.status.conditions
        Plan.setCondition(&conditions, condition)
        d.status.conditions = conditions
        d.status = Plan.ordered(d.status)
    }

    /// `scaleReplicaSet`: the size and the replicas annotations; a `ScalingReplicaSet` event when
    /// the size changed. Returns the ReplicaSet as written.
    @discardableResult
    func scale(_ rs: ReplicaSet, to newScale: Int, operation: String? = nil) async throws -> (scaled: Bool, rs: ReplicaSet) {
        let oldScale = Plan.replicas(rs)
        let wanted = Plan.replicasAnnotations(d)
        let annotationsNeedUpdate = wanted.contains { rs.metadata.annotations[$0.key] != $0.value }
        guard oldScale != newScale || annotationsNeedUpdate else { return (false, rs) }
        var copy = rs
        copy.spec.replicas = newScale
        var annotations = copy.metadata.annotations
        for (key, value) in wanted { annotations[key] = value }
        copy.metadata.annotations = annotations
        let updated = try await context.client.update(copy)
        if oldScale != newScale {
            let op = operation ?? (oldScale < newScale ? "up" : "down")
            await event("ScalingReplicaSet", "Scaled \(op) replica set \(rs.metadata.name ?? "") to \(newScale) from \(oldScale)")
        }
        return (oldScale != newScale, updated)
    }

    // MARK: Scaling (sync)

    /// `isScalingEvent`: an active ReplicaSet was sized for another replica count.
    func isScalingEvent() async throws -> Bool {
        let (new, old) = try await allReplicaSets(create: false)
        return (old + (new.map { [$0] } ?? [])).filter { Plan.replicas($0) > 0 }.contains { rs in
            guard let desired = rs.metadata.annotations[Plan.desiredReplicasAnnotation].flatMap({ Int($0) }) else { return false }
            return desired != replicas
        }
    }

    /// `sync`: scaling events and paused Deployments.
    func sync() async throws -> ReconcileResult {
        let (new, old) = try await allReplicaSets(create: false)
        try await scaleProportionally(new: new, old: old)
        if d.spec.paused == true { try await cleanup(old: old) }
        return try await syncStatus(all: old + (new.map { [$0] } ?? []), new: new)
    }

    /// `scale`: the one active ReplicaSet takes the new count; a saturated new ReplicaSet leaves
    /// the old ones at zero; otherwise (rolling) the change is shared out in proportion to size.
    func scaleProportionally(new: ReplicaSet?, old: [ReplicaSet]) async throws {
        if let target = Plan.activeOrLatest(new: new, old: old) {
            if Plan.replicas(target) != replicas { try await scale(target, to: replicas) }
            return
        }
        if Plan.isSaturated(d, new) {
            for rs in old where Plan.replicas(rs) > 0 { try await scale(rs, to: 0) }
            return
        }
        guard Plan.isRollingUpdate(d) else { return }
        let active = (old + (new.map { [$0] } ?? [])).filter { Plan.replicas($0) > 0 }
        let current = active.reduce(0) { $0 + Plan.replicas($1) }
        let allowed = replicas > 0 ? replicas + Plan.maxSurge(d) : 0
        let toAdd = allowed - current
        let ordered = toAdd == 0 ? active : Plan.bySize(active, newerFirst: toAdd > 0)
        let operation = toAdd > 0 ? "up" : toAdd < 0 ? "down" : ""
        var sizes: [Int] = []
        var added = 0
        for rs in ordered {
            let share = Plan.proportion(rs, d, toAdd: toAdd, added: added)
            sizes.append(Plan.replicas(rs) + share)
            added += share
        }
        for (i, rs) in ordered.enumerated() {
            var size = sizes[i]
            if i == 0 && toAdd != 0 { size = max(0, size + toAdd - added) }
            try await scale(rs, to: size, operation: operation)
        }
    }

    /// `cleanupDeployment`: old ReplicaSets beyond `revisionHistoryLimit`, lowest revision first,
    /// are deleted once they have no replicas and their status is current.
    func cleanup(old: [ReplicaSet]) async throws {
        guard let limit = d.spec.revisionHistoryLimit, limit != Int(Int32.max) else { return }
        let cleanable = old.filter { $0.metadata.deletionTimestamp == nil }
        let excess = cleanable.count - limit
        guard excess > 0 else { return }
        for rs in Plan.byRevision(cleanable).prefix(excess) {
            if (rs.status.replicas ?? 0) != 0 || Plan.replicas(rs) != 0
                || (rs.metadata.generation ?? 0) > (rs.status.observedGeneration ?? 0) { continue }
            do {
                _ = try await context.client.delete(kind: ReplicaSet.kind, namespace: namespace, name: rs.metadata.name ?? "")
            } catch let error as StoreError where error.reason == .notFound {
                continue
            }
        }
    }
}
