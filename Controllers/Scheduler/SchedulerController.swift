public import Orca

/// kube-scheduler, reduced to what a simulation needs: binds each pending pod to a feasible node
/// (see ``Scheduling``); when none fits, preempts lower-priority pods for it (see
/// ``Preemption``) and nominates it to their node, or marks it `PodScheduled=False`, reason
/// `Unschedulable`, with Kubernetes' message and a `FailedScheduling` event for every failed
/// attempt. When a pod is tried again — after a cluster event one of the plugins that rejected
/// it registered for, its back-off, or five minutes — is ``SchedulingQueue``'s.
public struct SchedulerController: Reconciler {
    public typealias Object = Pod
    public static let name = "scheduler"
    /// Pods this scheduler is responsible for (`spec.schedulerName`).
    public static let schedulerName = "default-scheduler"
    /// Index of pods waiting for a node: value "" for every unbound, undeleted, non-terminal pod.
    public static let pendingIndex = "scheduler.pending"

    /// Nodes and what is bound to them, kept from this scheduler's informer events.
    let cache = SchedulerCache()
    /// When each pod that failed is tried again.
    let queue = SchedulingQueue()

    public init() {}

    public func observe(_ event: InformerEvent, context: ObserveContext) {
        cache.observe(event)
        queue.observe(event, now: context.clock.now())
    }

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(
            watches: [
                Watch("Node", .custom { event, context in
                    switch event {
                    case .deleted: return []
                    // The initial list of nodes wakes nobody: the initial list of pods queues every pending pod.
                    case .added(_, let initialList): return initialList ? [] : pendingPods(context.snapshot("Pod"))
                    case .updated(let old, let new):
                        // kube-scheduler's nodeSchedulingPropertiesChange: a heartbeat changes nothing a filter reads.
                        let changed = schedulingProperties.contains { old.value(at: $0) != new.value(at: $0) }
                        return changed ? pendingPods(context.snapshot("Pod")) : []
                    }
                }),
                Watch("Pod", .custom { event, context in
                    // A bound pod leaving (deleted, or finished) frees room on its node.
                    let freed: Bool
                    switch event {
                    case .deleted(let record, _):
                        freed = !(record.value(at: ["spec", "nodeName"])?.stringValue ?? "").isEmpty
                    case .updated(let old, let new):
                        freed = !isTerminal(old) && isTerminal(new)
                        // The scheduling queue's Update: a pending pod is tried again when more
                        // than its status changed (isPodUpdated) — not after its own status write.
                        if !freed, isPending(new), podUpdated(old, new) { return [ReconcileRequest(new)] }
                    case .added(let record, _):
                        return isPending(record) ? [ReconcileRequest(record)] : []
                    }
                    return freed ? pendingPods(context.snapshot("Pod")) : []
                }),
            ],
            watchesPrimary: false,
            indexes: [InformerIndex(kind: "Pod", name: pendingIndex) { record in isPending(record) ? [""] : [] }])
    }

    /// `isPodUpdated`: whether a pod changed apart from its status, resourceVersion, generation,
    /// managedFields and finalizers.
    static func podUpdated(_ old: EventRecord, _ new: EventRecord) -> Bool {
        func stripped(_ record: EventRecord) -> JSONValue {
            var object = record.object
            object["status"] = nil
            for field in ["resourceVersion", "generation", "managedFields", "finalizers"] { object[path: ["metadata", field]] = nil }
            return object
        }
        return stripped(old) != stripped(new)
    }

    /// The parts of a Node the filters read; an update that changes none of them cannot make a
    /// pending pod schedulable.
    static let schedulingProperties: [[String]] = [["spec", "unschedulable"], ["spec", "taints"], ["metadata", "labels"],
                                                   ["status", "allocatable"]]

    static func pendingPods(_ pods: CacheSnapshot) -> [ReconcileRequest] {
        pods.byIndex(pendingIndex, "").map { ReconcileRequest($0) }
    }

    static func isTerminal(_ record: EventRecord) -> Bool {
        let phase = record.value(at: ["status", "phase"])?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Unbound, not being deleted, not finished, this scheduler's, and not held by scheduling
    /// gates (the SchedulingGates PreEnqueue plugin).
    static func isPending(_ record: EventRecord) -> Bool {
        (record.value(at: ["spec", "nodeName"])?.stringValue ?? "").isEmpty
            && record.value(at: ["metadata", "deletionTimestamp"]) == nil
            && (record.value(at: ["spec", "schedulingGates"])?.arrayValue ?? []).isEmpty
            && !isTerminal(record)
            && (record.value(at: ["spec", "schedulerName"])?.stringValue ?? schedulerName) == schedulerName
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let pods = context.snapshot("Pod")
        guard let record = pods.get(namespace: request.namespace, name: request.name), Self.isPending(record),
              let pod = Pod(record.object) else { return .done }
        if case .wait(let delay) = queue.verdict(for: record.key, now: context.now) { return .requeue(after: delay) }
        let events = context.events.reporting(as: Self.schedulerName)
        switch cache.decide(pod, key: record.key) {
        case .bind(let node):
            try await context.client.bind(podNamespace: request.namespace, podName: request.name, nodeName: node)
            cache.assume(pod: record, requests: Scheduling.requests(pod), on: node)
            queue.scheduled(record.key)
            await events.record(record, reason: "Scheduled", action: "Binding",
                                message: "Successfully assigned \(request.namespace)/\(request.name) to \(node)")
        case .unschedulable(let fitMessage, let plugins):
            // PostFilter: DefaultPreemption. When it finds room, the victims go and the pod is
            // nominated to their node; otherwise its reasons join the message.
            var message = fitMessage
            var nominated = pod.status.raw["nominatedNodeName"]?.stringValue
            if cache.nodeCount > 0 {
                switch cache.preemption(for: pod, key: record.key) {
                case .none(let reasons):
                    message += " preemption: " + reasons
                case .preempt(let node, let victims):
                    for victim in victims {
                        try await preempt(victim, by: record, on: node, pods: pods, context: context, events: events)
                    }
                    // Lower-priority pods nominated to that node may no longer fit there: their
                    // nomination is cleared (ClearNominatedNodeName), so they look again.
                    for key in cache.nominatedPods(on: node, below: Int64(pod.spec.priority ?? 0)) where key != record.key {
                        cache.nominate(key, nil)
                        _ = try? await context.client.patch(kind: Pod.kind, namespace: key.namespace, name: key.name,
                                                            mergePatch: ["status": ["nominatedNodeName": .null]], subresource: .status)
                    }
                    nominated = node
                    cache.nominate(record.key, (node, Int64(pod.spec.priority ?? 0), Scheduling.requests(pod)))
                }
            }
            var updated = pod
            var conditions = updated.status.conditions
            let existing = conditions[type: "PodScheduled"]
            let sameNomination = nominated == pod.status.raw["nominatedNodeName"]?.stringValue
            // handleSchedulingFailure: an event for every failed attempt, the status only when it changes.
            let retry = queue.failed(record.key, plugins: plugins, now: context.now)
            if existing?.status == "False", existing?.reason == "Unschedulable", existing?.message == message, sameNomination {
                await events.record(record, type: "Warning", reason: "FailedScheduling", action: "Scheduling", message: message)
                return .requeue(after: retry)
            }
            let since = existing?.status == "False" ? existing?.lastTransitionTime : nil
            let condition = Condition.pod(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message,
                                          lastTransitionTime: since ?? Timestamp(seconds: context.now.seconds))
            if let i = conditions.firstIndex(where: { $0.type == "PodScheduled" }) {
                conditions[i] = condition
            } else {
                conditions.append(condition)
            }
            updated.status.conditions = conditions
            if let nominated { updated.status.raw["nominatedNodeName"] = .string(nominated) }
            try await context.client.updateStatus(updated)
            await events.record(record, type: "Warning", reason: "FailedScheduling", action: "Scheduling", message: message)
            return .requeue(after: retry)
        }
        return .done
    }

    /// DefaultPreemption's `prepareCandidate` for one victim: the DisruptionTarget condition
    /// (reason `PreemptionByScheduler`), a graceful delete, and the `Preempted` event.
    func preempt(_ victim: Preemption.PodOnNode, by preemptor: EventRecord, on node: String, pods: CacheSnapshot,
                 context: ReconcileContext, events: EventRecorder) async throws {
        guard let record = pods.get(namespace: victim.key.namespace, name: victim.key.name), var pod = Pod(record.object) else { return }
        var conditions = pod.status.conditions
        // UpdatePodCondition: the transition time moves only when the status does.
        let existing = conditions[type: "DisruptionTarget"]
        let condition = Condition.pod(type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler",
                                      message: "\(Self.schedulerName): preempting to accommodate a higher priority pod",
                                      lastTransitionTime: (existing?.isTrue == true ? existing?.lastTransitionTime : nil)
                                          ?? Timestamp(seconds: context.now.seconds))
        if let i = conditions.firstIndex(where: { $0.type == "DisruptionTarget" }) {
            conditions[i] = condition
        } else {
            conditions.append(condition)
        }
        pod.status.conditions = conditions
        do {
            try await context.client.updateStatus(pod)
            _ = try await context.client.delete(kind: "Pod", namespace: victim.key.namespace, name: victim.key.name)
        } catch let error as StoreError where error.reason == .notFound {
            return
        }
        await events.record(record, related: preemptor, reason: "Preempted", action: "Preempting",
                            message: "Preempted by pod \(preemptor.uid) on node \(node)")
    }
}
