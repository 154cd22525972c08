import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaRuntime
import OrcaStore
import OrcaTesting
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
