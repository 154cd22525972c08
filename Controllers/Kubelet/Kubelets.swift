public import Orca
import Synchronization

/// The simulated kubelets of a cluster: which nodes have a live kubelet, each pod's simulated
/// containers, pod IP allocation, and the node conditions a kubelet reports. Shared by the
/// ``KubeletPodController`` and ``KubeletNodeController`` and driven by a scenario's node and pod
/// actions.
public final class Kubelets: Sendable {
    public struct Settings: Sendable {
        /// How often a kubelet renews its Lease (`nodeLeaseDurationSeconds` 40 / 4).
        public var leaseRenewInterval: Duration = .seconds(10)
        public var leaseDurationSeconds = 40
        /// How often an unchanged node status is posted anyway (`nodeStatusReportFrequency`).
        public var statusReportFrequency: Duration = .seconds(300)
        /// Whether a node seen for the first time (not reserved) gets a kubelet. True in a
        /// simulation, where every node is simulated; false for `orca run --nodes`, which
        /// simulates only its own nodes and leaves other registered nodes alone.
        public var adoptsUnreservedNodes = true
        public init() {}
    }

    struct NodeState {
        var managed: Bool
        var alive = true
        var index: Int
        var nextIP = 2
        var nextRenewal: Timestamp?
        var lastReport: Timestamp?
        /// Conditions set by `set-condition`, by type.
        var overrides: [String: Condition] = [:]
    }

    struct State {
        var nodes: [String: NodeState] = [:]
        var nextIndex = 1
        /// Nodes a scenario declared `kubelet: none`.
        var disabled: Set<String> = []
        var pods: [ObjectKey: SimulatedPod] = [:]
        var podIPs: [ObjectKey: String] = [:]
        /// `set-behavior` overrides, by pod UID.
        var behaviors: [String: Behavior] = [:]
    }

    public let settings: Settings
    let state = Mutex(State())

    public init(settings: Settings = Settings()) { self.settings = settings }

    // MARK: Nodes

    /// Reserves node indexes (for pod CIDRs) in this order: a scenario's initial nodes by name.
    public func reserve(nodes: [String], withoutKubelet: Set<String>) {
        state.withLock { s in
            s.disabled.formUnion(withoutKubelet)
            for name in nodes where s.nodes[name] == nil {
                s.nodes[name] = NodeState(managed: !withoutKubelet.contains(name), index: s.nextIndex)
                s.nextIndex += 1
            }
        }
    }

    /// The node's index (1-based, in reservation then first-seen order).
    public func index(of node: String) -> Int? { state.withLock { $0.nodes[node]?.index } }

    /// Whether the node's kubelet is running (false for unknown, kubelet-less or stopped nodes).
    public func isAlive(_ node: String) -> Bool {
        state.withLock { s in s.nodes[node].map { $0.managed && $0.alive } ?? false }
    }

    public func hasKubelet(_ node: String) -> Bool { state.withLock { $0.nodes[node]?.managed ?? false } }

    /// `stop-heartbeat` / `resume-heartbeat`.
    public func setAlive(_ node: String, _ alive: Bool, now: Timestamp) {
        state.withLock { s in
            s.nodes[node]?.alive = alive
            if alive {
                s.nodes[node]?.nextRenewal = now
                s.nodes[node]?.lastReport = nil
            }
        }
    }

    /// `set-condition`: the kubelet reports this condition from now on.
    public func setCondition(_ node: String, _ condition: Condition) {
        state.withLock { $0.nodes[node]?.overrides[condition.type] = condition }
    }

    /// Registers a node seen for the first time; returns its state's index.
    func register(_ node: Node) -> NodeState {
        let name = node.metadata.name ?? ""
        return state.withLock { s in
            if let existing = s.nodes[name] { return existing }
            let managed = settings.adoptsUnreservedNodes && node.metadata.annotations[Behavior.kubeletAnnotation] != "none"
                && !s.disabled.contains(name)
            let n = NodeState(managed: managed, index: s.nextIndex)
            s.nextIndex += 1
            s.nodes[name] = n
            return n
        }
    }

    func forget(node: String) {
        state.withLock { s in s.nodes[node]?.alive = false }
    }

    // MARK: Pods

    /// Changes a pod's simulated behaviour (`set-behavior`).
    public func setBehavior(_ behavior: Behavior, podUID: String, key: ObjectKey, now: Timestamp) {
        state.withLock { s in
            s.behaviors[podUID] = behavior
            if s.pods[key]?.uid == podUID { s.pods[key]?.setBehavior(behavior, at: now) }
        }
    }

    /// Runs `body` on the pod's simulated state, if the kubelet knows the pod (same UID).
    @discardableResult
    public func withPod<T>(_ key: ObjectKey, uid: String, _ body: (inout SimulatedPod) -> T) -> T? {
        state.withLock { s in
            guard var pod = s.pods[key], pod.uid == uid else { return nil }
            let result = body(&pod)
            s.pods[key] = pod
            return result
        }
    }

    func behavior(uid: String) -> Behavior? { state.withLock { $0.behaviors[uid] } }

    func load(_ key: ObjectKey) -> SimulatedPod? { state.withLock { $0.pods[key] } }

    func store(_ key: ObjectKey, _ pod: SimulatedPod?) {
        state.withLock { s in
            s.pods[key] = pod
            if pod == nil { s.podIPs[key] = nil }
        }
    }

    /// The pod's IP: the next free address of the node's pod CIDR, in binding order. A pod that
    /// already has one (a kubelet restarted under `orca run --nodes`) keeps it, and later pods of
    /// the node are numbered after it.
    func podIP(_ key: ObjectKey, node: String, cidr: String?, existing: String? = nil) -> String? {
        state.withLock { s in
            if let ip = s.podIPs[key] { return ip }
            guard var n = s.nodes[node] else { return nil }
            let base = cidr.flatMap(Self.prefix) ?? "10.244.\(n.index)"
            if let existing, !existing.isEmpty {
                if existing.hasPrefix(base + "."), let last = Int(existing.dropFirst(base.count + 1)) {
                    n.nextIP = max(n.nextIP, last + 1)
                    s.nodes[node] = n
                }
                s.podIPs[key] = existing
                return existing
            }
            let ip = "\(base).\(n.nextIP)"
            n.nextIP += 1
            s.nodes[node] = n
            s.podIPs[key] = ip
            return ip
        }
    }

    /// `10.244.3` from `10.244.3.0/24`.
    static func prefix(_ cidr: String) -> String? {
        let address = cidr.split(separator: "/").first.map(String.init) ?? cidr
        let octets = address.split(separator: ".")
        guard octets.count == 4 else { return nil }
        return octets.prefix(3).joined(separator: ".")
    }

    /// The pod CIDR a node without one gets: `10.244.<index>.0/24`.
    public static func podCIDR(index: Int) -> String { "10.244.\(index).0/24" }
    /// The InternalIP a simulated node reports: `172.18.0.<index + 1>`.
    public static func internalIP(index: Int) -> String { "172.18.0.\(index + 1)" }
}
