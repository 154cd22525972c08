import NodeLifecycleController
import Orca
import TaintEvictionController
import Testing

@Suite("Node lifecycle and taint eviction planning (mirrors upstream's unit tests)")
struct NodeLifecycleUnitTests {
    let t0 = Timestamp(seconds: 1_000)

    @Test("ComputeZoneState: full, partial (more than 2 and at least 55%), normal")
    func computeZoneState() {
        let z = { (r: [String?]) in NodeLifecycleController.zoneState(r, unhealthyThreshold: 0.55) }
        #expect(z(["True", "True"]) == .normal)
        #expect(z(["Unknown"]) == .fullDisruption)
        #expect(z([nil, "False"]) == .fullDisruption)
        #expect(z(["Unknown", "Unknown", "True"]) == .normal)  // only 2 not ready
        #expect(z(["Unknown", "Unknown", "Unknown", "True"]) == .partialDisruption)
        #expect(z(["Unknown", "Unknown", "Unknown", "True", "True", "True"]) == .normal)  // 50% < 55%
    }

    @Test("Test_isNodeExcludedFromDisruptionChecks and GetZoneKey")
    func exclusionAndZoneKey() {
        var meta = ObjectMeta()
        meta.name = "n"
        meta.labels = ["topology.kubernetes.io/zone": "z1", "topology.kubernetes.io/region": "r"]
        var node = Node(metadata: meta)
        #expect(NodeLifecycleController.zoneKey(node) == "r:\u{0}:z1")
        #expect(!NodeLifecycleController.isExcludedFromDisruptionChecks(node))
        node.metadata.labels = ["node.kubernetes.io/exclude-disruption": ""]
        #expect(NodeLifecycleController.isExcludedFromDisruptionChecks(node))
        #expect(NodeLifecycleController.zoneKey(node) == "")
    }

    @Test("The eviction limiter: full at start, one token per 1/qps; qps 0 never accepts")
    func limiter() {
        var l = EvictionRateLimiter(qps: 0.1)
        let r1 = l.tryAccept(now: t0)
        #expect(r1)
        let r2 = l.tryAccept(now: t0.adding(.seconds(9)))
        #expect(!r2)
        #expect(l.nextToken(now: t0) == t0.adding(.seconds(10)))
        let r3 = l.tryAccept(now: t0.adding(.seconds(10)))
        #expect(r3)
        var never = EvictionRateLimiter(qps: 0)
        let r4 = never.tryAccept(now: t0)
        #expect(!r4)
        #expect(never.nextToken(now: t0) == nil)
    }

    @Test("TestApplyNoExecuteTaintsToNodesEnqueueTwice: a name is queued once; processed names stay in the set")
    func queueUnique() {
        var q = RateLimitedTimedQueue(qps: 0.1)
        let r5 = q.add("a", uid: "1", now: t0)
        #expect(r5)
        let r6 = q.add("a", uid: "1", now: t0)
        #expect(!r6)
        let r7 = q.add("b", uid: "2", now: t0)
        #expect(r7)
        let due = q.due(now: t0)
        #expect(due.map(\.name) == ["a"])  // one token
        for item in due { q.finish(item, outcome: .done, now: t0) }
        let r8 = q.add("a", uid: "1", now: t0)
        #expect(!r8)
        #expect(q.items.map(\.name) == ["b"])
        #expect(q.nextTry(now: t0) == t0.adding(.seconds(10)))
        let later = q.due(now: t0.adding(.seconds(10)))
        #expect(later.map(\.name) == ["b"])
    }

    @Test("SwapLimiter: stopping, and a drained new limiter when the old one had no token")
    func swapLimiter() {
        var q = RateLimitedTimedQueue(qps: 0.1)
        q.add("a", uid: "1", now: t0)
        q.add("b", uid: "2", now: t0)
        let first = q.due(now: t0)
        #expect(first.count == 1)
        q.swapLimiter(qps: 0, now: t0)
        #expect(q.nextTry(now: t0) == nil)
        q.swapLimiter(qps: 0.1, now: t0.adding(.seconds(30)))
        // The stopped limiter had no token, so the new one starts drained.
        #expect(q.nextTry(now: t0.adding(.seconds(30))) == t0.adding(.seconds(40)))
    }

    @Test("TestGetMinTolerationTime")
    func minTolerationTime() {
        func t(_ seconds: Int?) -> Toleration {
            var t = Toleration(raw: JSONObject())
            t.operator = "Exists"
            t.tolerationSeconds = seconds
            return t
        }
        #expect(TaintEvictionController.minTolerationTime([]) == .zero)
        #expect(TaintEvictionController.minTolerationTime([t(nil)]) == nil)
        #expect(TaintEvictionController.minTolerationTime([t(nil), t(300), t(200)]) == .seconds(200))
        #expect(TaintEvictionController.minTolerationTime([t(300), t(-1)]) == .zero)
    }

    @Test("ToleratesTaint and GetMatchingTolerations")
    func matching() {
        let unreachable = Taint(key: Taint.unreachableKey, effect: "NoExecute")
        let dedicated = Taint(key: "dedicated", value: "db", effect: "NoExecute")
        var exists = Toleration(raw: JSONObject())
        exists.key = Taint.unreachableKey
        exists.operator = "Exists"
        exists.effect = "NoExecute"
        var equal = Toleration(raw: JSONObject())
        equal.key = "dedicated"
        equal.value = "db"
        #expect([exists].matching([unreachable]).allTolerated)
        #expect(![exists].matching([unreachable, dedicated]).allTolerated)
        #expect([exists, equal].matching([unreachable, dedicated]).used.count == 2)
        var wrongValue = equal
        wrongValue.value = "web"
        #expect(!wrongValue.tolerates(dedicated))
    }

    @Test("TestTaintsNodeByCondition: condition and unschedulable NoSchedule taints")
    func conditionTaints() {
        var node = Node(metadata: ObjectMeta())
        node.status.conditions = [Condition(type: "Ready", status: "Unknown"), Condition(type: "MemoryPressure", status: "True"),
                                  Condition(type: "DiskPressure", status: "False"), Condition(type: "NetworkUnavailable", status: "True")]
        node.spec.unschedulable = true
        #expect(NodeConditionTaintController.desiredTaints(node).map { $0.key ?? "" } == [
            "node.kubernetes.io/unreachable", "node.kubernetes.io/memory-pressure", "node.kubernetes.io/network-unavailable",
            "node.kubernetes.io/unschedulable",
        ])
        node.status.conditions = [Condition(type: "Ready", status: "False")]
        node.spec.unschedulable = nil
        #expect(NodeConditionTaintController.desiredTaints(node).map { $0.key ?? "" } == ["node.kubernetes.io/not-ready"])
    }
}
