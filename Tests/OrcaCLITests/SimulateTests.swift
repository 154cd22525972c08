import Foundation
import OrcaAPI
import Testing

/// The repository's top directory.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Tests/Scenarios.
let scenarioDirectory = repositoryRoot.appendingPathComponent("Tests/Scenarios")


@Suite("orca simulate")
struct SimulateTests {
    @Test("the same scenario and seed give a byte-identical `orca log -o json`; another seed does not")
    func deterministic() throws {
        let dir = TemporaryDirectory()
        let scenario = scenarioDirectory.appendingPathComponent("garbage-collection.yaml").path
        var logs: [String] = []
        for (i, seed) in ["7", "7", "8"].enumerated() {
            let data = dir.sub("run\(i)")
            let result = try run("orca", ["simulate", scenario, "--data", data, "--seed", seed])
            #expect(result.status == 0, "\(result.stderr)")
            let log = try run("orca", ["log", "-o", "json", "--data", data])
            #expect(log.status == 0)
            logs.append(log.stdout)
        }
        #expect(logs[0].split(separator: "\n").count > 50)
        #expect(logs[0] == logs[1])
        #expect(logs[0] != logs[2])
    }

    @Test("pod state read back through orca get --at-time follows the crash back-off")
    func readBackAtTime() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let scenario = scenarioDirectory.appendingPathComponent("crash-backoff.yaml").path
        #expect(try run("orca", ["simulate", scenario, "--data", data]).status == 0)
        func restarts(at time: String) throws -> Int64? {
            let out = try run("orca", ["get", "pod", "crasher", "-o", "json", "--at-time", time, "--data", data])
            let pod = try JSONValue.parse(out.stdout)
            return pod[path: ["status", "containerStatuses"]]?.arrayValue?.first?["restartCount"]?.intValue
        }
        #expect(try restarts(at: "5s") == 0)
        #expect(try restarts(at: "6s") == 1)
        #expect(try restarts(at: "20s") == 1)
        #expect(try restarts(at: "21s") == 2)
        #expect(try restarts(at: "46s") == 3)
        // A simulated log's clock is virtual: ages count to its last event, not to today.
        // The scenario runs 3 minutes from 2026-01-01, so the pod is 3m old, not months.
        let table = try run("orca", ["get", "pod", "crasher", "--data", data]).stdout
        #expect(table.split(separator: "\n").last?.split(separator: " ").last == "3m", "\(table)")
        let waiting = try JSONValue.parse(try run("orca", ["get", "pod", "crasher", "-o", "json", "--at-time", "30s", "--data", data]).stdout)
        #expect(waiting[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting", "reason"]] == "CrashLoopBackOff")
    }

    @Test("a failed expectation exits 1 and prints the actual values")
    func failedExpectation() throws {
        let dir = TemporaryDirectory()
        let file = dir.sub("s.yaml")
        try """
        nodes: {count: 1}
        until: 10s
        steps:
          - at: 0s
            apply: |
              {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}}
        expect:
          - {name: p, phase: Succeeded}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run("orca", ["simulate", file, "--data", dir.sub("d")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("expect[0] (line 8): Pod p phase=Succeeded"))
        #expect(result.stderr.contains("p  phase=Running node=node-1 ready=True"))
    }

    @Test("bad scenarios exit 2 naming file, line and field", arguments: [
        ("steps:\n  - at: 1s\n    node: node-1\n    action: explode\n", ":4: steps[0].action: unknown node action \"explode\""),
        ("steps:\n  - at: soon\n    node: node-1\n    action: cordon\n", ":2: steps[0].at: invalid duration \"soon\""),
        ("nodes: {count: 1}\nsteps:\n  - at: 1s\n    node: node-9\n    action: cordon\n", ":3: steps[0].node: node \"node-9\" not found"),
        ("steps:\n  - at: 0s\n    apply: |\n      kind: Pod\n      metadata: {name: [\n", ":6: steps[0].apply: malformed manifest"),
        ("until: 1m\nbogus: 1\n", ":2: bogus: unknown field \"bogus\""),
        ("steps:\n  - at: 0s\n    pod: {selector: app=none}\n    action: evict\n", ":2: steps[0].pod: no live Pod matches selector \"app=none\""),
        ("expect:\n  - {kind: Pod, colour: blue}\n", ":2: expect[0].colour: unknown expectation field"),
        ("steps:\n  - at: 0s\n    fault: delay-watch\n    kind: Pod\n    controller: replicaset-typo\n    by: 5s\n",
         ":2: steps[0].controller: no controller \"replicaset-typo\" in this run (running: "),
        ("steps:\n  - at: 0s\n    fault: delay-watch\n    kind: Widget\n    controller: replicaset\n    by: 5s\n",
         ":2: steps[0].kind: unknown kind \"Widget\""),
    ])
    func badScenario(_ text: String, _ message: String) throws {
        let dir = TemporaryDirectory()
        let file = dir.sub("bad.yaml")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run("orca", ["simulate", file, "--data", dir.sub("d")])
        #expect(result.status == 2)
        #expect(result.stderr.contains(file + message), "\(result.stderr)")
    }

    @Test("a non-empty data directory is refused without --force")
    func nonEmptyDirectory() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("d")
        let file = scenarioDirectory.appendingPathComponent("phases.yaml").path
        #expect(try run("orca", ["simulate", file, "--data", data]).status == 0)
        let again = try run("orca", ["simulate", file, "--data", data])
        #expect(again.status == 2)
        #expect(again.stderr.contains("is not empty"))
        #expect(try run("orca", ["simulate", file, "--data", data, "--force"]).status == 0)
    }
}
