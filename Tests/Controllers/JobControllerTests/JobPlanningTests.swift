import JobController
import Orca
import Testing

@Suite("Job planning (mirrors upstream's backoff_utils_test and indexed_job_utils_test)")
struct JobPlanningTests {
    let t0 = Timestamp(seconds: 10_000)

    func pod(phase: String, finishedAt: Int64?) -> Pod {
        var meta = ObjectMeta()
        meta.name = "p"
        var p = Pod(metadata: meta)
        p.status.phase = phase
        if let finishedAt {
            var cs = ContainerStatus(raw: JSONObject())
            var terminated = ContainerStateTerminated(raw: JSONObject())
            terminated.finishedAt = Timestamp(seconds: t0.seconds + finishedAt)
            cs.state.terminated = terminated
            p.status.containerStatuses = [cs]
        }
        return p
    }

    @Test("TestGetRemainingTime: 10s doubling, capped at 10 min, measured from the last failure")
    func remainingTime() {
        typealias R = JobPlanning.BackoffRecord
        #expect(JobPlanning.remainingBackoff(R(), now: t0) == .zero)
        #expect(JobPlanning.remainingBackoff(R(failuresAfterLastSuccess: 1, lastFailureTime: t0), now: t0) == .seconds(10))
        #expect(JobPlanning.remainingBackoff(R(failuresAfterLastSuccess: 2, lastFailureTime: t0), now: t0.adding(.seconds(5))) == .seconds(15))
        #expect(JobPlanning.remainingBackoff(R(failuresAfterLastSuccess: 3, lastFailureTime: t0), now: t0.adding(.seconds(40))) == .zero)
        #expect(JobPlanning.remainingBackoff(R(failuresAfterLastSuccess: 20, lastFailureTime: t0), now: t0) == .seconds(600))
    }

    @Test("TestNewBackoffRecord: failures add up; a later success resets; failures after it count")
    func newBackoffRecord() {
        let failures = [pod(phase: "Failed", finishedAt: 1), pod(phase: "Failed", finishedAt: 3)]
        let r1 = JobPlanning.newBackoffRecord(.init(), succeeded: [], failed: failures, now: t0)
        #expect(r1 == .init(failuresAfterLastSuccess: 2, lastFailureTime: t0.adding(.seconds(3))))
        let r2 = JobPlanning.newBackoffRecord(r1, succeeded: [pod(phase: "Succeeded", finishedAt: 5)], failed: [], now: t0)
        #expect(r2 == .init())
        let r3 = JobPlanning.newBackoffRecord(r1, succeeded: [pod(phase: "Succeeded", finishedAt: 2)], failed: failures, now: t0)
        #expect(r3 == .init(failuresAfterLastSuccess: 1, lastFailureTime: t0.adding(.seconds(3))))
    }

    @Test("TestGetFinishedTime: containers, then Ready=False, then deletion minus grace")
    func finishedTime() {
        #expect(JobPlanning.finishedTime(pod(phase: "Failed", finishedAt: 7), now: t0) == t0.adding(.seconds(7)))
        var p = pod(phase: "Failed", finishedAt: nil)
        p.metadata.deletionTimestamp = t0.adding(.seconds(30))
        p.metadata.deletionGracePeriodSeconds = 30
        #expect(JobPlanning.finishedTime(p, now: t0.adding(.seconds(99))) == t0)
    }

    @Test("completedIndexes: compressed intervals, parsed back")
    func indexes() {
        #expect(JobPlanning.formatIndexes([0, 1, 2, 4, 6, 7]) == "0-2,4,6,7")
        #expect(JobPlanning.formatIndexes([]) == "")
        #expect(JobPlanning.parseIndexes("0-2,4,6-7", completions: 7) == [0, 1, 2, 4, 6])
        #expect(JobPlanning.firstPendingIndexes(succeeded: [0, 2], active: [], count: 2, completions: 5) == [1, 3])
    }

