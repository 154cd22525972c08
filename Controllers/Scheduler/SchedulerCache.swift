public import Orca
import Synchronization

/// kube-scheduler's cache, reduced to what ``Scheduling`` reads: every node with its parsed
/// fields, the count and summed requests of the non-terminal pods bound to it, and the nodes
/// kept in preference order (fewest pods, then name) so the emptiest feasible node is usually
/// the first one tried.
///
/// It is fed from the scheduler's informer events (``observe(_:)``), so it always reflects the
/// same prefix of the log as the caches, and by ``assume(pod:requests:on:)`` right after a
/// binding (the later event for that pod then changes nothing) — kube-scheduler's "assumed pods",
/// which keep a live scheduler from placing the next pod before its previous binding arrives.
public final class SchedulerCache: Sendable {
    struct Usage {
        var count = 0
        var requested: [String: Int64] = [:]
    }

    struct State {
        /// Nodes that exist, by name.
        var nodes: [String: Scheduling.NodeInfo] = [:]
        /// Usage by node name, including names whose Node is gone (their pods still count if
        /// it comes back).
        var usage: [String: Usage] = [:]
        /// What each bound, non-terminal pod contributes, and to which node.
        var contributions: [ObjectKey: (node: String, pod: Preemption.PodOnNode)] = [:]
        /// The bound, non-terminal pods of each node name.
        var podsByNode: [String: Set<ObjectKey>] = [:]
        /// How many bound, non-terminal pods have each priority (so preemption knows at once when
        /// no pod has a lower priority than the one it is asked about).
        var priorities: [Int64: Int] = [:]
        /// Pending pods nominated to a node by a preemption: the room they are waiting for.
        var nominated: [ObjectKey: (node: String, priority: Int64, requests: [String: Int64])] = [:]
        /// Existing node names by pod count, each bucket sorted by name.
        var buckets: [[String]] = []
    }

    let state = Mutex(State())

    public init() {}

    /// Applies an informer event of a Node or a Pod.
    public func observe(_ event: InformerEvent) {
        let record = event.record
        switch record.kind {
        case Node.kind:
            if case .deleted = event { removeNode(record.name) } else if let node = Node(record.object) { setNode(node) }
        case Pod.kind:
            if case .deleted = event {
                setContribution(of: record.key, nil)
                nominate(record.key, nil)
                return
            }
            let node = Self.boundNode(record)
            let (current, wasNominated) = state.withLock { ($0.contributions[record.key], $0.nominated[record.key] != nil) }
            if node == nil, let nominatedNode = record.value(at: ["status", "nominatedNodeName"])?.stringValue, !nominatedNode.isEmpty,
               SchedulerController.isPending(record), let pod = Pod(record.object) {
                nominate(record.key, (nominatedNode, Int64(pod.spec.priority ?? 0), Scheduling.requests(pod)))
            } else if wasNominated {
                nominate(record.key, nil)
            }
            if let current, node == current.node {
                // Still on its node: only its deletion after a preemption changes what preemption sees.
                guard !current.pod.preempted, record.value(at: ["metadata", "deletionTimestamp"]) != nil else { return }
                let pod = Preemption.PodOnNode(record, requests: current.pod.requests)
                if pod.preempted { state.withLock { $0.contributions[record.key]?.pod = pod } }
                return
            }
            if node == nil, current == nil { return }
            setContribution(of: record.key, node.map { ($0, Preemption.PodOnNode(record, requests: Pod(record.object).map(Scheduling.requests) ?? [:])) })
        default:
            break
        }
    }

    /// Counts `pod` on `node` at once, before the informer delivers the binding.
    public func assume(pod record: EventRecord, requests: [String: Int64], on node: String) {
        setContribution(of: record.key, (node, Preemption.PodOnNode(record, requests: requests)))
    }

    /// Records that `key`, a pending pod, waits for room on a node (nil: no longer).
    public func nominate(_ key: ObjectKey, _ nomination: (node: String, priority: Int64, requests: [String: Int64])?) {
        state.withLock { $0.nominated[key] = nomination }
    }

    /// `getLowerPriorityNominatedPods`: the pods nominated to `node` with a priority below
    /// `priority`, in key order.
    public func nominatedPods(on node: String, below priority: Int64) -> [ObjectKey] {
        state.withLock { s in
            s.nominated.filter { $0.value.node == node && $0.value.priority < priority }.map(\.key)
                .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        }
    }

    /// ``Preemption/evaluate(_:nodes:pods:)`` over the cached nodes and the pods bound to them.
    public func preemption(for pod: Pod, key: ObjectKey? = nil) -> Preemption.Outcome {
        state.withLock { s in
            let nodes = Array(s.nodes.values).map { Self.withNominated($0, for: pod, key: key, s) }
            return Preemption.evaluate(pod, nodes: nodes, lowestPriority: s.priorities.keys.min()) { name in
                (s.podsByNode[name] ?? []).compactMap { s.contributions[$0]?.pod }
            }
        }
    }

