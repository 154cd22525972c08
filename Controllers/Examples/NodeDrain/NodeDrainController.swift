public import Orca

/// Drains a node when asked to, as `kubectl drain --ignore-daemonsets --force` does, but as a
/// controller: annotate a node `drain.orca.dev/requested: "true"` and it is cordoned
/// (`spec.unschedulable: true`), every pod on it is deleted (gracefully, with the pod's own
/// grace period) except DaemonSet pods and mirror pods, and its `drain.orca.dev/status`
/// annotation says `Draining` until the last of those pods is gone, then `Drained`. Remove the
/// request annotation and the node is uncordoned and the status annotation removed.
///
/// The sample plugin: built as a dynamic library (`libNodeDrainPlugin.so`) and loaded with
/// `orca run --plugin PATH`. Written against the public `Orca` module only.
public struct NodeDrainController: Reconciler {
    public typealias Object = Node
    public static let name = "node-drain"
    public static let requestAnnotation = "drain.orca.dev/requested"
    public static let statusAnnotation = "drain.orca.dev/status"

    /// Pods are watched too: each maps to the node it is bound to, so the status moves to
    /// `Drained` when the last pod goes.
    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch(Pod.kind, .nodeName)], workers: 2)
    }

    public init() {}

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let node = context.get(Node.self, request), node.metadata.deletionTimestamp == nil else { return .done }
        let pods = context.snapshot(Pod.kind).byIndex(IndexName.nodeName, request.name).compactMap { Pod($0.object) }
        let plan = Self.plan(node, pods: pods)

        if plan.patch != .object([:]) {
            _ = try await context.client.patch(kind: Node.kind, namespace: "", name: request.name, mergePatch: plan.patch)
        }
        for pod in plan.evict {
            do {
                _ = try await context.client.delete(kind: Pod.kind, namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "",
                                                    options: DeleteOptions(preconditionUID: pod.metadata.uid))
            } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
                // Gone or replaced meanwhile: nothing of ours to delete.
            }
        }
        if plan.drainedNow, let record = context.snapshot(Node.kind).get(namespace: "", name: request.name) {
            await context.events.record(record, reason: "NodeDrained", message: "Node \(request.name) drained")
        }
        return .done
    }

    /// What one reconcile does to a node.
    public struct Plan: Equatable, Sendable {
        /// A JSON merge patch for the node (`{}` when nothing changes).
        public var patch: JSONValue
        /// The pods to delete now.
        public var evict: [Pod]
        /// Whether this reconcile marks the node `Drained`.
        public var drainedNow: Bool

        public init(patch: JSONValue, evict: [Pod], drainedNow: Bool) {
            self.patch = patch
            self.evict = evict
            self.drainedNow = drainedNow
        }
    }

    /// The pure decision, for unit tests: cordon and evict while drain is requested, uncordon
    /// once it no longer is.
    public static func plan(_ node: Node, pods: [Pod]) -> Plan {
        let annotations = node.metadata.annotations
        let status = annotations[statusAnnotation]
        guard annotations[requestAnnotation] == "true" else {
            // Not requested: undo a drain of ours, leave every other node alone.
            guard status != nil else { return Plan(patch: .object([:]), evict: [], drainedNow: false) }
            return Plan(patch: ["spec": ["unschedulable": .null], "metadata": ["annotations": [statusAnnotation: .null]]],
                        evict: [], drainedNow: false)
        }
        let remaining = pods.filter { !ignored($0) }
        let evict = remaining.filter { $0.metadata.deletionTimestamp == nil }
        let newStatus = remaining.isEmpty ? "Drained" : "Draining"
        var patch = JSONObject()
        if node.spec.unschedulable != true { patch["spec"] = ["unschedulable": true] }
        if status != newStatus { patch["metadata"] = ["annotations": [statusAnnotation: .string(newStatus)]] }
        return Plan(patch: .object(patch), evict: evict, drainedNow: newStatus == "Drained" && status != "Drained")
    }

    /// DaemonSet pods (their controller would recreate them on the node) and mirror pods (the
    /// kubelet owns them) stay, as with `kubectl drain --ignore-daemonsets`.
    public static func ignored(_ pod: Pod) -> Bool {
        if pod.metadata.annotations["kubernetes.io/config.mirror"] != nil { return true }
        return pod.metadata.ownerReferences.contains { $0.controller == true && $0.kind == "DaemonSet" }
    }
}
