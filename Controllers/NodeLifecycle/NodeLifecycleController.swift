public import Orca

/// Kubernetes' node lifecycle controller (`pkg/controller/nodelifecycle`) in taint-based
/// eviction mode. One pass every `monitorPeriod` (t = 0, 5 s, 10 s, …):
///
/// 1. node health from Ready heartbeats and Lease renewals: a node not heard from for the grace
///    period (40 s; 60 s for a node that never reported) gets Ready, MemoryPressure, DiskPressure
///    and PIDPressure `Unknown`; on a Ready True → not-True transition its pods are marked not
///    ready;
/// 2. the NoExecute `not-ready`/`unreachable` taint for a node whose Ready condition, as the pass
///    *observed* it before its own update, is False/Unknown — queued per zone and applied through
///    the zone's rate limiter (0.1 nodes/s, burst 1); removed when the node is Ready again;
/// 3. zone states (Normal, PartialDisruption, FullDisruption) setting each zone's rate, and the
///    all-zones-down mode that stops tainting.
///
/// The queued taints are also tried every `evictionPeriod` (100 ms) while a token is awaited.
/// The NoSchedule condition taints are ``NodeConditionTaintController``'s.
public struct NodeLifecycleController: Reconciler {
    public typealias Object = Node
    public static let name = "nodelifecycle"
    public static let tick = ReconcileRequest(name: "nodelifecycle-pass")

    public struct Settings: Sendable {
        public var monitorPeriod: Duration = .seconds(5)
        public var gracePeriod: Duration = .seconds(40)
        public var startupGracePeriod: Duration = .seconds(60)
        public var evictionRate: Double = 0.1
        public var secondaryEvictionRate: Double = 0.01
        public var largeClusterThreshold = 50
        public var unhealthyZoneThreshold: Double = 0.55
        public var evictionPeriod: Duration = .milliseconds(100)
        public init() {}
    }

    public enum ZoneState: String, Sendable {
        case initial = "Initial", normal = "Normal", partialDisruption = "PartialDisruption", fullDisruption = "FullDisruption"
    }

    /// What the controller remembers of a node between passes (`nodeHealthData`).
    struct NodeHealth: Sendable {
        var ready: Condition?
        var probeTimestamp: Timestamp
        var readyTransitionTimestamp: Timestamp
        var leaseRenewTime: Timestamp?
    }

    struct State: Sendable {
        var health: [String: NodeHealth] = [:]
        /// Nodes seen, by name, with their UID (for the RemovingNode event once they are gone).
        var known: [String: String] = [:]
        var zoneStates: [String: ZoneState] = [:]
        var tainters: [String: RateLimitedTimedQueue] = [:]
        var retryMarking: Set<String> = []
        var nextMonitor: Timestamp?
        var origin: Timestamp?
    }

    public let settings: Settings
    let state = ReconcilerState(State())

