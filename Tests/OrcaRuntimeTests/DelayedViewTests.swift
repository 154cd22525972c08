import OrcaAPI
import OrcaLog
import OrcaRuntime
import OrcaStore
import Testing

@Suite("Delayed informer views (the delay-watch fault)")
struct DelayedViewTests {
    @Test("a delayed controller sees a kind late, in log order; other controllers see it at once")
    func delayedView() async throws {
        let log = InMemoryEventLog()
        let clock = VirtualClock()
        let store = Store(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 3))
        let informers = SharedInformers(log: log)
        let shared = informers.informer(for: "Pod")
        let late = EventRecorder()
        let prompt = EventRecorder()
        shared.addHandler(owner: "late", late.handle)
        shared.addHandler(owner: "prompt", prompt.handle)
        _ = try await store.create(pod("a"))
        try informers.deliverAll()
        #expect(late.take() == ["=default/a"])
        #expect(prompt.take() == ["=default/a"])

        informers.delay("Pod", for: "late", by: .seconds(10), clock: clock)
        #expect(informers.informer(for: "Pod", controller: "late") !== shared)
        #expect(informers.informer(for: "Pod", controller: "prompt") === shared)
        #expect(informers.informer(for: "Pod", controller: "late").snapshot.list().map(\.name) == ["a"])

        _ = try await store.create(pod("b"))                      // t = 0
        clock.advance(by: .seconds(4))
        _ = try await store.delete(kind: "Pod", name: "a", options: DeleteOptions(gracePeriodSeconds: 0))   // t = 4
        try informers.deliverAll()
        #expect(prompt.take() == ["+default/b", "-default/a"])
        #expect(late.take().isEmpty)
        #expect(informers.informer(for: "Pod", controller: "late").snapshot.list().map(\.name) == ["a"])
        #expect(informers.nextDelayedDelivery == Timestamp(seconds: 10))

        clock.advance(to: Timestamp(seconds: 10))
        try informers.deliverAll()
        #expect(late.take() == ["+default/b"])
        #expect(informers.informer(for: "Pod", controller: "late").snapshot.list().map(\.name) == ["a", "b"])
        #expect(informers.nextDelayedDelivery == Timestamp(seconds: 14))

        clock.advance(to: Timestamp(seconds: 14))
        try informers.deliverAll()
        #expect(late.take() == ["-default/a"])
        #expect(informers.nextDelayedDelivery == nil)
        #expect(informers.informer(for: "Pod", controller: "late").snapshot.list().map(\.name) == ["b"])
        #expect(prompt.take().isEmpty)
    }

    @Test("a delay set up before the first list still lists what exists, then lags")
    func delayBeforeFirstList() async throws {
        let log = InMemoryEventLog()
        let clock = VirtualClock()
        let store = Store(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 7))
        _ = try await store.create(pod("a"))
        let informers = SharedInformers(log: log)
        let late = EventRecorder()
        informers.informer(for: "Pod").addHandler(owner: "late", late.handle)
        informers.delay("Pod", for: "late", by: .seconds(5), clock: clock)
        _ = try await store.create(pod("b"))
        try informers.deliverAll()
        #expect(late.take() == ["=default/a", "=default/b"])
        _ = try await store.create(pod("c"))
        try informers.deliverAll()
        #expect(late.take().isEmpty)
        #expect(informers.informer(for: "Pod", controller: "late").hasSynced)
        clock.advance(by: .seconds(5))
        try informers.deliverAll()
        #expect(late.take() == ["+default/c"])
    }

    @Test("shortening the delay never reorders: a later record waits for the ones before it")
    func shorterDelayKeepsOrder() async throws {
        let log = InMemoryEventLog()
        let clock = VirtualClock()
        let store = Store(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 4))
        let informers = SharedInformers(log: log)
        let late = EventRecorder()
        informers.informer(for: "Pod").addHandler(owner: "late", late.handle)
        try informers.deliverAll()
        informers.delay("Pod", for: "late", by: .seconds(30), clock: clock)
        _ = try await store.create(pod("a"))
        try informers.deliverAll()
        informers.delay("Pod", for: "late", by: .zero, clock: clock)
        _ = try await store.create(pod("b"))
        try informers.deliverAll()
        #expect(late.take().isEmpty)
        #expect(informers.nextDelayedDelivery == Timestamp(seconds: 30))
        clock.advance(to: Timestamp(seconds: 30))
        try informers.deliverAll()
        #expect(late.take() == ["+default/a", "+default/b"])
        _ = try await store.create(pod("c"))
        try informers.deliverAll()
        #expect(late.take() == ["+default/c"])
    }
}

@Suite("Claim candidates and label selection")
struct CandidateIndexTests {
    @Test("claim candidates are the controller's own objects and the orphans of the namespace, in key order")
    func claimCandidates() async throws {
        let log = InMemoryEventLog()
        let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 5))
        _ = try await store.create(pod("mine-b", owner: ("rs", "uid-1")))
        _ = try await store.create(pod("mine-a", owner: ("rs", "uid-1")))
        _ = try await store.create(pod("theirs", owner: ("other", "uid-2")))
        _ = try await store.create(pod("orphan"))
        _ = try await store.create(pod("elsewhere", namespace: "other"))
        _ = try await store.create(pod("mine-elsewhere", namespace: "other", owner: ("rs", "uid-1")))
        let informers = SharedInformers(log: log)
        let pods = informers.informer(for: "Pod")
        try informers.deliverAll()
        #expect(pods.snapshot.claimCandidates(namespace: "default", controllerUID: "uid-1").map(\.name) == ["mine-a", "mine-b", "orphan"])
        // Released (owner reference removed): the pod becomes an orphan and stays a candidate.
        _ = try await store.patch(kind: "Pod", name: "theirs", mergePatch: ["metadata": ["ownerReferences": .null]])
        try informers.deliverAll()
        #expect(pods.snapshot.claimCandidates(namespace: "default", controllerUID: "uid-1").map(\.name) == ["mine-a", "mine-b", "orphan", "theirs"])
        #expect(pods.snapshot.claimCandidates(namespace: "other", controllerUID: "uid-1").map(\.name) == ["elsewhere", "mine-elsewhere"])
    }

    @Test("selecting by labels gives the same pods with and without the labels index")
    func selecting() async throws {
        let log = InMemoryEventLog()
        let store = Store(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 6))
        for (name, tier) in [("a", "front"), ("b", "back"), ("c", "front")] {
            var p = try pod(name)
            p[path: ["metadata", "labels", "tier"]] = .string(tier)
            _ = try await store.create(p)
        }
        _ = try await store.create(pod("d", namespace: "other"))
        let plain = SharedInformers(log: log)
        let indexed = SharedInformers(log: log)
        _ = plain.informer(for: "Pod")
        indexed.informer(for: "Pod").addIndex(IndexName.labels, InformerIndex.labels(of: "Pod").function)
        try plain.deliverAll()
        try indexed.deliverAll()
        for informers in [plain, indexed] {
            let snapshot = informers.informer(for: "Pod").snapshot
            #expect(snapshot.selecting(["app": "web", "tier": "front"], namespace: "default").map(\.name) == ["a", "c"])
            #expect(snapshot.selecting(["app": "web"], namespace: "default").map(\.name) == ["a", "b", "c"])
            #expect(snapshot.selecting(["tier": "none"], namespace: "default").isEmpty)
            #expect(snapshot.selecting([:], namespace: "other").map(\.name) == ["d"])
        }
    }
}
