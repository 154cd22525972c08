public import Orca
import Synchronization

/// Kubernetes' pod garbage collector (`pkg/controller/podgc`), a pass every 20 s:
///
/// 1. terminated pods beyond the threshold (12,500) are deleted, oldest first;
/// 2. pods bound to a node that no longer exists — still missing after the 40 s quarantine —
///    are marked Failed with `DisruptionTarget` (reason `DeletionByPodGC`) and deleted;
/// 3. unscheduled terminating pods are deleted;
/// 4. terminating pods on nodes tainted `node.kubernetes.io/out-of-service` are deleted.
///
/// Every delete has grace 0.
public struct PodGCController: Reconciler {
    public typealias Object = Pod
    public static let name = "podgc"
    public static let tick = ReconcileRequest(name: "podgc")

    public struct Settings: Sendable {
        public var period: Duration = .seconds(20)
        public var quarantine: Duration = .seconds(40)
        public var terminatedPodThreshold = 12_500
        public init() {}
    }

    public let settings: Settings
    /// When each missing node was first seen missing.
    let missingSince = MissingNodes()

    final class MissingNodes: Sendable {
        let nodes = Mutex<[String: Timestamp]>([:])
        func withLock<R: Sendable>(_ body: (inout sending [String: Timestamp]) -> sending R) -> sending R { nodes.withLock(body) }
    }

    public init(settings: Settings = Settings()) { self.settings = settings }

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch("Node", .custom { _, _ in [] })], watchesPrimary: false, initialRequests: [tick],
                                indexes: [InformerIndex(kind: Pod.kind, name: stateIndex, function: podStates)])
    }

    /// Pods filed as `terminated` (phase Succeeded or Failed) and `terminating` (deletionTimestamp
    /// set), so a tick reads those instead of every pod.
    static let stateIndex = "podgc.state"

    @Sendable static func podStates(_ record: EventRecord) -> [String] {
        var states: [String] = []
        if let phase = record.value(at: ["status", "phase"])?.stringValue, phase == "Succeeded" || phase == "Failed" {
            states.append("terminated")
        }
        if record.value(at: ["metadata", "deletionTimestamp"]) != nil { states.append("terminating") }
        return states
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let now = context.now
        let podCache = context.snapshot(Pod.kind)
        let nodes = Dictionary(context.list(Node.self).map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { a, _ in a })

        // 1. Terminated pods over the threshold, oldest first.
        let terminated = podCache.byIndex(Self.stateIndex, "terminated").compactMap { Pod($0.object) }
        if settings.terminatedPodThreshold > 0, terminated.count > settings.terminatedPodThreshold {
            let victims = terminated.sorted { a, b in
                let ta = a.metadata.creationTimestamp ?? .zero, tb = b.metadata.creationTimestamp ?? .zero
                return ta != tb ? ta < tb : (a.metadata.name ?? "") < (b.metadata.name ?? "")
            }.prefix(terminated.count - settings.terminatedPodThreshold)
            for pod in victims { try await delete(pod, context: context) }
        }

        // 2. Pods on nodes that no longer exist, after the quarantine.
        let boundNodes = Set(podCache.indexValues(IndexName.nodeName))
        var expired: Set<String> = []
        missingSince.withLock { missing in
            for node in boundNodes where nodes[node] == nil {
                let since = missing[node] ?? now
                missing[node] = since
                if now.since(since) >= settings.quarantine { expired.insert(node) }
            }
            for node in missing.keys where nodes[node] != nil || !boundNodes.contains(node) { missing[node] = nil }
        }
        for node in expired.sorted() {
            // Confirm with a live read, as upstream does after the quarantine.
            guard try context.client.store.get(kind: "Node", namespace: "", name: node) == nil else { continue }
            for pod in podCache.byIndex(IndexName.nodeName, node).compactMap({ Pod($0.object) }) {
                try await markFailed(pod, message: "PodGC: node no longer exists", context: context)
                try await delete(pod, context: context)
            }
        }

        // 3. Unscheduled terminating pods; 4. terminating pods on out-of-service nodes.
        for pod in podCache.byIndex(Self.stateIndex, "terminating").compactMap({ Pod($0.object) }) {
            let nodeName = pod.spec.nodeName ?? ""
            if nodeName.isEmpty {
                try await delete(pod, context: context)
            } else if let node = nodes[nodeName], node.spec.taints.contains(where: { $0.key == "node.kubernetes.io/out-of-service" }) {
                try await markFailed(pod, message: "PodGC: node is out of service", context: context)
                try await delete(pod, context: context)
            }
        }
        return .requeue(after: settings.period)
    }

    /// Non-terminal pods are first marked Failed with the `DisruptionTarget` condition.
    func markFailed(_ pod: Pod, message: String, context: ReconcileContext) async throws {
        guard !["Succeeded", "Failed"].contains(pod.status.phase ?? "") else { return }
        var updated = pod
        updated.status.phase = "Failed"
        var conditions = updated.status.conditions.filter { $0.type != "DisruptionTarget" }
        conditions.append(Condition.pod(type: "DisruptionTarget", status: "True", reason: "DeletionByPodGC", message: message,
                                        lastTransitionTime: Timestamp(seconds: context.now.seconds)))
        updated.status.conditions = conditions
        do {
            try await context.client.updateStatus(updated)
        } catch let error as StoreError where error.reason == .notFound {
            return
        }
    }

    func delete(_ pod: Pod, context: ReconcileContext) async throws {
        do {
            try await context.client.delete(kind: "Pod", namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "",
                                            options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: pod.metadata.uid))
        } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
            return
        }
    }
}