    public init(settings: Settings = Settings()) { self.settings = settings }

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch("Lease", .custom { _, _ in [] }), Watch("Pod", .custom { _, _ in [] })],
                                watchesPrimary: false, initialRequests: [tick])
    }

    /// The zone states after the latest pass, by zone key (for tests and `describe`).
    public var zoneStates: [String: ZoneState] { state.withLock { $0.zoneStates } }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let now = context.now
        var s = state.value
        defer { state.withLock { [s] in $0 = s } }
        if s.origin == nil { s.origin = now }
        if now >= (s.nextMonitor ?? now) {
            try await monitorNodeHealth(&s, now: now, context: context)
            var next = s.nextMonitor ?? now
            while next <= now { next = next.adding(settings.monitorPeriod) }
            s.nextMonitor = next
        }
        try await noExecuteTaintingPass(&s, now: now, context: context)

        var wake = s.nextMonitor ?? now.adding(settings.monitorPeriod)
        for queue in s.tainters.values {
            guard let next = queue.nextTry(now: now) else { continue }
            wake = min(wake, gridTime(atOrAfter: max(next, now.adding(.nanoseconds(1))), origin: s.origin ?? now))
        }
        return .requeue(after: wake.since(now))
    }

    /// The first tick of the 100 ms tainting loop at or after `time`.
    func gridTime(atOrAfter time: Timestamp, origin: Timestamp) -> Timestamp {
        let period = settings.evictionPeriod.nanoseconds
        guard period > 0 else { return time }
        let offset = time.nanoseconds - origin.nanoseconds
        let ticks = (offset + period - 1) / period
        return Timestamp(nanoseconds: origin.nanoseconds + ticks * period)
    }

    // MARK: monitorNodeHealth

    /// The reference `RecordNodeEvent` and `RecordNodeStatusChange` build: apiVersion, kind, name
    /// and UID (no namespace, no resourceVersion).
    static func nodeReference(name: String, uid: String) -> ObjectReference {
        var reference = ObjectReference()
        reference.apiVersion = "v1"
        reference.kind = "Node"
        reference.name = name
        reference.uid = uid
        return reference
    }

    /// `RecordNodeEvent`: a Normal event whose message is `Node <name> event: <event>`.
    static func recordNodeEvent(_ events: EventRecorder, name: String, uid: String, reason: String, event: String) async {
        await events.record(about: nodeReference(name: name, uid: uid), reason: reason, message: "Node \(name) event: \(event)")
    }

    func monitorNodeHealth(_ s: inout State, now: Timestamp, context: ReconcileContext) async throws {
        let nodes = context.list(Node.self)
        let names = Set(nodes.map { $0.metadata.name ?? "" })
        let events = context.events.reporting(as: "node-controller")
        for node in nodes {
            let name = node.metadata.name ?? ""
            let zone = Self.zoneKey(node)
            if s.zoneStates[zone] == nil {
                s.zoneStates[zone] = .initial
                s.tainters[zone] = RateLimitedTimedQueue(qps: settings.evictionRate)
            }
            if s.known[name] == nil {
                s.known[name] = node.metadata.uid ?? ""
                await Self.recordNodeEvent(events, name: name, uid: node.metadata.uid ?? "", reason: "RegisteredNode",
                                           event: "Registered Node \(name) in Controller")
                try await markNodeAsReachable(node, &s, now: now, context: context)
            }
        }
        for name in Set(s.known.keys).subtracting(names).sorted() {
            await Self.recordNodeEvent(events, name: name, uid: s.known[name] ?? "", reason: "RemovingNode",
                                       event: "Removing Node \(name) from Controller")
            s.known[name] = nil
        }

        var zoneReady: [String: [String?]] = [:]
        for node in nodes {
            let name = node.metadata.name ?? ""
            guard let (observed, current) = try await tryUpdateNodeHealth(node, &s, now: now, context: context) else { continue }
            if !Self.isExcludedFromDisruptionChecks(node) { zoneReady[Self.zoneKey(node), default: []].append(current?.status) }
            guard let current else { continue }
            try await processTaintBaseEviction(node, observed: observed, &s, now: now, context: context)
            let turnedNotReady = current.status != "True" && observed.status == "True"
            if turnedNotReady {
                // RecordNodeStatusChange: a reference built by hand, like RecordNodeEvent's.
                await events.record(about: Self.nodeReference(name: name, uid: node.metadata.uid ?? ""), reason: "NodeNotReady",
                                    message: "Node \(name) status is now: NodeNotReady")
            }
            if turnedNotReady || (s.retryMarking.contains(name) && observed.status != "True") {
                do {
                    try await Self.markPodsNotReady(node: name, now: now, context: context)
                } catch {
                    context.logger.warning("unable to mark all pods NotReady on node \(name): \(error); queuing for retry")
                    s.retryMarking.insert(name)
                    continue
                }
            }
            s.retryMarking.remove(name)
        }
        try await handleDisruption(zoneReady, nodes: nodes, &s, now: now, context: context)
    }

    /// `tryUpdateNodeHealth`: returns the Ready condition as observed before the pass and as it
    /// is after it (nil: the node has none); nil when the status write failed.
    func tryUpdateNodeHealth(_ node: Node, _ s: inout State, now: Timestamp,
                             context: ReconcileContext) async throws -> (observed: Condition, current: Condition?)? {
        let name = node.metadata.name ?? ""
        let created = node.metadata.creationTimestamp ?? now
        var health = s.health[name]
        let currentReady = node.status.conditions[type: "Ready"]
        let observed: Condition
        let grace: Duration
        if let currentReady {
            observed = currentReady
            grace = settings.gracePeriod
        } else {
            var fake = Condition(type: "Ready", status: "Unknown")
            fake.lastHeartbeatTime = created
            fake.lastTransitionTime = created
            observed = fake
            grace = settings.startupGracePeriod
            if health != nil {
                health?.ready = nil
            } else {
                health = NodeHealth(ready: nil, probeTimestamp: created, readyTransitionTimestamp: created)
            }
        }
        let saved = health?.ready
        let savedLease = health?.leaseRenewTime
        var h: NodeHealth
        if let existing = health {
            h = existing
            if saved == nil, currentReady != nil {
                h = NodeHealth(ready: currentReady, probeTimestamp: now, readyTransitionTimestamp: now)
            } else if saved != nil, currentReady == nil {
                h = NodeHealth(ready: nil, probeTimestamp: now, readyTransitionTimestamp: now)
            } else if let saved, let currentReady, saved.lastHeartbeatTime != currentReady.lastHeartbeatTime {
                let transition = saved.lastTransitionTime != currentReady.lastTransitionTime ? now : existing.readyTransitionTimestamp
                h = NodeHealth(ready: currentReady, probeTimestamp: now, readyTransitionTimestamp: transition)
            }
        } else {
            h = NodeHealth(ready: currentReady, probeTimestamp: now, readyTransitionTimestamp: now)
        }
        // A renewed Lease always counts as a heartbeat.
        let lease = context.snapshot("Lease").get(namespace: "kube-node-lease", name: name).flatMap { Lease($0.object) }
        let observedLease = lease?.spec.renewTime
        if let observedLease, savedLease.map({ $0 < observedLease }) ?? true {
            h.leaseRenewTime = observedLease
            h.probeTimestamp = now
        }

        var current = currentReady
        if now > h.probeTimestamp.adding(grace) {
            var updated = node
            var conditions = node.status.conditions
            let second = Timestamp(seconds: now.seconds)
            for type in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
                if let i = conditions.firstIndex(where: { $0.type == type }) {
                    guard conditions[i].status != "Unknown" else { continue }
                    conditions[i].status = "Unknown"
                    conditions[i].reason = "NodeStatusUnknown"
                    conditions[i].message = "Kubelet stopped posting node status."
                    conditions[i].lastTransitionTime = second
                } else {
                    var c = Condition(type: type, status: "Unknown", reason: "NodeStatusNeverUpdated",
                                      message: "Kubelet never posted node status.")
                    c.lastHeartbeatTime = Timestamp(seconds: created.seconds)
                    c.lastTransitionTime = second
                    // NodeCondition's field order.
                    c.raw = c.raw.ordered(first: ["type", "status", "lastHeartbeatTime", "lastTransitionTime", "reason", "message"])
                    conditions.append(c)
                }
            }
            current = conditions[type: "Ready"]
            if current != observed {
                updated.status.conditions = conditions
                do {
                    _ = try await context.client.updateStatus(updated)
                } catch let error as StoreError {
                    context.logger.warning("Update health of Node \(name) from Controller error, Skipping - no pods will be evicted: \(error.message)")
                    s.health[name] = h
                    return nil
                }
                h = NodeHealth(ready: current, probeTimestamp: h.probeTimestamp, readyTransitionTimestamp: now,
                               leaseRenewTime: observedLease)
            }
        }
        s.health[name] = h
        return (observed, current)
    }

    /// `processTaintBaseEviction`, on the Ready condition as observed before this pass.
    func processTaintBaseEviction(_ node: Node, observed: Condition, _ s: inout State, now: Timestamp,
                                  context: ReconcileContext) async throws {
        let name = node.metadata.name ?? ""
        switch observed.status {
        case "False":
            if NodeTaints.has(node, NodeTaints.noExecuteUnreachable) {
                try await NodeTaints.swap(node: name, add: [NodeTaints.noExecuteNotReady], remove: [NodeTaints.noExecuteUnreachable],
                                          now: now, client: context.client)
            } else {
                markNodeForTainting(node, status: "False", &s, now: now)
            }
        case "Unknown":
            if NodeTaints.has(node, NodeTaints.noExecuteNotReady) {
                try await NodeTaints.swap(node: name, add: [NodeTaints.noExecuteUnreachable], remove: [NodeTaints.noExecuteNotReady],
                                          now: now, client: context.client)
            } else {
                markNodeForTainting(node, status: "Unknown", &s, now: now)
            }
        case "True":
            try await markNodeAsReachable(node, &s, now: now, context: context)
        default:
            break
        }
    }

    func markNodeForTainting(_ node: Node, status: String, _ s: inout State, now: Timestamp) {
        let name = node.metadata.name ?? ""
        let zone = Self.zoneKey(node)
        var queue = s.tainters[zone] ?? RateLimitedTimedQueue(qps: settings.evictionRate)
        if status == "False", !NodeTaints.has(node, NodeTaints.noExecuteNotReady) { queue.remove(name) }
        if status == "Unknown", !NodeTaints.has(node, NodeTaints.noExecuteUnreachable) { queue.remove(name) }
        queue.add(name, uid: node.metadata.uid ?? "", now: now)
        s.tainters[zone] = queue
    }

    /// Removes both NoExecute taints (one write each, only if present) and dequeues the node.
    func markNodeAsReachable(_ node: Node, _ s: inout State, now: Timestamp, context: ReconcileContext) async throws {
        let name = node.metadata.name ?? ""
        for taint in [NodeTaints.noExecuteUnreachable, NodeTaints.noExecuteNotReady] where NodeTaints.has(node, taint) {
            try await NodeTaints.swap(node: name, add: [], remove: [taint], now: now, client: context.client)
        }
        s.tainters[Self.zoneKey(node)]?.remove(name)
    }

    /// `MarkPodsNotReady`: every pod on the node whose Ready condition is not False gets Ready=False
    /// (reason and message kept) and a `NodeNotReady` warning event.
    public static func markPodsNotReady(node: String, now: Timestamp, context: ReconcileContext) async throws {
        let records = context.snapshot("Pod").byIndex(IndexName.nodeName, node).sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        for record in records {
            guard var pod = Pod(record.object), pod.spec.nodeName == node else { continue }
            var conditions = pod.status.conditions
            guard let i = conditions.firstIndex(where: { $0.type == "Ready" }), conditions[i].status != "False" else { continue }
            conditions[i].status = "False"
            conditions[i].lastTransitionTime = Timestamp(seconds: now.seconds)
            pod.status.conditions = conditions
            do {
                _ = try await context.client.updateStatus(pod)
            } catch let error as StoreError where error.reason == .notFound {
                continue
            }
            await context.events.reporting(as: "node-controller").record(record, type: "Warning", reason: "NodeNotReady",
                                                                          message: "Node is not ready")
        }
    }

    // MARK: Zones

    /// `ComputeZoneState` over the Ready statuses of a zone's nodes (nil: no Ready condition).
    public static func zoneState(_ ready: [String?], unhealthyThreshold: Double) -> ZoneState {
        let readyCount = ready.filter { $0 == "True" }.count
        let notReady = ready.count - readyCount
        if readyCount == 0 && notReady > 0 { return .fullDisruption }
        if notReady > 2 && Double(notReady) / Double(ready.count) >= unhealthyThreshold { return .partialDisruption }
        return .normal
    }

    /// `handleDisruption`: new zone states, each zone's tainting rate, and the mode in which every
    /// zone is fully disrupted (all NoExecute taints removed, tainting stopped).
    func handleDisruption(_ zoneReady: [String: [String?]], nodes: [Node], _ s: inout State, now: Timestamp,
                          context: ReconcileContext) async throws {
        var newStates: [String: ZoneState] = [:]
        var allAreFullyDisrupted = true
        for (zone, ready) in zoneReady {
            let state = Self.zoneState(ready, unhealthyThreshold: settings.unhealthyZoneThreshold)
            if state != .fullDisruption { allAreFullyDisrupted = false }
            newStates[zone] = state
            if s.zoneStates[zone] == nil { s.zoneStates[zone] = .initial }
        }
        var allWereFullyDisrupted = true
        for zone in s.zoneStates.keys.sorted() {
            guard zoneReady[zone] != nil else {
                s.zoneStates[zone] = nil
                continue
            }
            if s.zoneStates[zone] != .fullDisruption {
                allWereFullyDisrupted = false
            }
        }
        guard !allAreFullyDisrupted || !allWereFullyDisrupted else { return }
        if allAreFullyDisrupted {
            context.logger.debug("Controller detected that all Nodes are not-Ready. Entering master disruption mode")
            for node in nodes { try await markNodeAsReachable(node, &s, now: now, context: context) }
            for zone in s.zoneStates.keys {
                s.tainters[zone]?.swapLimiter(qps: 0, now: now)
                s.zoneStates[zone] = .fullDisruption
            }
            return
        }
        if allWereFullyDisrupted {
            context.logger.debug("Controller detected that some Nodes are Ready. Exiting master disruption mode")
            for node in nodes {
                let name = node.metadata.name ?? ""
                s.health[name]?.probeTimestamp = now
                s.health[name]?.readyTransitionTimestamp = now
            }
            for zone in s.zoneStates.keys {
                let state = newStates[zone] ?? .normal
                setLimiter(zone: zone, size: zoneReady[zone]?.count ?? 0, state: state, &s, now: now)
                s.zoneStates[zone] = state
            }
            return
        }
        for zone in s.zoneStates.keys.sorted() {
            let state = newStates[zone] ?? .normal
            guard s.zoneStates[zone] != state else { continue }
            context.logger.debug("Controller detected that zone \(Self.zoneDisplay(zone)) is now in state \(state.rawValue)")
            setLimiter(zone: zone, size: zoneReady[zone]?.count ?? 0, state: state, &s, now: now)
            s.zoneStates[zone] = state
        }
    }

    func setLimiter(zone: String, size: Int, state: ZoneState, _ s: inout State, now: Timestamp) {
        let qps: Double
        switch state {
        case .normal, .fullDisruption: qps = settings.evictionRate
        case .partialDisruption: qps = size > settings.largeClusterThreshold ? settings.secondaryEvictionRate : 0
        case .initial: return
        }
        s.tainters[zone]?.swapLimiter(qps: qps, now: now)
    }

    // MARK: doNoExecuteTaintingPass

    func noExecuteTaintingPass(_ s: inout State, now: Timestamp, context: ReconcileContext) async throws {
        for zone in s.tainters.keys.sorted() {
            guard var queue = s.tainters[zone] else { continue }
            for item in queue.due(now: now) {
                let outcome: RateLimitedTimedQueue.Outcome
                if let node = context.get(Node.self, ReconcileRequest(name: item.name)) {
                    switch node.status.conditions[type: "Ready"]?.status {
                    case nil:
                        outcome = .retry(after: .milliseconds(50))
                    case "False":
                        let ok = try await NodeTaints.swap(node: item.name, add: [NodeTaints.noExecuteNotReady],
                                                           remove: [NodeTaints.noExecuteUnreachable], now: now, client: context.client)
                        outcome = ok ? .done : .retry(after: .zero)
                    case "Unknown":
                        let ok = try await NodeTaints.swap(node: item.name, add: [NodeTaints.noExecuteUnreachable],
                                                           remove: [NodeTaints.noExecuteNotReady], now: now, client: context.client)
                        outcome = ok ? .done : .retry(after: .zero)
                    default:
                        outcome = .done
                    }
                } else {
                    outcome = .done
                }
                queue.finish(item, outcome: outcome, now: now)
            }
            s.tainters[zone] = queue
        }
    }

    // MARK: Helpers

    /// `GetZoneKey`: region and zone labels (the deprecated failure-domain labels first), "" when
    /// the node has neither.
    public static func zoneKey(_ node: Node) -> String {
        let labels = node.metadata.labels
        let zone = labels["failure-domain.beta.kubernetes.io/zone"] ?? labels["topology.kubernetes.io/zone"] ?? ""
        let region = labels["failure-domain.beta.kubernetes.io/region"] ?? labels["topology.kubernetes.io/region"] ?? ""
        if region.isEmpty && zone.isEmpty { return "" }
        return region + ":\u{0}:" + zone
    }

    static func zoneDisplay(_ key: String) -> String { key.replacing("\u{0}", with: "") }

    /// Nodes labelled `node.kubernetes.io/exclude-disruption` do not count toward zone states.
    public static func isExcludedFromDisruptionChecks(_ node: Node) -> Bool {
        node.metadata.labels["node.kubernetes.io/exclude-disruption"] != nil
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
