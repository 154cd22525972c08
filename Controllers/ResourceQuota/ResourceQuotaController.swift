import Orca

/// kube-controller-manager's resource quota controller: keeps each ResourceQuota's `status` —
/// `hard` as the spec says, `used` as the namespace's objects use it — for the resources Orca
/// can evaluate:
///
/// - `pods` and `count/pods`: the pods that count (`QuotaV1Pod`: not Succeeded or Failed, and
///   not terminating past their grace period);
/// - `requests.<resource>` and `limits.<resource>` (`requests.cpu`, `limits.memory`,
///   `requests.nvidia.com/gpu`…; a bare `cpu`, `memory` or `ephemeral-storage` is its request):
///   the sum over those pods of what each requests or is limited to (the larger of its
///   containers' sum and any init container's);
/// - `count/<plural>.<group>` (`count/services`, `count/jobs.batch`…) and the legacy names
///   `services`, `configmaps`, `secrets`, `replicationcontrollers`, `resourcequotas`: the objects
///   of that kind in the namespace.
///
/// Other names are left out of `used`, as Kubernetes leaves out what no evaluator knows.
/// Quantities sum in the format of the hard limit (`128Mi` + `128Mi` is `256Mi`). A quota is
/// synced when it or a pod of its namespace changes, and again when a terminating pod's grace
/// runs out.
public struct ResourceQuotaController: Reconciler {
    public typealias Object = ResourceQuota
    public static let name = "resourcequota"

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [
            Watch("Pod", .custom { event, context in
                let record: EventRecord
                switch event {
                case .added(let r, _), .deleted(let r, _):
                    record = r
                case .updated(let old, let new):
                    // What a pod counts for changes when it finishes or starts terminating.
                    guard old.value(at: ["status", "phase"]) != new.value(at: ["status", "phase"])
                            || old.value(at: ["metadata", "deletionTimestamp"]) != new.value(at: ["metadata", "deletionTimestamp"])
                    else { return [] }
                    record = new
                }
                return context.snapshot(ResourceQuota.kind).list(namespace: record.namespace).map { ReconcileRequest($0) }
            }),
        ])
    }

    public init() {}

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard let record = context.snapshot(ResourceQuota.kind).get(namespace: request.namespace, name: request.name),
              record.value(at: ["metadata", "deletionTimestamp"]) == nil else { return .done }
        let pods = context.snapshot(Pod.kind).list(namespace: request.namespace).compactMap { Pod($0.object) }
        let hard = record.value(at: ["spec", "hard"])?.objectValue ?? [:]
        let usage = Self.usage(hard: hard, pods: pods, now: context.now) { kind in
            context.snapshot(kind).list(namespace: request.namespace).count
        }
        var status = JSONObject()
        status["hard"] = .object(Self.sorted(hard))
        status["used"] = .object(Self.sorted(usage.used))
        if record.value(at: ["status"]) != .object(status), var quota = ResourceQuota(record.object) {
            quota.raw["status"] = .object(status)
            do {
                _ = try await context.client.updateStatus(quota)
            } catch let error as StoreError where error.reason == .notFound {
                return .done
            }
        }
        return usage.recountAt.map { .requeue(after: $0.since(context.now)) } ?? .done
    }

    /// Maps serialise with their keys in order, as the API's do.
    static func sorted(_ map: JSONObject) -> JSONObject {
        JSONObject(entries: map.entries.sorted { $0.key < $1.key })
    }

    /// The legacy object-count names and the kinds they count.
    static let legacyCounts = ["services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
                               "replicationcontrollers": "ReplicationController", "resourcequotas": "ResourceQuota",
                               "persistentvolumeclaims": "PersistentVolumeClaim"]

    /// `used` for each name of `hard` Orca can evaluate, and the moment a terminating pod stops
    /// counting (nil when none will); `count(kind)` counts a kind's objects in the namespace.
    public static func usage(hard: JSONObject, pods: [Pod], now: Timestamp,
                             count: (String) -> Int) -> (used: JSONObject, recountAt: Timestamp?) {
        var counting: [Pod] = []
        var recountAt: Timestamp?
        for pod in pods {
            let phase = pod.status.phase ?? ""
            guard phase != "Succeeded", phase != "Failed" else { continue }
            if let deletion = pod.metadata.deletionTimestamp, let grace = pod.metadata.deletionGracePeriodSeconds {
                let end = deletion.adding(.seconds(grace))
                guard now <= end else { continue }
                recountAt = min(recountAt ?? end.adding(.seconds(1)), end.adding(.seconds(1)))
            }
            counting.append(pod)
        }
        var used = JSONObject()
        for (name, limit) in hard {
            let limitText = limit.stringValue ?? limit.intValue.map(String.init) ?? ""
            if name == "pods" || name == "count/pods" {
                used[name] = .string(String(counting.count))
            } else if let kind = legacyCounts[name] {
                used[name] = .string(String(count(kind)))
            } else if name.hasPrefix("count/") {
                let resource = String(name.dropFirst("count/".count))
                guard let kind = ResourceKind.builtIn.first(where: { $0.groupResource == resource })?.kind else { continue }
                used[name] = .string(String(count(kind)))
            } else if let (resource, limits) = PodResources.quotaResource(name) {
                let total = counting.reduce(Int64(0)) { $0 + PodResources.amount($1.raw["spec"], resource: resource, limits: limits) }
                used[name] = .string(Quantity.format(milli: total, like: limitText))
            }
        }
        return (used, recountAt)
    }
}
