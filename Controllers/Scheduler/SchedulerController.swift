public import Orca

/// kube-scheduler, reduced to what a simulation needs: binds each pending pod to a feasible node
/// (see ``Scheduling``) or marks it `PodScheduled=False`, reason `Unschedulable`, with
/// Kubernetes' message. Unschedulable pods are retried whenever a node changes or a bound pod
/// goes away.
public struct SchedulerController: Reconciler {
    public typealias Object = Pod
    public static let name = "scheduler"
    /// Pods this scheduler is responsible for (`spec.schedulerName`).
    public static let schedulerName = "default-scheduler"
    /// Index of pods waiting for a node: value "" for every unbound, undeleted, non-terminal pod.
    public static let pendingIndex = "scheduler.pending"

    /// Nodes and what is bound to them, kept from this scheduler's informer events.
    let cache = SchedulerCache()

    public init() {}

    public func observe(_ event: InformerEvent, context: ObserveContext) { cache.observe(event) }

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
                    case .added:
                        freed = false
                    }
                    return freed ? pendingPods(context.snapshot("Pod")) : []
                }),
            ],
            indexes: [InformerIndex(kind: "Pod", name: pendingIndex) { record in isPending(record) ? [""] : [] }])
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

    static func isPending(_ record: EventRecord) -> Bool {
        (record.value(at: ["spec", "nodeName"])?.stringValue ?? "").isEmpty
            && record.value(at: ["metadata", "deletionTimestamp"]) == nil
            && !isTerminal(record)
            && (record.value(at: ["spec", "schedulerName"])?.stringValue ?? schedulerName) == schedulerName
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let pods = context.snapshot("Pod")
        guard let record = pods.get(namespace: request.namespace, name: request.name), Self.isPending(record),
              let pod = Pod(record.object) else { return .done }
        switch cache.decide(pod) {
        case .bind(let node):
            try await context.client.bind(podNamespace: request.namespace, podName: request.name, nodeName: node)
            cache.assume(pod: record.key, requests: Scheduling.requests(pod), on: node)
            await context.events.reporting(as: Self.schedulerName).record(record, reason: "Scheduled", action: "Binding",
                                        message: "Successfully assigned \(request.namespace)/\(request.name) to \(node)")
        case .unschedulable(let message):
            var updated = pod
            var conditions = updated.status.conditions
            let existing = conditions[type: "PodScheduled"]
            if existing?.status == "False", existing?.reason == "Unschedulable", existing?.message == message { return .done }
            var condition = Condition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message)
            condition.raw["lastProbeTime"] = .null
            condition.lastTransitionTime = existing?.status == "False" ? existing?.lastTransitionTime : Timestamp(seconds: context.now.seconds)
            if let i = conditions.firstIndex(where: { $0.type == "PodScheduled" }) {
                conditions[i] = condition
            } else {
                conditions.append(condition)
            }
            updated.status.conditions = conditions
            try await context.client.updateStatus(updated)
            await context.events.reporting(as: Self.schedulerName).record(record, type: "Warning", reason: "FailedScheduling", action: "Scheduling", message: message)
        }
        return .done
    }
}
