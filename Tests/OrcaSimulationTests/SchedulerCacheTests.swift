import Orca
import SchedulerController
import Testing

/// The scheduler's node cache: preference order (fewest pods, then name), resources counted from
/// bound non-terminal pods, assumed bindings, and nodes that go and come back.
@Suite("Scheduler cache")
struct SchedulerCacheTests {
    final class Log {
        var seq: UInt64 = 0
        func record(_ type: EventType, _ object: JSONValue) -> EventRecord {
            seq += 1
            let kind = object["kind"]?.stringValue ?? ""
            return EventRecord(seq: seq, time: .zero, type: type, kind: kind,
                               namespace: object[path: ["metadata", "namespace"]]?.stringValue ?? "",
                               name: object[path: ["metadata", "name"]]?.stringValue ?? "", uid: "u\(seq)",
                               actor: "test", cause: nil, object: object)
        }
    }

    static func node(_ name: String, cpu: String = "2", taint: Bool = false) -> JSONValue {
        var node: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)],
                               "status": ["allocatable": ["cpu": .string(cpu), "pods": "110"]]]
        if taint { node[path: ["spec", "taints"]] = [["key": "dedicated", "value": "x", "effect": "NoSchedule"]] }
        return node
    }

    static func pod(_ name: String, node: String? = nil, cpu: String = "500m", phase: String = "Running",
                    priority: Int64 = 0, startTime: String? = nil) -> JSONValue {
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"],
                              "spec": ["containers": [["name": "app", "image": "nginx", "resources": ["requests": ["cpu": .string(cpu)]]]],
                                       "priority": .int(priority)],
                              "status": ["phase": .string(phase)]]
        if let node { pod[path: ["spec", "nodeName"]] = .string(node) }
        if let startTime { pod[path: ["status", "startTime"]] = .string(startTime) }
        return pod
    }

    func names(_ cache: SchedulerCache) -> [String] { cache.nodesInPreferenceOrder().nodes.map { "\($0.name):\($0.podCount)" } }

    @Test("fewest pods first, then by name; terminal and deleted pods free their node")
    func preferenceOrder() throws {
        let cache = SchedulerCache()
        let log = Log()
        for name in ["node-b", "node-a", "node-c"] { cache.observe(.added(log.record(.added, Self.node(name)), initialList: true)) }
        #expect(names(cache) == ["node-a:0", "node-b:0", "node-c:0"])
        let p1 = log.record(.added, Self.pod("p1", node: "node-a"))
        cache.observe(.added(p1, initialList: false))
        cache.observe(.added(log.record(.added, Self.pod("p2", node: "node-c")), initialList: false))
        #expect(names(cache) == ["node-b:0", "node-a:1", "node-c:1"])
        let pending = try #require(Pod(Self.pod("new")))
        #expect(cache.decide(pending) == .bind(node: "node-b"))
        // p1 finishes: node-a is empty again and sorts before node-b.
        let done = log.record(.modified, Self.pod("p1", node: "node-a", phase: "Succeeded"))
        cache.observe(.updated(old: p1, new: done))
        #expect(names(cache) == ["node-a:0", "node-b:0", "node-c:1"])
        cache.observe(.deleted(log.record(.deleted, Self.pod("p2", node: "node-c")), finalStateUnknown: false))
        #expect(names(cache) == ["node-a:0", "node-b:0", "node-c:0"])
    }

    @Test("an assumed binding counts at once, and its event does not count it twice")
    func assumedBinding() throws {
        let cache = SchedulerCache()
        let log = Log()
        cache.observe(.added(log.record(.added, Self.node("node-1", cpu: "1")), initialList: true))
        let pending = try #require(Pod(Self.pod("a")))
        #expect(cache.decide(pending) == .bind(node: "node-1"))
        cache.assume(pod: log.record(.added, Self.pod("a")), requests: ["cpu": 500], on: "node-1")
        cache.observe(.added(log.record(.modified, Self.pod("a", node: "node-1")), initialList: false))
        #expect(names(cache) == ["node-1:1"])
        #expect(cache.decide(try #require(Pod(Self.pod("b")))) == .bind(node: "node-1"))
        cache.assume(pod: log.record(.added, Self.pod("b")), requests: ["cpu": 500], on: "node-1")
        #expect(cache.decide(try #require(Pod(Self.pod("c")))) == .unschedulable(message: "0/1 nodes are available: 1 Insufficient cpu.",
                                                                                   plugins: [.nodeResourcesFit]))
    }

    @Test("a node that goes away and comes back keeps counting the pods still bound to it; taints filter")
    func nodeChurn() throws {
        let cache = SchedulerCache()
        let log = Log()
        cache.observe(.added(log.record(.added, Self.node("node-1")), initialList: true))
        cache.observe(.added(log.record(.added, Self.node("node-2", taint: true)), initialList: true))
        cache.observe(.added(log.record(.added, Self.pod("p", node: "node-1")), initialList: false))
        cache.observe(.deleted(log.record(.deleted, Self.node("node-1")), finalStateUnknown: false))
        #expect(names(cache) == ["node-2:0"])
        #expect(cache.decide(try #require(Pod(Self.pod("x")))) == .unschedulable(
            message: "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: x}.", plugins: [.taintToleration]))
        cache.observe(.added(log.record(.added, Self.node("node-1")), initialList: false))
        #expect(names(cache) == ["node-2:0", "node-1:1"])
        #expect(cache.decide(try #require(Pod(Self.pod("y")))) == .bind(node: "node-1"))
    }

    @Test("DefaultPreemption: victims of lower priority only, reprieved most important first; its reasons when none")
    func preemption() throws {
        let cache = SchedulerCache()
        let log = Log()
        cache.observe(.added(log.record(.added, Self.node("node-1", cpu: "1")), initialList: true))
        cache.observe(.added(log.record(.added, Self.node("node-2", cpu: "1", taint: true)), initialList: true))
        cache.observe(.added(log.record(.added, Self.pod("old", node: "node-1", priority: 10, startTime: "2026-01-01T00:00:00Z")), initialList: false))
        cache.observe(.added(log.record(.added, Self.pod("young", node: "node-1", priority: 10, startTime: "2026-01-01T00:00:05Z")), initialList: false))
        let low = try #require(Pod(Self.pod("low", priority: 10)))
        #expect(cache.decide(low) == .unschedulable(message: "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: x}.",
                                                      plugins: [.nodeResourcesFit, .taintToleration]))
        // The same priority preempts nothing; the tainted node is beyond help.
        #expect(cache.preemption(for: low) == .none(message: "0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."))
        // A higher priority evicts just enough: the younger pod goes, the older is reprieved.
        let high = try #require(Pod(Self.pod("high", priority: 100)))
        guard case .preempt(let node, let victims) = cache.preemption(for: high) else { Issue.record("expected a preemption"); return }
        #expect(node == "node-1" && victims.map(\.key.name) == ["young"])
        // A pod too big even for an empty node is told what is still short.
        let huge = try #require(Pod(Self.pod("huge", cpu: "2", priority: 100)))
        #expect(cache.preemption(for: huge) == .none(message: "0/2 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling."))
        // Once its victim is going, the nominated pod waits rather than preempting again.
        var going = Self.pod("young", node: "node-1", priority: 10, startTime: "2026-01-01T00:00:05Z")
        going[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:00:40Z"
        going[path: ["status", "conditions"]] = [["type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"]]
        cache.observe(.updated(old: log.record(.modified, Self.pod("young", node: "node-1", priority: 10)), new: log.record(.modified, going)))
        var waiting = Self.pod("high", priority: 100)
        waiting[path: ["status", "nominatedNodeName"]] = "node-1"
        #expect(cache.preemption(for: try #require(Pod(waiting))) == .none(message: Preemption.victimsTerminating))
        var never = Self.pod("polite", priority: 100)
        never[path: ["spec", "preemptionPolicy"]] = "Never"
        #expect(cache.preemption(for: try #require(Pod(never))) == .none(message: "not eligible due to preemptionPolicy=Never."))
    }

    @Test("pickOneNodeForPreemption: the lowest highest victim priority, then the lowest priority sum, then the fewest victims")
    func pickOneNode() throws {
        let cache = SchedulerCache()
        let log = Log()
        for name in ["a", "b", "c"] { cache.observe(.added(log.record(.added, Self.node(name, cpu: "1")), initialList: true)) }
        func bind(_ name: String, on node: String, cpu: String, priority: Int64) {
            cache.observe(.added(log.record(.added, Self.pod(name, node: node, cpu: cpu, priority: priority)), initialList: false))
        }
        // a: one victim of priority 50; b: two of priority 10; c: one of priority 10 and one of 5.
        bind("a1", on: "a", cpu: "1", priority: 50)
        bind("b1", on: "b", cpu: "500m", priority: 10)
        bind("b2", on: "b", cpu: "500m", priority: 10)
        bind("c1", on: "c", cpu: "500m", priority: 10)
        bind("c2", on: "c", cpu: "500m", priority: 5)
        let pod = try #require(Pod(Self.pod("p", cpu: "1", priority: 100)))
        // b and c both top out at 10, below a's 50; c's sum (10 + 5) is lower than b's (10 + 10).
        guard case .preempt(let node, let victims) = cache.preemption(for: pod) else { Issue.record("expected a preemption"); return }
        #expect(node == "c" && Set(victims.map(\.key.name)) == ["c1", "c2"])
        // Needing half a CPU, one victim suffices: on c the lower priority one, which beats b's.
        let half = try #require(Pod(Self.pod("q", cpu: "500m", priority: 100)))
        guard case .preempt(let halfNode, let halfVictims) = cache.preemption(for: half) else { Issue.record("expected a preemption"); return }
        #expect(halfNode == "c" && halfVictims.map(\.key.name) == ["c2"])
    }

    @Test("getLowerPriorityNominatedPods: the pods nominated to a node below a priority")
    func lowerPriorityNominated() {
        let cache = SchedulerCache()
        let key = { (name: String) in ObjectKey(kind: "Pod", namespace: "default", name: name) }
        cache.nominate(key("low"), ("node-1", 10, ["cpu": 100]))
        cache.nominate(key("mid"), ("node-1", 100, ["cpu": 100]))
        cache.nominate(key("elsewhere"), ("node-2", 10, ["cpu": 100]))
        #expect(cache.nominatedPods(on: "node-1", below: 100) == [key("low")])
        #expect(cache.nominatedPods(on: "node-1", below: 1000) == [key("low"), key("mid")])
        cache.nominate(key("low"), nil)
        #expect(cache.nominatedPods(on: "node-1", below: 1000) == [key("mid")])
    }

    @Test("the scheduling queue: back-off 1, 2, 4, 8, 10 s; ticks from the start; a pod moves only for its plugins' events, or after 5 minutes")
    func schedulingQueue() throws {
        #expect((1...6).map { SchedulingQueue.backoff(attempts: $0) } == [1, 2, 4, 8, 10, 10].map { Duration.seconds($0) })
        let start = Timestamp(seconds: 100)
        #expect(SchedulingQueue.tick(after: Timestamp(seconds: 400), strictly: true, period: .seconds(30), from: start) == Timestamp(seconds: 430))
        #expect(SchedulingQueue.tick(after: Timestamp(seconds: 400), strictly: false, period: .seconds(30), from: start) == Timestamp(seconds: 400))
        #expect(SchedulingQueue.tick(after: Timestamp(nanoseconds: 100_500_000_000), strictly: false, period: .seconds(1), from: start)
                    == Timestamp(seconds: 101))

        let queue = SchedulingQueue()
        let log = Log()
        let at = { (seconds: Int64) in Timestamp(seconds: 100 + seconds) }
        queue.observe(.added(log.record(.added, Self.node("node-1", taint: true)), initialList: true), now: at(0))
        let pending = log.record(.added, Self.pod("p", cpu: "4"))
        queue.observe(.added(pending, initialList: true), now: at(0))
        #expect(queue.verdict(for: pending.key, now: at(0)) == .attempt)
        // Rejected by NodeResourcesFit only, at 0 s: its 5-minute flush is the 330 s tick.
        #expect(queue.failed(pending.key, plugins: [.nodeResourcesFit], now: at(0)) == .seconds(330))
        #expect(queue.verdict(for: pending.key, now: at(20)) == .wait(.seconds(310)))
        // A node's condition (a heartbeat) wakes nobody; its allocatable wakes NodeResourcesFit.
        var ready = Self.node("node-1", taint: true)
        ready[path: ["status", "conditions"]] = [["type": "Ready", "status": "True"]]
        queue.observe(.updated(old: log.record(.added, Self.node("node-1", taint: true)), new: log.record(.modified, ready)), now: at(20))
        #expect(queue.verdict(for: pending.key, now: at(20)) == .wait(.seconds(310)))
        queue.observe(.updated(old: log.record(.modified, ready), new: log.record(.modified, Self.node("node-1", cpu: "8", taint: true))),
                      now: at(20))
        #expect(queue.verdict(for: pending.key, now: at(20)) == .attempt)
        // Failed again at 20 s (second attempt): a bound pod going away moves it, held by its 2 s back-off.
        _ = queue.failed(pending.key, plugins: [.nodeResourcesFit, .taintToleration], now: at(20))
        let bound = log.record(.added, Self.pod("b", node: "node-1"))
        queue.observe(.deleted(bound, finalStateUnknown: false), now: at(21))
        #expect(queue.verdict(for: pending.key, now: at(21)) == .wait(.seconds(1)))
        #expect(queue.verdict(for: pending.key, now: at(22)) == .attempt)
        // Once bound, it is forgotten.
        queue.scheduled(pending.key)
        #expect(queue.verdict(for: pending.key, now: at(22)) == .attempt)
        // No plugin (no nodes): straight to back-off.
        #expect(queue.failed(pending.key, plugins: [], now: at(30)) == .seconds(1))
    }
}
