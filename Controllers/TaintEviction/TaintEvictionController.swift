public import Orca

/// Kubernetes' taint eviction controller (`pkg/controller/tainteviction`): evicts pods from nodes
/// with NoExecute taints.
///
/// For a pod on a node with NoExecute taints: a taint it does not tolerate → deleted now; all
/// tolerated and no `tolerationSeconds` on the tolerations used → any scheduled eviction is
/// cancelled; otherwise deleted at (when the decision was first made) + min(tolerationSeconds),
/// at once when that is ≤ 0. Taints removed → scheduled evictions cancelled. An eviction adds
/// the `DisruptionTarget` condition (reason `DeletionByTaintManager`) and deletes the pod
/// gracefully; an event `TaintManagerEviction` marks it.
public struct TaintEvictionController: Reconciler {
    public typealias Object = Pod
    public static let name = "taint-eviction-controller"

    /// A scheduled eviction of one pod.
    struct Scheduled: Sendable {
        var uid: String
        var createdAt: Timestamp
        var fireAt: Timestamp
    }

    let scheduled = ReconcilerState<[ReconcileRequest: Scheduled]>([:])

    public init() {}

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch("Node", .custom { event, context in
            // A node's pods are looked at again when its NoExecute taints change.
            let (old, new): ([Taint], [Taint])
            switch event {
            case .added(let r, _): (old, new) = ([], noExecuteTaints(r.object))
            case .updated(let o, let n): (old, new) = (noExecuteTaints(o.object), noExecuteTaints(n.object))
            case .deleted(let r, _): (old, new) = (noExecuteTaints(r.object), [])
            }
            guard old != new else { return [] }
            return context.snapshot("Pod").byIndex(IndexName.nodeName, event.record.name).map { ReconcileRequest($0) }.sorted()
        })])
    }

    static func noExecuteTaints(_ object: JSONValue) -> [Taint] {
        (Node(object)?.spec.taints ?? []).filter { ($0.effect ?? "") == "NoExecute" }
    }

    /// `getMinTolerationTime`: nil when the tolerations used tolerate forever; zero when any says
    /// ≤ 0 seconds or no toleration was needed.
    public static func minTolerationTime(_ used: [Toleration]) -> Duration? {
        if used.isEmpty { return .zero }
        var minimum: Int?
        for t in used {
            guard let seconds = t.tolerationSeconds else { continue }
            if seconds <= 0 { return .zero }
            minimum = min(minimum ?? seconds, seconds)
        }
        return minimum.map { .seconds($0) }
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let now = context.now
        guard let record = context.snapshot("Pod").get(namespace: request.namespace, name: request.name), let pod = Pod(record.object) else {
            scheduled.withLock { $0[request] = nil }
            return .done
        }
        let existing = scheduled.withLock { $0[request] }.flatMap { $0.uid == pod.metadata.uid ? $0 : nil }
        let nodeName = pod.spec.nodeName ?? ""
        guard !nodeName.isEmpty else { return .done }
        let taints = context.get(Node.self, ReconcileRequest(name: nodeName)).map { Self.noExecuteTaints(.object($0.raw)) } ?? []
        guard !taints.isEmpty else {
            await cancel(request, record: record, context: context)
            return .done
        }
        // A pod already on its way out is evicted only by an eviction scheduled before.
        if pod.metadata.deletionTimestamp != nil && existing == nil { return .done }
        let (allTolerated, used) = pod.spec.tolerations.matching(taints)
        guard allTolerated else {
            if existing != nil { await cancel(request, record: record, context: context) }
            try await evict(request, record: record, pod: pod, context: context)
            return .done
        }
        guard let wait = Self.minTolerationTime(used) else {
            await cancel(request, record: record, context: context)
            return .done
        }
        let plan = existing ?? Scheduled(uid: pod.metadata.uid ?? "", createdAt: now, fireAt: now.adding(wait))
        scheduled.withLock { $0[request] = plan }
        if plan.fireAt <= now {
            try await evict(request, record: record, pod: pod, context: context)
            return .done
        }
        return .requeue(after: plan.fireAt.since(now))
    }

    func cancel(_ request: ReconcileRequest, record: EventRecord, context: ReconcileContext) async {
        guard scheduled.withLock({ $0.removeValue(forKey: request) }) != nil else { return }
        await context.events.reporting(as: Self.name).record(record, reason: "TaintManagerEviction", message: "Cancelling deletion of Pod \(request)")
    }

    /// Adds `DisruptionTarget` and deletes the pod with its own grace period.
    func evict(_ request: ReconcileRequest, record: EventRecord, pod: Pod, context: ReconcileContext) async throws {
        scheduled.withLock { $0[request] = nil }
        await context.events.reporting(as: Self.name).record(record, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(request)")
        var updated = pod
        var conditions = pod.status.conditions
        let existing = conditions[type: "DisruptionTarget"]
        if existing?.status != "True" || existing?.reason != "DeletionByTaintManager" {
            let since = existing?.status == "True" ? existing?.lastTransitionTime : nil
            let condition = Condition.pod(type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager",
                                          message: "Taint manager: deleting due to NoExecute taint",
                                          lastTransitionTime: since ?? Timestamp(seconds: context.now.seconds))
            if let i = conditions.firstIndex(where: { $0.type == "DisruptionTarget" }) { conditions[i] = condition } else { conditions.append(condition) }
            updated.status.conditions = conditions
            do {
                _ = try await context.client.updateStatus(updated)
            } catch let error as StoreError where error.reason == .notFound {
                return
            }
        }
        do {
            _ = try await context.client.delete(kind: "Pod", namespace: request.namespace, name: request.name,
                                                options: DeleteOptions(preconditionUID: pod.metadata.uid))
        } catch let error as StoreError where error.reason == .notFound || error.reason == .conflict {
            return
        }
    }
}
