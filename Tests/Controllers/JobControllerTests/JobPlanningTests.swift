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
        #expect(JobPlanning.formatIndexes([0, 1, 2, 4, 6, 7]) == "0-2,4,6-7")
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
}