    @Test("TestSyncJobWithJobPodFailurePolicy: FailJob on exit codes, Ignore on conditions")
    func podFailurePolicy() throws {
        var failed = pod(phase: "Failed", finishedAt: 1)
        failed.metadata.namespace = "default"
        var cs = failed.status.containerStatuses[0]
        cs.name = "main"
        var terminated = cs.state.terminated ?? ContainerStateTerminated(raw: JSONObject())
        terminated.exitCode = 42
        cs.state.terminated = terminated
        failed.status.containerStatuses = [cs]
        let policy: JSONValue = ["rules": [
            ["action": "Ignore", "onPodConditions": [["type": "DisruptionTarget"]]],
            ["action": "FailJob", "onExitCodes": ["operator": "In", "values": [42]]],
        ]]
        let result = JobPlanning.matchPodFailurePolicy(policy, pod: failed)
        #expect(result.failJobMessage == "Container main for pod default/p failed with exit code 42 matching FailJob rule at index 1")
        failed.status.conditions = [Condition(type: "DisruptionTarget", status: "True")]
        let ignored = JobPlanning.matchPodFailurePolicy(policy, pod: failed)
        #expect(ignored.failJobMessage == nil && !ignored.countFailed)
    }

    // MARK: successPolicy (success_policy_test.go's TestMatchSuccessPolicy)

    func policy(_ rules: [JSONValue]) -> JSONValue { ["rules": .array(rules)] }

    @Test("TestMatchSuccessPolicy: succeededIndexes, succeededCount, both, first matching rule wins")
    func successPolicy() {
        // No policy, or no succeeded index: never met.
        #expect(JobPlanning.matchSuccessPolicy(nil, completions: 10, succeeded: [0, 1]) == nil)
        #expect(JobPlanning.matchSuccessPolicy(policy([["succeededCount": 1]]), completions: 10, succeeded: []) == nil)
        // succeededIndexes only: every listed index must have succeeded.
        let indexes = policy([["succeededIndexes": "0-2,4"]])
        #expect(JobPlanning.matchSuccessPolicy(indexes, completions: 10, succeeded: [0, 1, 2]) == nil)
        #expect(JobPlanning.matchSuccessPolicy(indexes, completions: 10, succeeded: [0, 1, 2, 4, 7]) == "Matched rules at index 0")
        // succeededCount only: that many indexes, whichever.
        #expect(JobPlanning.matchSuccessPolicy(policy([["succeededCount": 3]]), completions: 10, succeeded: [5, 8]) == nil)
        #expect(JobPlanning.matchSuccessPolicy(policy([["succeededCount": 3]]), completions: 10, succeeded: [5, 8, 9]) == "Matched rules at index 0")
        // Both: succeededCount of the listed indexes.
        let both = policy([["succeededIndexes": "1,3-5", "succeededCount": 2]])
        #expect(JobPlanning.matchSuccessPolicy(both, completions: 10, succeeded: [1, 2, 6]) == nil)
        #expect(JobPlanning.matchSuccessPolicy(both, completions: 10, succeeded: [1, 5]) == "Matched rules at index 0")
        // The first rule that matches names the message; out-of-range rule indexes are ignored.
        let two = policy([["succeededIndexes": "7-9"], ["succeededCount": 1]])
        #expect(JobPlanning.matchSuccessPolicy(two, completions: 10, succeeded: [0]) == "Matched rules at index 1")
        #expect(JobPlanning.matchSuccessPolicy(policy([["succeededIndexes": "12"]]), completions: 10, succeeded: [1]) == nil)
    }

    // MARK: backoffLimitPerIndex (indexed_job_utils_test.go)

    func indexedPod(_ name: String, index: Int, phase: String, failures: Int? = nil, ignored: Int? = nil,
                    finishedAt: Int64? = nil) -> Pod {
        var p = pod(phase: phase, finishedAt: finishedAt)
        p.metadata.name = name
        p.metadata.uid = "uid-" + name
        var annotations = [JobPlanning.indexKey: String(index)]
        if let failures { annotations[JobPlanning.indexFailureCountKey] = String(failures) }
        if let ignored { annotations[JobPlanning.indexIgnoredFailureCountKey] = String(ignored) }
        p.metadata.annotations = annotations
        p.metadata.finalizers = [JobPlanning.trackingFinalizer]
        return p
    }

    func perIndexJob(limit: Int, completions: Int = 4, podFailurePolicy: JSONValue? = nil) -> Job {
        var job = Job(metadata: ObjectMeta())
        job.spec.completions = completions
        job.spec.completionMode = "Indexed"
        job.spec.backoffLimitPerIndex = limit
        if let podFailurePolicy { job.spec.raw["podFailurePolicy"] = podFailurePolicy }
        return job
    }

