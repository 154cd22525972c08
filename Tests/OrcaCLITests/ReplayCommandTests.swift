import Foundation
import OrcaAPI
import Testing

/// Runs the README's example scenario (Docs/examples/web.yaml) into a data directory in `dir`.
func simulateWebExample(into dir: TemporaryDirectory) throws -> String {
    let data = dir.sub("data")
    let example = repositoryRoot.appendingPathComponent("Docs/examples/web.yaml").path
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

@Suite("reading a log: orca why, diff, compare, and kubectl's tables")
struct ReplayCommandTests {
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

    @Test("get jobs, daemonsets, nodes and pods print kubectl's columns and values")
    func kubectlWorkloadTables() throws {
        let dir = TemporaryDirectory()
        func rows(_ data: String, _ args: String...) throws -> [[Substring]] {
            try run("orca", ["get"] + args + ["--data", data]).stdout.split(separator: "\n")
                .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        }
        let jobs = dir.sub("jobs")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("job-pod-failure-policy.yaml").path, "--data", jobs]).status == 0)
        #expect(try rows(jobs, "jobs") == [["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
                                            ["fail-fast", "Failed", "0/4", "2m", "2m"], ["tolerant", "Complete", "1/1", "52s", "2m"]])
        #expect(try rows(jobs, "jobs", "fail-fast", "--at-time", "10s")[1].prefix(3) == ["fail-fast", "FailureTarget", "0/4"])
        let ds = dir.sub("ds")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("daemonset.yaml").path, "--data", ds]).status == 0)
        let header = try rows(ds, "ds").first
        #expect(header == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"])
        #expect(try rows(ds, "nodes").first == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"])
        let crash = dir.sub("crash")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("crash-backoff.yaml").path, "--data", crash]).status == 0)
        #expect(try rows(crash, "pods", "crasher").last?.dropFirst(3).prefix(3) == ["5", "(84s", "ago)"])
        // describe's Containers section, as kubectl's: state, last state, restarts.
        let described = try run("orca", ["describe", "pod", "crasher", "--data", crash]).stdout.split(separator: "\n").map(String.init)
        let containers = try #require(described.firstIndex(of: "Containers:"))
        #expect(Array(described[(containers + 1)...].prefix(12)) == [
            "  app:", "    Image:          busybox", "    State:          Running", "      Started:      2026-01-01T00:02:56Z",
            "    Last State:     Terminated", "      Reason:       Error", "      Exit Code:    1", "      Started:      2026-01-01T00:01:31Z",
            "      Finished:     2026-01-01T00:01:36Z", "    Ready:          True", "    Restart Count:  5", "Conditions:",
        ])
        // STATUS as kubectl derives it: a gated pod, an unfinished init container.
        let gated = dir.sub("gated")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("scheduling-gates.yaml").path, "--data", gated]).status == 0)
        #expect(try rows(gated, "pods", "--at-time", "5s").last?.prefix(3) == ["gated", "0/1", "SchedulingGated"])
        let initData = dir.sub("init")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("init-and-readiness.yaml").path, "--data", initData]).status == 0)
        #expect(try rows(initData, "pods", "init", "--at-time", "6s").last?.prefix(3) == ["init", "0/1", "Init:1/2"])
    }

    @Test("get and describe a Deployment as kubectl prints them: READY, UP-TO-DATE, AVAILABLE; replicas, strategy, ReplicaSets")
    func deploymentTableAndDescribe() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("deploy")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("deployment.yaml").path, "--data", data]).status == 0)
        let table = try run("orca", ["get", "deploy", "-o", "wide", "--data", data]).stdout.split(separator: "\n")
            .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(table.first == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"])
        #expect(table.first { $0.first == "api" } == ["api", "14/20", "9", "14", "6m", "app", "api:2", "app=api"])
        let described = try run("orca", ["describe", "deployment", "api", "--data", data]).stdout.split(separator: "\n").map(String.init)
        #expect(described.contains("Replicas:              20 desired | 9 updated | 23 total | 14 available | 9 unavailable"))
        #expect(described.contains("RollingUpdateStrategy: 2 max unavailable, 3 max surge"))
        #expect(described.contains { $0.hasPrefix("OldReplicaSets:        api-") && $0.hasSuffix(" (14/14 replicas created)") })
        #expect(described.contains { $0.hasPrefix("NewReplicaSet:         api-") && $0.hasSuffix(" (9/9 replicas created)") })
        // Several kinds at once (and `all`): a table each, names as kind.group/name; KIND/NAME.
        let many = try run("orca", ["get", "deploy,rs", "--data", data]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) ?? "" }
        #expect(Array(many.prefix(5)) == ["NAME", "deployment.apps/api", "deployment.apps/batch", "deployment.apps/web", ""])
        #expect(many[5] == "NAME" && many.dropFirst(6).filter { !$0.isEmpty }.allSatisfy { $0.hasPrefix("replicaset.apps/") })
        let everything = try run("orca", ["get", "all", "--data", data]).stdout
        #expect(everything.contains("\npod/web-") && everything.contains("\ndeployment.apps/batch ") && everything.contains("\nreplicaset.apps/api-"))
        #expect(try run("orca", ["get", "deploy/web", "--data", data]).stdout.split(separator: "\n").count == 2)
        #expect(try run("orca", ["get", "deploy", "-o", "name", "--data", data]).stdout == "deployment.apps/api\ndeployment.apps/batch\ndeployment.apps/web\n")
        let missing = try run("orca", ["get", "deploy,svc", "nope", "--data", data])
        #expect(missing.status == 1 && missing.stderr.contains("deployments.apps \"nope\" not found"))
    }

    @Test("get statefulsets prints kubectl's READY ready/replicas; -o wide adds containers and images")
    func statefulSetTable() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("sts")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("statefulset.yaml").path, "--data", data]).status == 0)
        let rows = try run("orca", ["get", "sts", "-o", "wide", "--data", data]).stdout.split(separator: "\n")
            .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows == [["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"], ["db", "3/3", "2m", "app", "db:2"],
                         ["par", "3/3", "2m", "app", "par:1"], ["web", "1/1", "2m", "app", "nginx:2"]])
        let described = try run("orca", ["describe", "sts", "db", "--data", data]).stdout.split(separator: "\n").map(String.init)
        #expect(described.contains("Replicas:         3 desired | 3 total") && described.contains("  Partition:      2"))
        #expect(described.contains("Pods Status:      3 Running / 0 Waiting / 0 Succeeded / 0 Failed"))
    }

    @Test("get cronjobs prints kubectl's SCHEDULE, TIMEZONE, SUSPEND, ACTIVE and LAST SCHEDULE")
    func cronJobTable() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("cj")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("cronjob.yaml").path, "--data", data]).status == 0)
        let rows = try run("orca", ["get", "cronjobs", "--data", data]).stdout.split(separator: "\n").map(String.init)
        #expect(rows.first?.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"])
        #expect(rows.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["tick", "*", "*", "*", "*", "*", "<none>", "False", "0", "60s", "6m"] })
        #expect(rows.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["swap", "*/2", "*", "*", "*", "*", "<none>", "False", "1", "2m", "6m"] })
        let described = try run("orca", ["describe", "cj", "swap", "--data", data]).stdout.split(separator: "\n").map(String.init)
        #expect(described.contains("Concurrency Policy:           Replace") && described.contains("Active Jobs:                  swap-29453764"))
        #expect(described.contains("Starting Deadline Seconds:    <unset>") && described.contains("Last Schedule Time:           2026-01-01T00:04:00Z"))
    }

    @Test("get namespaces prints kubectl's STATUS: Active, then Terminating until the namespace controller is done; describe shows its conditions")
    func namespaceTable() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("ns")
        #expect(try run("orca", ["simulate", scenarioDirectory.appendingPathComponent("namespace-deletion.yaml").path, "--data", data]).status == 0)
        func rows(at time: String) throws -> [[Substring]] {
            try run("orca", ["get", "ns", "--at-time", time, "--data", data]).stdout.split(separator: "\n")
                .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        }
        #expect(try rows(at: "5s") == [["NAME", "STATUS", "AGE"], ["fg", "Active", "5s"], ["quick", "Active", "5s"], ["team", "Active", "5s"]])
        #expect(try rows(at: "30s") == [["NAME", "STATUS", "AGE"], ["team", "Terminating", "30s"]])
        #expect(try run("orca", ["get", "ns", "--data", data]).stderr == "No resources found\n")
        let described = try run("orca", ["describe", "ns", "team", "--at-time", "30s", "--data", data]).stdout
            .split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(described.contains("Status: Terminating") && described.contains("Type Status LastTransitionTime Reason Message"))
        #expect(described.contains("NamespaceContentRemaining True 2026-01-01T00:00:20Z SomeResourcesRemain Some resources are remaining: pods. has 1 resource instances"))
        #expect(described.contains("No resource quota.") && described.contains("No LimitRange resource."))
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
        let example = repositoryRoot.appendingPathComponent("Docs/examples/web.yaml")
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
        let dir = TemporaryDirectory()
        let data = dir.sub("nd")
        #expect(try run("orca", ["simulate", repositoryRoot.appendingPathComponent("Tests/Scenarios/node-dies.yaml").path, "--data", data]).status == 0)
        // The re-run of the recorded Kubernetes history, and a why on its log.
        let history = try #require(sharedDirectory?.appendingPathComponent("histories/k8s-1.26-job-100.jsonl"))
        let paths = ["/tmp/nd": data, "/tmp/rerun": dir.sub("rerun"), "../shared/histories/k8s-1.26-job-100.jsonl": history.path]
        // The listing of the end state is left out: its AGE column is measured from the wall clock.
        let checked = try checkTranscripts(in: "Docs/Replay.md", directories: paths) { _ in false }
        #expect(checked == 6)
    }

    @Test("Docs/CLI.md: the transcripts of why, diff and compare are what the commands print")
    func cliDocTranscripts() throws {
        let dir = TemporaryDirectory()
        let web = try simulateWebExample(into: dir)
        let six = dir.sub("data6")  // as long as `data` plus one, as /tmp/web6 is to /tmp/web: the same padding
        let changed = dir.sub("six.yaml")
        try String(contentsOf: repositoryRoot.appendingPathComponent("Docs/examples/web.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "replicas: 5}}", with: "replicas: 6}}").write(toFile: changed, atomically: true, encoding: .utf8)
        _ = try run("orca", ["simulate", changed, "--data", six])
        let checked = try checkTranscripts(in: "Docs/CLI.md", directories: ["/tmp/web": web, "/tmp/web6": six]) { _ in false }
        #expect(checked == 4)
    }
}

