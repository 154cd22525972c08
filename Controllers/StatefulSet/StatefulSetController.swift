public import Orca

/// Kubernetes' StatefulSet controller (`pkg/controller/statefulset`, 1.31): pods with stable
/// names `<set>-<ordinal>` (hostname, subdomain, pod-name and pod-index labels), created in
/// ordinal order and each only once its predecessors are Running, Ready and available
/// (`OrderedReady`, the default) or all at once (`Parallel`); surplus pods deleted from the
/// highest ordinal down; failed or succeeded pods deleted and recreated under the same name;
/// ControllerRevisions per template (`<set>-<hash>`), pods labelled with their revision's name;
/// rolling updates from the highest ordinal down to `partition`, one pod at a time, each waiting
/// for the previous to be healthy (`OnDelete`: only pods deleted by someone else are replaced);
/// the status with currentRevision and updateRevision. Persistent volume claims are named in
/// the pods' volumes but not created (Orca has no storage).
public struct StatefulSetController: Reconciler {
    public typealias Object = StatefulSet
    public static let name = "statefulset"

    public init() {}

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch(Pod.kind, .controllerOwnerOrAdopters)], workers: 5)
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let set = context.get(StatefulSet.self, request),
              let record = context.snapshot(StatefulSet.kind).get(namespace: request.namespace, name: request.name) else { return .done }
        guard let selector = LabelSelector(specSelector: set.spec.selector.json), !selector.isEmpty else {
            throw TerminalError("statefulset \(request.namespace)/\(request.name) has an invalid selector")
        }
        let owner = OwnerReference(apiVersion: StatefulSet.apiVersion, kind: StatefulSet.kind, name: set.metadata.name ?? "",
                                   uid: set.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
        let sync = StatefulSetSync(set, record: record, owner: owner, selector: selector, context: context)
        try await sync.run()
        let minReady = set.spec.minReadySeconds ?? 0
        if minReady > 0, let available = sync.status?.availableReplicas, available != StatefulSetPlanning.replicas(set) {
            return .requeue(after: .seconds(minReady))
        }
        return .done
    }
}

/// One sync of one StatefulSet (`syncStatefulSet` and `UpdateStatefulSet`).
final class StatefulSetSync {
    let sts: StatefulSet
    let record: EventRecord
    let owner: OwnerReference
    let selector: LabelSelector
    let context: ReconcileContext
    var status: StatefulSetStatus?
    typealias Plan = StatefulSetPlanning

    init(_ sts: StatefulSet, record: EventRecord, owner: OwnerReference, selector: LabelSelector, context: ReconcileContext) {
        self.sts = sts
        self.record = record
        self.owner = owner
        self.selector = selector
        self.context = context
    }

    var namespace: String { sts.metadata.namespace ?? "default" }
    var setName: String { sts.metadata.name ?? "" }

    func run() async throws {
        // getPodsForStatefulSet: claimed when the selector matches and the name is `<set>-<n>`.
        let candidates = context.claimCandidates(Pod.self, namespace: namespace, controllerUID: owner.uid)
        let members = candidates.filter { Plan.ordinal(of: $0.metadata.name ?? "", in: sts) != nil }
        let deleting = sts.metadata.deletionTimestamp != nil
        var pods = try await ControllerRefManager(owner: owner, namespace: namespace, selector: selector, deleting: deleting)
            .claim(members, context: context)
        // Pods of mine whose name no longer fits are released too (ClaimPods' filter).
        for pod in candidates where Plan.ordinal(of: pod.metadata.name ?? "", in: sts) == nil
            && pod.metadata.ownerReferences.contains(where: { $0.controller == true && $0.uid == owner.uid }) && !deleting {
            try await ControllerRefManager.patch(pod, owners: pod.metadata.ownerReferences.filter { $0.uid != owner.uid }, context: context)
        }
        pods.sort { (Plan.ordinal(of: $0.metadata.name ?? "", in: sts) ?? 0) < (Plan.ordinal(of: $1.metadata.name ?? "", in: sts) ?? 0) }

        var revisions = try await ControllerRefManager(owner: owner, namespace: namespace, selector: selector, deleting: deleting)
            .claim(context.list(ControllerRevision.self, namespace: namespace), context: context)
        revisions.sort { ($0.revision ?? 0, $0.metadata.name ?? "") < ($1.revision ?? 0, $1.metadata.name ?? "") }
        let (current, update, collisionCount) = try await currentAndUpdateRevisions(revisions)
        let computed = try await updateStatefulSet(pods: pods, current: current, update: update, collisionCount: collisionCount)
        status = computed
        try await writeStatus(computed)
        try await truncateHistory(revisions: revisions, pods: pods, current: current, update: update)
    }

