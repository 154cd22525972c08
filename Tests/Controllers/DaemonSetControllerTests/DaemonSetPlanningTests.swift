import DaemonSetController
import Orca
import Testing

/// Builders for the planning tests: objects from JSON, as a manifest would give them.
enum Fixture {
    static func json(_ text: String) -> JSONValue {
        do { return try JSONValue.parse(text) } catch { Issue.record("bad fixture: \(error)"); return .null }
    }

    static func node(_ name: String, labels: String = "{}", taints: String = "[]") -> Node {
        Node(json(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)","labels":\#(labels)},"spec":{"taints":\#(taints)}}"#))!
    }

    static func daemonSet(podSpec: String = "{}", annotations: String = #"{"deprecated.daemonset.template.generation":"1"}"#,
                          strategy: String = #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}"#,
                          minReadySeconds: Int = 0) -> DaemonSet {
        var spec = json(podSpec)
        if spec[path: ["containers"]] == nil { spec["containers"] = json(#"[{"name":"app","image":"busybox"}]"#) }
        return DaemonSet(json(#"""
        {"apiVersion":"apps/v1","kind":"DaemonSet",
         "metadata":{"name":"ds","namespace":"default","uid":"ds-uid","generation":1,"annotations":\#(annotations)},
         "spec":{"selector":{"matchLabels":{"app":"d"}},"minReadySeconds":\#(minReadySeconds),"updateStrategy":\#(strategy),
                 "template":{"metadata":{"labels":{"app":"d"}},"spec":\#(spec.jsonString())}}}
        """#))!
    }

    static func pod(_ name: String, node: String?, created: Int, phase: String = "Running", ready: Bool = true,
                    readySince: Int = 0, hash: String = "new", deleting: Bool = false) -> Pod {
        var meta = ObjectMeta()
        meta.name = name
        meta.namespace = "default"
        meta.uid = "uid-\(name)"
        meta.labels = ["app": "d", DaemonSetPlanning.revisionHashLabel: hash]
        meta.creationTimestamp = Timestamp(seconds: Int64(created))
        if deleting { meta.deletionTimestamp = Timestamp(seconds: 1000) }
        var pod = Pod(metadata: meta)
        if let node { pod.spec.nodeName = node }
        pod.status.phase = phase
        pod.status.conditions = [Condition(type: "Ready", status: ready ? "True" : "False",
                                           lastTransitionTime: Timestamp(seconds: Int64(readySince)))]
        return pod
    }
}

@Suite("NodeShouldRunDaemonPod (mirrors daemon_controller_test's TestNodeShouldRunDaemonPod)")
struct NodeShouldRunTests {
    @Test("A plain node runs the pod; a not-ready node without taints too (TestNotReadyNodeDaemonDoesLaunchPod)")
    func plain() {
        let r = DaemonSetPlanning.nodeShouldRun(Fixture.node("n1"), Fixture.daemonSet())
        #expect(r.shouldRun && r.shouldContinueRunning)
    }

    @Test("Template nodeName pins the DaemonSet to one node (TestNameDaemonSetLaunchesPods)")
    func nodeName() {
        let ds = Fixture.daemonSet(podSpec: #"{"nodeName":"n2"}"#)
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n1"), ds) == (false, false))
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n2"), ds) == (true, true))
    }

    @Test("nodeSelector and required node affinity must match (TestSelectorDaemonLaunchesPods, TestNodeAffinityDaemonLaunchesPods)")
    func selectorAndAffinity() {
        let bySelector = Fixture.daemonSet(podSpec: #"{"nodeSelector":{"disk":"ssd"}}"#)
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n1", labels: #"{"disk":"ssd"}"#), bySelector) == (true, true))
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n2", labels: #"{"disk":"hdd"}"#), bySelector) == (false, false))
        let byAffinity = Fixture.daemonSet(podSpec: #"""
        {"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
          {"matchExpressions":[{"key":"color","operator":"In","values":["blue","green"]}]},
          {"matchFields":[{"key":"metadata.name","operator":"In","values":["n9"]}]}]}}}}
        """#)
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n1", labels: #"{"color":"green"}"#), byAffinity).shouldRun)
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n9"), byAffinity).shouldRun)
        #expect(DaemonSetPlanning.nodeShouldRun(Fixture.node("n2", labels: #"{"color":"red"}"#), byAffinity) == (false, false))
    }

    @Test("Untolerated NoSchedule stops new pods but keeps running ones; untolerated NoExecute removes them")
    func taints() {
        let ds = Fixture.daemonSet()
        // TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod
        let noSchedule = Fixture.node("n1", taints: #"[{"key":"dedicated","value":"x","effect":"NoSchedule"}]"#)
        #expect(DaemonSetPlanning.nodeShouldRun(noSchedule, ds) == (false, true))
        // TestNoExecuteTaintedDoesEvicitRunningIntolerantPod
        let noExecute = Fixture.node("n1", taints: #"[{"key":"dedicated","value":"x","effect":"NoExecute"}]"#)
        #expect(DaemonSetPlanning.nodeShouldRun(noExecute, ds) == (false, false))
        // TestTaintedNodeDaemonLaunchesToleratePod
        let tolerant = Fixture.daemonSet(podSpec: #"{"tolerations":[{"key":"dedicated","operator":"Exists"}]}"#)
        #expect(DaemonSetPlanning.nodeShouldRun(noExecute, tolerant) == (true, true))
        // PreferNoSchedule never matters.
        let prefer = Fixture.node("n1", taints: #"[{"key":"dedicated","effect":"PreferNoSchedule"}]"#)
        #expect(DaemonSetPlanning.nodeShouldRun(prefer, ds) == (true, true))
    }

    @Test("Lifecycle taints: NoExecute not-ready/unreachable and the pressure taints are tolerated, NoSchedule not-ready is not")
    func lifecycleTaints() {
        let ds = Fixture.daemonSet()
        // TestNotReadyNodeDaemonLaunchesPod, TestUnreachableNodeDaemonLaunchesPod
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            let node = Fixture.node("n1", taints: #"[{"key":"\#(key)","effect":"NoExecute"}]"#)
            #expect(DaemonSetPlanning.nodeShouldRun(node, ds) == (true, true))
            let both = Fixture.node("n1", taints: #"[{"key":"\#(key)","effect":"NoExecute"},{"key":"\#(key)","effect":"NoSchedule"}]"#)
            #expect(DaemonSetPlanning.nodeShouldRun(both, ds) == (false, true))
        }
        // TestTaintPressureNodeDaemonLaunchesPod
        let pressure = Fixture.node("n1", taints: #"""
        [{"key":"node.kubernetes.io/disk-pressure","effect":"NoSchedule"},{"key":"node.kubernetes.io/memory-pressure","effect":"NoSchedule"},
         {"key":"node.kubernetes.io/pid-pressure","effect":"NoSchedule"},{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]
        """#)
        #expect(DaemonSetPlanning.nodeShouldRun(pressure, ds) == (true, true))
        // network-unavailable is tolerated only by host-network pods.
        let network = Fixture.node("n1", taints: #"[{"key":"node.kubernetes.io/network-unavailable","effect":"NoSchedule"}]"#)
        #expect(DaemonSetPlanning.nodeShouldRun(network, ds) == (false, true))
        #expect(DaemonSetPlanning.nodeShouldRun(network, Fixture.daemonSet(podSpec: #"{"hostNetwork":true}"#)) == (true, true))
    }
}

@Suite("Daemon pods (mirrors daemonset_util_test's TestReplaceDaemonSetPodNodeNameNodeAffinity, TestGetTargetNodeName)")
struct DaemonPodTests {
    let owner = OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: "ds", uid: "ds-uid", controller: true, blockOwnerDeletion: true)

    @Test("A daemon pod: generateName, labels, controller reference, tolerations and affinity pinned to its node")
    func daemonPod() {
        let ds = Fixture.daemonSet(podSpec: #"""
        {"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
         "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
           {"matchExpressions":[{"key":"a","operator":"Exists"}]}]}}}}
        """#)
        let pod = DaemonSetPlanning.daemonPod(ds, nodeName: "n3", hash: "abc", owner: owner)
        #expect(pod.metadata.generateName == "ds-")
        #expect(pod.metadata.labels == ["app": "d", "controller-revision-hash": "abc", "pod-template-generation": "1"])
        #expect(pod.metadata.ownerReferences == [owner])
        let tolerations = pod.spec.tolerations.map { "\($0.key ?? ""):\($0.effect ?? ""):\($0.tolerationSeconds.map(String.init) ?? "-")" }
        // The user's not-ready toleration is replaced in place (no tolerationSeconds); the rest are appended.
        #expect(tolerations == ["node.kubernetes.io/not-ready:NoExecute:-", "node.kubernetes.io/unreachable:NoExecute:-",
                                "node.kubernetes.io/disk-pressure:NoSchedule:-", "node.kubernetes.io/memory-pressure:NoSchedule:-",
                                "node.kubernetes.io/pid-pressure:NoSchedule:-", "node.kubernetes.io/unschedulable:NoSchedule:-"])
        // Required terms are replaced by the node pin.
        #expect(DaemonSetPlanning.targetNodeName(pod) == "n3")
        let terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
        #expect(terms.count == 1 && terms[0].matchExpressions.isEmpty)
        #expect(pod.spec.requiredNodeAffinityMatches(Fixture.node("n3", labels: #"{"a":"1"}"#)))
        #expect(!pod.spec.requiredNodeAffinityMatches(Fixture.node("n4", labels: #"{"a":"1"}"#)))
    }

    @Test("Target node: spec.nodeName first, else a single matchFields metadata.name In [node]")
    func targetNode() {
        var bound = Fixture.pod("a", node: "n1", created: 0)
        #expect(DaemonSetPlanning.targetNodeName(bound) == "n1")
        bound.spec.nodeName = nil
        #expect(DaemonSetPlanning.targetNodeName(bound) == nil)
        bound.spec.affinity = DaemonSetPlanning.pinnedAffinity(nil, nodeName: "n7")
        #expect(DaemonSetPlanning.targetNodeName(bound) == "n7")
    }

    @Test("Oldest first: scheduled before unscheduled, then creation time, then name")
    func order() {
        let pods = [Fixture.pod("c", node: nil, created: 1), Fixture.pod("b", node: "n", created: 5),
                    Fixture.pod("a", node: "n", created: 5), Fixture.pod("d", node: "n", created: 2)]
        #expect(pods.sorted(by: DaemonSetPlanning.olderFirst).map { $0.metadata.name ?? "" } == ["d", "a", "b", "c"])
    }
}

@Suite("Per-node plans (mirrors TestDealsWithExistingPods, TestDaemonKillFailedPods, TestDaemonKillFailedPodsBackoff)")
struct NodePlanTests {
    let now = Timestamp(seconds: 100)

    @Test("No pod on an eligible node: create one; surplus running pods: keep the oldest")
    func createAndPrune() {
        let ds = Fixture.daemonSet()
        let node = Fixture.node("n1")
        #expect(DaemonSetPlanning.podsShouldBeOnNode(node, pods: [], ds: ds, hash: "new", inBackoff: false, now: now).create)
        let pods = [Fixture.pod("young", node: "n1", created: 9), Fixture.pod("old", node: "n1", created: 1),
                    Fixture.pod("gone", node: "n1", created: 0, deleting: true)]
        let plan = DaemonSetPlanning.podsShouldBeOnNode(node, pods: pods, ds: ds, hash: "new", inBackoff: false, now: now)
        #expect(plan == DaemonSetPlanning.NodePlan(create: false, delete: ["young"]))
    }

    @Test("Failed pods are deleted unless the node is in back-off; succeeded pods are deleted")
    func failedPods() {
        let ds = Fixture.daemonSet()
        let node = Fixture.node("n1")
        let pods = [Fixture.pod("f", node: "n1", created: 1, phase: "Failed"), Fixture.pod("s", node: "n1", created: 2, phase: "Succeeded")]
        let plan = DaemonSetPlanning.podsShouldBeOnNode(node, pods: pods, ds: ds, hash: "new", inBackoff: false, now: now)
        #expect(plan.failed == ["f"] && plan.succeeded == ["s"] && !plan.create)
        let held = DaemonSetPlanning.podsShouldBeOnNode(node, pods: pods, ds: ds, hash: "new", inBackoff: true, now: now)
        #expect(held.failed.isEmpty && held.failedInBackoff)
    }

    @Test("A node the DaemonSet must leave loses every live pod (TestSelectorDaemonDeletesUnselectedPods)")
    func leave() {
        let ds = Fixture.daemonSet(podSpec: #"{"nodeSelector":{"disk":"ssd"}}"#)
        let pods = [Fixture.pod("a", node: "n1", created: 1), Fixture.pod("b", node: "n1", created: 2, deleting: true)]
        let plan = DaemonSetPlanning.podsShouldBeOnNode(Fixture.node("n1"), pods: pods, ds: ds, hash: "new", inBackoff: false, now: now)
        #expect(plan.delete == ["a"])
    }

    @Test("With surge, an old ready pod stays until the new one is available")
    func surge() {
        let ds = Fixture.daemonSet(strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}"#, minReadySeconds: 10)
        let node = Fixture.node("n1")
        let old = Fixture.pod("old", node: "n1", created: 1, hash: "old")
        let waiting = Fixture.pod("new", node: "n1", created: 50, readySince: 95, hash: "new")
        #expect(DaemonSetPlanning.podsShouldBeOnNode(node, pods: [old, waiting], ds: ds, hash: "new", inBackoff: false, now: now).delete.isEmpty)
        let ready = Fixture.pod("new", node: "n1", created: 50, readySince: 80, hash: "new")
        #expect(DaemonSetPlanning.podsShouldBeOnNode(node, pods: [old, ready], ds: ds, hash: "new", inBackoff: false, now: now).delete == ["old"])
    }

    @Test("Pods group by target node; deleted terminal pods only count for history (TestGetNodesToDaemonPods)")
    func grouping() {
        var unbound = Fixture.pod("u", node: nil, created: 1)
        unbound.spec.affinity = DaemonSetPlanning.pinnedAffinity(nil, nodeName: "n2")
        let pods = [Fixture.pod("a", node: "n1", created: 1), unbound, Fixture.pod("stray", node: nil, created: 1),
                    Fixture.pod("done", node: "n1", created: 2, phase: "Failed", deleting: true)]
        let map = DaemonSetPlanning.nodeToDaemonPods(pods)
        #expect(map.mapValues { $0.map { $0.metadata.name ?? "" } } == ["n1": ["a"], "n2": ["u"]])
        #expect(DaemonSetPlanning.nodeToDaemonPods(pods, includeDeletedTerminal: true)["n1"]?.count == 2)
    }

    @Test("Unbound pods aimed at vanished nodes are deleted")
    func vanished() {
        var unbound = Fixture.pod("u", node: nil, created: 1)
        unbound.spec.affinity = DaemonSetPlanning.pinnedAffinity(nil, nodeName: "gone")
        let names = DaemonSetPlanning.unscheduledPodsWithoutNode(["gone": [unbound], "n1": [Fixture.pod("b", node: "n1", created: 1)]],
                                                                 nodes: ["n1"])
        #expect(names == ["u"])
    }
}

@Suite("Rolling update (mirrors update_test's TestDaemonSetUpdatesPods, …WithMaxSurge, …AllOldPodsNotReady)")
struct RollingUpdateTests {
    let now = Timestamp(seconds: 100)
    let nodes = Dictionary(uniqueKeysWithValues: (1...5).map { ("n\($0)", Fixture.node("n\($0)")) })

    func oldPods(ready: Bool = true) -> [String: [Pod]] {
        Dictionary(uniqueKeysWithValues: (1...5).map { ("n\($0)", [Fixture.pod("p\($0)", node: "n\($0)", created: $0, ready: ready, hash: "old")]) })
    }

    @Test("maxUnavailable 2: two old pods at a time, none while two nodes are unavailable")
    func maxUnavailable() {
        let ds = Fixture.daemonSet(strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":2,"maxSurge":0}}"#)
        let first = DaemonSetPlanning.rollingUpdate(ds, nodes: nodes, nodeToPods: oldPods(), hash: "new", now: now)
        #expect(first == DaemonSetPlanning.RollingPlan(delete: ["p1", "p2"], create: []))
        var progress = oldPods()
        progress["n1"] = []
        progress["n2"] = [Fixture.pod("q2", node: "n2", created: 99, ready: false, hash: "new")]
        #expect(DaemonSetPlanning.rollingUpdate(ds, nodes: nodes, nodeToPods: progress, hash: "new", now: now)?.delete == [])
    }

    @Test("Old pods that are not available are always replaceable")
    func allNotReady() {
        let ds = Fixture.daemonSet()
        let plan = DaemonSetPlanning.rollingUpdate(ds, nodes: nodes, nodeToPods: oldPods(ready: false), hash: "new", now: now)
        #expect(plan?.delete == ["p1", "p2", "p3", "p4", "p5"])
    }

    @Test("maxSurge 1: one new pod beside an old one; the old goes when the new is available")
    func maxSurge() {
        let ds = Fixture.daemonSet(strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}"#)
        #expect(DaemonSetPlanning.rollingUpdate(ds, nodes: nodes, nodeToPods: oldPods(), hash: "new", now: now)
                == DaemonSetPlanning.RollingPlan(delete: [], create: ["n1"]))
        var surging = oldPods()
        surging["n1"]?.append(Fixture.pod("q1", node: "n1", created: 90, ready: false, hash: "new"))
        #expect(DaemonSetPlanning.rollingUpdate(ds, nodes: nodes, nodeToPods: surging, hash: "new", now: now)
                == DaemonSetPlanning.RollingPlan(delete: [], create: []))
        surging["n1"] = [Fixture.pod("p1", node: "n1", created: 1, hash: "old"), Fixture.pod("q1", node: "n1", created: 90, hash: "new")]
        #expect(DaemonSetPlanning.rollingUpdate(ds, nodes: nodes, nodeToPods: surging, hash: "new", now: now)
                == DaemonSetPlanning.RollingPlan(delete: ["p1"], create: ["n2"]))
    }

    @Test("Percentages round up; both zero means one unavailable")
    func counts() {
        let percent = Fixture.daemonSet(strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"30%","maxSurge":0}}"#)
        #expect(DaemonSetPlanning.rollingCounts(percent, desired: 5)! == (0, 2))
        let zero = Fixture.daemonSet(strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":0}}"#)
        #expect(DaemonSetPlanning.rollingCounts(zero, desired: 5)! == (0, 1))
        let bad = Fixture.daemonSet(strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"lots"}}"#)
        #expect(DaemonSetPlanning.rollingCounts(bad, desired: 5) == nil)
    }
}

@Suite("Status, history and back-off")
struct DaemonSetStatusTests {
    @Test("Counts: desired, current, misscheduled, ready, available after minReadySeconds, updated (TestNumberReadyStatus)")
    func status() {
        let ds = Fixture.daemonSet(podSpec: #"{"nodeSelector":{"run":"yes"}}"#, minReadySeconds: 10)
        let nodes = [Fixture.node("n1", labels: #"{"run":"yes"}"#), Fixture.node("n2", labels: #"{"run":"yes"}"#),
                     Fixture.node("n3", labels: #"{"run":"yes"}"#), Fixture.node("n4")]
        let pods: [String: [Pod]] = [
            "n1": [Fixture.pod("a", node: "n1", created: 1, readySince: 50)],
            "n2": [Fixture.pod("b", node: "n2", created: 1, readySince: 95, hash: "old")],
            "n4": [Fixture.pod("c", node: "n4", created: 1)],
        ]
        let counts = DaemonSetPlanning.statusCounts(ds, nodes: nodes, nodeToPods: pods, hash: "new", now: Timestamp(seconds: 100))
        var expected = DaemonSetPlanning.StatusCounts()
        (expected.desired, expected.current, expected.misscheduled, expected.ready, expected.available, expected.updated) = (3, 2, 1, 2, 1, 1)
        #expect(counts == expected)
        #expect(counts.unavailable == 2)
    }

    @Test("The revision hash is stable, ignores key order, changes with the template and the collision count")
    func hash() {
        let a = Fixture.daemonSet(podSpec: #"{"hostNetwork":true,"dnsPolicy":"Default"}"#)
        let b = Fixture.daemonSet(podSpec: #"{"dnsPolicy":"Default","hostNetwork":true}"#)
        let c = Fixture.daemonSet(podSpec: #"{"dnsPolicy":"ClusterFirst","hostNetwork":true}"#)
        let h = DaemonSetHistory.hash(template: a.spec.template, collisionCount: nil)
        #expect(h == DaemonSetHistory.hash(template: b.spec.template, collisionCount: nil))
        #expect(h != DaemonSetHistory.hash(template: c.spec.template, collisionCount: nil))
        #expect(h != DaemonSetHistory.hash(template: a.spec.template, collisionCount: 1))
        #expect(h.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) } && !h.isEmpty)
        let owner = OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: "ds", uid: "ds-uid", controller: true)
        let revision = DaemonSetHistory.revision(for: a, number: 3, owner: owner)
        #expect(revision.metadata.name == "ds-\(h)")
        #expect(revision.revision == 3)
        #expect(DaemonSetHistory.matches(b, revision) && !DaemonSetHistory.matches(c, revision))
        #expect(revision.raw["data"]?[path: ["spec", "template", "$patch"]] == "replace")
    }

    @Test("History cleanup keeps the limit and every revision a live pod carries, oldest deleted first")
    func cleanup() {
        func revision(_ n: Int) -> ControllerRevision {
            var meta = ObjectMeta()
            meta.name = "r\(n)"
            meta.labels = [DaemonSetPlanning.revisionHashLabel: "h\(n)"]
            var r = ControllerRevision(metadata: meta)
            r.revision = n
            return r
        }
        let old = [revision(4), revision(1), revision(3), revision(2)]
        #expect(DaemonSetHistory.revisionsToDelete(old: old, limit: 2, liveHashes: ["h1"]) == ["r2", "r3"])
        #expect(DaemonSetHistory.revisionsToDelete(old: old, limit: 4, liveHashes: []) == [])
    }

    @Test("Failed-pod back-off: 1 s doubling to 15 min, reset after 30 quiet minutes")
    func backoff() {
        var b = FailedPodBackoff()
        let t0 = Timestamp(seconds: 0)
        #expect(!b.isInBackoff("k", now: t0))
        b.next("k", now: t0)
        #expect(b.delay("k") == .seconds(1) && b.isInBackoff("k", now: t0) && !b.isInBackoff("k", now: Timestamp(seconds: 1)))
        b.next("k", now: Timestamp(seconds: 1))
        #expect(b.delay("k") == .seconds(2))
        for i in 0..<20 { b.next("k", now: Timestamp(seconds: Int64(2 + i))) }
        #expect(b.delay("k") == .seconds(900))
        b.next("k", now: Timestamp(seconds: 21 + 1801))
        #expect(b.delay("k") == .seconds(1))
        b.collectGarbage(now: Timestamp(seconds: 21 + 1801 + 1801))
        #expect(b.delay("k") == .zero)
    }
}