    @Test("TestCalculateFailedIndexes: an index fails when its failure count reaches backoffLimitPerIndex; status.failedIndexes is kept")
    func failedIndexes() {
        var job = perIndexJob(limit: 1)
        job.status.failedIndexes = "3"
        let pods = [
            indexedPod("a", index: 0, phase: "Failed", failures: 0),   // first failure of index 0: retried
            indexedPod("b", index: 1, phase: "Failed", failures: 1),   // second failure of index 1: fails it
            indexedPod("c", index: 2, phase: "Running", failures: 1),
            indexedPod("d", index: 9, phase: "Failed", failures: 5),   // out of range
        ]
        #expect(JobPlanning.failedIndexes(job: job, pods: pods) == [1, 3])
        #expect(JobPlanning.formatIndexes([1, 3]) == "1,3")
    }

    @Test("FailIndex rule fails the index at once; Ignore rule neither counts nor fails it")
    func failIndexAction() {
        var failing = indexedPod("a", index: 0, phase: "Failed", failures: 0)
        var status = ContainerStatus(raw: JSONObject())
        status.name = "main"
        var terminated = ContainerStateTerminated(raw: JSONObject())
        terminated.exitCode = 42
        status.state.terminated = terminated
        failing.status.containerStatuses = [status]
        let policy: JSONValue = ["rules": [["action": "FailIndex", "onExitCodes": ["operator": "In", "values": [42]]],
                                           ["action": "Ignore", "onExitCodes": ["operator": "In", "values": [7]]]]]
        let job = perIndexJob(limit: 3, podFailurePolicy: policy)
        #expect(JobPlanning.isIndexFailed(failing, job: job))
        terminated.exitCode = 7
        status.state.terminated = terminated
        failing.status.containerStatuses = [status]
        #expect(!JobPlanning.isIndexFailed(failing, job: job))
        #expect(JobPlanning.newIndexFailureCounts(job: job, replacing: failing) == (failures: 0, ignored: 1))
    }

    @Test("TestGetPodsWithDelayedDeletionPerIndex: the latest failed pod of each pending index, none for active, succeeded or failed indexes")
    func delayedDeletion() {
        let job = perIndexJob(limit: 3)
        let older = indexedPod("old", index: 0, phase: "Failed", failures: 0, finishedAt: 1)
        let newer = indexedPod("new", index: 0, phase: "Failed", failures: 1, finishedAt: 5)
        let activeIndex = indexedPod("x", index: 1, phase: "Failed", failures: 0, finishedAt: 2)
        let running = indexedPod("r", index: 1, phase: "Running", failures: 1)
        let doneIndex = indexedPod("y", index: 2, phase: "Failed", failures: 0, finishedAt: 2)
        let delayed = JobPlanning.podsWithDelayedDeletion(job: job, tracked: [newer, older, activeIndex, running, doneIndex],
                                                          active: [running], succeeded: [2], failed: [], now: t0)
        #expect(delayed.mapValues { $0.metadata.name ?? "" } == [0: "new"])
        // The replacement carries the count on; its back-off is 10 s × 2^(absolute failures).
        #expect(JobPlanning.newIndexFailureCounts(job: job, replacing: newer) == (failures: 2, ignored: 0))
        #expect(JobPlanning.newIndexFailureCounts(job: job, replacing: nil) == (failures: 0, ignored: 0))
        #expect(JobPlanning.remainingBackoff(forIndexOf: newer, now: t0.adding(.seconds(5))) == .seconds(20))
        #expect(JobPlanning.remainingBackoff(forIndexOf: older, now: t0.adding(.seconds(6))) == .seconds(5))
        #expect(JobPlanning.remainingBackoff(forIndexOf: nil, now: t0) == .zero)
    }

    @Test("firstPendingIndexes skips succeeded, failed, active and (only-failed replacement) terminating indexes")
    func pendingIndexes() {
        let active = [indexedPod("a", index: 1, phase: "Running")]
        let terminating = [indexedPod("t", index: 3, phase: "Running")]
        #expect(JobPlanning.firstPendingIndexes(succeeded: [0], failed: [2], active: active, terminating: terminating,
                                                count: 3, completions: 7) == [4, 5, 6])
        #expect(JobPlanning.firstPendingIndexes(succeeded: [0], active: active, count: 2, completions: 7) == [2, 3])
    }
}