    // MARK: Revisions

    /// `getStatefulSetRevisions`: the revision for the current template (the latest, an earlier
    /// equal one given the next number, or a new one) and the revision of `status.currentRevision`.
    func currentAndUpdateRevisions(_ revisions: [ControllerRevision]) async throws
        -> (current: ControllerRevision, update: ControllerRevision, collisionCount: Int) {
        var collisionCount = sts.status.collisionCount ?? 0
        let next = (revisions.last?.revision ?? 0) + 1
        let data = TemplateHash.revisionPatch(sts.spec.template)
        let equal = revisions.filter { TemplateHash.canonical($0.raw["data"] ?? .null) == data }
        var update: ControllerRevision
        if let latest = revisions.last, let lastEqual = equal.last, lastEqual.metadata.name == latest.metadata.name {
            update = latest
        } else if var lastEqual = equal.last {
            lastEqual.revision = next
            update = try await context.client.update(lastEqual)
        } else {
            // CreateControllerRevision: a name taken by another template bumps the collision count.
            while true {
                let candidate = Plan.revision(sts, number: next, collisionCount: collisionCount, owner: owner)
                do {
                    update = try await context.client.create(candidate)
                    break
                } catch let error as StoreError where error.reason == .alreadyExists {
                    let existing = try context.client.store.get(kind: ControllerRevision.kind, namespace: namespace,
                                                                name: candidate.metadata.name ?? "").flatMap { ControllerRevision($0.value) }
                    if let existing, TemplateHash.canonical(existing.raw["data"] ?? .null) == data {
                        update = existing
                        break
                    }
                    collisionCount += 1
                }
            }
        }
        let current = revisions.first { $0.metadata.name == sts.status.currentRevision } ?? update
        return (current, update, collisionCount)
    }

    /// `truncateHistory`: revisions no pod, nor the current or update revision, uses — beyond
    /// `revisionHistoryLimit`, oldest first — are deleted.
    func truncateHistory(revisions: [ControllerRevision], pods: [Pod], current: ControllerRevision, update: ControllerRevision) async throws {
        var live: Set<String> = [current.metadata.name ?? "", update.metadata.name ?? ""]
        for pod in pods { if let revision = pod.metadata.labels[Plan.revisionLabel] { live.insert(revision) } }
        let history = revisions.filter { !live.contains($0.metadata.name ?? "") }
        let limit = sts.spec.revisionHistoryLimit ?? 10
        guard history.count > limit else { return }
        for revision in history.prefix(history.count - limit) {
            do {
                _ = try await context.client.delete(kind: ControllerRevision.kind, namespace: namespace, name: revision.metadata.name ?? "")
            } catch let error as StoreError where error.reason == .notFound {
                continue
            }
        }
    }

    // MARK: Pods

