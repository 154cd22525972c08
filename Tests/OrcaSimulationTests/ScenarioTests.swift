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

func temporaryLog() throws -> (LMDBEventLog, String) {
    let path = NSTemporaryDirectory() + "orca-sim-" + UUID().uuidString
    return (try LMDBEventLog(path: path, options: .init(create: true, durability: .unsynced)), path)
}

@Suite("scenarios in Tests/Scenarios")
struct ScenarioTests {
    @Test("the scenario directory is found and not empty")
    func found() { #expect(scenarioFiles.count >= 7) }

    @Test("every expectation of the scenario holds", arguments: scenarioFiles)
    func scenarioHolds(_ file: String) async throws {
        let text = try String(contentsOf: scenariosDirectory.appendingPathComponent(file), encoding: .utf8)
        let scenario = try Scenario.parse(text, file: file)
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
        let text = try String(contentsOf: scenariosDirectory.appendingPathComponent(file), encoding: .utf8)
        let scenario = try Scenario.parse(text, file: file)
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
