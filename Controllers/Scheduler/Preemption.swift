public import Orca

/// kube-scheduler's DefaultPreemption (its PostFilter plugin), as a pure function: when no node
/// fits a pod, may evicting pods of lower priority make room?
///
/// - A pod with `preemptionPolicy: Never`, or one whose nominated node still has a lower-priority
///   pod terminating (its earlier victims), is not eligible.
/// - Only nodes that failed on resources (NodeResourcesFit: `Insufficient …`, `Too many pods`) can
///   be helped; a node rejected by NodeUnschedulable, TaintToleration or NodeAffinity is
///   `Preemption is not helpful for scheduling`.
/// - On a node that can, every pod of lower priority is a potential victim (none: `No preemption
///   victims found for incoming pod`). If the pod fits with all of them gone, the most important
///   (higher priority, then earlier start) are reprieved one by one while it still fits; the rest
///   are the victims. If it does not fit, the node's reasons are what is still short.
/// - Among candidate nodes the one with the lowest highest-priority victim wins, then the lowest
///   sum of priorities, then the fewest victims, then the latest start of its most important
///   victims, then the first by name.
///
/// When no node is a candidate, the message is a `FitError` over those per-node reasons, which
/// the scheduler appends to its own after `preemption: `.
public enum Preemption {
    /// A pod holding resources on a node.
    public struct PodOnNode: Sendable, Equatable {
        public var key: ObjectKey
        public var uid: String
        public var priority: Int64
        public var requests: [String: Int64]
        /// Being deleted after a preemption (`podTerminatingByPreemption`: a deletionTimestamp
        /// and the DisruptionTarget condition with reason `PreemptionByScheduler`).
        public var preempted: Bool
        /// `status.startTime`, RFC 3339 (empty when not started).
        public var startTime: String

        /// What `record`, a pod bound to a node, holds there.
        public init(_ record: EventRecord, requests: [String: Int64]) {
            let conditions = record.value(at: ["status", "conditions"])?.arrayValue ?? []
            let preemptedCondition = conditions.contains {
                $0["type"] == "DisruptionTarget" && $0["status"] == "True" && $0["reason"] == "PreemptionByScheduler"
            }
            key = record.key
            uid = record.uid
            priority = record.value(at: ["spec", "priority"])?.intValue ?? 0
            self.requests = requests
            preempted = preemptedCondition && record.value(at: ["metadata", "deletionTimestamp"]) != nil
            startTime = record.value(at: ["status", "startTime"])?.stringValue ?? ""
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// Evict `victims` (most important first) from `node` and nominate the pod to it.
        case preempt(node: String, victims: [PodOnNode])
        /// Nothing to do; the PostFilter message, without its `preemption: ` prefix.
        case none(message: String)
    }

    public static let notHelpful = "Preemption is not helpful for scheduling"
    public static let victimsTerminating = "not eligible due to a terminating pod on the nominated node."
    public static let noVictims = "No preemption victims found for incoming pod"

