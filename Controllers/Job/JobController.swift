public import Orca

/// Kubernetes' Job controller (`pkg/controller/job`), with finalizer-based pod tracking and the
/// delayed terminal conditions of v1.31+ (`FailureTarget`/`SuccessCriteriaMet` first, then
/// `Failed`/`Complete` once no pod is uncounted or terminating). Pod events and status-only Job
/// updates are batched by 1 s (`syncJobBatchPeriod`), as upstream.
public struct JobController: Reconciler {
    public typealias Object = Job
    public static let name = "job"
    public static let batchPeriod: Duration = .seconds(1)

    let expectations: Expectations
    /// Back-off records and finalizer removals awaiting their pod update, per Job key.
    let state = ReconcilerState(State())

    struct State: Sendable {
        var backoff: [String: JobPlanning.BackoffRecord] = [:]
        var expectedRemovals: [String: Set<String>] = [:]
    }

    public init(clock: any Clock) { expectations = Expectations(clock: clock) }

    public static var configuration: ControllerConfiguration {
        ControllerConfiguration(
            watches: [
                Watch("Job", .same, delay: { event in
                    // Spec changes and creations sync at once; status-only updates are batched.
                    guard case .updated(let old, let new) = event else { return .zero }
                    return old.value(at: ["metadata", "generation"]) == new.value(at: ["metadata", "generation"]) ? batchPeriod : .zero
                }),
                Watch("Pod", .controllerOwnerOrAdopters, delay: { _ in batchPeriod }),
            ],
            workers: 5, watchesPrimary: false)
    }

    public func observe(_ event: InformerEvent, context: ObserveContext) {
        expectations.observe(event, ownerKind: Job.kind)
        let record = event.record
        guard record.kind == "Pod", let pod = Pod(record.object), let ref = PodUtil.controllerRef(pod), ref.kind == Job.kind else { return }
        let key = "\(record.namespace)/\(ref.name)"
        // A finalizer removal is observed once the pod shows up without it (or goes).
        var gone = false
        if case .deleted = event { gone = true }
        if gone || !JobPlanning.hasTrackingFinalizer(pod), let uid = pod.metadata.uid {
            state.withLock { s in
                s.expectedRemovals[key]?.remove(uid)
                if s.expectedRemovals[key]?.isEmpty == true { s.expectedRemovals[key] = nil }
            }
        }
    }

    // MARK: syncJob

    /// Everything one sync works out before it writes (`syncJobCtx`).
    struct Sync {
        var job: Job
        var pods: [Pod]
        var active: [Pod]
        var ready: Int
        var terminating: Int
        var uncountedSucceeded: Set<String>
        var uncountedFailed: Set<String>
        var expectedRemovals: Set<String>
        var succeeded = 0
        var failed = 0
        var finished: Condition?
        var backoff = JobPlanning.BackoffRecord()
        var prevSucceededIndexes: Set<Int> = []
        var succeededIndexes: Set<Int> = []
        /// Failed indexes (backoffLimitPerIndex only; nil otherwise).
        var failedIndexes: Set<Int>?
        /// Per pending index, the failed pod kept until its replacement exists.
        var delayedDeletion: [Int: Pod] = [:]
    }

    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        let key = "\(request.namespace)/\(request.name)"
        let now = context.now
        guard var job = context.get(Job.self, request) else {
            expectations.delete(key)
            state.withLock { s in
                s.backoff[key] = nil
                s.expectedRemovals[key] = nil
            }
            return .done
        }
        if let managedBy = job.raw["spec"]?["managedBy"]?.stringValue, managedBy != "kubernetes.io/job-controller" { return .done }
        if Self.isFinished(job) {
            state.withLock { $0.backoff[key] = nil }
            return .done
        }
        guard let selector = LabelSelector(specSelector: job.spec.selector.json) else {
            throw TerminalError("job \(key) has an invalid selector")
        }
        if job.status.uncountedTerminatedPods == nil { job.status.uncountedTerminatedPods = UncountedTerminatedPods(raw: JSONObject()) }
        let satisfied = expectations.satisfied(key)
        let pods = try await claim(context.claimCandidates(Pod.self, namespace: request.namespace, controllerUID: job.metadata.uid ?? ""),
                                   job: job, selector: selector, context: context)
        let active = pods.filter { !JobPlanning.isTerminal($0) && $0.metadata.deletionTimestamp == nil }
        let uncounted = job.status.uncountedTerminatedPods ?? UncountedTerminatedPods(raw: JSONObject())
        var sync = Sync(job: job, pods: pods, active: active, ready: active.filter(PodUtil.isReady).count,
                        terminating: pods.filter { $0.metadata.deletionTimestamp != nil && !JobPlanning.isTerminal($0) }.count,
                        uncountedSucceeded: Set(uncounted.succeeded), uncountedFailed: Set(uncounted.failed),
                        expectedRemovals: state.withLock { $0.expectedRemovals[key] ?? [] })
        let indexed = job.spec.completionMode == "Indexed"
        let completions = job.spec.completions ?? 0
        func valid(_ p: Pod) -> Bool {
            guard indexed else { return true }
            guard let i = JobPlanning.completionIndex(p) else { return false }
            return i < completions
        }
        let candidates = pods.filter { p in
            JobPlanning.hasTrackingFinalizer(p) && !sync.expectedRemovals.contains(p.metadata.uid ?? "") && valid(p)
        }
        let newSucceeded = candidates.filter { $0.status.phase == "Succeeded" && !sync.uncountedSucceeded.contains($0.metadata.uid ?? "") }
        let newFailed = candidates.filter { JobPlanning.isPodFailed($0, job: job) && !sync.uncountedFailed.contains($0.metadata.uid ?? "") }
        let policy = job.raw["spec"]?["podFailurePolicy"]
        let countedNewFailed = newFailed.filter { JobPlanning.matchPodFailurePolicy(policy, pod: $0).countFailed }.count
        sync.succeeded = (job.status.succeeded ?? 0) + newSucceeded.count + sync.uncountedSucceeded.count
        sync.failed = (job.status.failed ?? 0) + countedNewFailed + sync.uncountedFailed.count

