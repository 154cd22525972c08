import Orca

/// kube-controller-manager's namespace controller: empties a namespace being deleted, then
/// removes its `kubernetes` finalizer so the API server can remove it.
///
/// A namespace whose `metadata.deletionTimestamp` is set (the store marks it `Terminating` on
/// the first delete) and that still carries `kubernetes` in `spec.finalizers` is synced 5 s
/// after each of its events (upstream's `namespaceDeletionGracePeriod`):
///
/// 1. every namespaced object in it that is not already being deleted is deleted with
///    background propagation (so no Job gains the `orphan` finalizer), pods gracefully with
///    their own grace period;
/// 2. the five deletion conditions are written in upstream's order and words —
///    `NamespaceDeletionDiscoveryFailure`, `NamespaceDeletionGroupVersionParsingFailure`,
///    `NamespaceDeletionContentFailure`, `NamespaceContentRemaining` ("Some resources are
///    remaining: pods. has 2 resource instances") and `NamespaceFinalizersRemaining` ("Some
///    content in the namespace has finalizers remaining: example.com/keep in 1 resource
///    instances") — `False` with their "ok" reason when nothing is wrong;
/// 3. while content remains the namespace is synced again after `estimate / 2 + 1` seconds:
///    the estimate is the longest `terminationGracePeriodSeconds` of its unfinished pods (0 once
///    the namespace has been terminating that long), or 15 s when what remains waits on
///    finalizers; content that remains with neither is an error, retried with upstream's
///    back-off (5 ms doubling to 60 s);
/// 4. once nothing remains, `kubernetes` is removed through the `finalize` subresource, which
///    removes the namespace when no other finalizer holds it.
///
/// The controller watches only namespaces, as upstream's does, and lists their content from the
/// store rather than from caches: it learns that content is gone by looking again when its
/// estimate runs out.
public struct NamespaceController: Reconciler {
    public typealias Object = Namespace
    public static let name = "namespace"
    /// upstream's `namespaceDeletionGracePeriod`: a namespace event is processed this long after
    /// it arrives, so every API server has seen the deletion and last-moment creations are in.
    public static let deletionGracePeriod: Duration = .seconds(5)

    public static var configuration: ControllerConfiguration {
        // Only namespaces being deleted are queued, each 5 s after its event.
        ControllerConfiguration(watches: [
            Watch(Namespace.kind, .custom { event, _ in
                guard case .deleted = event else {
                    return event.record.value(at: ["metadata", "deletionTimestamp"]) == nil ? [] : [ReconcileRequest(event.record)]
                }
                return []
            }, delay: { _ in deletionGracePeriod }),
        ], workers: 10, rateLimiter: {
            // upstream's nsControllerRateLimiter: failures retried from 5 ms, at least every minute.
            MaxOfRateLimiter(ExponentialFailureRateLimiter(base: .milliseconds(5), max: .seconds(60)),
                             BucketRateLimiter(qps: 10, burst: 100))
        }, watchesPrimary: false)
    }

    /// The finalizer this controller owns.
    public static let finalizer = "kubernetes"
    /// upstream's `finalizerEstimateSeconds`: how long to wait for content held by finalizers.
    public static let finalizerEstimateSeconds: Int64 = 15

    public init() {}

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        // Read from the store, as upstream gets it from the API: the latest version, not a cache's.
        guard let record = try context.client.store.get(kind: Namespace.kind, namespace: "", name: request.name),
              let deletedAt = record.deletionTimestamp
        else { return .done }
        let specFinalizers = record.value[path: ["spec", "finalizers"]]?.arrayValue ?? []
        guard specFinalizers.contains(.string(Self.finalizer)) else { return .done }
        let namespace = request.name

