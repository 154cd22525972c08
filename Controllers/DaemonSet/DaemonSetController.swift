public import Orca

/// Kubernetes' DaemonSet controller (`pkg/controller/daemon`): one pod per eligible node
/// (``DaemonSetPlanning/nodeShouldRun(_:_:)``), pinned to it by node affinity and bound by the
/// scheduler; surplus, misplaced, failed and succeeded pods deleted (failed ones behind a
/// per-node back-off of 1 s doubling to 15 min); creations and deletions capped at 250 per sync
/// with slow start and expectations; a ControllerRevision per template; RollingUpdate
/// (maxUnavailable, maxSurge) or OnDelete; and the full status.
public struct DaemonSetController: Reconciler {
    public typealias Object = DaemonSet
    public static let name = "daemonset"
    public static let burstReplicas = 250

    let expectations: Expectations
    let backoff = ReconcilerState(FailedPodBackoff())
    let clock: any Clock

    public init(clock: any Clock) {
        self.clock = clock
        expectations = Expectations(clock: clock)
    }

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(
            watches: [
                Watch("Pod", .controllerOwnerOrAdopters),
                Watch("Node", .custom(nodeRequests)),
                Watch("ControllerRevision", .controllerOwner),
            ],
            workers: 2)
    }

    /// `addNode`/`updateNode`: a new node wakes the DaemonSets that should run on it; an update
    /// wakes those whose verdict for the node changed (only labels and taints matter).
    static func nodeRequests(_ event: InformerEvent, _ context: ObserveContext) -> [ReconcileRequest] {
        func daemonSets() -> [DaemonSet] { context.snapshot(DaemonSet.kind).list().compactMap { DaemonSet($0.object) } }
        switch event {
        case .added(let record, _):
            guard let node = Node(record.object) else { return [] }
            return daemonSets().filter { DaemonSetPlanning.nodeShouldRun(node, $0).shouldRun }.map(request)
        case .updated(let old, let new):
            // Heartbeats and status updates change neither labels nor taints: nothing to look at.
            guard let before = Node(old.object), let after = Node(new.object),
                  before.metadata.labels != after.metadata.labels || before.spec.raw["taints"] != after.spec.raw["taints"] else { return [] }
            return daemonSets().filter {
                let a = DaemonSetPlanning.nodeShouldRun(before, $0), b = DaemonSetPlanning.nodeShouldRun(after, $0)
                return a.shouldRun != b.shouldRun || a.shouldContinueRunning != b.shouldContinueRunning
            }.map(request)
        case .deleted:
            return []
        }
    }

    static func request(_ ds: DaemonSet) -> ReconcileRequest {
        ReconcileRequest(namespace: ds.metadata.namespace ?? "default", name: ds.metadata.name ?? "")
    }

    public func observe(_ event: InformerEvent, context: ObserveContext) {
        expectations.observe(event, ownerKind: DaemonSet.kind)
    }

    // MARK: syncDaemonSet

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let key = "\(request.namespace)/\(request.name)"
        backoff.withLock { $0.collectGarbage(now: context.now) }
        guard let ds = context.get(DaemonSet.self, request),
              let record = context.snapshot(DaemonSet.kind).get(namespace: request.namespace, name: request.name) else {
            expectations.delete(key)
            return .done
        }
        let nodes = context.list(Node.self).sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
        guard let selector = LabelSelector(specSelector: ds.spec.selector.json) else {
            throw TerminalError("daemonset \(key) has an invalid selector")
        }
        if selector.isEmpty {
            await context.events.record(record, type: "Warning", reason: "SelectingAll",
                                        message: "This daemon set is selecting all pods. A non-empty selector is required.")
            return .done
        }
        // Being deleted: its pods and revisions may already be going; leave everything alone.
        if ds.metadata.deletionTimestamp != nil { return .done }

        var sync = Sync(ds: ds, record: record, key: key, selector: selector, nodes: nodes)
        let hash = try await constructHistory(sync, context: context)
        // Claimed once: manage, the rolling update, history cleanup and the status all read the
        // same cache, which a reconcile's own writes do not change.
        sync.pods = try await claimPods(sync, context: context)
        if !expectations.satisfied(key) {
            // Only the status; observedGeneration stays, as this generation was not processed.
            return try await updateStatus(sync, hash: hash, observedGeneration: false, context: context)
        }
        var requeue: Duration?
        var failure: (any Error)?
        do {
            requeue = try await manage(sync, hash: hash, context: context)
            if expectations.satisfied(key), (ds.spec.updateStrategy.type ?? "RollingUpdate") == "RollingUpdate" {
                try await rollingUpdate(sync, hash: hash, context: context)
            }
            try await cleanupHistory(sync, context: context)
        } catch {
            failure = error
        }
        let statusResult = try await updateStatus(sync, hash: hash, observedGeneration: true, context: context)
        if let failure { throw failure }
        return Self.sooner(statusResult, requeue)
    }

    /// What one sync works from.
    struct Sync {
        var ds: DaemonSet
        var record: EventRecord
        var key: String
        var selector: LabelSelector
        var nodes: [Node]
        /// The claimed daemon pods (filled in after the history is built).
        var pods: [Pod] = []
        var namespace: String { ds.metadata.namespace ?? "default" }
        var owner: OwnerReference {
            OwnerReference(apiVersion: DaemonSet.apiVersion, kind: DaemonSet.kind, name: ds.metadata.name ?? "",
                           uid: ds.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
        }
    }

    static func sooner(_ result: ReconcileResult, _ after: Duration?) -> ReconcileResult {
        guard let after else { return result }
        if case .requeue(let other) = result { return .requeue(after: min(other, after)) }
        return .requeue(after: after)
    }

    // MARK: Pods

    /// `getDaemonPods`: the DaemonSet's pods after adopting matching orphans and releasing its
    /// pods that stopped matching.
    func claimPods(_ sync: Sync, context: ReconcileContext) async throws -> [Pod] {
        try await ControllerRefManager(owner: sync.owner, namespace: sync.namespace, selector: sync.selector, deleting: false)
            .claim(context.claimCandidates(Pod.self, namespace: sync.namespace, controllerUID: sync.owner.uid), context: context)
    }

    /// `manage`: creates the missing daemon pods and deletes the ones that must go; returns when
    /// to look again for failed pods held back by the back-off.
    func manage(_ sync: Sync, hash: String, context: ReconcileContext) async throws -> Duration? {
        let nodeToPods = DaemonSetPlanning.nodeToDaemonPods(sync.pods)
        let now = context.now
        var create: [String] = []
        var delete: [String] = []
        var retryAfter: Duration?
        for node in sync.nodes {
            let nodeName = node.metadata.name ?? ""
            let backoffKey = FailedPodBackoff.key(sync.ds, node: nodeName)
            let inBackoff = backoff.withLock { $0.isInBackoff(backoffKey, now: now) }
            let plan = DaemonSetPlanning.podsShouldBeOnNode(node, pods: nodeToPods[nodeName] ?? [], ds: sync.ds, hash: hash,
                                                            inBackoff: inBackoff, now: now)
            if plan.create { create.append(nodeName) }
            if plan.failedInBackoff {
                let delay = backoff.withLock { $0.delay(backoffKey) }
                retryAfter = retryAfter.map { min($0, delay) } ?? delay
            }
            for name in plan.failed {
                backoff.withLock { $0.next(backoffKey, now: now) }
                await context.events.record(sync.record, type: "Warning", reason: "FailedDaemonPod",
                                            message: "Found failed daemon pod \(sync.namespace)/\(name) on node \(nodeName), will try to kill it")
            }
            for name in plan.succeeded {
                await context.events.record(sync.record, reason: "SucceededDaemonPod",
                                            message: "Found succeeded daemon pod \(sync.namespace)/\(name) on node \(nodeName), will try to delete it")
            }
            delete += plan.failed + plan.succeeded + plan.delete
        }
        delete += DaemonSetPlanning.unscheduledPodsWithoutNode(nodeToPods, nodes: Set(sync.nodes.compactMap(\.metadata.name)))
        try await syncNodes(sync, delete: delete, create: create, hash: hash, context: context)
        return retryAfter
    }

    /// `syncNodes`: at most 250 creations (slow start 1, 2, 4, …; a failed batch stops the rest)
    /// and 250 deletions, under expectations set first.
    func syncNodes(_ sync: Sync, delete: [String], create: [String], hash: String, context: ReconcileContext) async throws {
        let creations = Array(create.prefix(Self.burstReplicas))
        let deletions = Array(delete.prefix(Self.burstReplicas))
        guard !creations.isEmpty || !deletions.isEmpty else { return }
        let key = sync.key
        expectations.expect(key, creations: creations.count, deletions: deletions.map { "\(sync.namespace)/\($0)" })
        var errors: [String] = []
        var position = 0
        for batch in PodRanking.slowStartBatches(creations.count) {
            var batchFailed = false
            for nodeName in creations[position..<position + batch] {
                let pod = DaemonSetPlanning.daemonPod(sync.ds, nodeName: nodeName, hash: hash, owner: sync.owner)
                do {
                    let created = try await context.client.create(pod)
                    await context.events.record(sync.record, reason: "SuccessfulCreate", message: "Created pod: \(created.metadata.name ?? "")")
                } catch {
                    let message = (error as? StoreError)?.message ?? "\(error)"
                    await context.events.record(sync.record, type: "Warning", reason: "FailedCreate", message: "Error creating: \(message)")
                    // In a namespace being deleted every creation fails: ignored, as upstream
                    // does (still expected).
                    if (error as? StoreError)?.isNamespaceTerminating == true { continue }
                    expectations.creationObserved(key)
                    errors.append(message)
                    batchFailed = true
                }
            }
            position += batch
            if batchFailed {
                // Creations never attempted will never be observed either.
                for _ in position..<creations.count { expectations.creationObserved(key) }
                break
            }
        }
        for name in deletions {
            do {
                try await context.client.delete(kind: "Pod", namespace: sync.namespace, name: name)
                await context.events.record(sync.record, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
            } catch let error as StoreError where error.reason == .notFound {
                expectations.deletionObserved(key, key: "\(sync.namespace)/\(name)")
            } catch {
                expectations.deletionObserved(key, key: "\(sync.namespace)/\(name)")
                let message = (error as? StoreError)?.message ?? "\(error)"
                errors.append(message)
                await context.events.record(sync.record, type: "Warning", reason: "FailedDelete", message: "Error deleting: \(message)")
            }
        }
        if !errors.isEmpty { throw SyncError(messages: errors) }
    }

    /// `rollingUpdate`: deletes old pods within maxUnavailable (the manage loop then creates
    /// their replacements) or surges new pods within maxSurge.
    func rollingUpdate(_ sync: Sync, hash: String, context: ReconcileContext) async throws {
        var nodeToPods = DaemonSetPlanning.nodeToDaemonPods(sync.pods)
        var nodes: [String: Node] = [:]
        for node in sync.nodes {
            let name = node.metadata.name ?? ""
            nodes[name] = node
            if DaemonSetPlanning.nodeShouldRun(node, sync.ds).shouldRun, nodeToPods[name] == nil { nodeToPods[name] = [] }
        }
        guard let plan = DaemonSetPlanning.rollingUpdate(sync.ds, nodes: nodes, nodeToPods: nodeToPods, hash: hash, now: context.now) else {
            throw TerminalError("daemonset \(sync.key) has an invalid maxSurge or maxUnavailable")
        }
        try await syncNodes(sync, delete: plan.delete, create: plan.create, hash: hash, context: context)
    }

    struct SyncError: Error, CustomStringConvertible {
        var messages: [String]
        var description: String { messages.count == 1 ? messages[0] : "[" + messages.joined(separator: ", ") + "]" }
    }

    // MARK: Status

    /// `updateDaemonSetStatus`: writes the counts (and observedGeneration when this generation
    /// was processed) if anything changed; asks to be woken when a ready pod becomes available.
    func updateStatus(_ sync: Sync, hash: String, observedGeneration: Bool, context: ReconcileContext) async throws -> ReconcileResult {
        let nodeToPods = DaemonSetPlanning.nodeToDaemonPods(sync.pods)
        let now = context.now
        let ds = sync.ds
        let counts = DaemonSetPlanning.statusCounts(ds, nodes: sync.nodes, nodeToPods: nodeToPods, hash: hash, now: now)
        var status = ds.status
        let generation = ds.metadata.generation ?? 0
        let unchanged = (status.desiredNumberScheduled ?? 0) == counts.desired && (status.currentNumberScheduled ?? 0) == counts.current
            && (status.numberMisscheduled ?? 0) == counts.misscheduled && (status.numberReady ?? 0) == counts.ready
            && (status.updatedNumberScheduled ?? 0) == counts.updated && (status.numberAvailable ?? 0) == counts.available
            && (status.numberUnavailable ?? 0) == counts.unavailable && (status.observedGeneration ?? 0) >= generation
        if !unchanged {
            if observedGeneration { status.observedGeneration = generation }
            status.currentNumberScheduled = counts.current
            status.numberMisscheduled = counts.misscheduled
            status.desiredNumberScheduled = counts.desired
            status.numberReady = counts.ready
            status.updatedNumberScheduled = counts.updated
            status.numberAvailable = counts.available
            status.numberUnavailable = counts.unavailable
            // Kubernetes leaves these out when zero (`omitempty`); the other four are always written.
            for field in ["updatedNumberScheduled", "numberAvailable", "numberUnavailable", "observedGeneration"]
            where status.raw[field]?.intValue == 0 {
                status.raw[field] = nil
            }
            status.raw = status.raw.ordered(first: ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
                                                    "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable",
                                                    "collisionCount", "conditions"])
            var updated = ds
            updated.status = status
            do {
                try await context.client.updateStatus(updated)
            } catch let error as StoreError where error.reason == .notFound {
                return .done
            }
        }
        // A ready pod counts as available once it has been ready for more than minReadySeconds.
        let minReady = ds.spec.minReadySeconds ?? 0
        if minReady > 0, counts.ready != counts.available {
            let next = nodeToPods.values.joined().compactMap { pod -> Timestamp? in
                guard let ready = PodUtil.readyTime(pod), !PodUtil.isAvailable(pod, minReadySeconds: minReady, now: now) else { return nil }
                return ready.adding(.seconds(minReady + 1))
            }.min()
            return .requeue(after: next.map { max(.zero, $0.since(now)) } ?? .seconds(minReady))
        }
        return .done
    }
}