        let suspended = job.spec.suspend == true
        if job.status.startTime == nil && !suspended { sync.job.status.startTime = Timestamp(seconds: now.seconds) }
        sync.backoff = JobPlanning.newBackoffRecord(state.withLock { $0.backoff[key] } ?? JobPlanning.BackoffRecord(),
                                                    succeeded: newSucceeded, failed: newFailed, now: now)
        var requeue: Duration?
        func requeueAfter(_ d: Duration) { requeue = min(requeue ?? d, d) }

        // Terminal checks, first match wins.
        let conditions = job.status.conditions
        if let met = conditions.first(where: { $0.type == "SuccessCriteriaMet" && $0.status == "True" }) {
            sync.finished = Self.condition("Complete", reason: met.reason ?? "", message: met.message ?? "", now: now)
        } else if let target = conditions.first(where: { $0.type == "FailureTarget" && $0.status == "True" }) {
            sync.finished = Self.condition("Failed", reason: target.reason ?? "", message: target.message ?? "", now: now)
        } else if policy != nil, let message = pods.lazy.filter({ JobPlanning.isPodFailed($0, job: job) })
                    .compactMap({ JobPlanning.matchPodFailurePolicy(policy, pod: $0).failJobMessage }).first {
            sync.finished = Self.condition("FailureTarget", reason: "PodFailurePolicy", message: message, now: now)
        }
        if sync.finished == nil {
            if sync.failed > (job.spec.backoffLimit ?? 6) || Self.pastBackoffLimitOnFailure(job, pods: pods) {
                sync.finished = Self.condition("FailureTarget", reason: "BackoffLimitExceeded",
                                               message: "Job has reached the specified backoff limit", now: now)
            } else if let ads = job.spec.activeDeadlineSeconds, let start = sync.job.status.startTime, !suspended {
                let deadline = start.adding(.seconds(ads))
                if now >= deadline {
                    sync.finished = Self.condition("FailureTarget", reason: "DeadlineExceeded",
                                                   message: "Job was active longer than specified deadline", now: now)
                } else {
                    requeueAfter(deadline.since(now))
                }
            }
        }
        if indexed {
            let previous = JobPlanning.parseIndexes(job.status.completedIndexes ?? "", completions: completions)
            sync.prevSucceededIndexes = previous
            sync.succeededIndexes = previous.union(pods.filter { $0.status.phase == "Succeeded" && valid($0) }.compactMap(JobPlanning.completionIndex))
            sync.succeeded = sync.succeededIndexes.count
            if JobPlanning.hasBackoffLimitPerIndex(job) {
                let failedIndexes = JobPlanning.failedIndexes(job: job, pods: pods)
                sync.failedIndexes = failedIndexes
                if sync.finished == nil {
                    if let maxFailed = job.spec.maxFailedIndexes, failedIndexes.count > maxFailed {
                        sync.finished = Self.condition("FailureTarget", reason: "MaxFailedIndexesExceeded",
                                                       message: "Job has exceeded the specified maximal number of failed indexes", now: now)
                    } else if !failedIndexes.isEmpty && failedIndexes.count + sync.succeededIndexes.count >= completions {
                        sync.finished = Self.condition("FailureTarget", reason: "FailedIndexes", message: "Job has failed indexes", now: now)
                    }
                }
                let tracked = pods.filter { p in
                    JobPlanning.hasTrackingFinalizer(p) && !sync.expectedRemovals.contains(p.metadata.uid ?? "") && valid(p)
                }
                sync.delayedDeletion = JobPlanning.podsWithDelayedDeletion(job: job, tracked: tracked, active: active,
                                                                           succeeded: sync.succeededIndexes, failed: failedIndexes, now: now)
            }
            if sync.finished == nil,
               let message = JobPlanning.matchSuccessPolicy(job.raw["spec"]?["successPolicy"], completions: completions, succeeded: sync.succeededIndexes) {
                sync.finished = Self.condition("SuccessCriteriaMet", reason: "SuccessPolicy", message: message, now: now)
            }
        }

