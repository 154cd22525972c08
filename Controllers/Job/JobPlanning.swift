public import Orca

/// The Job controller's pure rules (`backoff_utils.go`, `indexed_job_utils.go`,
/// `pod_failure_policy.go`), separate from the reconcile so they can be tested alone.
public enum JobPlanning {
    public static let trackingFinalizer = "batch.kubernetes.io/job-tracking"
    public static let indexKey = "batch.kubernetes.io/job-completion-index"
    public static let defaultPodFailureBackoff: Duration = .seconds(10)
    public static let maxPodFailureBackoff: Duration = .seconds(600)
    public static let maxUncountedPods = 500
    public static let maxPodCreateDeletePerSync = 500

    // MARK: Pods

    public static func hasTrackingFinalizer(_ pod: Pod) -> Bool { pod.metadata.finalizers.contains(trackingFinalizer) }

    public static func isTerminal(_ pod: Pod) -> Bool { ["Succeeded", "Failed"].contains(pod.status.phase ?? "") }

    /// `onlyReplaceFailedPods`: podReplacementPolicy Failed, or a podFailurePolicy.
    public static func onlyReplaceFailedPods(_ job: Job) -> Bool {
        job.spec.podReplacementPolicy == "Failed" || job.raw["spec"]?["podFailurePolicy"] != nil
    }

    /// `isPodFailed`: phase Failed, or (unless only failed pods are replaced) deleted before it
    /// succeeded — orphaned or evicted pods that never reach Failed.
    public static func isPodFailed(_ pod: Pod, job: Job) -> Bool {
        if pod.status.phase == "Failed" { return true }
        if onlyReplaceFailedPods(job) { return false }
        return pod.metadata.deletionTimestamp != nil && pod.status.phase != "Succeeded"
    }

    /// `getFinishedTime`: the latest container finishedAt (all must have terminated), else the
    /// Ready=False transition, else deletionTimestamp − grace, else now.
    public static func finishedTime(_ pod: Pod, now: Timestamp) -> Timestamp {
        let statuses = pod.status.containerStatuses
        if !statuses.isEmpty {
            var latest: Timestamp?
            var all = true
            for s in statuses {
                guard let t = s.state.terminated?.finishedAt else { all = false; break }
                latest = max(latest ?? t, t)
            }
            if all, let latest { return latest }
        }
        if let ready = pod.status.conditions[type: "Ready"], ready.status == "False", let t = ready.lastTransitionTime { return t }
        if let deleted = pod.metadata.deletionTimestamp {
            return deleted.adding(.seconds(-(pod.metadata.deletionGracePeriodSeconds ?? 0)))
        }
        return now
    }

    // MARK: Back-off

    /// `backoffRecord`: failures since the last success and when the last of them happened.
    public struct BackoffRecord: Sendable, Equatable {
        public var failuresAfterLastSuccess = 0
        public var lastFailureTime: Timestamp?
        public init(failuresAfterLastSuccess: Int = 0, lastFailureTime: Timestamp? = nil) {
            self.failuresAfterLastSuccess = failuresAfterLastSuccess
            self.lastFailureTime = lastFailureTime
        }
    }

    /// `newBackoffRecord`: folds this sync's newly finished pods into the previous record.
    public static func newBackoffRecord(_ old: BackoffRecord, succeeded: [Pod], failed: [Pod], now: Timestamp) -> BackoffRecord {
        let successTimes = succeeded.map { finishedTime($0, now: now) }.sorted()
        let failureTimes = failed.map { finishedTime($0, now: now) }.sorted()
        var record = old
        guard let lastSuccess = successTimes.last else {
            guard let lastFailure = failureTimes.last else { return old }
            record.failuresAfterLastSuccess += failureTimes.count
            record.lastFailureTime = lastFailure
            return record
        }
        record = BackoffRecord()
        for t in failureTimes.reversed() {
            guard t > lastSuccess else { break }
            if record.lastFailureTime == nil { record.lastFailureTime = t }
            record.failuresAfterLastSuccess += 1
        }
        return record
    }

    /// `getRemainingTime`: 10 s × 2^(failures − 1), capped at 10 min, from the last failure.
    public static func remainingBackoff(_ record: BackoffRecord, now: Timestamp) -> Duration {
        guard record.failuresAfterLastSuccess > 0, let last = record.lastFailureTime else { return .zero }
        var backoff = defaultPodFailureBackoff
        for _ in 1..<record.failuresAfterLastSuccess {
            backoff = backoff * 2
            if backoff >= maxPodFailureBackoff {
                backoff = maxPodFailureBackoff
                break
            }
        }
        let elapsed = now.since(last)
        return backoff < elapsed ? .zero : backoff - elapsed
    }

    // MARK: Indexes

    /// The pod's completion index from its annotation; nil when missing or invalid.
    public static func completionIndex(_ pod: Pod) -> Int? {
        guard let text = pod.metadata.annotations[indexKey], let i = Int(text), i >= 0, String(i) == text else { return nil }
        return i
    }