    /// `updateStatefulSet`: replicas in ordinal order, then the condemned (scale down), then the
    /// rolling update; in OrderedReady mode it stops at the first pod it must wait for.
    func updateStatefulSet(pods: [Pod], current: ControllerRevision, update: ControllerRevision, collisionCount: Int) async throws -> StatefulSetStatus {
        let currentSet = Plan.applying(current, to: sts)
        let updateSet = Plan.applying(update, to: sts)
        let currentName = current.metadata.name ?? "", updateName = update.metadata.name ?? ""
        let start = Plan.startOrdinal(sts)
        let count = Plan.replicas(sts)
        let minReady = sts.spec.minReadySeconds ?? 0
        let now = context.now

        var replicas: [Pod?] = Array(repeating: nil, count: count)
        var condemned: [Pod] = []
        for pod in pods {
            guard let ordinal = Plan.ordinal(of: pod.metadata.name ?? "", in: sts) else { continue }
            if Plan.inRange(ordinal, sts) { replicas[ordinal - start] = pod } else { condemned.append(pod) }
        }
        // newVersionedStatefulSetPod: below the partition (or, without a rollingUpdate, below the
        // current count) the current revision, else the update revision.
        let rolling = sts.spec.updateStrategy.type == "RollingUpdate"
        let partition = sts.spec.updateStrategy.rollingUpdate?.partition
        let currentCount = sts.status.currentReplicas ?? 0
        func versioned(_ ordinal: Int) -> Pod {
            let useCurrent = rolling && (partition.map { ordinal < start + $0 } ?? (ordinal < start + currentCount))
            return useCurrent ? Plan.pod(currentSet, ordinal: ordinal, revision: currentName, owner: owner)
                              : Plan.pod(updateSet, ordinal: ordinal, revision: updateName, owner: owner)
        }
        var slots: [Pod] = (0..<count).map { replicas[$0] ?? versioned(start + $0) }
        condemned.sort { (Plan.ordinal(of: $0.metadata.name ?? "", in: sts) ?? 0) > (Plan.ordinal(of: $1.metadata.name ?? "", in: sts) ?? 0) }
        let firstUnhealthy = (slots + condemned.reversed()).first { !Plan.isHealthy($0) }

        var status = StatefulSetStatus(raw: JSONObject())
        status.observedGeneration = sts.metadata.generation
        status.currentRevision = currentName
        status.updateRevision = updateName
        status.collisionCount = collisionCount
        func finish() -> StatefulSetStatus {
            let c = Plan.counts(slots + condemned, minReadySeconds: minReady, now: now, current: currentName, update: updateName)
            var s = status
            s.replicas = c.replicas
            s.readyReplicas = c.ready
            s.currentReplicas = c.current
            s.updatedReplicas = c.updated
            s.availableReplicas = c.available
            return s
        }
        if sts.metadata.deletionTimestamp != nil { return finish() }
        let monotonic = !Plan.allowsBurst(sts)

        // processReplica, in ordinal order.
        for i in slots.indices {
            let ordinal = start + i
            if slots[i].status.phase == "Failed" || slots[i].status.phase == "Succeeded" {
                // Deleted and made again under the same name (no event since 1.31).
                try await deletePod(slots[i])
                slots[i] = versioned(ordinal)
            }
            if !Plan.isCreated(slots[i]) {
                try await createPod(slots[i])
                if monotonic { return finish() }
                continue
            }
            if Plan.isTerminating(slots[i]) && monotonic { return finish() }
            if !Plan.isRunningAndReady(slots[i]) && monotonic { return finish() }
            if !Plan.isRunningAndAvailable(slots[i], minReadySeconds: minReady, now: now) && monotonic { return finish() }
            if !Plan.identityMatches(sts, slots[i]) {
                slots[i] = try await context.client.update(Plan.withIdentity(sts, slots[i]))
                await event("SuccessfulUpdate", "update Pod \(slots[i].metadata.name ?? "") in StatefulSet \(setName) successful")
            }
        }

        // processCondemned, highest ordinal first.
        for pod in condemned {
            if Plan.isTerminating(pod) {
                if monotonic { return finish() }
                continue
            }
            let isFirstUnhealthy = pod.metadata.name == firstUnhealthy?.metadata.name
            if !Plan.isRunningAndReady(pod) && monotonic && !isFirstUnhealthy { return finish() }
            if !Plan.isRunningAndAvailable(pod, minReadySeconds: minReady, now: now) && monotonic && !isFirstUnhealthy { return finish() }
            try await deletePod(pod)
            if monotonic { return finish() }
        }
        let settled = finish()
        guard rolling else { return settled }

        // The rolling update: the highest ordinal not of the update revision goes first.
        for target in stride(from: slots.count - 1, through: partition ?? 0, by: -1) {
            let pod = slots[target]
            if pod.metadata.labels[Plan.revisionLabel] != updateName && !Plan.isTerminating(pod) {
                try await deletePod(pod)
                var s = settled
                s.currentReplicas = (s.currentReplicas ?? 0) - 1
                return s
            }
            if !Plan.isHealthy(pod) { return settled }
        }
        return settled
    }