        // Delete what is left, counting what remains afterwards.
        var estimate: Int64 = 0
        var remaining: [String: Int] = [:]           // group resource → objects
        var finalizersRemaining: [String: Int] = [:] // finalizer → objects
        var failures: [String] = []
        for kind in Self.contentKinds {
            // Listed from the store, as upstream lists through the API: caches of every kind
            // would cost memory for a controller that rarely runs.
            let objects = try context.client.store.list(kind: kind.kind, namespace: namespace)
            guard !objects.isEmpty else { continue }
            var kindEstimate: Int64 = 0
            if kind.kind == Pod.kind {
                kindEstimate = Self.gracefulTerminationEstimate(objects.map(\.value), deletedAt: deletedAt, now: context.now)
            }
            var left: [JSONValue] = []
            for object in objects {
                if object.deletionTimestamp != nil {
                    left.append(object.value)
                    continue
                }
                do {
                    // Background, as upstream asks: no orphan finalizer on a Job, whose default it is.
                    let outcome = try await context.client.delete(kind: kind.kind, namespace: namespace, name: object.name,
                                                                  options: DeleteOptions(propagationPolicy: .background))
                    if case .terminating(let still) = outcome {
                        left.append(still.value)
                    }
                } catch let error as StoreError where error.reason == .notFound {
                    // Already gone.
                }
            }
            guard !left.isEmpty else { continue }
            remaining[kind.groupResource + (kind.group.isEmpty ? "." : ""), default: 0] += left.count
            var byFinalizer: [String: Int] = [:]
            for object in left {
                for finalizer in object[path: ["metadata", "finalizers"]]?.arrayValue ?? [] {
                    if let name = finalizer.stringValue { byFinalizer[name, default: 0] += 1 }
                }
            }
            for (name, count) in byFinalizer { finalizersRemaining[name, default: 0] += count }
            if kindEstimate > 0 {
                estimate = max(estimate, kindEstimate)
            } else if !byFinalizer.isEmpty {
                estimate = max(estimate, Self.finalizerEstimateSeconds)
            } else {
                failures.append("unexpected items still remain in namespace: \(namespace) for gvr: \(Self.gvrString(kind))")
            }
        }

        // The conditions, written when any changed.
        let wanted = Self.conditions(remaining: remaining, finalizersRemaining: finalizersRemaining, failures: failures)
        let current = record.value[path: ["status", "conditions"]]?.arrayValue ?? []
        if let conditions = Self.merged(current: current, wanted: wanted, now: context.now), var updated = Namespace(record.value) {
            var status = updated.raw["status"]?.objectValue ?? JSONObject()
            status["conditions"] = .array(conditions)
            updated.raw["status"] = .object(status)
            do {
                _ = try await context.client.updateStatus(updated)
            } catch let error as StoreError where error.reason == .notFound {
                return .done
            }
        }

        if !failures.isEmpty { throw DeletionFailed(namespace: namespace, causes: failures) }
        if estimate > 0 { return .requeue(after: .seconds(estimate / 2 + 1)) }
        guard remaining.isEmpty else { return .requeue(after: .seconds(1)) }

