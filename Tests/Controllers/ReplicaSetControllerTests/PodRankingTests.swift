import Orca
import ReplicaSetController
import Testing

@Suite("ReplicaSet planning (mirrors upstream's controller_utils and replica_set tests)")
struct PodRankingTests {
    let now = Timestamp(seconds: 1_000_000)

    func pod(_ name: String, uid: String, node: String? = "n1", phase: String = "Running", ready: Bool = true,
             readySince: Int64 = 500, created: Int64 = 100, restarts: Int = 0, cost: String? = nil) -> Pod {
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.uid = uid
        metadata.creationTimestamp = Timestamp(seconds: now.seconds - created)
        if let cost { metadata.annotations = ["controller.kubernetes.io/pod-deletion-cost": cost] }
        var p = Pod(metadata: metadata)
        p.spec.nodeName = node
        p.status.phase = phase
        p.status.conditions = [Condition(type: "Ready", status: ready ? "True" : "False",
                                         lastTransitionTime: Timestamp(seconds: now.seconds - readySince))]
        var cs = ContainerStatus()
        cs.restartCount = restarts
        p.status.containerStatuses = [cs]
        return p
    }

    func order(_ pods: [Pod], ranks: [Int]? = nil) -> [String] {
        let r = ranks ?? Array(repeating: 0, count: pods.count)
        let indexed = Array(zip(pods, r))
        return indexed.sorted { PodRanking.deleteBefore($0.0, $1.0, rankA: $0.1, rankB: $1.1, now: now) }.map { $0.0.metadata.name ?? "" }
    }

    @Test("TestSortingActivePodsWithRanks: unscheduled, pending, not ready, cost, rank, readiness age, restarts, age")
    func sortingActivePodsWithRanks() {
        #expect(order([pod("scheduled", uid: "1"), pod("unscheduled", uid: "2", node: "")]) == ["unscheduled", "scheduled"])
        #expect(order([pod("running", uid: "1"), pod("pending", uid: "2", phase: "Pending")]) == ["pending", "running"])
        #expect(order([pod("ready", uid: "1"), pod("unready", uid: "2", ready: false)]) == ["unready", "ready"])
        #expect(order([pod("cheap", uid: "1", cost: "-5"), pod("dear", uid: "2", cost: "10")]) == ["cheap", "dear"])
        #expect(order([pod("alone", uid: "1"), pod("crowded", uid: "2")], ranks: [1, 3]) == ["crowded", "alone"])
        // Readiness age in log2 buckets: 10 s vs 1000 s differ; 1000 s vs 1010 s share a bucket → UID.
        #expect(order([pod("old-ready", uid: "1", readySince: 1000), pod("new-ready", uid: "2", readySince: 10)]) == ["new-ready", "old-ready"])
        #expect(order([pod("b", uid: "2", readySince: 1000), pod("a", uid: "1", readySince: 1010)]) == ["a", "b"])
        #expect(order([pod("calm", uid: "1", readySince: 500), pod("crashy", uid: "2", readySince: 500, restarts: 4)]) == ["crashy", "calm"])
        #expect(order([pod("older", uid: "1", ready: false, created: 5000), pod("newer", uid: "2", ready: false, created: 5)]) == ["newer", "older"])
    }

    @Test("TestGetPodsToDelete: the first victims by rank of related pods on the same node")
    func getPodsToDelete() {
        let pods = [pod("a", uid: "1", node: "n1"), pod("b", uid: "2", node: "n2"), pod("c", uid: "3", node: "n2"),
                    pod("d", uid: "4", node: "", phase: "Pending", ready: false)]
        let victims = PodRanking.podsToDelete(pods, related: pods, count: 2, now: now).map { $0.metadata.name ?? "" }
        #expect(victims == ["d", "b"])
        #expect(PodRanking.podsToDelete(pods, related: pods, count: 0, now: now).isEmpty)
    }

    @Test("TestSlowStartBatch: batches of 1, 2, 4 … that add up to the count")
    func slowStartBatch() {
        #expect(PodRanking.slowStartBatches(0) == [])
        #expect(PodRanking.slowStartBatches(1) == [1])
        #expect(PodRanking.slowStartBatches(10) == [1, 2, 4, 3])
        #expect(PodRanking.slowStartBatches(500) == [1, 2, 4, 8, 16, 32, 64, 128, 245])
    }

    @Test("IsPodAvailable: Ready for strictly more than minReadySeconds")
    func available() {
        let p = pod("p", uid: "1", readySince: 10)
        #expect(PodUtil.isAvailable(p, minReadySeconds: 0, now: now))
        #expect(PodUtil.isAvailable(p, minReadySeconds: 9, now: now))
        #expect(!PodUtil.isAvailable(p, minReadySeconds: 10, now: now))
    }
}

@Suite("controller.ActivePods order (used for Job surplus and suspension)")
struct ActivePodsOrderTests {
    @Test("unscheduled, pending, not ready, ready more recently, more restarts, newer go first")
    func order() {
        let base = PodRankingTests()
        let unscheduled = base.pod("unscheduled", uid: "1", node: nil, phase: "Pending", ready: false)
        let pending = base.pod("pending", uid: "2", phase: "Pending", ready: false)
        let notReady = base.pod("not-ready", uid: "3", ready: false)
        let readyRecently = base.pod("ready-recently", uid: "4", readySince: 10)
        let readyLong = base.pod("ready-long", uid: "5", readySince: 5000)
        let order = PodRanking.activePodsForRemoval([readyLong, readyRecently, notReady, pending, unscheduled], count: 5)
            .map { $0.metadata.name ?? "" }
        #expect(order == ["unscheduled", "pending", "not-ready", "ready-recently", "ready-long"])
        #expect(PodRanking.activePodsForRemoval([readyLong], count: 0).isEmpty)
    }
}
