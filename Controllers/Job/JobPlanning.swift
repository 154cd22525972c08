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

    /// `completedIndexes` as Kubernetes writes it: sorted, runs compressed: "1,3-5,7".
    public static func formatIndexes(_ indexes: Set<Int>) -> String {
        let sorted = indexes.sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Parses "1,3-5" (ignoring malformed parts, as upstream does).
    public static func parseIndexes(_ text: String, completions: Int) -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1, bounds[0] < completions { out.insert(bounds[0]) }
            if bounds.count == 2, bounds[0] <= bounds[1] {
                for i in bounds[0]...min(bounds[1], completions - 1) where i >= 0 { out.insert(i) }
            }
        }
        return out
    }

    /// `firstPendingIndexes`: the lowest `count` indexes below `completions` that neither
    /// succeeded nor have an active pod.
    public static func firstPendingIndexes(succeeded: Set<Int>, active: [Pod], count: Int, completions: Int) -> [Int] {
        let taken = succeeded.union(active.compactMap(completionIndex))
        var out: [Int] = []
        var i = 0
        while out.count < count, i < completions {
            if !taken.contains(i) { out.append(i) }
            i += 1
        }
        return out
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
