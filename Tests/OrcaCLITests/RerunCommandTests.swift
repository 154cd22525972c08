import Foundation
import OrcaAPI
import Testing

@Suite("orca rerun: controllers against a recorded history")
struct RerunCommandTests {
    /// What Orca's Job controller (Kubernetes 1.31–1.33 behaviour) writes that the recording's
    /// 1.26 controller did not, and the second by which it completes the Job earlier.
    static let newerThan126 = ["status.terminating", "status.conditions[SuccessCriteriaMet]",
                               "status.conditions[Complete].reason", "status.conditions[Complete].message"]
    static let timing = ["status.conditions[Complete].lastProbeTime", "status.conditions[Complete].lastTransitionTime",
                         "status.completionTime"]

    @Test("the Job controller against the recorded Kubernetes 1.26 history: 100 pods matched under their recorded names, every pod ends as recorded")
    func kubernetesHistory() throws {
        let history = try #require(sharedDirectory?.appendingPathComponent("histories/k8s-1.26-job-100.jsonl"))
        let dir = TemporaryDirectory()
        let result = try run("orca", ["rerun", history.path, "--controller", "job", "--data", dir.sub("run"), "-o", "json"])
        #expect(result.status == 1, "\(result.stderr)")  // the Job's status diverges (below)
        let report = try JSONValue.parse(result.stdout)
        #expect(report["events"] == 535 && report["replaced"] == 234 && report["applied"] == 301 && report["diverged"] == true)
        let writers = report["writers"]?.arrayValue ?? []
        #expect(writers.map { [$0["name"], $0["events"], $0["replaced"]] } == [
            ["kube-controller-manager", 234, 234], ["python-requests", 201, 0], ["kube-scheduler", 100, 0],
        ])
        let pods = try #require(report["creations"]?.arrayValue?.first { $0["kind"] == "Pod" })
        #expect(pods["recorded"] == 100 && pods["run"] == 100 && pods["matched"] == 100 && pods["inHistory"] == true)
        let events = try #require(report["creations"]?.arrayValue?.first { $0["kind"] == "Event" })
        #expect(events["inHistory"] == false && events["recorded"] == 0)
        #expect(report["compared"] == 101 && report["skipped"] == [])
        // Every pod ends as recorded; the Job differs only where Orca's controller is newer.
        let states = report["endStates"]?.arrayValue ?? []
        #expect(states.map { $0[path: ["recorded", "name"]] } == ["job100"])
        let paths = Set(states.first?["changes"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? [])
        #expect(paths == Set(Self.newerThan126 + Self.timing))
        // The run's pods carry the recorded names, and the run can be read like any log.
        let pod = try run("orca", ["get", "pod", "job100-tbbx7", "-n", "job100", "-o", "json", "--data", dir.sub("run")])
        #expect(pod.status == 0)
        #expect(try JSONValue.parse(pod.stdout)[path: ["status", "phase"]] == "Succeeded")

        #expect(states.first?["since"] == .null)  // `terminating` is written from the first status update on
        // Without the newer fields, the completion a second early is the difference, since then.
        let newer = Self.newerThan126.flatMap { ["--ignore", $0] }
        let timing = try run("orca", ["rerun", history.path, "--controller", "job", "--data", dir.sub("timing"), "-o", "json"] + newer)
        let timed = try JSONValue.parse(timing.stdout)["endStates"]?.arrayValue ?? []
        #expect(timed.count == 1 && timed.first?["since"] == "2026-11-21T19:19:05Z")
        let ignoring = (Self.newerThan126 + Self.timing).flatMap { ["--ignore", $0] }
        let same = try run("orca", ["rerun", history.path, "--controller", "job", "--data", dir.sub("run"), "--force"] + ignoring)
        #expect(same.status == 0, "\(same.stdout)")
        #expect(same.stdout.hasSuffix("end states: 101 objects compared, 0 differ\nno divergence\n"))
    }

    @Test("a simulated log re-run with its scenario's settings reproduces itself; other settings diverge")
    func simulatedLog() throws {
        let dir = TemporaryDirectory()
        let scenario = repositoryRoot.appendingPathComponent("Tests/Scenarios/pod-gc.yaml").path
        #expect(try run("orca", ["simulate", scenario, "--data", dir.sub("sim")]).status == 0)
        let same = try run("orca", ["rerun", dir.sub("sim"), "--controller", "podgc,garbagecollector", "--scenario", scenario, "--data", dir.sub("a")])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let other = try run("orca", ["rerun", dir.sub("sim"), "--controller", "podgc", "--data", dir.sub("b")])
        #expect(other.status == 1)
        #expect(other.stdout.contains("  Pod default/done-1, different since 2026-01-01T00:00:20Z: deleted in the history, not in the run\n"))
    }

    @Test("bad input exits 2 with a clear error and writes no log")
    func badInput() throws {
        let dir = TemporaryDirectory()
        let history = dir.sub("h.jsonl")
        try #"{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"default"}}}"#
            .appending("\n{\"type\":\"BOGUS\"}\n").write(toFile: history, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["rerun", history, "--controller", "job"], "error: \(history): line 2: unsupported type \"BOGUS\""),
            (["rerun", dir.sub("missing.jsonl"), "--controller", "job"], "missing.jsonl"),
            (["rerun", "-", "--controller", "jobs"], "error: unknown controller \"jobs\""),
            (["rerun", "-", "--controller", "job", "--settle", "soon"], "error: invalid --settle \"soon\""),
            (["rerun", "-", "--controller", "job", "-o", "yaml"], "error:"),
        ]
        let one = #"{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"default"}}}"# + "\n"
        for (arguments, message) in cases {
            let result = try run("orca", arguments + ["--data", dir.sub("out")], stdin: one)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.sub("out")), "\(arguments)")
        }
        // A data directory in use is refused unless --force.
        try FileManager.default.createDirectory(atPath: dir.sub("used"), withIntermediateDirectories: true)
        try "x".write(toFile: dir.sub("used/keep"), atomically: true, encoding: .utf8)
        let used = try run("orca", ["rerun", "-", "--controller", "job", "--data", dir.sub("used")], stdin: one)
        #expect(used.status == 2 && used.stderr.contains("is not empty"))
        #expect(FileManager.default.fileExists(atPath: dir.sub("used/keep")))
    }

    @Test("a history file is read a block of lines at a time: a long export re-runs as its log does; a bad line far down exits 2 and leaves no log")
    func longFile() throws {
        let dir = TemporaryDirectory()
        let scenario = dir.sub("many.yaml")
        try """
        name: many
        until: 1m
        nodes: {count: 5}
        steps:
          - at: 0s
            apply: |
              apiVersion: apps/v1
              kind: ReplicaSet
              metadata: {name: many}
              spec:
                replicas: 300
                selector: {matchLabels: {app: many}}
                template:
                  metadata: {labels: {app: many}}
                  spec: {containers: [{name: c, image: nginx}]}
          - at: 30s
            patch: {kind: ReplicaSet, name: many}
            merge: {spec: {replicas: 100}}
        """.write(toFile: scenario, atomically: true, encoding: .utf8)
        #expect(try run("orca", ["simulate", scenario, "--data", dir.sub("sim")]).status == 0)
        let export = try run("orca", ["export", "--data", dir.sub("sim")]).stdout
        let lines = export.split(separator: "\n")
        #expect(lines.count > 2048)  // three blocks
        // CRLF line ends, as a history copied from another system may have.
        try lines.joined(separator: "\r\n").write(toFile: dir.sub("h.jsonl"), atomically: true, encoding: .utf8)
        func report(_ history: String, _ data: String) throws -> JSONValue {
            let result = try run("orca", ["rerun", history, "--controller", "replicaset", "--data", dir.sub(data), "-o", "json"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            return try JSONValue.parse(result.stdout)
        }
        let fromFile = try report(dir.sub("h.jsonl"), "a")
        let fromLog = try report(dir.sub("sim"), "b")
        #expect(fromFile == fromLog)
        #expect(fromFile["events"] == .int(Int64(lines.count)))
        // A bad line in the third block: nothing is created.
        var broken = lines.map(String.init)
        broken[2100] = "{not json"
        try broken.joined(separator: "\n").write(toFile: dir.sub("bad.jsonl"), atomically: true, encoding: .utf8)
        let bad = try run("orca", ["rerun", dir.sub("bad.jsonl"), "--controller", "replicaset", "--data", dir.sub("c")])
        #expect(bad.status == 2 && bad.stderr.contains("line 2101: invalid JSON"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.sub("c")))
    }
}
