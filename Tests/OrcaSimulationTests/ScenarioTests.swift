import Foundation
import Orca
import OrcaLMDB
import Testing
@testable import OrcaSimulation

/// Tests/Scenarios, next to this test target.
let scenariosDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Scenarios")

let scenarioFiles: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: scenariosDirectory.path)) ?? [])
    .filter { $0.hasSuffix(".yaml") }.sorted()

/// The parsed scenario `file` of Tests/Scenarios.
func loadScenario(_ file: String) throws -> Scenario {
    try Scenario.parse(try String(contentsOf: scenariosDirectory.appendingPathComponent(file), encoding: .utf8), file: file)
}

func temporaryLog() throws -> (LMDBEventLog, String) {
    let path = NSTemporaryDirectory() + "orca-sim-" + UUID().uuidString
    return (try LMDBEventLog(path: path, options: .init(create: true, durability: .unsynced, commits: .inline)), path)
}

/// Simulates `file` of Tests/Scenarios into a temporary log and returns what `body` reads of it.
func readingSimulatedLog<T>(_ file: String, _ body: (LMDBEventLog, Scenario) throws -> T) async throws -> T {
    let scenario = try loadScenario(file)
    let (log, path) = try temporaryLog()
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await Simulation(scenario: scenario, log: log).run()
    return try body(log, scenario)
}

@Suite("scenarios in Tests/Scenarios")
struct ScenarioTests {
    @Test("the scenario directory is found and not empty")
    func found() { #expect(scenarioFiles.count >= 7) }

    @Test("every expectation of the scenario holds", arguments: scenarioFiles)
    func scenarioHolds(_ file: String) async throws {
        let scenario = try loadScenario(file)
        #expect(!scenario.expectations.isEmpty, "a scenario test must assert something")
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulation = Simulation(scenario: scenario, log: log)
        try await simulation.run()
        let failures = try simulation.checkExpectations()
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }
}

@Suite("identity across every scenario")
struct IdentityAcrossScenarios {
    /// Pods lost to any cause (eviction, failure, deletion, a dead node) are replaced by pods with
    /// new UIDs: no object creation anywhere in a run reuses a UID, and an object's UID never
    /// changes while it lives.
    @Test("no UID is ever reused", arguments: scenarioFiles)
    func noUIDReuse(_ file: String) async throws {
        let scenario = try loadScenario(file)
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Simulation(scenario: scenario, log: log).run()
        var created = Set<String>()
        var live: [String: String] = [:]  // kind/ns/name → uid
        for record in try log.readAll() {
            let key = "\(record.kind)/\(record.namespace)/\(record.name)"
            switch record.type {
            case .added:
                #expect(created.insert(record.uid).inserted, "\(file): \(key) reuses UID \(record.uid)")
                live[key] = record.uid
            case .modified:
                #expect(live[key] == record.uid, "\(file): \(key) changed UID")
            case .deleted:
                live[key] = nil
            }
        }
        #expect(!created.isEmpty)
    }
}

@Suite("scenario steps the API refuses")
struct RefusedStepTests {
    @Test("a create admission refuses (a namespace being deleted) is reported and the run goes on")
    func refusedCreate() async throws {
        let scenario = try loadScenario("namespace-deletion.yaml")
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulation = Simulation(scenario: scenario, log: log)
        try await simulation.run()
        #expect(simulation.refusedWrites.count == 1)
        #expect(simulation.refusedWrites.first?.hasSuffix("at 12s: Forbidden: pods \"late\" is forbidden: unable to create new content in namespace team because it is being terminated") == true)
        #expect(try simulation.checkExpectations().isEmpty)
    }
}

@Suite("idempotent reconciles across every scenario")
struct IdempotenceAcrossScenarios {
    /// Level-based controllers converge: once an instant has settled, reconciling any of their
    /// objects again writes nothing (keys with a deliberately delayed requeue, such as the Job
    /// controller's 1 s batching, are left to their timer).
    @Test("re-running every reconcile of the workload controllers, scheduler, taint eviction and TTL writes nothing", arguments: scenarioFiles)
    func idempotent(_ file: String) async throws {
        let scenario = try loadScenario(file)
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulation = Simulation(scenario: scenario, log: log)
        let violations = try await simulation.runVerifyingIdempotence(of: ["replicaset", "job", "daemonset", "endpoint", "scheduler", "taint-eviction-controller", "ttl-after-finished"])
        #expect(violations.isEmpty, "\(file):\n\(violations.prefix(10).map(\.description).joined(separator: "\n"))")
    }
}

/// A deliberately non-idempotent controller: every reconcile of a Namespace bumps a counter
/// annotation. It does not watch its own writes, so only the checker's re-runs reconcile.
struct CountingController: Reconciler {
    typealias Object = Namespace
    static let name = "counting"
    static var configuration: ControllerConfiguration { ControllerConfiguration(watchesPrimary: false) }
    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        guard var namespace = context.get(Namespace.self, request) else { return .done }
        let count = namespace.metadata.annotations["count"].flatMap { Int($0) } ?? 0
        namespace.metadata.annotations["count"] = String(count + 1)
        _ = try await context.client.update(namespace)
        return .done
    }
}