        guard let jobRecord = context.snapshot(Job.kind).get(namespace: request.namespace, name: request.name) else { return .done }
        var activeCount = active.count
        var suspendChanged = false
        var manageError: String?
        if sync.finished != nil {
            // The Job failed: delete every active pod (keeping the finalizer: they count as failed).
            var deleted = 0
            for pod in active {
                do {
                    _ = try await context.client.delete(kind: "Pod", namespace: request.namespace, name: pod.metadata.name ?? "")
                    await context.events.record(jobRecord, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata.name ?? "")")
                    deleted += 1
                    if PodUtil.isReady(pod) { sync.ready -= 1 }
                } catch let error as StoreError where error.reason == .notFound {
                    deleted += 1
                } catch {
                    manageError = "\(error)"
                }
            }
            if deleted != activeCount || !satisfied { sync.finished = nil }
            activeCount -= deleted
            sync.terminating += deleted
        } else {
            var manageCalled = false
            if satisfied && job.metadata.deletionTimestamp == nil {
                let outcome = await manageJob(&sync, key: key, record: jobRecord, context: context)
                activeCount = outcome.active
                manageError = outcome.error
                if let wait = outcome.requeue { requeueAfter(wait) }
                manageCalled = true
            }
            let complete = job.spec.completions == nil ? (sync.succeeded > 0 && activeCount == 0)
                                                       : (sync.succeeded >= completions && activeCount == 0)
            if complete {
                sync.finished = Self.condition("SuccessCriteriaMet", reason: "CompletionsReached",
                                               message: "Reached expected number of succeeded pods", now: now)
            } else if manageCalled {
                if suspended {
                    if Self.ensureCondition(&sync.job, "Suspended", status: "True", reason: "JobSuspended", message: "Job suspended", now: now) {
                        suspendChanged = true
                        await context.events.record(jobRecord, reason: "Suspended", message: "Job suspended")
                    }
                } else if Self.ensureCondition(&sync.job, "Suspended", status: "False", reason: "JobResumed", message: "Job resumed", now: now) {
                    suspendChanged = true
                    await context.events.record(jobRecord, reason: "Resumed", message: "Job resumed")
                    sync.job.status.startTime = Timestamp(seconds: now.seconds)
                }
            }
        }
        var needsFlush = suspendChanged || activeCount != (job.status.active ?? 0) || sync.ready != job.status.ready
            || sync.terminating != job.status.terminating || sync.job.status.startTime != job.status.startTime
        sync.job.status.active = activeCount == 0 ? nil : activeCount
        sync.job.status.ready = sync.ready
        sync.job.status.terminating = sync.terminating
        if job.status.uncountedTerminatedPods == nil { needsFlush = true }
        try await trackStatusAndRemoveFinalizers(&sync, key: key, record: jobRecord, needsFlush: needsFlush, context: context)
        if let manageError { throw ManageError(message: manageError) }
        if let requeue { return .requeue(after: requeue) }
        return .done
    }

    struct ManageError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    public static func isFinished(_ job: Job) -> Bool {
        job.status.conditions.contains { ($0.type == "Complete" || $0.type == "Failed") && $0.status == "True" }
    }

    static func condition(_ type: String, status: String = "True", reason: String, message: String, now: Timestamp) -> Condition {
        var c = Condition(type: type, status: status)
        let t = Timestamp(seconds: now.seconds)
        c.lastProbeTime = t
        c.lastTransitionTime = t
        if !reason.isEmpty { c.reason = reason }
        if !message.isEmpty { c.message = message }
        return c
    }

    /// `ensureJobConditionStatus`: updates a condition of `type` when it differs; adds one only
    /// when the status is not False. Returns whether anything changed.
    @discardableResult
    static func ensureCondition(_ job: inout Job, _ type: String, status: String, reason: String, message: String, now: Timestamp) -> Bool {
        var conditions = job.status.conditions
        if let i = conditions.firstIndex(where: { $0.type == type }) {
            let c = conditions[i]
            guard c.status != status || (c.reason ?? "") != reason || (c.message ?? "") != message else { return false }
            conditions[i] = condition(type, status: status, reason: reason, message: message, now: now)
        } else {
            guard status != "False" else { return false }
            conditions.append(condition(type, status: status, reason: reason, message: message, now: now))
        }
        job.status.conditions = conditions
        return true
    }

    /// `pastBackoffLimitOnFailure`: with restartPolicy OnFailure, container restarts of running
    /// and pending pods count toward backoffLimit.
    static func pastBackoffLimitOnFailure(_ job: Job, pods: [Pod]) -> Bool {
        guard job.spec.template.spec.restartPolicy == "OnFailure" else { return false }
        let restarts = pods.filter { ["Running", "Pending"].contains($0.status.phase ?? "") }
            .map { p in (p.status.initContainerStatuses + p.status.containerStatuses).reduce(0) { $0 + ($1.restartCount ?? 0) } }
            .reduce(0, +)
        let limit = job.spec.backoffLimit ?? 6
        return limit == 0 ? restarts > 0 : restarts >= limit
    }
}
