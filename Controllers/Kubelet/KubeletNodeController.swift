public import Orca

/// The node half of every simulated kubelet: renews the node's Lease in `kube-node-lease` every
/// 10 s, and posts the node status (Ready, MemoryPressure, DiskPressure, PIDPressure, capacity,
/// allocatable, addresses) when it changes and every 5 minutes otherwise. Also gives a node
/// without one its pod CIDR, as the node IPAM controller would. A stopped kubelet does nothing.
public struct KubeletNodeController: Reconciler {
    public typealias Object = Node
    public static let name = "kubelet-node"
    public static let leaseNamespace = "kube-node-lease"
    public let kubelets: Kubelets

    public init(kubelets: Kubelets) { self.kubelets = kubelets }

    /// The conditions a healthy kubelet reports, in Kubernetes' order.
    public static let healthyConditions: [Condition] = [
        Condition(type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available"),
        Condition(type: "DiskPressure", status: "False", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure"),
        Condition(type: "PIDPressure", status: "False", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available"),
        Condition(type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status"),
    ]

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let node = context.get(Node.self, request) else {
            kubelets.forget(node: request.name)
            return .done
        }
        let registered = kubelets.register(node)
        guard registered.managed, registered.alive else { return .done }
        let name = request.name
        let now = context.now
        let client = StoreClient(store: context.client.store, writeContext: WriteContext(actor: "kubelet/\(name)", cause: context.cause))

        // Pod CIDR, once.
        if (node.spec.podCIDR ?? "").isEmpty {
            let cidr = Kubelets.podCIDR(index: registered.index)
            try await client.patch(kind: "Node", namespace: "", name: name,
                                   mergePatch: ["spec": ["podCIDR": .string(cidr), "podCIDRs": [.string(cidr)]]])
            return .requeue(after: .zero)
        }

        // Node status.
        let lastReport = kubelets.state.withLock { $0.nodes[name]?.lastReport }
            ?? node.status.conditions[type: "Ready"]?.lastHeartbeatTime
        let reportDue = lastReport.map { now.since($0) >= kubelets.settings.statusReportFrequency } ?? true
        let desired = desiredStatus(node, index: registered.index, now: now, heartbeat: reportDue)
        if desired != node.status {
            var updated = node
            updated.status = desired
            try await client.updateStatus(updated)
            kubelets.state.withLock { $0.nodes[name]?.lastReport = now }
        } else if lastReport != nil {
            kubelets.state.withLock { $0.nodes[name]?.lastReport = lastReport }
        }

        // Lease.
        let nextRenewal = kubelets.state.withLock { $0.nodes[name]?.nextRenewal } ?? now
        var renewAt = nextRenewal
        if now >= nextRenewal {
            try await renewLease(node, client: client, now: now, context: context)
            while renewAt <= now { renewAt = renewAt.adding(kubelets.settings.leaseRenewInterval) }
            kubelets.state.withLock { $0.nodes[name]?.nextRenewal = renewAt }
        }
        let report = (kubelets.state.withLock { $0.nodes[name]?.lastReport } ?? now).adding(kubelets.settings.statusReportFrequency)
        return .requeue(after: max(.zero, min(renewAt, report).since(now)))
    }

    /// The status the kubelet would post: its conditions (with `set-condition` overrides),
    /// default capacity when the node has none, and its InternalIP. `heartbeat` moves every
    /// condition's lastHeartbeatTime to now.
    func desiredStatus(_ node: Node, index: Int, now: Timestamp, heartbeat: Bool) -> NodeStatus {
        let second = Timestamp(seconds: now.seconds)
        var status = node.status
        let overrides = kubelets.state.withLock { $0.nodes[node.metadata.name ?? ""]?.overrides ?? [:] }
        var changed = false
        var conditions: [Condition] = []
        // The kubelet's own four, then any other type a scenario had it report (NetworkUnavailable…).
        let baseTypes = Set(Self.healthyConditions.map(\.type))
        let extra = overrides.filter { !baseTypes.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
        for base in Self.healthyConditions + extra {
            var c = overrides[base.type] ?? base
            let old = node.status.conditions[type: base.type]
            if old?.status != c.status || old?.reason != c.reason || old?.message != c.message { changed = true }
            c.lastHeartbeatTime = (heartbeat || changed) ? second : (old?.lastHeartbeatTime ?? second)
            c.lastTransitionTime = old?.status == c.status ? (old?.lastTransitionTime ?? second) : second
            var ordered = JSONObject()
            for key in ["type", "status", "lastHeartbeatTime", "lastTransitionTime", "reason", "message"] {
                if let v = c.raw[key] { ordered[key] = v }
            }
            conditions.append(Condition(raw: ordered))
        }
        if changed {
            for i in conditions.indices { conditions[i].lastHeartbeatTime = second }
        }
        // As the kubelet's setters do: each condition updated where it stands, a new one appended.
        var merged = node.status.conditions
        for c in conditions {
            if let i = merged.firstIndex(where: { $0.type == c.type }) { merged[i] = c } else { merged.append(c) }
        }
        status.conditions = merged
        if status.capacity.isEmpty { status.capacity = SimulatedNodes.defaultCapacity }
        if status.allocatable.isEmpty { status.allocatable = status.capacity }
        if status.addresses.isEmpty { status.addresses = SimulatedNodes.addresses(name: node.metadata.name ?? "", index: index) }
        if status.nodeInfo.kubeletVersion == nil { status.nodeInfo = SimulatedNodes.nodeInfo }
        return status
    }

    func renewLease(_ node: Node, client: StoreClient, now: Timestamp, context: ReconcileContext) async throws {
        let name = node.metadata.name ?? ""
        let renewTime = JSONValue.string(now.rfc3339Micro)
        if var lease = context.get(Lease.self, ReconcileRequest(namespace: Self.leaseNamespace, name: name)) {
            lease.spec.raw["renewTime"] = renewTime
            try await client.update(lease)
            return
        }
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.namespace = Self.leaseNamespace
        var owner = OwnerReference(apiVersion: "v1", kind: "Node", name: name, uid: node.metadata.uid ?? "")
        owner.controller = nil
        metadata.ownerReferences = [owner]
        var lease = Lease(metadata: metadata)
        lease.spec.holderIdentity = name
        lease.spec.leaseDurationSeconds = kubelets.settings.leaseDurationSeconds
        lease.spec.raw["renewTime"] = renewTime
        do {
            try await client.create(lease)
        } catch let error as StoreError where error.reason == .alreadyExists {
            // Created by an earlier kubelet of the same node; the next renewal updates it.
        }
    }
}

/// What a simulated node looks like by default (a scenario's `nodes: {count: N}`).
public enum SimulatedNodes {
    public static let defaultCapacity: [String: Quantity] = [
        "cpu": Quantity("4")!, "memory": Quantity("16Gi")!, "pods": Quantity("110")!,
        "ephemeral-storage": Quantity("100Gi")!,
    ]
    public static let zoneLabel = "topology.kubernetes.io/zone"
    public static let defaultZone = "z1"

    public static let nodeInfo: NodeSystemInfo = {
        var info = NodeSystemInfo()
        info.kubeletVersion = "v1.31.0-orca"
        info.containerRuntimeVersion = "orca-sim://1"
        info.operatingSystem = "linux"
        info.architecture = "amd64"
        return info
    }()

    public static func addresses(name: String, index: Int) -> [NodeAddress] {
        var internalIP = NodeAddress()
        internalIP.type = "InternalIP"
        internalIP.address = Kubelets.internalIP(index: index)
        var host = NodeAddress()
        host.type = "Hostname"
        host.address = name
        return [internalIP, host]
    }

    /// A node as it registers: `base` (at least `metadata.name`) completed with the kubelet's
    /// labels (hostname, OS and architecture, also under their beta names) and the zone label,
    /// the pod CIDR of its index, default capacity and allocatable, addresses, and — when it has
    /// a kubelet — the healthy conditions (heartbeat `now`) and node info.
    /// What a scenario's `nodes:` and `orca run --nodes` create.
    public static func manifest(_ base: JSONValue, index: Int, now: Timestamp, kubelet: Bool) -> JSONValue {
        var node = base
        let name = node[path: ["metadata", "name"]]?.stringValue ?? ""
        if node["apiVersion"] == nil { node["apiVersion"] = "v1" }
        if node["kind"] == nil { node["kind"] = "Node" }
        if node[path: ["metadata", "labels"]]?.objectValue == nil { node[path: ["metadata", "labels"]] = .object(JSONObject()) }
        // The kubelet's own labels (`initialNode`, in the API's sorted order), and the zone.
        let labels: [(String, String)] = [("beta.kubernetes.io/arch", "amd64"), ("beta.kubernetes.io/os", "linux"),
                                          ("kubernetes.io/arch", "amd64"), ("kubernetes.io/hostname", name),
                                          ("kubernetes.io/os", "linux"), (zoneLabel, defaultZone)]
        for (k, v) in labels where node[path: ["metadata", "labels", k]] == nil { node[path: ["metadata", "labels", k]] = .string(v) }
        if node[path: ["spec", "podCIDR"]] == nil {
            let cidr = Kubelets.podCIDR(index: index)
            node[path: ["spec", "podCIDR"]] = .string(cidr)
            node[path: ["spec", "podCIDRs"]] = [.string(cidr)]
        }
        var status = node["status"]?.objectValue.map(JSONValue.object) ?? .object(JSONObject())
        let capacity = JSONValue.object(JSONObject(entries: defaultCapacity.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value.json) }))
        if status["capacity"] == nil { status["capacity"] = capacity }
        if status["allocatable"] == nil { status["allocatable"] = status["capacity"] }
        if status["addresses"] == nil { status["addresses"] = .array(addresses(name: name, index: index).map(\.json)) }
        if kubelet {
            if status["conditions"] == nil {
                let t = JSONValue.string(Timestamp(seconds: now.seconds).rfc3339)
                status["conditions"] = .array(KubeletNodeController.healthyConditions.map { c in
                    ["type": .string(c.type), "status": .string(c.status), "lastHeartbeatTime": t, "lastTransitionTime": t,
                     "reason": .string(c.reason ?? ""), "message": .string(c.message ?? "")]
                })
            }
            if status["nodeInfo"] == nil { status["nodeInfo"] = nodeInfo.json }
        }
        node["status"] = status
        return node
    }
}