    /// `completedIndexes`/`failedIndexes` as Kubernetes writes them (`orderedIntervals.String`):
    /// sorted, runs of three or more compressed, a run of two written as a pair: "1,3-5,7,8".
    public static func formatIndexes(_ indexes: Set<Int>) -> String {
        let sorted = indexes.sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            switch j - i {
            case 0: parts.append("\(sorted[i])")
            case 1: parts.append("\(sorted[i]),\(sorted[j])")
            default: parts.append("\(sorted[i])-\(sorted[j])")
            }
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Parses "1,3-5" (ignoring malformed parts, as upstream does).
    public static func parseIndexes(_ text: String, completions: Int) -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let fields = part.split(separator: "-", omittingEmptySubsequences: false)
            let bounds = fields.compactMap { Int($0) }
            guard bounds.count == fields.count, let first = bounds.first, first >= 0, first < completions else { continue }
            if bounds.count == 1 { out.insert(first) }
            if bounds.count == 2, first <= bounds[1] {
                for i in first...min(bounds[1], completions - 1) { out.insert(i) }
            }
        }
        return out
    }

    /// `firstPendingIndexes`: the lowest `count` indexes below `completions` that neither
    /// succeeded, nor failed (backoffLimitPerIndex), nor have an active pod — nor, when only
    /// failed pods are replaced, a terminating one.
    public static func firstPendingIndexes(succeeded: Set<Int>, failed: Set<Int> = [], active: [Pod], terminating: [Pod] = [],
                                           count: Int, completions: Int) -> [Int] {
        let taken = succeeded.union(failed).union(active.compactMap(completionIndex)).union(terminating.compactMap(completionIndex))
        var out: [Int] = []
        var i = 0
        while out.count < count, i < completions {
            if !taken.contains(i) { out.append(i) }
            i += 1
        }
        return out
    }

    // MARK: Backoff limit per index

    public static let indexFailureCountKey = "batch.kubernetes.io/job-index-failure-count"
    public static let indexIgnoredFailureCountKey = "batch.kubernetes.io/job-index-ignored-failure-count"

    public static func hasBackoffLimitPerIndex(_ job: Job) -> Bool { job.spec.backoffLimitPerIndex != nil }

    /// An int32 annotation; 0 when missing, malformed, negative or too large (as upstream).
    static func countAnnotation(_ pod: Pod, _ key: String) -> Int {
        guard let text = pod.metadata.annotations[key], let value = Int(text), value >= 0, value <= Int(Int32.max) else { return 0 }
        return value
    }

    /// `batch.kubernetes.io/job-index-failure-count`: failures of the pod's index before it.
    public static func indexFailureCount(_ pod: Pod) -> Int { countAnnotation(pod, indexFailureCountKey) }

    /// Failure count plus ignored failure count (`getIndexAbsoluteFailureCount`).
    public static func indexAbsoluteFailureCount(_ pod: Pod) -> Int {
        countAnnotation(pod, indexFailureCountKey) + countAnnotation(pod, indexIgnoredFailureCountKey)
    }

    /// `isIndexFailed`: the pod failed (and counts) with its index's failures at the limit, or
    /// a podFailurePolicy `FailIndex` rule matched.
    public static func isIndexFailed(_ pod: Pod, job: Job) -> Bool {
        guard isPodFailed(pod, job: job) else { return false }
        var counted = true
        if let policy = job.raw["spec"]?["podFailurePolicy"] {
            let match = matchPodFailurePolicy(policy, pod: pod)
            if match.action == "FailIndex" { return true }
            counted = match.countFailed
        }
        return counted && indexFailureCount(pod) >= (job.spec.backoffLimitPerIndex ?? 0)
    }

    /// `calculateFailedIndexes`: `status.failedIndexes` plus the indexes of pods (still
    /// tracked, valid index) whose failure fails their index.
    public static func failedIndexes(job: Job, pods: [Pod]) -> Set<Int> {
        let completions = job.spec.completions ?? 0
        var result = parseIndexes(job.status.failedIndexes ?? "", completions: completions)
        for pod in pods where hasTrackingFinalizer(pod) {
            if let i = completionIndex(pod), i < completions, isIndexFailed(pod, job: job) { result.insert(i) }
        }
        return result
    }

    /// `getPodsWithDelayedDeletionPerIndex`: for each index that is still pending (not
    /// succeeded, not failed, no active pod), its latest failed pod — kept (finalizer and all)
    /// until the replacement is created with the failure count carried over.
    public static func podsWithDelayedDeletion(job: Job, tracked: [Pod], active: [Pod], succeeded: Set<Int>,
                                               failed: Set<Int>, now: Timestamp) -> [Int: Pod] {
        let completions = job.spec.completions ?? 0
        let activeIndexes = Set(active.compactMap(completionIndex))
        var result: [Int: Pod] = [:]
        for pod in tracked where isPodFailed(pod, job: job) {
            guard let i = completionIndex(pod), i < completions else { continue }
            if succeeded.contains(i) || failed.contains(i) || activeIndexes.contains(i) { continue }
            if let last = result[i] {
                if indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(pod)
                    && finishedTime(pod, now: now) >= finishedTime(last, now: now) {
                    result[i] = pod
                }
            } else {
                result[i] = pod
            }
        }
        return result
    }

    /// `getNewIndexFailureCounts`: the annotations' values for the pod replacing `replaced`.
    public static func newIndexFailureCounts(job: Job, replacing replaced: Pod?) -> (failures: Int, ignored: Int) {
        guard let replaced else { return (0, 0) }
        var failures = countAnnotation(replaced, indexFailureCountKey)
        var ignored = countAnnotation(replaced, indexIgnoredFailureCountKey)
        if let policy = job.raw["spec"]?["podFailurePolicy"], !matchPodFailurePolicy(policy, pod: replaced).countFailed {
            ignored += 1
        } else {
            failures += 1
        }
        return (failures, ignored)
    }

    /// `getRemainingTimePerIndex`: the back-off of an index whose last pod failed — 10 s ×
    /// 2^(absolute failures), capped at 10 min, from that pod's finish.
    public static func remainingBackoff(forIndexOf lastPod: Pod?, now: Timestamp) -> Duration {
        guard let lastPod else { return .zero }
        let record = BackoffRecord(failuresAfterLastSuccess: indexAbsoluteFailureCount(lastPod) + 1,
                                   lastFailureTime: finishedTime(lastPod, now: now))
        return remainingBackoff(record, now: now)
    }

    // MARK: Success policy

    /// `matchSuccessPolicy`: the message of the first rule the succeeded indexes satisfy
    /// ("Matched rules at index N"), or nil. A rule with `succeededIndexes` is met when all of
    /// them succeeded, or `succeededCount` of them; a rule with only `succeededCount` when
    /// that many indexes succeeded.
    public static func matchSuccessPolicy(_ policy: JSONValue?, completions: Int, succeeded: Set<Int>) -> String? {
        guard let rules = policy?["rules"]?.arrayValue, !succeeded.isEmpty else { return nil }
        for (index, rule) in rules.enumerated() {
            let count = rule["succeededCount"]?.intValue.map(Int.init)
            if let text = rule["succeededIndexes"]?.stringValue {
                let required = parseIndexes(text, completions: completions)
                if required.isEmpty { continue }
                let contained = required.intersection(succeeded).count
                if contained == required.count || (count.map { contained >= $0 } ?? false) {
                    return "Matched rules at index \(index)"
                }
            } else if let count, succeeded.count >= count {
                return "Matched rules at index \(index)"
            }
        }
        return nil
    }

    // MARK: Pod failure policy

    /// What a podFailurePolicy says about a failed pod (`matchPodFailurePolicy`): a message when
    /// the Job must fail, whether the failure counts toward backoffLimit, and the rule's action.
    public static func matchPodFailurePolicy(_ policy: JSONValue?, pod: Pod) -> (failJobMessage: String?, countFailed: Bool, action: String?) {
        guard let rules = policy?["rules"]?.arrayValue else { return (nil, true, nil) }
        guard pod.status.phase == "Failed" else { return (nil, true, nil) }
        let name = "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")"
        for (index, rule) in rules.enumerated() {
            let action = rule["action"]?.stringValue ?? ""
            var matched: String?
            if let onExit = rule["onExitCodes"] {
                matched = matchExitCodes(onExit, pod: pod).map {
                    "Container \($0.container) for pod \(name) failed with exit code \($0.code) matching \(action) rule at index \(index)"
                }
            } else if let onConditions = rule["onPodConditions"]?.arrayValue {
                for pattern in onConditions {
                    let type = pattern["type"]?.stringValue ?? ""
                    let status = pattern["status"]?.stringValue ?? "True"
                    if pod.status.conditions.contains(where: { $0.type == type && $0.status == status }) {
                        matched = "Pod \(name) has condition \(type) matching \(action) rule at index \(index)"
                        break
                    }
                }
            }
            guard let message = matched else { continue }
            switch action {
            case "FailJob": return (message, true, action)
            case "Ignore": return (nil, false, action)
            case "Count": return (nil, true, action)
            case "FailIndex": return (nil, true, action)
            default: continue
            }
        }
        return (nil, true, nil)
    }

    static func matchExitCodes(_ requirement: JSONValue, pod: Pod) -> (container: String, code: Int)? {
        let container = requirement["containerName"]?.stringValue
        let op = requirement["operator"]?.stringValue ?? "In"
        let values = Set((requirement["values"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) })
        for status in pod.status.initContainerStatuses + pod.status.containerStatuses {
            if let container, status.name != container { continue }
            guard let code = status.state.terminated?.exitCode, code != 0 else { continue }
            let hit = op == "In" ? values.contains(code) : !values.contains(code)
            if hit { return (status.name ?? "", code) }
        }
        return nil
    }
}
