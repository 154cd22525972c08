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
