public import Orca

extension JobController {
    // MARK: Claim

    /// `getPodsForJob`: claims pods as the ReplicaSet does, adding the tracking finalizer on
    /// adoption and removing it on release.
    func claim(_ pods: [Pod], job: Job, selector: LabelSelector, context: ReconcileContext) async throws -> [Pod] {
        try await PodControllerRefManager(owner: Self.controllerRef(job), namespace: job.metadata.namespace ?? "default", selector: selector,
                                          deleting: job.metadata.deletionTimestamp != nil, finalizer: JobPlanning.trackingFinalizer)
            .claim(pods, context: context)
    }

    static func controllerRef(_ job: Job) -> OwnerReference {
        OwnerReference(apiVersion: Job.apiVersion, kind: Job.kind, name: job.metadata.name ?? "", uid: job.metadata.uid ?? "",
                       controller: true, blockOwnerDeletion: true)
    }

    /// Removes `batch.kubernetes.io/job-tracking` from the pod (UID precondition); false when the
    /// pod is gone.
    @discardableResult
    static func removeTrackingFinalizer(_ pod: Pod, context: ReconcileContext) async throws -> Bool {
        try await PodControllerRefManager.patch(pod, finalizers: pod.metadata.finalizers.filter { $0 != JobPlanning.trackingFinalizer },
                                                context: context)
    }

    // MARK: manageJob

    /// Deletes (suspension, surplus) or creates pods toward the wanted number of active pods.
    /// Returns the active count after this sync, an error message, and when to sync again for
    /// the pod-failure back-off.
    func manageJob(_ sync: inout Sync, key: String, record: EventRecord,
                   context: ReconcileContext) async -> (active: Int, error: String?, requeue: Duration?) {
        let job = sync.job
        var active = sync.active.count
        let parallelism = job.spec.parallelism ?? 1
        let indexed = job.spec.completionMode == "Indexed"
        let completions = job.spec.completions

        if job.spec.suspend == true {
            let removed = await deleteJobPods(PodRanking.activePodsForRemoval(sync.active, count: sync.active.count), sync: &sync,
                                              key: key, record: record, context: context)
            return (active - removed.count, removed.error, nil)
        }
        var want: Int
        if let completions {
            want = max(0, min(parallelism, completions - sync.succeeded))
        } else {
            want = sync.succeeded > 0 ? active : parallelism
        }
        // Surplus (and, for Indexed Jobs, duplicate or out-of-range indexes) go first.
        var remove: [Pod] = []
        var left = sync.active
        if indexed, let completions {
            var seen = Set<Int>()
            left = []
            for pod in sync.active.sorted(by: { ($0.metadata.creationTimestamp ?? .zero, $0.metadata.name ?? "") < ($1.metadata.creationTimestamp ?? .zero, $1.metadata.name ?? "") }) {
                if let i = JobPlanning.completionIndex(pod), i < completions, !sync.succeededIndexes.contains(i), seen.insert(i).inserted {
                    left.append(pod)
                } else {
                    remove.append(pod)
                }
            }
        }
        let rmAtLeast = max(0, active - want)
        if remove.count < rmAtLeast { remove += PodRanking.activePodsForRemoval(left, count: rmAtLeast - remove.count) }
        remove = Array(remove.prefix(JobPlanning.maxPodCreateDeletePerSync))
        if !remove.isEmpty {
            let removed = await deleteJobPods(remove, sync: &sync, key: key, record: record, context: context)
            return (active - removed.count, removed.error, nil)
        }

        let onlyFailed = JobPlanning.onlyReplaceFailedPods(job)
        let terminating = onlyFailed ? sync.terminating : 0
        var diff = want - terminating - active
        guard diff > 0 else { return (active, nil, nil) }
        let perIndex = JobPlanning.hasBackoffLimitPerIndex(job)
        if !perIndex {
            // With backoffLimitPerIndex each index has its own back-off instead.
            let remaining = JobPlanning.remainingBackoff(sync.backoff, now: context.now)
            if remaining > .zero { return (active, nil, remaining) }
        }
        diff = min(diff, JobPlanning.maxPodCreateDeletePerSync)
        var indexes: [Int] = []
        if indexed, let completions {
            let terminatingPods = onlyFailed ? sync.pods.filter { $0.metadata.deletionTimestamp != nil && !JobPlanning.isTerminal($0) } : []
            indexes = JobPlanning.firstPendingIndexes(succeeded: sync.succeededIndexes, failed: sync.failedIndexes ?? [], active: sync.active,
                                                      terminating: terminatingPods, count: diff, completions: completions)
            if perIndex {
                // getPodCreationInfoForIndependentIndexes: indexes whose back-off has passed now;
                // if none, wait for the soonest.
                var ready: [Int] = []
                var soonest: Duration?
                for i in indexes {
                    let remaining = JobPlanning.remainingBackoff(forIndexOf: sync.delayedDeletion[i], now: context.now)
                    if remaining == .zero { ready.append(i) } else { soonest = min(soonest ?? remaining, remaining) }
                }
                if ready.isEmpty, let soonest { return (active, nil, soonest) }
                indexes = ready
            }
            diff = indexes.count
        }
        expectations.expectCreations(key, diff)
        active += diff
        var failure: String?
        var attempted = 0
        var nextIndex = 0
        for batch in PodRanking.slowStartBatches(diff) {
            var batchFailed = false
            attempted += batch
            for _ in 0..<batch {
                let index = nextIndex < indexes.count ? indexes[nextIndex] : nil
                nextIndex += 1
                do {
                    var template = Self.pod(from: job, index: index)
                    if perIndex, let index {
                        let counts = JobPlanning.newIndexFailureCounts(job: job, replacing: sync.delayedDeletion[index])
                        var annotations = template.metadata.annotations
                        annotations[JobPlanning.indexFailureCountKey] = String(counts.failures)
                        if counts.ignored > 0 { annotations[JobPlanning.indexIgnoredFailureCountKey] = String(counts.ignored) }
                        template.metadata.annotations = annotations
                    }
                    let pod = try await context.client.create(template)
                    await context.events.record(record, reason: "SuccessfulCreate", message: "Created pod: \(pod.metadata.name ?? "")")
                } catch {
                    let message = (error as? StoreError)?.message ?? "\(error)"
                    await context.events.record(record, type: "Warning", reason: "FailedCreate", message: "Error creating: \(message)")
                    // In a namespace being deleted every creation fails: ignored, as upstream
                    // does (still expected, still counted active).
                    if (error as? StoreError)?.isNamespaceTerminating == true { continue }
                    expectations.creationObserved(key)
                    active -= 1
                    failure = failure ?? message
                    batchFailed = true
                }
            }
            if batchFailed { break }
        }
        for _ in 0..<(diff - attempted) {
            expectations.creationObserved(key)
            active -= 1
        }
        return (active, failure, nil)
    }

