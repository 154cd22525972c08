public import Orca

/// The scheduler's decision for one pod, as a pure function of the pod, the nodes and the pods
/// already bound to each node (so it can be tested without a log).
///
/// Filters run per node in kube-scheduler's default plugin order, a node failing at its first
/// failing plugin: NodeUnschedulable, TaintToleration (NoSchedule and NoExecute), NodeAffinity
/// (nodeSelector and required node affinity, including `matchFields metadata.name`) and
/// NodeResourcesFit (every request against allocatable, and the pod count). Among feasible nodes
/// the one with the fewest non-terminal pods wins, ties going to the lowest name.
public enum Scheduling {
    public enum Decision: Sendable, Equatable {
        case bind(node: String)
        /// No node fits; the message is kube-scheduler's `FitError` text.
        case unschedulable(message: String)
    }

    /// What the scheduler needs to know about one node: the node and the pods bound to it.
    public struct NodeInfo: Sendable {
        public var node: Node
        /// Non-terminal pods bound to the node (terminating ones still hold their resources).
        public var pods: [Pod]
        public init(node: Node, pods: [Pod]) {
            self.node = node
            self.pods = pods
        }
    }

    public static func decide(_ pod: Pod, nodes: [NodeInfo]) -> Decision {
        guard !nodes.isEmpty else { return .unschedulable(message: "no nodes available to schedule pods") }
        var reasons: [String: Int] = [:]
        var best: (name: String, count: Int)?
        for info in nodes {
            let failures = filter(pod, info)
            if failures.isEmpty {
                let name = info.node.metadata.name ?? ""
                if let current = best, (current.count, current.name) <= (info.pods.count, name) { continue }
                best = (name, info.pods.count)
            } else {
                for reason in failures { reasons[reason, default: 0] += 1 }
            }
        }
        if let best { return .bind(node: best.name) }
        let parts = reasons.map { "\($0.value) \($0.key)" }.sorted()
        return .unschedulable(message: "0/\(nodes.count) nodes are available: \(parts.joined(separator: ", ")).")
    }

    /// The reasons `info`'s node cannot take `pod` (empty when it can).
    public static func filter(_ pod: Pod, _ info: NodeInfo) -> [String] {
        let node = info.node
        let tolerations = pod.spec.tolerations
        if node.spec.unschedulable == true,
           !tolerates(tolerations, key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule") {
            return ["node(s) were unschedulable"]
        }
        for taint in node.spec.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !tolerates(tolerations, key: taint.key ?? "", value: taint.value ?? "", effect: taint.effect ?? "") {
                return ["node(s) had untolerated taint {\(taint.key ?? ""): \(taint.value ?? "")}"]
            }
        }
        if !matchesNodeSelectorAndAffinity(pod, node) {
            return ["node(s) didn't match Pod's node affinity/selector"]
        }
        return insufficientResources(pod, info)
    }

    /// Whether a toleration tolerates the taint (``Toleration/tolerates(_:)``).
    public static func tolerates(_ tolerations: [Toleration], key: String, value: String, effect: String) -> Bool {
        tolerations.tolerate(Taint(key: key, value: value, effect: effect))
    }

    /// `nodeSelector` labels and required node affinity terms (``PodSpec/requiredNodeAffinityMatches(_:)``).
    public static func matchesNodeSelectorAndAffinity(_ pod: Pod, _ node: Node) -> Bool {
        pod.spec.requiredNodeAffinityMatches(node)
    }

    /// Resource requests of a pod: the larger of the sum over containers and each init
    /// container's (`PodRequests`), in milli-units.
    public static func requests(_ pod: Pod) -> [String: Int64] {
        var total: [String: Int64] = [:]
        for c in pod.spec.containers {
            for (name, q) in c.resources.requests { total[name, default: 0] += q.milliValue }
        }
        for c in pod.spec.initContainers {
            for (name, q) in c.resources.requests { total[name] = max(total[name] ?? 0, q.milliValue) }
        }
        return total
    }

    /// NodeResourcesFit's reasons: `Too many pods`, `Insufficient <resource>` (sorted by name).
    static func insufficientResources(_ pod: Pod, _ info: NodeInfo) -> [String] {
        var reasons: [String] = []
        let allocatable = info.node.status.allocatable
        let maxPods = allocatable["pods"]?.value ?? 110
        if Int64(info.pods.count) + 1 > maxPods { reasons.append("Too many pods") }
        let wanted = requests(pod)
        guard !wanted.isEmpty else { return reasons }
        var used: [String: Int64] = [:]
        for other in info.pods {
            for (name, v) in requests(other) { used[name, default: 0] += v }
        }
        for name in wanted.keys.sorted() {
            let want = wanted[name] ?? 0
            guard want > 0 else { continue }
            let available = allocatable[name]?.milliValue ?? 0
            if (used[name] ?? 0) + want > available { reasons.append("Insufficient \(name)") }
        }
        return reasons
    }
}
