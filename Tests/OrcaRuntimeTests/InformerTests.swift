import OrcaAPI
import OrcaLMDB
import OrcaLog
@testable import OrcaRuntime
import OrcaStore
import OrcaTesting
import Synchronization
import Testing

@Suite("Informers")
struct InformerTests {
    @Test("lists, then applies every later event in order; handlers run after the cache holds the change")
    func listThenWatch() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 1))
        _ = try await store.create(pod("a"))
        _ = try await store.create(pod("b", namespace: "other"))

        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        let recorder = EventRecorder()
        pods.addHandler { event in
            // The cache already holds (or no longer holds) what the event says.
            let cached = pods.snapshot.get(event.record.key)
            if case .deleted = event { precondition(cached == nil) } else { precondition(cached?.seq == event.record.seq) }
            recorder.handle(event)
        }
        #expect(!pods.hasSynced)
        try informers.sync()
        #expect(pods.hasSynced)
        #expect(recorder.take() == ["=default/a", "=other/b"])

        _ = try await store.create(pod("c", node: "node-1"))
        _ = try await store.patch(kind: "Pod", name: "a", mergePatch: ["metadata": ["labels": ["v": "2"]]])
        _ = try await store.delete(kind: "Pod", namespace: "other", name: "b", options: DeleteOptions(gracePeriodSeconds: 0))
        try informers.deliverAll()
        #expect(recorder.take() == ["+default/c", "~default/a", "-other/b"])
        let snapshot = pods.snapshot
        #expect(snapshot.seq == (try log.latestSeq()))
        #expect(snapshot.list().map(\.name) == ["a", "c"])
        #expect(snapshot.byIndex(IndexName.nodeName, "node-1").map(\.name) == ["c"])
        #expect(snapshot.list(namespace: "other").isEmpty)
        #expect(informers.position == (try log.latestSeq()))
    }

    @Test("snapshots are immutable: a snapshot taken earlier does not see later changes")
    func snapshotsAreImmutable() async throws {
        let log = InMemoryEventLog()
        let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 2))
        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        _ = try await store.create(pod("a"))
        try informers.deliverAll()
        let before = pods.snapshot
        _ = try await store.create(pod("b"))
        _ = try await store.delete(kind: "Pod", name: "a", options: DeleteOptions(gracePeriodSeconds: 0))
        try informers.deliverAll()
        #expect(before.list().map(\.name) == ["a"])
        #expect(pods.snapshot.list().map(\.name) == ["b"])
    }

    @Test("built-in and custom indexes follow updates")
    func indexes() async throws {
        let log = InMemoryEventLog()
        let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 3))
        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        pods.addIndex("image") { record in
            record.object[path: ["spec", "containers"]]?.arrayValue?.compactMap { $0["image"]?.stringValue } ?? []
        }
        _ = try await store.create(pod("a", owner: ("rs", "uid-rs")))
        _ = try await store.create(pod("b"))
        try informers.deliverAll()
        #expect(pods.snapshot.byIndex(IndexName.controllerUID, "uid-rs").map(\.name) == ["a"])
        #expect(pods.snapshot.byIndex("image", "nginx").map(\.name) == ["a", "b"])
        _ = try await store.patch(kind: "Pod", name: "a", mergePatch: ["metadata": ["ownerReferences": nil]])
        _ = try await store.bind(podName: "b", nodeName: "n2", context: WriteContext(actor: "scheduler"))
        try informers.deliverAll()
        #expect(pods.snapshot.byIndex(IndexName.controllerUID, "uid-rs").isEmpty)
        #expect(pods.snapshot.byIndex(IndexName.nodeName, "n2").map(\.name) == ["b"])
        #expect(pods.snapshot.byIndex("no-such-index", "x").isEmpty)
        #expect(pods.snapshot.byIndex(IndexName.orphans, "default").map(\.name) == ["a", "b"])
        // A custom function under a built-in name replaces the built-in one, for cached and later objects.
        pods.addIndex(IndexName.orphans) { record in record.name == "a" ? ["only-a"] : [] }
        #expect(pods.snapshot.byIndex(IndexName.orphans, "default").isEmpty)
        #expect(pods.snapshot.byIndex(IndexName.orphans, "only-a").map(\.name) == ["a"])
        _ = try await store.patch(kind: "Pod", name: "b", mergePatch: ["metadata": ["labels": ["x": "y"]]])
        try informers.deliverAll()
        #expect(pods.snapshot.byIndex(IndexName.orphans, "default").isEmpty)
    }

    @Test("the built-in indexes, answered without calling their functions, file exactly what the functions return")
    func builtInIndexesMatchTheirFunctions() async throws {
        var objects: [JSONValue] = [
            try pod("plain"),
            try pod("owned", namespace: "other", node: "n1", owner: (name: "rs", uid: "uid-rs")),
            try pod("unscheduled", node: ""),
        ]
        var notController = try pod("not-controller", owner: (name: "rs", uid: "uid-rs"))
        notController[path: ["metadata", "ownerReferences"]] = [["kind": "ReplicaSet", "name": "rs", "uid": "uid-rs", "controller": false]]
        var noUID = try pod("no-uid")
        noUID[path: ["metadata", "ownerReferences"]] = [["kind": "ReplicaSet", "name": "rs", "controller": true]]
        var two = try pod("two", node: "n2")
        two[path: ["metadata", "ownerReferences"]] = [
            ["kind": "ReplicaSet", "name": "a", "uid": "uid-a", "controller": true], "junk",
            ["uid": "uid-b", "kind": "Job", "name": "b", "controller": true], ["kind": "X", "name": "c", "uid": "uid-c"],
        ]
        objects += [notController, noUID, two]
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        _ = try await log.appendBatch(objects.map { EventDraft(time: Timestamp(seconds: 1), type: .added, actor: "test", cause: nil, object: $0) })
        let encoded = try log.read(from: 1, limit: 100)
        let built = encoded.map { record -> EventRecord in
            EventRecord(seq: record.seq, time: record.time, type: record.type, kind: record.kind, namespace: record.namespace,
                        name: record.name, uid: record.uid, actor: record.actor, cause: record.cause, object: record.object)
        }
        let columns = Informer(kind: "Pod").state.withLock { $0.columns }
        #expect(columns.map(\.name) == IndexName.builtIn.keys.sorted())
        #expect(columns.allSatisfy { $0.builtIn != nil })
        for record in encoded + built {
            let expected = columns.map { $0.function(record) }
            #expect(Informer.values(of: record, columns) == expected, "\(record.name)")
            // Starting from what any other record was filed under gives the same answer.
            for other in built {
                #expect(Informer.values(of: record, columns, before: columns.map { $0.function(other) }) == expected, "\(record.name) after \(other.name)")
            }
        }
        #expect(IndexName.controllers(built[5]).uids == ["uid-a", "uid-b"])
        #expect(IndexName.controllers(encoded[5]).uids == ["uid-a", "uid-b"])
        #expect(IndexName.controllers(encoded[4]) == ([], true))
    }

    @Test("a handler added after the sync is first told about every cached object")
    func lateHandler() async throws {
        let log = InMemoryEventLog()
        let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 4))
        _ = try await store.create(pod("x"))
        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        try informers.sync()
        let recorder = EventRecorder()
        pods.addHandler(recorder.handle)
        #expect(recorder.take() == ["=default/x"])
    }

    @Test("events lost between the log and the informer make it relist: changes arrive as updates, vanished objects as final-state-unknown deletes")
    func gapRelists() async throws {
        let dir = TemporaryDirectory()
        let lmdb = try LMDBEventLog(path: dir.sub("data"))
        let log = FaultyLog(lmdb)
        let store = Store(log: lmdb, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 5))
        _ = try await store.create(pod("keep"))
        _ = try await store.create(pod("gone"))
        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        let recorder = EventRecorder()
        pods.addHandler(recorder.handle)
        try informers.sync()
        #expect(recorder.take() == ["=default/gone", "=default/keep"])

        let start = try lmdb.latestSeq()
        _ = try await store.patch(kind: "Pod", name: "keep", mergePatch: ["metadata": ["labels": ["v": "2"]]])
        _ = try await store.delete(kind: "Pod", name: "gone", options: DeleteOptions(gracePeriodSeconds: 0))
        _ = try await store.create(pod("new"))
        log.drop { ((start + 1)...(start + 2)).contains($0.seq) }
        try informers.deliverAll()
        #expect(recorder.take() == ["?default/gone", "~default/keep", "+default/new"])
        #expect(pods.snapshot.list().map(\.name) == ["keep", "new"])
        #expect(pods.snapshot.get(namespace: "default", name: "keep")?.object[path: ["metadata", "labels", "v"]] == "2")
    }

    @Test("a new process starting from the log's current state sees exactly the live objects")
    func restart() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        do {
            let log = try LMDBEventLog(path: path)
            let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 6))
            for name in ["a", "b", "c"] { _ = try await store.create(pod(name)) }
            _ = try await store.delete(kind: "Pod", name: "b", options: DeleteOptions(gracePeriodSeconds: 0))
        }
        let log = try LMDBEventLog(path: path)
        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        try informers.deliverAll()
        #expect(pods.snapshot.list().map(\.name) == ["a", "c"])
        #expect(pods.snapshot.seq == (try log.latestSeq()))
    }
}