        // Done: give up the finalizer.
        let rest = specFinalizers.filter { $0 != .string(Self.finalizer) }
        do {
            _ = try await context.client.patch(kind: Namespace.kind, namespace: "", name: namespace,
                                        mergePatch: ["spec": ["finalizers": .array(rest)]], subresource: .finalize)
        } catch let error as StoreError where error.reason == .notFound {
            // Another finalizer's owner finished the deletion first.
        }
        return .done
    }

    /// Content that should have gone did not: retried with the rate limiter's back-off.
    public struct DeletionFailed: Error, CustomStringConvertible {
        public var namespace: String
        public var causes: [String]
        public var description: String { "deletion of namespace \(namespace) failed: \(causes.joined(separator: ", "))" }
    }

    /// The namespaced kinds whose objects a namespace's deletion removes, in a fixed order.
    /// Workloads go first, so their controllers do not replace the pods deleted next; Events last.
    static let contentKinds: [ResourceKind] = {
        let namespaced = ResourceKind.builtIn.filter(\.namespaced)
        let workloads = ["Deployment", "StatefulSet", "CronJob", "Job", "DaemonSet", "ReplicaSet"]
        return workloads.compactMap { kind in namespaced.first { $0.kind == kind } }
            + namespaced.filter { !workloads.contains($0.kind) && $0.kind != "Event" }
            + namespaced.filter { $0.kind == "Event" }
    }()

    /// `/v1, Resource=pods`, `apps/v1, Resource=replicasets`: a GroupVersionResource as Go prints it.
    static func gvrString(_ kind: ResourceKind) -> String {
        let version = kind.apiVersion.split(separator: "/").last.map(String.init) ?? kind.apiVersion
        return "\(kind.group)/\(version), Resource=\(kind.plural)"
    }

    /// upstream's `estimateGracefulTerminationForPods`: the longest grace period of the pods
    /// that have not finished, or 0 once the namespace has been terminating at least that long.
    public static func gracefulTerminationEstimate(_ pods: [JSONValue], deletedAt: Timestamp, now: Timestamp) -> Int64 {
        var estimate: Int64 = 0
        for pod in pods {
            let phase = pod[path: ["status", "phase"]]?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" { continue }
            if let grace = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue, grace > estimate {
                estimate = grace
            }
        }
        return now.since(deletedAt) >= .seconds(estimate) ? 0 : estimate
    }

    /// The condition types, in the order upstream writes them.
    public static let conditionTypes = ["NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                                        "NamespaceDeletionContentFailure", "NamespaceContentRemaining",
                                        "NamespaceFinalizersRemaining"]

    /// Each type's condition when all is well: (reason, message).
    static let okConditions: [String: (String, String)] = [
        "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
        "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
        "NamespaceDeletionContentFailure": ("ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
        "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
        "NamespaceFinalizersRemaining": ("ContentHasNoFinalizers", "All content-preserving finalizers finished"),
    ]

    /// The five conditions as (type, status, reason, message), in order.
    public static func conditions(remaining: [String: Int], finalizersRemaining: [String: Int],
                                  failures: [String]) -> [(type: String, status: String, reason: String, message: String)] {
        conditionTypes.map { type in
            switch type {
            case "NamespaceDeletionContentFailure" where !failures.isEmpty:
                let message = failures.count == 1 ? failures[0] : "[" + failures.joined(separator: ", ") + "]"
                return (type, "True", "ContentDeletionFailed", message)
            case "NamespaceContentRemaining" where !remaining.isEmpty:
                let list = remaining.map { "\($0.key) has \($0.value) resource instances" }.sorted().joined(separator: ", ")
                return (type, "True", "SomeResourcesRemain", "Some resources are remaining: \(list)")
            case "NamespaceFinalizersRemaining" where !finalizersRemaining.isEmpty:
                let list = finalizersRemaining.map { "\($0.key) in \($0.value) resource instances" }.sorted().joined(separator: ", ")
                return (type, "True", "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: \(list)")
            default:
                let (reason, message) = okConditions[type] ?? ("", "")
                return (type, "False", reason, message)
            }
        }
    }

    /// `namespaceConditionUpdater.Update`: a condition missing is appended, one whose status,
    /// reason or message differs is replaced in place (with a new transition time); nil when
    /// nothing changed.
    static func merged(current: [JSONValue], wanted: [(type: String, status: String, reason: String, message: String)],
                       now: Timestamp) -> [JSONValue]? {
        var conditions = current
        var changed = false
        for condition in wanted {
            let value: JSONValue = ["type": .string(condition.type), "status": .string(condition.status),
                                    "lastTransitionTime": .string(Timestamp(seconds: now.seconds).rfc3339),
                                    "reason": .string(condition.reason), "message": .string(condition.message)]
            if let i = conditions.firstIndex(where: { $0["type"]?.stringValue == condition.type }) {
                let old = conditions[i]
                if old["status"]?.stringValue != condition.status || old["reason"]?.stringValue != condition.reason
                    || old["message"]?.stringValue != condition.message {
                    conditions[i] = value
                    changed = true
                }
            } else {
                conditions.append(value)
                changed = true
            }
        }
        return changed ? conditions : nil
    }
}
