import Foundation
import OrcaAPI
import OrcaLog
import OrcaReplay
import OrcaStore
import Testing

@Suite("orca compare: where two logs diverge")
struct LogComparisonTests {
    /// The same writes into a fresh log; `replicas` changes the second ReplicaSet write, `extra`
    /// adds a pod at the end.
    func history(replicas: Int = 2, extra: Bool = false) async throws -> Fixture {
        let f = try Fixture()
        _ = try await f.store.create(yaml("""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec: {replicas: 1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: app, image: nginx}]}}}
        """))
        _ = try await f.store.create(podManifest("a"), context: WriteContext(actor: "controller/replicaset", cause: 1))
        _ = try await f.store.patch(kind: "ReplicaSet", name: "web", mergePatch: yaml("spec: {replicas: \(replicas)}"))
        _ = try await f.store.create(podManifest("b"), context: WriteContext(actor: "controller/replicaset", cause: 3))
        if extra { _ = try await f.store.create(podManifest("c"), context: WriteContext(actor: "controller/replicaset", cause: 3)) }
        return f
    }

    @Test("identical histories are identical; a different write is the first divergence, with what differs")
    func divergence() async throws {
        let a = try await history()
        let same = try await history()
        let identical = try LogComparison.compare(a.log, same.log)
        #expect(identical.identical)
        #expect([identical.counts.first, identical.counts.second] == [4, 4])
        #expect(identical.endStates.isEmpty)
        #expect(identical.actors.map(\.actor) == ["controller/replicaset", "user"])

        let other = try await history(replicas: 3)
        let c = try LogComparison.compare(a.log, other.log)
        let d = try #require(c.divergence)
        #expect(d.seq == 3)
        #expect(d.first?.kind == "ReplicaSet" && d.second?.kind == "ReplicaSet")
        #expect(d.changes == [CauseChain.Change(path: "spec.replicas", old: 2, new: 3)])
        #expect(c.endStates.map(\.key.name) == ["web"])
        #expect(c.endStates.first?.changes == [CauseChain.Change(path: "spec.replicas", old: 2, new: 3)])
    }

    @Test("a log that goes on after the other diverges where the shorter one ends; its extra objects are end states")
    func prefix() async throws {
        let a = try await history()
        let longer = try await history(extra: true)
        let c = try LogComparison.compare(a.log, longer.log)
        let d = try #require(c.divergence)
        #expect(d.seq == 5 && d.first == nil && d.second?.name == "c")
        #expect([c.counts.first, c.counts.second] == [4, 5])
        #expect(c.actors.first { $0.actor == "controller/replicaset" }.map { [$0.first, $0.second] } == [2, 3])
        #expect(c.endStates.map(\.key.name) == ["c"])
        #expect(c.endStates.first.map { $0.first == nil && $0.second != nil } == true)
    }
}