@Suite("Informers: catching up a long log")
struct InformerCatchUpTests {
    /// 10,000 events over 1,000 pods (two batches and more): adds, updates that move pods
    /// between owners and nodes, and deletes.
    static func history(_ log: LMDBEventLog) async throws {
        var drafts: [EventDraft] = []
        for i in 0..<10_000 {
            let n = i % 1_000
            var object = try pod("p\(n)", node: i % 3 == 0 ? "node-\(i % 7)" : nil, owner: (name: "rs", uid: "uid-\(i % 5)"))
            object[path: ["metadata", "uid"]] = .string("pod-uid-\(n)")
            let type: EventType = i < 1_000 ? .added : (i % 97 == 0 ? .deleted : .modified)
            drafts.append(EventDraft(time: Timestamp(nanoseconds: Int64(i) * 1_000_000), type: type, actor: "test", cause: nil, object: object))
        }
        // A deleted pod comes back with its next event, a MODIFIED the informer applies as an add.
        _ = try await log.appendBatch(drafts)
    }

    static func follow(_ informers: SharedInformers) -> (Informer, EventRecorder, SeqRecorder) {
        let pods = informers.informer(for: "Pod")
        let recorder = EventRecorder()
        let seqs = SeqRecorder()
        pods.addHandler { event in
            recorder.handle(event)
            seqs.note(event.record.seq)
        }
        return (pods, recorder, seqs)
    }