    func createPod(_ pod: Pod) async throws {
        let name = pod.metadata.name ?? ""
        do {
            _ = try await context.client.create(pod)
            await event("SuccessfulCreate", "create Pod \(name) in StatefulSet \(setName) successful")
        } catch let error as StoreError {
            await event("FailedCreate", "create Pod \(name) in StatefulSet \(setName) failed error: \(error.message)", type: "Warning")
            throw error
        }
    }

    func deletePod(_ pod: Pod) async throws {
        let name = pod.metadata.name ?? ""
        do {
            _ = try await context.client.delete(kind: Pod.kind, namespace: namespace, name: name,
                                                options: DeleteOptions(preconditionUID: pod.metadata.uid))
            await event("SuccessfulDelete", "delete Pod \(name) in StatefulSet \(setName) successful")
        } catch let error as StoreError where error.reason == .notFound {
            return
        } catch let error as StoreError {
            await event("FailedDelete", "delete Pod \(name) in StatefulSet \(setName) failed error: \(error.message)", type: "Warning")
            throw error
        }
    }

    func event(_ reason: String, _ message: String, type: String = "Normal") async {
        await context.events.record(record, type: type, reason: reason, message: message)
    }

    // MARK: Status

    /// `updateStatefulSetStatus`: a finished rolling update makes the update revision current;
    /// the status is written only when a field the controller tracks changed.
    func writeStatus(_ computed: StatefulSetStatus) async throws {
        var s = computed
        if sts.spec.updateStrategy.type == "RollingUpdate", (s.updatedReplicas ?? 0) == (s.replicas ?? 0),
           (s.readyReplicas ?? 0) == (s.replicas ?? 0) {
            s.currentReplicas = s.updatedReplicas
            s.currentRevision = s.updateRevision
        }
        let old = sts.status
        let inconsistent = (s.observedGeneration ?? 0) > (old.observedGeneration ?? 0)
            || (s.replicas ?? 0) != (old.replicas ?? 0) || (s.currentReplicas ?? 0) != (old.currentReplicas ?? 0)
            || (s.readyReplicas ?? 0) != (old.readyReplicas ?? 0) || (s.updatedReplicas ?? 0) != (old.updatedReplicas ?? 0)
            || s.currentRevision != old.currentRevision || s.updateRevision != old.updateRevision
            || (s.availableReplicas ?? 0) != (old.availableReplicas ?? 0)
        guard inconsistent else { return }
        var updated = sts
        updated.status = Self.ordered(s)
        do {
            _ = try await context.client.updateStatus(updated)
        } catch let error as StoreError where error.reason == .notFound {
            return
        }
    }

    /// StatefulSetStatus as apps/v1 serialises it: zero counts (but `replicas` and
    /// `availableReplicas`) and empty revisions omitted, `collisionCount` always.
    static func ordered(_ status: StatefulSetStatus) -> StatefulSetStatus {
        var raw = status.raw
        for key in ["observedGeneration", "readyReplicas", "currentReplicas", "updatedReplicas"] where raw[key]?.intValue == 0 { raw[key] = nil }
        for key in ["currentRevision", "updateRevision"] where raw[key]?.stringValue?.isEmpty == true { raw[key] = nil }
        if raw["replicas"] == nil { raw["replicas"] = 0 }
        if raw["availableReplicas"] == nil { raw["availableReplicas"] = 0 }
        return StatefulSetStatus(raw: raw.ordered(first: ["observedGeneration", "replicas", "readyReplicas", "currentReplicas", "updatedReplicas",
                                                          "currentRevision", "updateRevision", "collisionCount", "conditions",
                                                          "availableReplicas"]))
    }
}
