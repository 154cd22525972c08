import OrcaAPI
import OrcaRuntime
import Testing

/// Mirrors upstream's TestControllerExpectations and TestUIDExpectations
/// (pkg/controller/controller_utils_test.go).
@Suite("Controller expectations")
struct ExpectationsTests {
    @Test("creations: unsatisfied until every expected add is observed; a new expectation replaces the old")
    func creations() {
        let clock = VirtualClock(Timestamp(seconds: 100))
        let e = Expectations(clock: clock)
        #expect(e.satisfied("default/rs"), "no record is satisfied")
        e.expectCreations("default/rs", 3)
        #expect(!e.satisfied("default/rs"))
        e.creationObserved("default/rs")
        e.creationObserved("default/rs")
        #expect(!e.satisfied("default/rs"))
        #expect(e.pending("default/rs")?.add == 1)
        e.creationObserved("default/rs")
        #expect(e.satisfied("default/rs"))
        e.expectCreations("default/rs", 1)
        #expect(!e.satisfied("default/rs"))
        e.delete("default/rs")
        #expect(e.satisfied("default/rs"))
        #expect(e.pending("default/rs") == nil)
    }

    @Test("an expectation older than five minutes counts as satisfied")
    func timeout() {
        let clock = VirtualClock(Timestamp(seconds: 0))
        let e = Expectations(clock: clock)
        e.expectCreations("k", 2)
        clock.advance(by: .seconds(300))
        #expect(!e.satisfied("k"), "exactly 5 minutes is not yet expired")
        clock.advance(by: .milliseconds(1))
        #expect(e.satisfied("k"))
    }

    @Test("deletions are tracked per object: terminating and then removed counts once")
    func uidTracking() {
        let e = Expectations(clock: VirtualClock())
        e.expectDeletions("default/rs", keys: ["default/p1", "default/p2"])
        e.deletionObserved("default/rs", key: "default/p1")   // deletionTimestamp set
        e.deletionObserved("default/rs", key: "default/p1")   // then the object goes away
        #expect(!e.satisfied("default/rs"))
        #expect(e.pending("default/rs")?.del == 1)
        e.deletionObserved("default/rs", key: "default/other")
        #expect(!e.satisfied("default/rs"), "an unexpected pod does not count")
        e.deletionObserved("default/rs", key: "default/p2")
        #expect(e.satisfied("default/rs"))
    }
}