    /// `RunFilterPluginsWithNominatedPods`: the node as `pod` must see it, holding the pods
    /// nominated to it with at least `pod`'s priority (other than `pod` itself).
    static func withNominated(_ info: Scheduling.NodeInfo, for pod: Pod, key: ObjectKey?, _ s: State) -> Scheduling.NodeInfo {
        guard !s.nominated.isEmpty else { return info }
        let priority = Int64(pod.spec.priority ?? 0)
        var node = info
        for (other, nomination) in s.nominated where nomination.node == info.name && other != key && nomination.priority >= priority {
            node.podCount += 1
            for (name, v) in nomination.requests { node.requested[name, default: 0] += v }
        }
        return node
    }

    /// The nodes, fewest pods first, then by name.
    public func nodesInPreferenceOrder() -> (nodes: [Scheduling.NodeInfo], total: Int) {
        state.withLock { s in
            var out: [Scheduling.NodeInfo] = []
            out.reserveCapacity(s.nodes.count)
            for bucket in s.buckets { for name in bucket { if let info = s.nodes[name] { out.append(info) } } }
            return (out, s.nodes.count)
        }
    }

    /// ``Scheduling/decide(_:inPreferenceOrder:total:)`` over the cached nodes: usually only the
    /// first few are visited.
    public func decide(_ pod: Pod, key: ObjectKey? = nil) -> Scheduling.Decision {
        state.withLock { s in
            var nodes = s.nodes
            if !s.nominated.isEmpty {
                for name in Set(s.nominated.values.map(\.node)) {
                    if let info = nodes[name] { nodes[name] = Self.withNominated(info, for: pod, key: key, s) }
                }
            }
            // A pod nominated by an earlier preemption goes to that node when it fits there.
            if let nominated = pod.status.raw["nominatedNodeName"]?.stringValue, let info = nodes[nominated],
               Scheduling.filter(pod, info).isEmpty {
                return .bind(node: nominated)
            }
            let ordered = s.buckets.lazy.joined().compactMap { nodes[$0] }
            return Scheduling.decide(pod, inPreferenceOrder: ordered, total: nodes.count)
        }
    }

    public var nodeCount: Int { state.withLock { $0.nodes.count } }

    /// The node a pod holds resources on: bound, and neither Succeeded nor Failed.
    static func boundNode(_ record: EventRecord) -> String? {
        guard let node = record.value(at: ["spec", "nodeName"])?.stringValue, !node.isEmpty else { return nil }
        let phase = record.value(at: ["status", "phase"])?.stringValue
        return phase == "Succeeded" || phase == "Failed" ? nil : node
    }

    func setNode(_ node: Node) {
        let name = node.metadata.name ?? ""
        state.withLock { s in
            let usage = s.usage[name] ?? Usage()
            let existed = s.nodes[name] != nil
            s.nodes[name] = Scheduling.NodeInfo(node: node, podCount: usage.count, requested: usage.requested)
            if !existed { Self.insert(name, count: usage.count, &s) }
        }
    }

    func removeNode(_ name: String) {
        state.withLock { s in
            guard let info = s.nodes.removeValue(forKey: name) else { return }
            Self.remove(name, count: info.podCount, &s)
        }
    }

    func setContribution(of key: ObjectKey, _ new: (node: String, pod: Preemption.PodOnNode)?) {
        state.withLock { s in
            if let old = s.contributions.removeValue(forKey: key) {
                Self.change(old.node, by: -1, old.pod.requests, &s)
                s.podsByNode[old.node]?.remove(key)
                if s.podsByNode[old.node]?.isEmpty == true { s.podsByNode[old.node] = nil }
                s.priorities[old.pod.priority, default: 0] -= 1
                if s.priorities[old.pod.priority] == 0 { s.priorities[old.pod.priority] = nil }
            }
            if let new {
                s.contributions[key] = new
                s.podsByNode[new.node, default: []].insert(key)
                s.priorities[new.pod.priority, default: 0] += 1
                Self.change(new.node, by: 1, new.pod.requests, &s)
            }
        }
    }

    static func change(_ node: String, by delta: Int, _ requests: [String: Int64], _ s: inout State) {
        var usage = s.usage[node] ?? Usage()
        let before = usage.count
        usage.count += delta
        for (name, v) in requests { usage.requested[name, default: 0] += Int64(delta) * v }
        s.usage[node] = usage.count == 0 ? nil : usage
        guard s.nodes[node] != nil else { return }
        s.nodes[node]?.podCount = usage.count
        s.nodes[node]?.requested = usage.requested
        remove(node, count: before, &s)
        insert(node, count: usage.count, &s)
    }

    static func insert(_ name: String, count: Int, _ s: inout State) {
        while s.buckets.count <= count { s.buckets.append([]) }
        var low = 0, high = s.buckets[count].count
        while low < high {
            let mid = (low + high) / 2
            if s.buckets[count][mid] < name { low = mid + 1 } else { high = mid }
        }
        s.buckets[count].insert(name, at: low)
    }

    static func remove(_ name: String, count: Int, _ s: inout State) {
        guard count < s.buckets.count else { return }
        var low = 0, high = s.buckets[count].count
        while low < high {
            let mid = (low + high) / 2
            if s.buckets[count][mid] < name { low = mid + 1 } else { high = mid }
        }
        if low < s.buckets[count].count, s.buckets[count][low] == name { s.buckets[count].remove(at: low) }
    }
}
