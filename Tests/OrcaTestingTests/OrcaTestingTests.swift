import Orca
import OrcaTesting
import ReplicaSetController
import Testing

let replicaSet = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
"""

func rs(_ replicas: Int) -> String { replicaSet.replacingOccurrences(of: "REPLICAS", with: String(replicas)) }

@Suite("OrcaTesting: the test kit")
struct OrcaTestingTests {
    func cluster(_ storage: TestCluster.Storage) throws -> TestCluster {
        let cluster = try TestCluster(storage: storage)
        cluster.register(ReplicaSetController(clock: cluster.clock))
        return cluster
    }

    @Test("a TestCluster runs a real controller on either log; writes carry the controller as actor", arguments: [TestCluster.Storage.lmdb, .memory])
    func runsController(storage: TestCluster.Storage) async throws {
        let cluster = try cluster(storage)
        #expect((cluster.directory != nil) == (storage == .lmdb))
        try await cluster.apply(rs(3))
        try await cluster.settle()
        let pods = try cluster.list(Pod.self, selector: try LabelSelector(parsing: "app=web"))
        #expect(pods.count == 3)
        #expect(pods.allSatisfy { $0.metadata.ownerReferences.first?.name == "web" })
        let creations = try cluster.records().filter { $0.kind == "Pod" && $0.type == .added }
        #expect(creations.count == 3 && creations.allSatisfy { $0.actor == "controller/replicaset" })
        try await cluster.advance(by: .seconds(30))
        #expect(cluster.clock.now() == TestCluster.defaultStart.adding(.seconds(30)))
        #expect(try cluster.get(ReplicaSet.self, "web")?.status.replicas == 3)
    }

    @Test("pauseWatch freezes every controller's view while writes go on; resumeWatch catches up in order")
    func pausedWatch() async throws {
        let cluster = try cluster(.lmdb)
        try await cluster.apply(rs(3))
        try await cluster.settle()
        try cluster.log.pauseWatch()
        try await cluster.apply(rs(5))
        try await cluster.settle()
        #expect(try cluster.list(Pod.self).count == 3, "the controller has not seen the scale-up")
        #expect(try cluster.get(ReplicaSet.self, "web")?.spec.replicas == 5, "the store has")
        cluster.log.resumeWatch()
        try await cluster.settle()
        #expect(try cluster.list(Pod.self).count == 5)
    }

    @Test("a dropped watch event is recovered by the relist the next event's gap triggers")
    func droppedEvent() async throws {
        let cluster = try cluster(.lmdb)
        try await cluster.apply(rs(3))
        try await cluster.settle()
        cluster.log.drop { $0.kind == "ReplicaSet" && $0.type == .modified && $0.object[path: ["spec", "replicas"]] == 5 }
        try await cluster.apply(rs(5))
        try await cluster.settle()
        #expect(try cluster.list(Pod.self).count == 3, "the scale-up never reached the informer")
        try await cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: unrelated}")
        try await cluster.settle()
        #expect(try cluster.list(Pod.self).count == 5, "the gap before the next record made the informers relist")
    }

    @Test("failWrites: a failed write appends nothing; a controller whose create failed records FailedCreate and retries")
    func failedWrites() async throws {
        let cluster = try cluster(.lmdb)
        cluster.log.failWrites(1)
        await #expect(throws: FaultyLog.InjectedFault.self) { try await cluster.apply(rs(3)) }
        #expect(try cluster.log.latestSeq() == 0)
        try await cluster.apply(rs(3))
        let before = try cluster.log.latestSeq()
        cluster.log.failWrites(1, message: "etcdserver: request timed out")
        try await cluster.settle()
        let written = try cluster.records(after: before)
        // The first pod creation failed: nothing appended for it, a FailedCreate event instead.
        let first = try #require(written.first)
        #expect(first.kind == "Event")
        #expect(first.object["reason"] == "FailedCreate")
        #expect(first.object["message"]?.stringValue?.contains("etcdserver: request timed out") == true)
        try await cluster.advance(by: .seconds(1))
        #expect(try cluster.list(Pod.self).count == 3, "the controller retried and created every pod")
        // Direct appends (the log's bulk paths) fail the same way and append nothing.
        let latest = try cluster.log.latestSeq()
        let draft = EventDraft(time: Timestamp(seconds: 1), type: .added, actor: "import", cause: nil,
                               object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "namespace": "default"]])
        cluster.log.failWrites(2)
        await #expect(throws: FaultyLog.InjectedFault.self) { try await cluster.log.append([draft]) }
        await #expect(throws: FaultyLog.InjectedFault.self) { try await cluster.log.appendBatch([draft]) }
        #expect(try cluster.log.latestSeq() == latest)
        let appended = try await cluster.log.append([draft])
        #expect(appended.map(\.seq) == [latest + 1])
    }

    @Test("HistoryBuilder writes a history through the store: times, actors, defaults; a rejected step throws")
    func history() async throws {
        var history = HistoryBuilder()
        history.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x}]}")
        history.delete("Pod", "a", at: .seconds(9), options: DeleteOptions(gracePeriodSeconds: 0), actor: "kubectl")
        history.patch("Pod", "a", ["metadata": ["labels": ["app": "web"]]], at: .seconds(5), actor: "admin")
        let log = InMemoryEventLog()
        let last = try await history.write(to: log)
        let records = try log.readAll()
        #expect(last == 3)
        #expect(records.map(\.type) == [.added, .modified, .deleted])
        #expect(records.map(\.actor) == ["user", "admin", "kubectl"])
        #expect(records.map { $0.time.since(TestCluster.defaultStart) } == [.zero, .seconds(5), .seconds(9)])
        #expect(records[0].object[path: ["spec", "restartPolicy"]] == "Always", "API defaults applied")

        var bad = HistoryBuilder()
        bad.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: c, image: x}]}")
        bad.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: x}]}", at: .seconds(1))
        let other = InMemoryEventLog()
        await #expect(throws: StoreError.self) { try await bad.write(to: other) }
        #expect(try other.latestSeq() == 1, "steps before the rejected one were written, nothing after")
    }
}
