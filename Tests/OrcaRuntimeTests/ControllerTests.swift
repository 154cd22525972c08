import Foundation
import Logging
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaRuntime
import OrcaStore
import ServiceLifecycle
import Synchronization
import Testing

/// A small replica controller, written as a plugin author would: keeps `spec.replicas` pods.
struct Replicator: Reconciler {
    typealias Object = ReplicaSet
    static let name = "replicator"
    static var configuration: ControllerConfiguration {
        ControllerConfiguration(watches: [Watch("Pod", .controllerOwner)], workers: 2)
    }

    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard var rs = context.get(ReplicaSet.self, request), let uid = rs.metadata.uid else { return .done }
        let pods = context.snapshot("Pod").byIndex(IndexName.controllerUID, uid)
            .filter { $0.object[path: ["metadata", "deletionTimestamp"]] == nil }
        let want = rs.spec.replicas ?? 1
        if pods.count < want {
            for _ in pods.count..<want {
                var pod = Pod(metadata: rs.spec.template.metadata)
                pod.metadata.generateName = "\(request.name)-"
                pod.metadata.namespace = request.namespace
                pod.metadata.ownerReferences = [OwnerReference(apiVersion: ReplicaSet.apiVersion, kind: ReplicaSet.kind,
                                                               name: request.name, uid: uid, controller: true, blockOwnerDeletion: true)]
                pod.spec = rs.spec.template.spec
                let created = try await context.client.create(pod)
                if let record = context.snapshot("ReplicaSet").get(namespace: request.namespace, name: request.name) {
                    await context.events.record(record, reason: "SuccessfulCreate", message: "Created pod: \(created.metadata.name ?? "")")
                }
            }
        } else if pods.count > want {
            for pod in pods.sorted(by: { $0.seq > $1.seq }).prefix(pods.count - want) {
                try await context.client.delete(kind: "Pod", namespace: pod.namespace, name: pod.name)
            }
        }
        if rs.status.replicas != pods.count {
            rs.status.replicas = pods.count
            try await context.client.updateStatus(rs)
        }
        return .done
    }
}