    /// `deleteJobPods`: strips the tracking finalizer first, so these pods do not count as failed.
    func deleteJobPods(_ pods: [Pod], sync: inout Sync, key: String, record: EventRecord,
                       context: ReconcileContext) async -> (count: Int, error: String?) {
        let namespace = sync.job.metadata.namespace ?? "default"
        expectations.expectDeletions(key, keys: pods.map { "\(namespace)/\($0.metadata.name ?? "")" })
        var removed = 0
        var failure: String?
        for pod in pods {
            let name = pod.metadata.name ?? ""
            do {
                if JobPlanning.hasTrackingFinalizer(pod) {
                    try await Self.removeTrackingFinalizer(pod, context: context)
                }
                _ = try await context.client.delete(kind: "Pod", namespace: namespace, name: name)
                await context.events.record(record, reason: "SuccessfulDelete", message: "Deleted pod: \(name)")
                removed += 1
                sync.terminating += 1
                if PodUtil.isReady(pod) { sync.ready -= 1 }
            } catch let error as StoreError where error.reason == .notFound {
                expectations.deletionObserved(key, key: "\(namespace)/\(name)")
            } catch {
                expectations.deletionObserved(key, key: "\(namespace)/\(name)")
                failure = failure ?? ((error as? StoreError)?.message ?? "\(error)")
            }
        }
        return (removed, failure)
    }

    /// A pod from the template: the tracking finalizer, a controller reference, `generateName:
    /// <job>-` (`<job>-<i>-` with an index), and for Indexed Jobs the index annotation and label,
    /// `JOB_COMPLETION_INDEX` and the hostname `<job>-<i>`.
    public static func pod(from job: Job, index: Int?) -> Pod {
        let name = job.metadata.name ?? ""
        let indexed = index.map { [JobPlanning.indexKey: String($0)] } ?? [:]
        var pod = PodUtil.pod(from: job.spec.template, namespace: job.metadata.namespace,
                              generateName: index.map { "\(name)-\($0)-" } ?? "\(name)-", labels: indexed, annotations: indexed,
                              finalizers: [JobPlanning.trackingFinalizer], owner: controllerRef(job))
        if let index {
            pod.spec.hostname = "\(name)-\(index)"
            var env = EnvVar(raw: JSONObject())
            env.name = "JOB_COMPLETION_INDEX"
            env.raw["valueFrom"] = ["fieldRef": ["fieldPath": .string("metadata.annotations['\(JobPlanning.indexKey)']")]]
            pod.spec.initContainers = pod.spec.initContainers.map { withIndexEnv($0, env) }
            pod.spec.containers = pod.spec.containers.map { withIndexEnv($0, env) }
        }
        return pod
    }