@Suite("the idempotence check")
struct IdempotenceCheckTests {
    @Test("a controller that writes on every reconcile is reported")
    func catchesWrites() async throws {
        let scenario = try Scenario.parse("""
        name: counting
        until: 30s
        nodes: {count: 1}
        steps:
          - at: 0s
            apply: |
              apiVersion: v1
              kind: Namespace
              metadata: {name: n}
        expect:
          - {kind: Namespace, name: n, count: 1}
        """, file: "counting.yaml")
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulation = Simulation(scenario: scenario, log: log)
        simulation.register(CountingController())
        let violations = try await simulation.runVerifyingIdempotence(of: ["counting"])
        #expect(!violations.isEmpty)
        #expect(violations.allSatisfy { $0.controller == "counting" && $0.writes == ["MODIFIED Namespace n"] })
        #expect(violations.first?.time == scenario.start)
    }
}

@Suite("the simulated kubelet's status, as the API serialises it")
struct KubeletStatusShapeTests {
    @Test("every container status carries lastState, {} until the container first ends, in the API's field order")
    func lastState() async throws {
        let statuses = try await readingSimulatedLog("phases.yaml") { log, _ in
            try log.list(kind: "Pod", namespace: "default").records.flatMap { $0.object[path: ["status", "containerStatuses"]]?.arrayValue ?? [] }
        }
        #expect(!statuses.isEmpty)
        #expect(statuses.allSatisfy { $0.objectValue?.keys.prefix(4) == ["name", "state", "lastState", "ready"] })
        #expect(statuses.contains { $0["lastState"] == [:] } && statuses.contains { $0[path: ["lastState", "terminated"]] != nil })
    }
}

@Suite("Events as client-go's recorder writes them")
struct EventShapeTests {
    @Test("every Event of a core/v1 recorder has core/v1's fields in its order (eventTime null, reportingInstance \"\"); the node controller's RegisteredNode and RemovingNode are RecordNodeEvent's")
    func shape() async throws {
        // pod-gc.yaml deletes node-2 at 5 s.
        let events = try await readingSimulatedLog("pod-gc.yaml") { log, _ in try log.list(kind: "Event", namespace: nil).records.map(\.object) }
        #expect(!events.isEmpty)
        for event in events {
            #expect(event.objectValue?.keys == ["apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "source", "firstTimestamp",
                                                 "lastTimestamp", "count", "type", "eventTime", "reportingComponent", "reportingInstance"])
            #expect(event["eventTime"] == .null && event["reportingInstance"] == "")
        }
        let registered = events.filter { $0["reason"] == "RegisteredNode" }
        #expect(registered.map { $0["message"]?.stringValue ?? "" }.sorted()
            == ["Node node-1 event: Registered Node node-1 in Controller", "Node node-2 event: Registered Node node-2 in Controller"])
        let removing = try #require(events.first { $0["reason"] == "RemovingNode" })
        #expect(removing["message"] == "Node node-2 event: Removing Node node-2 from Controller")
        // RecordNodeEvent's hand-made reference: apiVersion, kind, name and the node's UID, no resourceVersion.
        #expect(removing["involvedObject"]?.objectValue?.keys == ["apiVersion", "kind", "name", "uid"])
        #expect(removing[path: ["involvedObject", "uid"]] == registered.first { $0[path: ["involvedObject", "name"]] == "node-2" }?[path: ["involvedObject", "uid"]])
        #expect(removing[path: ["source", "component"]] == "node-controller" && removing["type"] == "Normal")
    }

    @Test("the scheduler's Events are events.k8s.io/v1's, read as core/v1: eventTime, action and reportingInstance, empty source, no count")
    func schedulerShape() async throws {
        let events = try await readingSimulatedLog("unschedulable.yaml") { log, _ in try log.list(kind: "Event", namespace: nil).records.map(\.object) }
        let scheduler = events.filter { $0["reportingComponent"] == "default-scheduler" }
        #expect(scheduler.map { $0["reason"] } == ["FailedScheduling", "Scheduled"])
        for event in scheduler {
            #expect(event.objectValue?.keys == ["apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "source", "firstTimestamp",
                                                 "lastTimestamp", "type", "eventTime", "action", "reportingComponent", "reportingInstance"])
            #expect(event["source"] == .object(JSONObject()) && event["firstTimestamp"] == .null && event["lastTimestamp"] == .null)
            #expect(event["reportingInstance"] == "default-scheduler-orca-control-plane")
        }
        #expect(scheduler.map { $0["action"] } == ["Scheduling", "Binding"])
        #expect(scheduler.last?["eventTime"] == "2026-01-01T00:00:20.000000Z")
    }
}
