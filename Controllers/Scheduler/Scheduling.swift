public import Orca

/// The scheduler's decision for one pod, as a pure function of the pod and what is known of each
/// node (so it can be tested without a log).
///
/// Filters run per node in kube-scheduler's default plugin order, a node failing at its first
/// failing plugin: NodeUnschedulable, TaintToleration (NoSchedule and NoExecute), NodeAffinity
/// (nodeSelector and required node affinity, including `matchFields metadata.name`) and
/// NodeResourcesFit (every request against allocatable, and the pod count). Among feasible nodes
/// the one with the fewest non-terminal pods wins, ties going to the lowest name.
public enum Scheduling {
    public enum Decision: Sendable, Equatable {
        case bind(node: String)
        /// No node fits; the message is kube-scheduler's `FitError` text, `plugins` the filter
        /// plugins that rejected some node (none when there are no nodes).
        case unschedulable(message: String, plugins: Set<Plugin>)
    }

    /// The filter plugins of kube-scheduler's default profile that Orca runs, in their order.
    public enum Plugin: String, Sendable, Hashable, CaseIterable {
        case nodeUnschedulable = "NodeUnschedulable"
        case taintToleration = "TaintToleration"
        case nodeAffinity = "NodeAffinity"
        case nodeResourcesFit = "NodeResourcesFit"

        /// The plugin that gives a ``Scheduling/filter(_:_:)`` reason.
        public init(reason: String) {
            if reason == Scheduling.unschedulableReason {
                self = .nodeUnschedulable
            } else if reason.hasPrefix(Scheduling.untoleratedTaintReason) {
                self = .taintToleration
            } else if reason == Scheduling.affinityReason {
                self = .nodeAffinity
            } else {
                self = .nodeResourcesFit
            }
        }
    }

    static let unschedulableReason = "node(s) were unschedulable"
    static let untoleratedTaintReason = "node(s) had untolerated taint"
    static let affinityReason = "node(s) didn't match Pod's node affinity/selector"

    /// What the scheduler needs to know about one node: the node, with the fields the filters
    /// read parsed once, and the non-terminal pods bound to it (terminating ones still hold their
    /// resources) as a count and a sum of requests.
    public struct NodeInfo: Sendable {
        public let node: Node
        public let name: String
        public let unschedulable: Bool
        /// The NoSchedule and NoExecute taints.
        public let taints: [Taint]
        /// Allocatable resources, in milli-units.
        public let allocatable: [String: Int64]
        /// The `pods` allocatable (110 when absent).
        public let maxPods: Int64
        public var podCount: Int
        /// Requests of the bound pods, summed, in milli-units.
        public var requested: [String: Int64]

        public init(node: Node, podCount: Int = 0, requested: [String: Int64] = [:]) {
            self.node = node
            name = node.metadata.name ?? ""
            unschedulable = node.spec.unschedulable == true
            taints = node.spec.taints.filter { $0.effect == "NoSchedule" || $0.effect == "NoExecute" }
            let allocatableQuantities = node.status.allocatable
            allocatable = allocatableQuantities.mapValues(\.milliValue)
            maxPods = allocatableQuantities["pods"]?.value ?? 110
            self.podCount = podCount
            self.requested = requested
        }

        /// The node with `pods` bound to it.
        public init(node: Node, pods: [Pod]) {
            var requested: [String: Int64] = [:]
            for pod in pods {
                for (name, v) in Scheduling.requests(pod) { requested[name, default: 0] += v }
            }
            self.init(node: node, podCount: pods.count, requested: requested)
        }
    }

    /// Picks among `nodes` in any order.
    public static func decide(_ pod: Pod, nodes: [NodeInfo]) -> Decision {
        decide(pod, inPreferenceOrder: nodes.sorted { ($0.podCount, $0.name) < ($1.podCount, $1.name) }, total: nodes.count)
    }

    /// Picks the first feasible node of `nodes`, which come fewest pods first, then by name; only
    /// when none fits are all `total` nodes visited, to build the message.
    public static func decide(_ pod: Pod, inPreferenceOrder nodes: some Sequence<NodeInfo>, total: Int) -> Decision {
        guard total > 0 else { return .unschedulable(message: "no nodes available to schedule pods", plugins: []) }
        let wanted = requests(pod)
        var reasons: [String: Int] = [:]
        for info in nodes {
            let failures = filter(pod, requests: wanted, info)
            if failures.isEmpty { return .bind(node: info.name) }
            for reason in failures { reasons[reason, default: 0] += 1 }
        }
        let parts = reasons.map { "\($0.value) \($0.key)" }.sorted()
        return .unschedulable(message: "0/\(total) nodes are available: \(parts.joined(separator: ", ")).",
                              plugins: Set(reasons.keys.map(Plugin.init(reason:))))
    }

    /// The reasons `info`'s node cannot take `pod` (empty when it can).
    public static func filter(_ pod: Pod, _ info: NodeInfo) -> [String] { filter(pod, requests: requests(pod), info) }

    static func filter(_ pod: Pod, requests wanted: [String: Int64], _ info: NodeInfo) -> [String] {
        let tolerations = pod.spec.tolerations
        if info.unschedulable,
           !tolerates(tolerations, key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule") {
            return [unschedulableReason]
        }
        for taint in info.taints where !tolerations.tolerate(taint) {
            return ["\(untoleratedTaintReason) {\(taint.key ?? ""): \(taint.value ?? "")}"]
        }
        if !matchesNodeSelectorAndAffinity(pod, info.node) {
            return [affinityReason]
        }
        return insufficientResources(wanted, info)
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
    static func insufficientResources(_ wanted: [String: Int64], _ info: NodeInfo) -> [String] {
        var reasons: [String] = []
        if Int64(info.podCount) + 1 > info.maxPods { reasons.append("Too many pods") }
        guard !wanted.isEmpty else { return reasons }
        for name in wanted.keys.sorted() {
            let want = wanted[name] ?? 0
            guard want > 0 else { continue }
            let available = info.allocatable[name] ?? 0
            if (info.requested[name] ?? 0) + want > available { reasons.append("Insufficient \(name)") }
        }
        return reasons
    }
}