    static func withIndexEnv(_ container: Container, _ env: EnvVar) -> Container {
        var c = container
        if !c.env.contains(where: { $0.name == "JOB_COMPLETION_INDEX" }) { c.env = c.env + [env] }
        return c
    }

    // MARK: trackJobStatusAndRemoveFinalizers

    func trackStatusAndRemoveFinalizers(_ sync: inout Sync, key: String, record: EventRecord, needsFlush initial: Bool,
                                        context: ReconcileContext) async throws {
        var needsFlush = initial
        let job = sync.job
        let indexed = job.spec.completionMode == "Indexed"
        let completions = job.spec.completions ?? 0
        let policy = job.raw["spec"]?["podFailurePolicy"]
        var pods = sync.pods
        if indexed { pods.sort { (JobPlanning.completionIndex($0) ?? Int.max) < (JobPlanning.completionIndex($1) ?? Int.max) } }
        var withFinalizer = Set(pods.filter { JobPlanning.hasTrackingFinalizer($0) && !sync.expectedRemovals.contains($0.metadata.uid ?? "") }
                                     .compactMap(\.metadata.uid))
        var status = sync.job.status
        var uncounted = status.uncountedTerminatedPods ?? UncountedTerminatedPods(raw: JSONObject())
        if Self.cleanUncounted(&status, &uncounted, withFinalizer: withFinalizer) { needsFlush = true }
        var toRemove: [Pod] = []
        var newSucceededIndexes: [Int] = []
        var reachedMax = false
        let finishedIsFailure = sync.finished.map { $0.type != "SuccessCriteriaMet" && $0.type != "Complete" } ?? false
        for pod in pods {
            let uid = pod.metadata.uid ?? ""
            guard JobPlanning.hasTrackingFinalizer(pod), !sync.expectedRemovals.contains(uid) else { continue }
            let failed = JobPlanning.isPodFailed(pod, job: job)
            // canRemoveFinalizer.
            if job.metadata.deletionTimestamp == nil && sync.finished == nil && pod.status.phase != "Succeeded" {
                guard failed else { continue }
                // backoffLimitPerIndex: an index's last failed pod stays until its replacement carries the count.
                if let index = JobPlanning.completionIndex(pod), sync.delayedDeletion[index]?.metadata.uid == uid { continue }
            }
            toRemove.append(pod)
            let index = JobPlanning.completionIndex(pod)
            if pod.status.phase == "Succeeded" && !sync.uncountedFailed.contains(uid) {
                if indexed {
                    if let index, index < completions, !sync.prevSucceededIndexes.contains(index) {
                        newSucceededIndexes.append(index)
                        needsFlush = true
                    }
                } else if !sync.uncountedSucceeded.contains(uid) {
                    uncounted.succeeded = uncounted.succeeded + [uid]
                    needsFlush = true
                }
            } else if failed || finishedIsFailure {
                if !sync.uncountedFailed.contains(uid), !indexed || (index.map { $0 < completions } ?? false) {
                    if JobPlanning.matchPodFailurePolicy(policy, pod: pod).countFailed {
                        uncounted.failed = uncounted.failed + [uid]
                        needsFlush = true
                    }
                }
            }
            if newSucceededIndexes.count + uncounted.succeeded.count + uncounted.failed.count >= JobPlanning.maxUncountedPods {
                reachedMax = true
                break
            }
        }
        if indexed {
            sync.succeededIndexes = sync.succeededIndexes.union(newSucceededIndexes)
            let text = JobPlanning.formatIndexes(sync.succeededIndexes)
            if text != (status.completedIndexes ?? "") { needsFlush = true }
            status.succeeded = sync.succeededIndexes.isEmpty ? nil : sync.succeededIndexes.count
            status.completedIndexes = text.isEmpty ? nil : text
            let failedText = sync.failedIndexes.map(JobPlanning.formatIndexes)
            if failedText != status.failedIndexes {
                status.failedIndexes = failedText
                needsFlush = true
            }
        }
        let now = context.now
        if let finished = sync.finished, finished.type == "FailureTarget" {
            status.conditions = status.conditions + [finished]
            needsFlush = true
            sync.finished = Self.condition("Failed", reason: finished.reason ?? "", message: finished.message ?? "", now: now)
        }
        if let finished = sync.finished, finished.type == "SuccessCriteriaMet" {
            if status.conditions[type: "SuccessCriteriaMet"] == nil {
                status.conditions = status.conditions + [finished]
                needsFlush = true
            }
            sync.finished = Self.condition("Complete", reason: finished.reason ?? "", message: finished.message ?? "", now: now)
        }
        status.uncountedTerminatedPods = uncounted

        // Flush the uncounted UIDs (and interim conditions) before removing finalizers.
        var current = sync.job
        if needsFlush {
            current.status = status
            current = try await writeStatus(current, context: context)
            state.withLock { [backoff = sync.backoff] in $0.backoff[key] = backoff }
            needsFlush = false
        }
        if !toRemove.isEmpty {
            state.withLock { s in s.expectedRemovals[key, default: []].formUnion(toRemove.compactMap(\.metadata.uid)) }
            for pod in toRemove {
                try await Self.removeTrackingFinalizer(pod, context: context)
                withFinalizer.remove(pod.metadata.uid ?? "")
            }
        }
        status = current.status
        uncounted = status.uncountedTerminatedPods ?? UncountedTerminatedPods(raw: JSONObject())
        if Self.cleanUncounted(&status, &uncounted, withFinalizer: withFinalizer) { needsFlush = true }
        status.uncountedTerminatedPods = uncounted

        // enactJobFinished: the final condition once nothing is uncounted or terminating.
        var finished = false
        if !reachedMax, let condition = sync.finished, uncounted.succeeded.isEmpty, uncounted.failed.isEmpty, sync.terminating == 0 {
            current.status = status
            Self.ensureCondition(&current, condition.type, status: condition.status, reason: condition.reason ?? "",
                                 message: condition.message ?? "", now: now)
            status = current.status
            if condition.type == "Complete" { status.completionTime = condition.lastTransitionTime }
            finished = true
            needsFlush = true
        }
        if needsFlush {
            current.status = status
            current = try await writeStatus(current, context: context)
            if finished, let condition = sync.finished {
                if condition.type == "Complete" {
                    if let c = job.spec.completions, (current.status.succeeded ?? 0) > c {
                        await context.events.record(record, type: "Warning", reason: "TooManySucceededPods",
                                                    message: "Too many succeeded pods running after completion count reached")
                    }
                    await context.events.record(record, reason: "Completed", message: "Job completed")
                } else {
                    await context.events.record(record, type: "Warning", reason: condition.reason ?? "", message: condition.message ?? "")
                }
            }
        }
        sync.job = current
    }

