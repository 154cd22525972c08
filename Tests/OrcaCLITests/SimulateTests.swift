import Foundation
import OrcaAPI
import Testing

/// Tests/Scenarios.
let scenarioDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Scenarios")

/// Runs the README's example scenario (Docs/examples/web.yaml) into a data directory in `dir`.
func simulateWebExample(into dir: TemporaryDirectory) throws -> String {
    let data = dir.sub("data")
    let example = scenarioDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/examples/web.yaml").path
    let result = try run("orca", ["simulate", example, "--data", data])
    #expect(result.status == 0, "\(result.stderr)")
    return data
}

/// The name of the first pod deleted in a log (the example's scale-down removes three).
func firstDeletedPod(in data: String) throws -> String? {
    try run("orca", ["log", "-o", "json", "--data", data]).stdout.split(separator: "\n")
        .map { try JSONValue.parse(String($0)) }
        .first { $0["type"] == "DELETED" && $0[path: ["object", "kind"]] == "Pod" }?[path: ["object", "metadata", "name"]]?.stringValue
}

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

    @Test("orca why follows a deleted pod's causes back to the scenario step that scaled its ReplicaSet down")
    func why() throws {
        let dir = TemporaryDirectory()
        let data = try simulateWebExample(into: dir)
        // A pod the scale-down (steps[3]) removed.
        let pod = try #require(try firstDeletedPod(in: data))

        let text = try run("orca", ["why", "pod", pod, "--data", data])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("DELETED  Pod default/\(pod)  by kubelet/"))
        #expect(text.stdout.contains("MODIFIED  ReplicaSet default/web  by scenario/steps[3]"))
        #expect(text.stdout.contains("      spec.replicas: 5 → 2"))
        // The last link is the step's own write, and the summary names it.
        let lines = text.stdout.split(separator: "\n")
        let origin = try #require(lines.last(where: { $0.hasPrefix("seq ") })?.split(separator: " ")[1])
        #expect(lines.last == "Started by: the scenario step steps[3], seq \(origin).")

        // The same chain in the history format: newest first, each event caused by the next.
        let json = try run("orca", ["why", "pods", pod, "-o", "json", "--data", data])
        #expect(json.status == 0)
        let events = try json.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(events.count >= 3)
        for (effect, cause) in zip(events, events.dropFirst()) { #expect(effect["cause"] == cause["seq"]) }
        #expect(events.last?["cause"] == nil)
        #expect(events.last?["actor"] == "scenario/steps[3]")

        // As of 30 s the ReplicaSet's latest change came from the scale-up (steps[1]).
        let early = try run("orca", ["why", "rs", "web", "--at-time", "30s", "--data", data])
        #expect(early.stdout.contains("Started by: the scenario step steps[1]"))
        #expect(!early.stdout.contains("steps[3]"))

        // Why the pod exists: the ReplicaSet created it, for the scenario's first step.
        let created = try run("orca", ["why", "pod", pod, "--created", "--data", data])
        #expect(created.stdout.contains("ADDED  Pod default/\(pod)  by controller/replicaset"))
        #expect(created.stdout.contains("ADDED  ReplicaSet default/web  by scenario/steps[0]"))

        let missing = try run("orca", ["why", "pod", "nope", "--data", data])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("Error from server (NotFound): pods \"nope\" not found"))
        #expect(try run("orca", ["why", "pod", pod, "-o", "yaml", "--data", data]).status != 0)
    }

    @Test("get events, leases and resource quotas print kubectl's columns")
    func kubectlTables() throws {
        let dir = TemporaryDirectory()
        let data = try simulateWebExample(into: dir)
        let events = try run("orca", ["get", "events", "--data", data]).stdout.split(separator: "\n")
        #expect(events.first?.split(separator: " ", omittingEmptySubsequences: true) == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"])
        #expect(events.contains { $0.contains("Normal") && $0.contains("SuccessfulCreate") && $0.contains("replicaset/web") && $0.contains("Created pod: web-") })
        let leases = try run("orca", ["get", "lease", "node-1", "-n", "kube-node-lease", "--data", data]).stdout.split(separator: "\n")
        #expect(leases.first?.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "HOLDER", "AGE"])
        #expect(leases.dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).prefix(2) == ["node-1", "node-1"])
        let quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: \"2\", limits.cpu: \"4\"}}\n"
        let empty = dir.sub("empty")  // no pods: nothing is used
        #expect(try run("orca", ["apply", "-f", "-", "--data", empty], stdin: quota).status == 0)
        let quotas = try run("orca", ["get", "quota", "--data", empty]).stdout.split(separator: "\n")
        #expect(quotas.first?.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "AGE", "REQUEST", "LIMIT"])
        #expect(quotas.dropFirst().first?.hasSuffix("pods: 0/2   limits.cpu: 0/4") == true)
    }

    @Test("orca diff shows what changed in an object between two moments")
    func diff() throws {
        let dir = TemporaryDirectory()
        let data = try simulateWebExample(into: dir)
        // Between 20 s and 1 m the ReplicaSet was scaled from 3 to 5 (steps[1] at 30 s).
        let text = try run("orca", ["diff", "rs", "web", "--from-time", "20s", "--to-time", "1m", "--data", data])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ReplicaSet default/web: seq ") == true)
        #expect(lines.contains("  spec.replicas: 3 → 5"))
        #expect(lines.contains("  status.readyReplicas: 3 → 5"))
        #expect(!lines.contains { $0.contains("resourceVersion") })

        let json = try JSONValue.parse(try run("orca", ["diff", "rs", "web", "--from-time", "20s", "--to-time", "1m", "-o", "json", "--data", data]).stdout)
        let replicas = json["changes"]?.arrayValue?.first { $0["path"] == "spec.replicas" }
        #expect(replicas?["old"] == 3 && replicas?["new"] == 5)
        #expect(json[path: ["to", "object", "spec", "replicas"]] == 5)

        // A pod of the scale-down (steps[3] at 4 m) is gone by the end.
        let pod = try #require(try firstDeletedPod(in: data))
        let gone = try run("orca", ["diff", "pod", pod, "--from-time", "1m", "--data", data])
        #expect(gone.stdout.hasSuffix("  deleted in between\n"))

        #expect(try run("orca", ["diff", "rs", "web", "--data", data]).status == 1)
        let backwards = try run("orca", ["diff", "rs", "web", "--from-time", "1m", "--to-time", "20s", "--data", data])
        #expect(backwards.status == 1 && backwards.stderr.contains("is after the --to moment"))
    }

    @Test("orca compare: two runs of one scenario are identical; a changed step is the first divergence")
    func compare() throws {
        let dir = TemporaryDirectory()
        let data = try simulateWebExample(into: dir)
        let again = dir.sub("again")
        let example = scenarioDirectory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Docs/examples/web.yaml")
        #expect(try run("orca", ["simulate", example.path, "--data", again]).status == 0)
        let same = try run("orca", ["compare", again, "--data", data])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.hasSuffix("identical\n"))

        // The scale-up of steps[1] to 6 instead of 5.
        let changed = dir.sub("six.yaml")
        try String(contentsOf: example, encoding: .utf8).replacingOccurrences(of: "replicas: 5}}", with: "replicas: 6}}")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let six = dir.sub("six")
        _ = try run("orca", ["simulate", changed, "--data", six])  // its 1 m expectation fails: 6 pods, not 5
        let diverged = try run("orca", ["compare", six, "--data", data])
        #expect(diverged.status == 1)
        #expect(diverged.stdout.contains("first divergence at seq"))
        #expect(diverged.stdout.contains("MODIFIED  ReplicaSet default/web  by scenario/steps[1]"))
        #expect(diverged.stdout.contains("      spec.replicas: 5 → 6"))
        let json = try JSONValue.parse(try run("orca", ["compare", six, "-o", "json", "--data", data]).stdout)
        #expect(json["identical"] == false)
        #expect(json[path: ["divergence", "first", "actor"]] == "scenario/steps[1]")
        #expect(json[path: ["divergence", "changes"]]?.arrayValue?.first?["path"] == "spec.replicas")

        let missing = try run("orca", ["compare", dir.sub("nothing"), "--data", data])
        #expect(missing.status == 2 && missing.stderr.contains("there is no Orca log at"))
    }

    @Test("Docs/Replay.md: its transcripts are what the commands print (up to an elided line)")
    func replayDocTranscripts() throws {
        let root = scenarioDirectory.deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("Docs/Replay.md"), encoding: .utf8)
        let dir = TemporaryDirectory()
        let data = dir.sub("nd")
        #expect(try run("orca", ["simulate", root.appendingPathComponent("Tests/Scenarios/node-dies.yaml").path, "--data", data]).status == 0)
        // Each `$ orca …` line of a code block, and the lines after it up to the next command or
        // the block's end; "…" ends what is compared. The listing of the end state is left out:
        // its AGE column is measured from the wall clock.
        var checked = 0
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, line) in lines.enumerated() where line.hasPrefix("$ orca ") && line.contains("--data /tmp/nd") {
            let command = line.dropFirst("$ orca ".count).split(separator: " ").map(String.init)
            if command.starts(with: ["get", "pods", "-o", "wide", "--data"]) { continue }
            var expected: [String] = []
            for next in lines[(i + 1)...] {
                if next.hasPrefix("$ ") || next.hasPrefix("```") || next == "…" { break }
                expected.append(next)
            }
            let arguments = command.map { $0 == "/tmp/nd" ? data : $0 }
            let output = try run("orca", arguments).stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(Array(output.prefix(expected.count)) == expected, "orca \(command.joined(separator: " "))")
            checked += 1
        }
        #expect(checked == 3)
    }
}