let replicaSetYAML = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
"""

@Suite("Controllers and the simulation loop")
struct ControllerTests {
    /// Runs a fixed story in a fresh log and returns the log as JSON lines.
    func simulate(seed: UInt64) async throws -> [String] {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        let clock = VirtualClock(Timestamp(seconds: 1_800_000_000))
        let manager = ControllerManager(log: log, clock: clock, identities: SeededIdentityGenerator(seed: seed), scheduler: .manual)
        manager.register(Replicator())
        _ = try await manager.store.create(try manifest(replicaSetYAML))
        try await manager.drain()
        clock.advance(by: .seconds(5))
        _ = try await manager.store.patch(kind: "ReplicaSet", name: "web", mergePatch: ["spec": ["replicas": 5]])
        try await manager.drain()
        clock.advance(by: .seconds(5))
        let victim = try #require(try manager.store.list(kind: "Pod").first)
        _ = try await manager.store.delete(kind: "Pod", name: victim.name, options: DeleteOptions(gracePeriodSeconds: 0))
        try await manager.drain()
        return try log.readAll().map { "\($0.seq) \($0.type.rawValue) \($0.actor) \($0.cause.map(String.init) ?? "-") \($0.object.jsonString())" }
    }

    @Test("the same story, seed and code give a byte-identical log; a different seed gives different UIDs")
    func determinism() async throws {
        let first = try await simulate(seed: 42)
        let second = try await simulate(seed: 42)
        #expect(first == second)
        let other = try await simulate(seed: 43)
        #expect(first.count == other.count)
        #expect(first != other)
        // The story did what it says: 5 pods, one replaced with a new name.
        let created = first.filter { $0.contains(" ADDED controller/replicator ") && $0.contains(#""kind":"Pod""#) }
        #expect(created.count == 6)
    }

    @Test("writes carry the controller as actor and the triggering event as cause; Events are recorded")
    func provenance() async throws {
        let log = InMemoryEventLog()
        let manager = ControllerManager(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 1), scheduler: .manual)
        manager.register(Replicator())
        let rs = try await manager.store.create(try manifest(replicaSetYAML))
        let rsSeq = try #require(UInt64(rs.resourceVersion ?? ""))
        let reconciles = try await manager.drain()
        #expect(reconciles >= 1)
        let records = try log.readAll()
        let pods = records.filter { $0.kind == "Pod" }
        #expect(pods.count == 3)
        #expect(pods.allSatisfy { $0.actor == "controller/replicator" && $0.cause == rsSeq })
        let events = records.filter { $0.kind == "Event" }
        #expect(events.count == 3)
        #expect(events.first?.object["reason"] == "SuccessfulCreate")
        #expect(events.first?.object[path: ["source", "component"]] == "replicator-controller")
        #expect(try manager.store.get(kind: "ReplicaSet", name: "web")?.value[path: ["status", "replicas"]] == 3)
        // Quiescent: draining again does nothing.
        #expect(try await manager.drain() == 0)
    }

    final class Calls: Sendable {
        let list = Mutex<[String]>([])
        let causes = Mutex<[UInt64?]>([])
    }

    struct Flaky: Reconciler {
        typealias Object = ReplicaSet
        static let name = "flaky"
        let failures: Int
        let calls = Calls()
        func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
            let n = calls.list.withLock { c in c.append("\(context.now.nanoseconds / 1_000_000)"); return c.count }
            calls.causes.withLock { $0.append(context.cause) }
            if request.name == "terminal" { throw TerminalError("cannot fix this") }
            if n <= failures { throw StoreError(.conflict, "try again") }
            return n == failures + 1 ? .requeue(after: .seconds(30)) : .done
        }
    }

    @Test("errors retry after 5, 10, 20 ms; requeue(after:) sets a timer; both keep the cause; a terminal error is not retried")
    func retriesAndTimers() async throws {
        let log = InMemoryEventLog()
        let clock = VirtualClock(Timestamp(seconds: 0))
        let manager = ControllerManager(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 1), scheduler: .manual)
        let flaky = Flaky(failures: 3)
        let controller = manager.register(flaky)
        let rs = try await manager.store.create(try manifest(replicaSetYAML))
        try await manager.drain()
        var delays: [Duration] = []
        while let next = manager.nextTimer {
            delays.append(next.since(clock.now()))
            clock.advance(to: next)
            try await manager.drain()
        }
        #expect(delays == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .seconds(30)])
        #expect(flaky.calls.list.withLock { $0 } == ["0", "5", "15", "35", "30035"])
        // Every retry and the timer's reconcile are still caused by the ReplicaSet's creation.
        #expect(flaky.calls.causes.withLock { $0 } == Array(repeating: UInt64(rs.resourceVersion ?? ""), count: 5))

        var terminal = try manifest(replicaSetYAML)
        terminal[path: ["metadata", "name"]] = "terminal"
        _ = try await manager.store.create(terminal)
        try await manager.drain()
        #expect(manager.nextTimer == nil)
        #expect(controller.terminalError(of: ReconcileRequest(namespace: "default", name: "terminal")) == "cannot fix this")
    }

    @Test("live mode: a controller reacts to a write made through another handle on the same data directory")
    func live() async throws {
        let dir = TemporaryDirectory()
        let path = dir.sub("data")
        let log = try LMDBEventLog(path: path)
        let manager = ControllerManager(log: log, clock: SystemClock(), identities: RandomIdentityGenerator(), scheduler: .live)
        manager.register(Replicator())
        let running = Task { try await manager.run() }
        let other = Store(log: try LMDBEventLog(path: path))
        _ = try await other.create(try manifest(replicaSetYAML))
        var pods = 0
        for _ in 0..<200 {
            pods = try other.list(kind: "Pod").count
            if pods == 3 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(pods == 3)
        running.cancel()
        try await running.value
    }

    /// Waits until cancelled (at most 10 s) in every reconcile, and records when each one starts
    /// and finishes, and whether it was cancelled.
    struct SlowReconciler: Reconciler {
        typealias Object = Pod
        static let name = "slow"
        let calls = Calls()
        func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
            calls.list.withLock { $0.append("start \(request)") }
            for _ in 0..<1_000 where !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
            calls.list.withLock { $0.append("finish \(request) cancelled=\(Task.isCancelled)") }
            return .done
        }
    }

    @Test("live mode in a ServiceGroup: a graceful shutdown cancels the reconcile in flight and run returns after it")
    func gracefulShutdown() async throws {
        let dir = TemporaryDirectory()
        let log = try LMDBEventLog(path: dir.sub("data"))
        let manager = ControllerManager(log: log, clock: SystemClock(), identities: RandomIdentityGenerator(), scheduler: .live)
        let slow = SlowReconciler()
        manager.register(slow)
        let group = ServiceGroup(services: [manager], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        _ = try await manager.store.create(try manifest("""
            apiVersion: v1
            kind: Pod
            metadata: {name: a}
            spec: {containers: [{name: c, image: x}]}
            """))
        for _ in 0..<200 where slow.calls.list.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(slow.calls.list.withLock { $0 } == ["start default/a"], "the reconcile is in flight")
        await group.triggerGracefulShutdown()
        try await running.value
        // As controller-runtime cancels a reconcile's context on shutdown: the reconcile sees
        // cancellation, and run returns only once it has returned.
        #expect(slow.calls.list.withLock { $0 } == ["start default/a", "finish default/a cancelled=true"],
                "run returned only after the reconcile in flight finished")
        // Nothing is taken after the shutdown began: a later write is not reconciled.
        _ = try await manager.store.create(try manifest("""
            apiVersion: v1
            kind: Pod
            metadata: {name: b}
            spec: {containers: [{name: c, image: x}]}
            """))
        try await Task.sleep(for: .milliseconds(100))
        #expect(slow.calls.list.withLock { $0.count } == 2)
    }

    struct ServiceWatcher: Reconciler {
        typealias Object = OrcaAPI.Service
        static let name = "service-watcher"
        static var configuration: ControllerConfiguration {
            ControllerConfiguration(watches: [Watch("Pod", .selector), Watch("Pod", .nodeName)])
        }
        let calls = Calls()
        func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
            calls.list.withLock { $0.append(request.description) }
            return .done
        }
    }

    @Test("selector and node-name mappings: a pod's event queues the Services that select it and its node")
    func selectorMapping() async throws {
        let log = InMemoryEventLog()
        let manager = ControllerManager(log: log, clock: VirtualClock(), identities: SeededIdentityGenerator(seed: 1), scheduler: .manual)
        let watcher = ServiceWatcher()
        manager.register(watcher)
        for (name, selector) in [("web", "{app: web}"), ("db", "{app: db}"), ("none", "{}")] {
            _ = try await manager.store.create(try manifest("""
            apiVersion: v1
            kind: Service
            metadata: {name: \(name), namespace: default}
            spec: {selector: \(selector), ports: [{port: 80}]}
            """))
        }
        try await manager.drain()
        #expect(watcher.calls.list.withLock { $0 }.sorted() == ["default/db", "default/none", "default/web"])
        watcher.calls.list.withLock { $0 = [] }
        _ = try await manager.store.create(pod("p", node: "node-1"))
        try await manager.drain()
        #expect(watcher.calls.list.withLock { $0 } == ["default/web", "node-1"])
    }
}