    /// The outcome for `pod`, which fits none of `nodes`; `pods(on:)` lists what each holds, and
    /// `lowestPriority` is the lowest priority of any of those pods (nil: there are none), so that
    /// when no pod could be a victim no node's pods are listed.
    public static func evaluate(_ pod: Pod, nodes: [Scheduling.NodeInfo], lowestPriority: Int64?,
                                pods: (String) -> [PodOnNode]) -> Outcome {
        if pod.spec.raw["preemptionPolicy"]?.stringValue == "Never" {
            return .none(message: "not eligible due to preemptionPolicy=Never.")
        }
        let priority = Int64(pod.spec.priority ?? 0)
        let wanted = Scheduling.requests(pod)
        if let nominated = pod.status.raw["nominatedNodeName"]?.stringValue, !nominated.isEmpty,
           let info = nodes.first(where: { $0.name == nominated }),
           resourcesOnly(Scheduling.filter(pod, info)),
           pods(nominated).contains(where: { $0.preempted && $0.priority < priority }) {
            return .none(message: victimsTerminating)
        }
        var reasons: [String: Int] = [:]
        var candidates: [(node: String, victims: [PodOnNode])] = []
        for info in nodes.sorted(by: { $0.name < $1.name }) {
            guard resourcesOnly(Scheduling.filter(pod, requests: wanted, info)) else {
                reasons[notHelpful, default: 0] += 1
                continue
            }
            let lower = (lowestPriority ?? priority) < priority ? pods(info.name).filter { $0.priority < priority } : []
            guard !lower.isEmpty else {
                reasons[noVictims, default: 0] += 1
                continue
            }
            var node = info
            for victim in lower { remove(victim, from: &node) }
            let short = Scheduling.insufficientResources(wanted, node)
            guard short.isEmpty else {
                for reason in short { reasons[reason, default: 0] += 1 }
                continue
            }
            var victims: [PodOnNode] = []
            for pod in lower.sorted(by: moreImportant) {
                add(pod, to: &node)
                if !Scheduling.insufficientResources(wanted, node).isEmpty {
                    remove(pod, from: &node)
                    victims.append(pod)
                }
            }
            candidates.append((info.name, victims))
        }
        guard let best = candidates.min(by: better) else {
            let parts = reasons.map { "\($0.value) \($0.key)" }.sorted()
            return .none(message: "0/\(nodes.count) nodes are available: \(parts.joined(separator: ", ")).")
        }
        return .preempt(node: best.node, victims: best.victims)
    }

    /// Whether a node's failures are all NodeResourcesFit's (the only ones evicting can cure).
    static func resourcesOnly(_ failures: [String]) -> Bool {
        !failures.isEmpty && failures.allSatisfy { $0 == "Too many pods" || $0.hasPrefix("Insufficient ") }
    }

    static func remove(_ pod: PodOnNode, from node: inout Scheduling.NodeInfo) {
        node.podCount -= 1
        for (name, v) in pod.requests { node.requested[name, default: 0] -= v }
    }

    static func add(_ pod: PodOnNode, to node: inout Scheduling.NodeInfo) {
        node.podCount += 1
        for (name, v) in pod.requests { node.requested[name, default: 0] += v }
    }

    /// `MoreImportantPod`: higher priority, then started earlier (then name, for a stable order).
    static func moreImportant(_ a: PodOnNode, _ b: PodOnNode) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        if a.startTime != b.startTime {
            if a.startTime.isEmpty { return false }
            if b.startTime.isEmpty { return true }
            return a.startTime < b.startTime
        }
        return (a.key.namespace, a.key.name) < (b.key.namespace, b.key.name)
    }

    /// `pickOneNodeForPreemption` (no PodDisruptionBudgets): whether candidate `a` is preferred.
    static func better(_ a: (node: String, victims: [PodOnNode]), _ b: (node: String, victims: [PodOnNode])) -> Bool {
        let highestA = a.victims.map(\.priority).max() ?? Int64.min
        let highestB = b.victims.map(\.priority).max() ?? Int64.min
        if highestA != highestB { return highestA < highestB }
        // Each priority offset by 2^31 so that a victim always adds to the sum.
        let sumA = a.victims.reduce(Int64(0)) { $0 + $1.priority + 2_147_483_648 }
        let sumB = b.victims.reduce(Int64(0)) { $0 + $1.priority + 2_147_483_648 }
        if sumA != sumB { return sumA < sumB }
        if a.victims.count != b.victims.count { return a.victims.count < b.victims.count }
        let startA = earliestStart(a.victims, priority: highestA)
        let startB = earliestStart(b.victims, priority: highestB)
        if startA != startB { return startA > startB }
        return a.node < b.node
    }

    /// The earliest start among the victims of the highest priority.
    static func earliestStart(_ victims: [PodOnNode], priority: Int64) -> String {
        victims.filter { $0.priority == priority }.map(\.startTime).filter { !$0.isEmpty }.min() ?? ""
    }
}
