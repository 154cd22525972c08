import OrcaAPI
import OrcaRuntime
import Testing

@Suite("Work queue (client-go semantics)")
struct WorkQueueTests {
    let clock = VirtualClock(Timestamp(seconds: 1_000))

    func queue(_ limiter: (any RateLimiter<String>)? = nil) -> WorkQueue<String> {
        WorkQueue(clock: clock, scheduler: .manual, rateLimiter: limiter)
    }

    @Test("adds are deduplicated and keys come out in FIFO order")
    func dedupAndOrder() {
        let q = queue()
        for k in ["a", "b", "a", "c", "b"] { q.add(k) }
        #expect(q.count == 3)
        #expect([q.tryGet(), q.tryGet(), q.tryGet(), q.tryGet()] == ["a", "b", "c", nil])
    }

    @Test("a key being processed is not handed out again; adds during processing collapse into one more round")
    func processingCollapses() {
        let q = queue()
        q.add("a")
        #expect(q.tryGet() == "a")
        q.add("a")
        q.add("a")
        q.add("b")
        #expect(q.tryGet() == "b")
        #expect(q.tryGet() == nil, "a is still being processed")
        q.done("a")
        #expect(q.tryGet() == "a")
        #expect(q.tryGet() == nil, "three adds during processing gave exactly one more round")
        q.done("a")
        q.done("b")
        #expect(q.isIdle)
    }

    @Test("a delayed add keeps the earlier ready time and becomes ready only when the clock gets there")
    func delayedKeepsEarlier() {
        let q = queue()
        q.addAfter("a", .seconds(10))
        q.addAfter("a", .seconds(30))
        q.addAfter("b", .seconds(5))
        q.addAfter("a", .seconds(8))
        #expect(q.nextReadyTime == Timestamp(seconds: 1_005))
        #expect(q.promoteReady() == 0)
        clock.advance(by: .seconds(5))
        #expect(q.promoteReady() == 1)
        #expect(q.nextReadyTime == Timestamp(seconds: 1_008))
        clock.advance(by: .seconds(3))
        q.promoteReady()
        #expect([q.tryGet(), q.tryGet()] == ["b", "a"])
        clock.advance(by: .seconds(60))
        #expect(q.promoteReady() == 0, "the superseded 10 s and 30 s entries are gone")
        #expect(q.nextReadyTime == nil)
    }

    @Test("a non-positive delay adds at once")
    func zeroDelay() {
        let q = queue()
        q.addAfter("a", .zero)
        #expect(q.tryGet() == "a")
    }

    @Test("per-key back-off is 5 ms doubling to the 1000 s cap, and forget resets it")
    func exponentialSequence() {
        var limiter = ExponentialFailureRateLimiter<String>(base: .milliseconds(5), max: .seconds(1000))
        let now = Timestamp(seconds: 0)
        let delays = (0..<20).map { _ in limiter.when("k", now: now) }
        let expected: [Duration] = (0..<20).map { i in
            let ms = 5 * (1 << i)
            return ms >= 1_000_000 ? .seconds(1000) : .milliseconds(ms)
        }
        #expect(delays == expected)
        #expect(delays[14] == .milliseconds(81_920), "≈ 82 s at the 15th retry")
        #expect(limiter.numRequeues("k") == 20)
        #expect(limiter.when("other", now: now) == .milliseconds(5), "keys back off independently")
        limiter.forget("k")
        #expect(limiter.numRequeues("k") == 0)
        #expect(limiter.when("k", now: now) == .milliseconds(5))
    }

    @Test("the overall bucket allows a burst of 100, then 10 per second")
    func bucket() {
        var limiter = BucketRateLimiter<String>(qps: 10, burst: 100)
        let t0 = Timestamp(seconds: 50)
        for i in 0..<100 { #expect(limiter.when("k\(i)", now: t0) == .zero) }
        #expect(limiter.when("k100", now: t0) == .milliseconds(100))
        #expect(limiter.when("k101", now: t0) == .milliseconds(200))
        // One second later, ten tokens have come back but three are owed: the next waits 0.
        #expect(limiter.when("k102", now: t0.adding(.seconds(1))) == .zero)
    }

    @Test("the default controller limiter is the larger of the two")
    func defaultLimiter() {
        let q = queue()
        for _ in 0..<3 { q.addRateLimited("a") }
        #expect(q.numRequeues("a") == 3)
        #expect(q.nextReadyTime == clock.now().adding(.milliseconds(5)))
        clock.advance(by: .milliseconds(5))
        q.promoteReady()
        #expect(q.tryGet() == "a")
        q.forget("a")
        #expect(q.numRequeues("a") == 0)
    }

    @Test("shutdown stops adds and wakes waiting workers; drain waits for keys in flight")
    func shutdown() async {
        let q = WorkQueue<String>(clock: SystemClock())
        let waiter = Task { await q.get() }
        q.add("x")
        #expect(await waiter.value == "x")
        let second = Task { await q.get() }
        try? await Task.sleep(for: .milliseconds(20))
        let drained = Task { await q.shutDownWithDrain(); return q.isIdle }
        #expect(await second.value == nil)
        q.add("late")
        #expect(q.count == 0)
        q.done("x")
        #expect(await drained.value)
    }

    @Test("with the live scheduler a delayed key becomes ready by itself")
    func liveDelay() async {
        let q = WorkQueue<String>(clock: SystemClock())
        q.addAfter("soon", .milliseconds(30))
        #expect(q.tryGet() == nil)
        #expect(await q.get() == "soon")
    }
}
