import OrcaAPI
import OrcaRuntime
import Testing

@Suite("EventCorrelator (client-go's events_cache_test)")
struct EventCorrelatorTests {
    let t0 = Timestamp(seconds: 1_767_225_600)

    func object(_ name: String) -> ObjectReference {
        var ref = ObjectReference()
        ref.kind = "ReplicaSet"
        ref.namespace = "default"
        ref.name = name
        ref.uid = "uid-" + name
        ref.apiVersion = "apps/v1"
        return ref
    }

    @Test("identical events update one Event; the 10th distinct message of a reason starts the combined Event")
    func dedupAndAggregate() {
        let c = EventCorrelator()
        let rs = object("web")
        guard case .create(let m1, let key) = c.correlate(component: "rs", object: rs, type: "Warning", reason: "FailedCreate", message: "quota", now: t0) else {
            Issue.record("first event must be created"); return
        }
        #expect(m1 == "quota")
        c.written(key: key, name: "web.abc", count: 1, firstTimestamp: t0)
        #expect(c.correlate(component: "rs", object: rs, type: "Warning", reason: "FailedCreate", message: "quota", now: t0.adding(.seconds(5)))
                == .update(name: "web.abc", count: 2, firstTimestamp: t0, message: "quota", key: key))
        // Another component or object is another event.
        if case .update = c.correlate(component: "other", object: rs, type: "Warning", reason: "FailedCreate", message: "quota", now: t0) {
            Issue.record("a different source must not update")
        }
        for i in 1...8 {
            #expect(c.correlate(component: "rs", object: rs, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: p\(i)", now: t0)
                    == .create(message: "Created pod: p\(i)", key: EventCorrelator.eventKey(component: "rs", object: rs, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: p\(i)")))
        }
        // The 9th distinct message of the reason is still its own Event; the 10th is combined.
        guard case .create(let m9, _) = c.correlate(component: "rs", object: rs, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: p9", now: t0),
              case .create(let m10, let combined) = c.correlate(component: "rs", object: rs, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: p10", now: t0) else {
            Issue.record("expected creations"); return
        }
        #expect(m9 == "Created pod: p9")
        #expect(m10 == "(combined from similar events): Created pod: p10")
        c.written(key: combined, name: "web.def", count: 1, firstTimestamp: t0)
        guard case .update(let name, let count, _, let m11, _) = c.correlate(component: "rs", object: rs, type: "Normal", reason: "SuccessfulCreate",
                                                                              message: "Created pod: p11", now: t0) else {
            Issue.record("the combined Event must be updated"); return
        }
        #expect(name == "web.def" && count == 2 && m11 == "(combined from similar events): Created pod: p11")
    }

    @Test("events.k8s.io/v1: an isomorphic repeat within 6 minutes starts a series of 2, later repeats only count")
    func series() {
        let c = EventCorrelator()
        var pod = object("web-1")
        pod.kind = "Pod"
        pod.resourceVersion = "7"
        let key = EventCorrelator.seriesKey(component: "default-scheduler", instance: "default-scheduler-h", object: pod,
                                            type: "Warning", action: "Scheduling", reason: "FailedScheduling")
        #expect(c.observeSeries(key: key, objectName: "web-1", now: t0) == .create)
        c.writtenSeriesEvent(key: key, name: "web-1.stored")
        #expect(c.observeSeries(key: key, objectName: "web-1", now: t0.adding(.seconds(10))) == .startSeries(name: "web-1.stored", eventTime: t0))
        #expect(c.observeSeries(key: key, objectName: "web-1", now: t0.adding(.seconds(20))) == .counted)
        // The regarding object's resourceVersion is part of the key: a changed pod is a new event.
        pod.resourceVersion = "8"
        let changed = EventCorrelator.seriesKey(component: "default-scheduler", instance: "default-scheduler-h", object: pod,
                                                type: "Warning", action: "Scheduling", reason: "FailedScheduling")
        #expect(changed != key)
        #expect(c.observeSeries(key: changed, objectName: "web-1", now: t0.adding(.seconds(20))) == .create)
        // Unseen for more than 6 minutes, the event is forgotten: the next one is new.
        #expect(c.observeSeries(key: key, objectName: "web-1", now: t0.adding(.seconds(20 + 361))) == .create)
    }

    @Test("25 events about one object at once, then one per 5 minutes")
    func spamFilter() {
        let c = EventCorrelator()
        let rs = object("big")
        var written = 0
        for i in 0..<40 where c.correlate(component: "rs", object: rs, type: "Normal", reason: "R\(i)", message: "m", now: t0) != .skip {
            written += 1
        }
        #expect(written == 25)
        #expect(c.correlate(component: "rs", object: rs, type: "Normal", reason: "late", message: "m", now: t0.adding(.seconds(299))) == .skip)
        #expect(c.correlate(component: "rs", object: rs, type: "Normal", reason: "later", message: "m", now: t0.adding(.seconds(300))) != .skip)
        #expect(c.correlate(component: "rs", object: object("other"), type: "Normal", reason: "R", message: "m", now: t0) != .skip,
                "the budget is per object")
    }
}