/// Runs each `$ orca …` line of a doc's code blocks whose `--data` is one of `directories` (the
/// doc's paths, mapped to real ones), except `simulate`, `run` and `import` and what `skip`
/// says, and compares what it prints with the lines after it in the doc — up to the next command,
/// the block's end or a "…" line — with the real paths written back as the doc's. Returns how
/// many commands it checked.
func checkTranscripts(in docPath: String, directories: [String: String], skip: ([String]) -> Bool,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let doc = try String(contentsOf: repositoryRoot.appendingPathComponent(docPath), encoding: .utf8)
    let lines = doc.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var checked = 0
    for (i, line) in lines.enumerated() where line.hasPrefix("$ orca ") {
        let command = line.dropFirst("$ orca ".count).split(separator: " ").map(String.init)
        guard let data = command.firstIndex(of: "--data").map({ $0 + 1 }), data < command.count,
              directories[command[data]] != nil, !["simulate", "run", "import"].contains(command[0]), !skip(command) else { continue }
        var expected: [String] = []
        for next in lines[(i + 1)...] {
            if next.hasPrefix("$ ") || next.hasPrefix("```") || next == "…" { break }
            expected.append(next)
        }
        var output = try run("orca", command.map { directories[$0] ?? $0 }).stdout
        for (docPath, real) in directories.sorted(by: { $0.value.count > $1.value.count }) {
            output = output.replacingOccurrences(of: real, with: docPath)
        }
        let printed = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(printed.prefix(expected.count)) == expected, "orca \(command.joined(separator: " "))", sourceLocation: sourceLocation)
        checked += 1
    }
    return checked
}