    @Test("reading the next batch ahead applies exactly what reading batch by batch applies, every event once and in order")
    func readAheadMatchesBatchByBatch() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        // Both informers list the empty log, then catch up on the history.
        let ahead = SharedInformers(log: log)
        let (aheadPods, aheadEvents, aheadSeqs) = Self.follow(ahead)
        try ahead.sync()
        let plain = SharedInformers(log: log)
        let (plainPods, plainEvents, plainSeqs) = Self.follow(plain)
        try plain.sync()
        try await Self.history(log)
        let latest = try log.latestSeq()

        try ahead.deliverAll()
        while try plain.deliverAvailable() > 0 {}

        #expect(ahead.position == latest)
        let seen = aheadSeqs.take()
        #expect(seen.count == 10_000)
        #expect(seen.first == 1 && seen.last == latest && zip(seen, seen.dropFirst()).allSatisfy { $0 + 1 == $1 })
        #expect(seen == plainSeqs.take())
        let events = aheadEvents.take()
        #expect(events == plainEvents.take())
        #expect(events.filter { $0.hasPrefix("-") }.count == 93)  // i % 97 == 0 for i in 1,000..<10,000
        let a = aheadPods.snapshot, p = plainPods.snapshot
        #expect(a.list().map(\.label) == p.list().map(\.label))
        #expect(a.list().map(\.label) == (try log.list(kind: "Pod", namespace: nil).records.sorted { $0.key < $1.key }.map(\.label)))
        // The indexes, kept up to date through 9,000 updates that move pods between owners and
        // nodes, equal indexes computed afresh from the final records.
        let final = a.list()
        for uid in (0..<5).map({ "uid-\($0)" }) {
            let owned = final.filter { $0.ownerReferences.contains { $0.uid == uid && $0.controller == true } }.map(\.name)
            #expect(!owned.isEmpty)
            #expect(a.byIndex(IndexName.controllerUID, uid).map(\.name) == owned)
            #expect(p.byIndex(IndexName.controllerUID, uid).map(\.name) == owned)
        }
        for node in (0..<7).map({ "node-\($0)" }) {
            let placed = final.filter { $0.value(at: ["spec", "nodeName"])?.stringValue == node }.map(\.name)
            #expect(a.byIndex(IndexName.nodeName, node).map(\.name) == placed)
        }
        #expect(a.indexValues(IndexName.nodeName) == p.indexValues(IndexName.nodeName))
        #expect(a.byIndex(IndexName.orphans, "default").isEmpty)
        #expect(a.byIndex(IndexName.namespace, "default").count == final.count)
    }

    @Test("a gap in the middle of a long catch-up relists and ends equal to the log's current state")
    func gapDuringReadAhead() async throws {
        let dir = TemporaryDirectory()
        let lmdb = try LMDBEventLog(path: dir.sub("data"))
        let log = FaultyLog(lmdb)
        log.drop { (5_000...5_001).contains($0.seq) }
        let informers = SharedInformers(log: log)
        let (pods, events, seqs) = Self.follow(informers)
        try informers.sync()
        try await Self.history(lmdb)
        try informers.deliverAll()
        #expect(informers.position == (try lmdb.latestSeq()))
        #expect(pods.snapshot.list().map(\.label) == (try lmdb.list(kind: "Pod", namespace: nil).records.sorted { $0.key < $1.key }.map(\.label)))
        // Every event before the gap was delivered one by one; the relist then reported the
        // rest as one change per object.
        let seen = seqs.take()
        #expect(Array(seen.prefix(4_999)) == Array(1...4_999))
        #expect(seen.count < 10_000)
        #expect(events.take().contains { $0.hasPrefix("~") })
    }
}

final class SeqRecorder: Sendable {
    let seqs = Mutex<[UInt64]>([])
    func note(_ seq: UInt64) { seqs.withLock { $0.append(seq) } }
    func take() -> [UInt64] { seqs.withLock { s in defer { s = [] }; return s } }
}
