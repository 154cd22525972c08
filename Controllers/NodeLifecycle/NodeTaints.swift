public import Orca

/// Writes to a node's taints as the node controller's helpers do (`SwapNodeControllerTaint`):
/// taints to add get `timeAdded` = now and are written first, then the taints to remove, each a
/// separate write made only when it changes something. Reads the live node, so a reconcile's
/// earlier writes are never undone.
public enum NodeTaints {
    public static let noExecuteNotReady = Taint(key: Taint.notReadyKey, effect: "NoExecute")
    public static let noExecuteUnreachable = Taint(key: Taint.unreachableKey, effect: "NoExecute")

    /// Returns false when the node is gone.
    @discardableResult
    public static func swap(node name: String, add: [Taint], remove: [Taint], now: Timestamp, client: StoreClient) async throws -> Bool {
        if !add.isEmpty {
            guard let live = try client.store.get(kind: "Node", namespace: "", name: name), var node = Node(live.value) else { return false }
            var taints = node.spec.taints
            var changed = false
            for var taint in add {
                taint.timeAdded = Timestamp(seconds: now.seconds)
                if let i = taints.firstIndex(where: { $0.matches(taint) }) {
                    if taints[i] == taint { continue }
                    taints[i] = taint
                } else {
                    taints.append(taint)
                }
                changed = true
            }
            if changed {
                node.spec.taints = taints
                try await write(node, client: client)
            }
        }
        if !remove.isEmpty {
            guard let live = try client.store.get(kind: "Node", namespace: "", name: name), var node = Node(live.value) else { return false }
            let taints = node.spec.taints.filter { t in !remove.contains { $0.matches(t) } }
            if taints.count != node.spec.taints.count {
                node.spec.taints = taints
                try await write(node, client: client)
            }
        }
        return true
    }

    static func write(_ node: Node, client: StoreClient) async throws {
        let taints: JSONValue = node.spec.taints.isEmpty ? .null : .array(node.spec.taints.map { .object($0.raw) })
        _ = try await client.patch(kind: "Node", namespace: "", name: node.metadata.name ?? "", mergePatch: ["spec": ["taints": taints]])
    }

    /// Whether `node` carries a taint with the key and effect of `taint`.
    public static func has(_ node: Node, _ taint: Taint) -> Bool { node.spec.taints.contains { $0.matches(taint) } }
}

/// The node lifecycle controller's NoSchedule taints for node conditions
/// (`doNoScheduleTaintingPass`, run on every node add and update, not rate limited): Ready=False →
/// `not-ready`, Ready=Unknown → `unreachable`, Memory/Disk/PIDPressure=True → `*-pressure`,
/// NetworkUnavailable=True → `network-unavailable`, `spec.unschedulable` → `unschedulable`.
public struct NodeConditionTaintController: Reconciler {
    public typealias Object = Node
    public static let name = "nodelifecycle-taints"

    /// Condition type → status → taint key (`nodeConditionToTaintKeyStatusMap`).
    public static let conditionTaints: [String: [String: String]] = [
        "Ready": ["False": Taint.notReadyKey, "Unknown": Taint.unreachableKey],
        "MemoryPressure": ["True": "node.kubernetes.io/memory-pressure"],
        "DiskPressure": ["True": "node.kubernetes.io/disk-pressure"],
        "NetworkUnavailable": ["True": "node.kubernetes.io/network-unavailable"],
        "PIDPressure": ["True": "node.kubernetes.io/pid-pressure"],
    ]
    static let managedKeys: Set<String> = Set(conditionTaints.values.flatMap(\.values)).union([Taint.unschedulableKey])

    public init() {}

    /// The NoSchedule taints the node's conditions call for, in condition order.
    public static func desiredTaints(_ node: Node) -> [Taint] {
        var taints: [Taint] = []
        for condition in node.status.conditions {
            if let key = conditionTaints[condition.type]?[condition.status] { taints.append(Taint(key: key, effect: "NoSchedule")) }
        }
        if node.spec.unschedulable == true { taints.append(Taint(key: Taint.unschedulableKey, effect: "NoSchedule")) }
        return taints
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let node = context.get(Node.self, request) else { return .done }
        let desired = Self.desiredTaints(node)
        let present = node.spec.taints.filter { ($0.effect ?? "") == "NoSchedule" && Self.managedKeys.contains($0.key ?? "") }
        let add = desired.filter { d in !present.contains { $0.matches(d) } }
        let remove = present.filter { p in !desired.contains { $0.matches(p) } }
        guard !add.isEmpty || !remove.isEmpty else { return .done }
        try await NodeTaints.swap(node: request.name, add: add, remove: remove, now: context.now, client: context.client)
        return .done
    }
}
