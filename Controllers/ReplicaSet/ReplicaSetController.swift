public import Orca

/// Kubernetes' ReplicaSet controller (`pkg/controller/replicaset`): claims matching pods (adopt,
/// release), creates missing pods in slow-start batches up to 500 per sync, deletes surplus pods
/// in upstream's victim order, guards both with expectations, and writes the status.
public struct ReplicaSetController: Reconciler {
    public typealias Object = ReplicaSet
    public static let name = "replicaset"
    public static let burstReplicas = 500

    let expectations: Expectations

    public init(clock: any Clock) { expectations = Expectations(clock: clock) }

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch("Pod", .controllerOwnerOrAdopters)], workers: 5)
    }

    public func observe(_ event: InformerEvent, context: ObserveContext) {
        expectations.observe(event, ownerKind: ReplicaSet.kind)
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let key = "\(request.namespace)/\(request.name)"
        guard let rs = context.get(ReplicaSet.self, request) else {
            expectations.delete(key)
            return .done
        }
        guard let selector = LabelSelector(specSelector: rs.spec.selector.json) else {
            throw TerminalError("replicaset \(key) has an invalid selector")
        }
        let needsSync = expectations.satisfied(key)
        let all = context.claimCandidates(Pod.self, namespace: request.namespace, controllerUID: rs.metadata.uid ?? "").filter(PodUtil.isActive)
        let pods = try await claim(all, rs: rs, selector: selector, context: context)

        var manageError: (reason: String, message: String)?
        if needsSync, rs.metadata.deletionTimestamp == nil {
            manageError = await manage(pods, rs: rs, key: key, context: context)
        }
        return try await updateStatus(rs, pods: pods, manageError: manageError, context: context)
    }

    // MARK: Claim

    /// ClaimPods: keep my pods that still match, release those that do not, adopt matching
    /// orphans (after an uncached check that I still exist), ignore pods of other controllers.
    func claim(_ pods: [Pod], rs: ReplicaSet, selector: LabelSelector, context: ReconcileContext) async throws -> [Pod] {
        try await PodControllerRefManager(owner: Self.controllerRef(rs), namespace: rs.metadata.namespace ?? "default",
                                          selector: selector, deleting: rs.metadata.deletionTimestamp != nil).claim(pods, context: context)
    }

    static func controllerRef(_ rs: ReplicaSet) -> OwnerReference {
        OwnerReference(apiVersion: ReplicaSet.apiVersion, kind: ReplicaSet.kind, name: rs.metadata.name ?? "",
                       uid: rs.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
    }

    // MARK: Manage

    /// Creates or deletes pods toward `spec.replicas`; returns the failure for the
    /// `ReplicaFailure` condition, if any.
    func manage(_ pods: [Pod], rs: ReplicaSet, key: String, context: ReconcileContext) async -> (reason: String, message: String)? {
        let want = rs.spec.replicas ?? 1
        let diff = pods.count - want
        let namespace = rs.metadata.namespace ?? "default"
        guard let rsRecord = context.snapshot(ReplicaSet.kind).get(namespace: namespace, name: rs.metadata.name ?? "") else { return nil }
        if diff < 0 {
            let count = min(-diff, Self.burstReplicas)
            expectations.expectCreations(key, count)
            var attempted = 0
            var failure: String?
            for batch in PodRanking.slowStartBatches(count) {
                var batchFailed = false
                attempted += batch
                for _ in 0..<batch {
                    do {
                        let pod = try await context.client.create(Self.pod(from: rs))
                        await context.events.record(rsRecord, reason: "SuccessfulCreate", message: "Created pod: \(pod.metadata.name ?? "")")
                    } catch {
                        let message = (error as? StoreError)?.message ?? "\(error)"
                        await context.events.record(rsRecord, type: "Warning", reason: "FailedCreate", message: "Error creating: \(message)")
                        // In a namespace being deleted every creation fails: counted as a success,
                        // as upstream does (so still expected).
                        if (error as? StoreError)?.isNamespaceTerminating == true { continue }
                        // A failed creation will never be observed.
                        expectations.creationObserved(key)
                        failure = failure ?? message
                        batchFailed = true
                    }
                }
                if batchFailed { break }
            }
            // Nor will creations of batches never started.
            for _ in 0..<(count - attempted) { expectations.creationObserved(key) }
            if let failure { return ("FailedCreate", failure) }
        } else if diff > 0 {
            let related = context.owned(Pod.self, namespace: namespace, controllerUID: rs.metadata.uid ?? "")
            let victims = PodRanking.podsToDelete(pods, related: related, count: min(diff, Self.burstReplicas), now: context.now)
            expectations.expectDeletions(key, keys: victims.map { "\(namespace)/\($0.metadata.name ?? "")" })
            var failure: String?
            for pod in victims {
                let name = pod.metadata.name ?? ""
                do {
                    try await context.client.delete(kind: "Pod", namespace: namespace, name: name)
                    await context.events.record(rsRecord, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
                } catch let error as StoreError where error.reason == .notFound {
                    expectations.deletionObserved(key, key: "\(namespace)/\(name)")
                } catch {
                    expectations.deletionObserved(key, key: "\(namespace)/\(name)")
                    let message = (error as? StoreError)?.message ?? "\(error)"
                    failure = failure ?? message
                    await context.events.record(rsRecord, type: "Warning", reason: "FailedDelete", message: "Error deleting: \(message)")
                }
            }
            if let failure { return ("FailedDelete", failure) }
        }
        return nil
    }

    /// A pod from the template: labels, annotations and finalizers copied, `generateName:
    /// <rs>-`, and a controller reference.
    static func pod(from rs: ReplicaSet) -> Pod {
        PodUtil.pod(from: rs.spec.template, namespace: rs.metadata.namespace, generateName: "\(rs.metadata.name ?? "")-",
                    owner: controllerRef(rs))
    }

    // MARK: Status

    func updateStatus(_ rs: ReplicaSet, pods: [Pod], manageError: (reason: String, message: String)?,
                      context: ReconcileContext) async throws -> ReconcileResult {
        let now = context.now
        let minReady = rs.spec.minReadySeconds ?? 0
        let templateLabels = rs.spec.template.metadata.labels
        var status = rs.status
        // As apps/v1 serialises ReplicaSetStatus: `replicas` always, the other counts omitted at 0.
        func omittingZero(_ n: Int) -> Int? { n == 0 ? nil : n }
        status.replicas = pods.count
        status.fullyLabeledReplicas = omittingZero(pods.filter { pod in templateLabels.allSatisfy { pod.metadata.labels[$0.key] == $0.value } }.count)
        status.readyReplicas = omittingZero(pods.filter(PodUtil.isReady).count)
        status.availableReplicas = omittingZero(pods.filter { PodUtil.isAvailable($0, minReadySeconds: minReady, now: now) }.count)
        status.observedGeneration = rs.metadata.generation
        var conditions = status.conditions
        if let manageError {
            if conditions[type: "ReplicaFailure"] == nil {
                let failure = Condition(type: "ReplicaFailure", status: "True", reason: manageError.reason,
                                        message: manageError.message, lastTransitionTime: Timestamp(seconds: now.seconds))
                // ReplicaSetCondition's field order.
                conditions.append(Condition(raw: failure.raw.ordered(first: ["type", "status", "lastTransitionTime", "reason", "message"])))
            }
        } else {
            conditions.removeAll { $0.type == "ReplicaFailure" }
        }
        status.conditions = conditions
        if status.raw["conditions"]?.arrayValue?.isEmpty == true { status.raw["conditions"] = nil }
        status.raw = status.raw.ordered(first: ["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                                                "observedGeneration", "conditions"])
        if status != rs.status {
            var updated = rs
            updated.status = status
            do {
                try await context.client.updateStatus(updated)
            } catch let error as StoreError where error.reason == .notFound {
                return .done
            }
        }
        if let manageError { throw ManageError(message: manageError.message) }
        // A ready pod becomes available minReadySeconds after it turned Ready (strictly after).
        if minReady > 0 {
            let next = pods.compactMap { pod -> Timestamp? in
                guard let ready = PodUtil.readyTime(pod), !PodUtil.isAvailable(pod, minReadySeconds: minReady, now: now) else { return nil }
                return ready.adding(.seconds(minReady + 1))
            }.min()
            if let next { return .requeue(after: max(.zero, next.since(now))) }
        }
        return .done
    }

    struct ManageError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