    /// `cleanUncountedPodsWithoutFinalizers`: UIDs whose finalizer is gone move from the
    /// uncounted lists to the counters.
    static func cleanUncounted(_ status: inout JobStatus, _ uncounted: inout UncountedTerminatedPods, withFinalizer: Set<String>) -> Bool {
        var updated = false
        let succeeded = uncounted.succeeded.filter { withFinalizer.contains($0) }
        if succeeded.count != uncounted.succeeded.count {
            status.succeeded = (status.succeeded ?? 0) + uncounted.succeeded.count - succeeded.count
            uncounted.succeeded = succeeded
            updated = true
        }
        let failed = uncounted.failed.filter { withFinalizer.contains($0) }
        if failed.count != uncounted.failed.count {
            status.failed = (status.failed ?? 0) + uncounted.failed.count - failed.count
            uncounted.failed = failed
            updated = true
        }
        if uncounted.succeeded.isEmpty { uncounted.raw["succeeded"] = nil }
        if uncounted.failed.isEmpty { uncounted.raw["failed"] = nil }
        return updated
    }

    func writeStatus(_ job: Job, context: ReconcileContext) async throws -> Job {
        var job = job
        if job.status.succeeded == 0 { job.status.succeeded = nil }
        if job.status.failed == 0 { job.status.failed = nil }
        if job.status.raw["conditions"]?.arrayValue?.isEmpty == true { job.status.raw["conditions"] = nil }
        // batch/v1's JobStatus field order.
        job.status.raw = job.status.raw.ordered(first: ["conditions", "startTime", "completionTime", "active", "succeeded", "failed", "terminating",
                                                        "completedIndexes", "failedIndexes", "uncountedTerminatedPods", "ready"])
        return try await context.client.updateStatus(job)
    }
}
