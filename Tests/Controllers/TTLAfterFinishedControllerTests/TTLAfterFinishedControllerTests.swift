import Foundation
import Orca
import OrcaLMDB
import Testing
import TTLAfterFinishedController

let jobYAML = """
apiVersion: batch/v1
kind: Job
metadata: {name: pi, namespace: default}
spec:
  ttlSecondsAfterFinished: 100
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: perl}]
"""

func finished(_ job: Job, at time: Timestamp, type: String = "Complete") -> Job {
    var job = job
    job.status.conditions = [Condition(type: type, status: "True", lastTransitionTime: time)]
    if type == "Complete" { job.status.completionTime = time }
    return job
}

@Suite("TTL-after-finished controller (example plugin)")
struct TTLAfterFinishedControllerTests {
    func job() throws -> Job {
        let value = try #require(try JSONValue.parseYAMLDocuments(jobYAML).first)
        return try #require(Job(value))
    }

    @Test("plan: unfinished or TTL-less Jobs are kept; finished ones wait out the TTL, then are deleted")
    func plan() throws {
        let t0 = Timestamp(seconds: 1_000)
        let job = try job()
        #expect(TTLAfterFinishedController.plan(job, now: t0) == .keep)
        let done = finished(job, at: t0)
        #expect(TTLAfterFinishedController.plan(done, now: t0.adding(.seconds(40))) == .wait(.seconds(60)))
        #expect(TTLAfterFinishedController.plan(done, now: t0.adding(.seconds(100))) == .delete)
        #expect(TTLAfterFinishedController.plan(finished(job, at: t0, type: "Failed"), now: t0.adding(.seconds(101))) == .delete)
        var noTTL = done
        noTTL.spec.ttlSecondsAfterFinished = nil
        #expect(TTLAfterFinishedController.plan(noTTL, now: t0.adding(.seconds(1_000))) == .keep)
        var notTrue = done
        notTrue.status.conditions = [Condition(type: "Complete", status: "False")]
        #expect(TTLAfterFinishedController.plan(notTrue, now: t0.adding(.seconds(1_000))) == .keep)
    }

    @Test("in a simulation the Job is deleted exactly when its TTL runs out, with foreground propagation")
    func simulation() async throws {
        let dir = NSTemporaryDirectory() + "orca-ttl-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try LMDBEventLog(path: dir)
        let clock = VirtualClock(Timestamp(seconds: 1_800_000_000))
        let manager = ControllerManager(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 7), scheduler: .manual)
        manager.register(TTLAfterFinishedController())
        let created = try #require(Job(try await manager.store.create(try job().json).value))
        try await manager.drain()
        #expect(manager.nextTimer == nil, "an unfinished Job sets no timer")

        clock.advance(by: .seconds(10))
        _ = try await manager.store.updateStatus(finished(created, at: clock.now()).json)
        try await manager.drain()
        let due = try #require(manager.nextTimer)
        #expect(due == clock.now().adding(.seconds(100)))
        clock.advance(to: due)
        try await manager.drain()
        let deleted = try #require(try manager.store.get(kind: "Job", name: "pi"))
        #expect(deleted.deletionTimestamp == due)
        #expect(deleted.finalizers == ["foregroundDeletion"])
        let last = try #require(try log.readAll().last)
        #expect(last.actor == "controller/ttl-after-finished")
    }
}
