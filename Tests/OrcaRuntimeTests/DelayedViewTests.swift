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
