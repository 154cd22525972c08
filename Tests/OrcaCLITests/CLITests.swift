import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaStore
import Testing

@Suite("orca command line")
struct CLITests {
    @Test("apply, get, time travel, delete, describe and log work against one data directory")
    func roundTrip() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let manifest = """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: app, image: nginx}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, labels: {app: web}}
        spec: {nodeName: node-1, containers: [{name: app, image: busybox}]}
        """
        let applied = try run("orca", ["apply", "-f", "-", "--data", data], stdin: manifest)
        #expect(applied.status == 0)
        #expect(applied.stdout == "replicaset.apps/web created\npod/p created\n")
        #expect(try run("orca", ["apply", "-f", "-", "--data", data], stdin: manifest).stdout == "replicaset.apps/web unchanged\npod/p unchanged\n")
        let table = try run("orca", ["get", "rs", "--data", data])
        #expect(table.stdout.hasPrefix("NAME   DESIRED   CURRENT   READY   AGE\nweb    2         0         0"))
        let deleted = try run("orca", ["delete", "po", "p", "--data", data])
        #expect(deleted.stdout == "pod \"p\" deleted\n")
        let json = try JSONValue.parse(try run("orca", ["get", "Pod", "p", "-o", "json", "--data", data]).stdout)
        #expect(json[path: ["metadata", "deletionGracePeriodSeconds"]] == 30)
        // At seq 2 the pod was not yet being deleted.
        let before = try JSONValue.parse(try run("orca", ["get", "pods", "p", "-o", "json", "--at-seq", "2", "--data", data]).stdout)
        #expect(before[path: ["metadata", "deletionTimestamp"]] == nil)
        let list = try JSONValue.parse(try run("orca", ["get", "pods", "-l", "app=web", "-o", "json", "--data", data]).stdout)
        #expect(list["kind"] == "List" && list["items"]?.arrayValue?.count == 1)
        #expect(try run("orca", ["get", "pods", "-l", "app=db", "-o", "json", "--data", data]).stdout.contains("\"items\": []"))
        let describe = try run("orca", ["describe", "pod", "p", "--data", data])
        #expect(describe.stdout.contains("History:") && describe.stdout.contains("MODIFIED"))
        let events = try run("orca", ["log", "-o", "json", "--data", data]).stdout.split(separator: "\n")
        #expect(events.count == 3)
        #expect(try JSONValue.parse(String(events[2]))["seq"] == 3)
    }

    @Test("bad input: clear errors, non-zero status, nothing written")
    func badInput() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let malformed = try run("orca", ["apply", "-f", "-", "--data", data], stdin: "kind: Pod\nmetadata: {name: [unclosed\n")
        #expect(malformed.status == 1 && malformed.stderr.contains("error parsing"))
        let unknown = try run("orca", ["apply", "-f", "-", "--data", data], stdin: "apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n")
        #expect(unknown.status == 1 && unknown.stderr.contains("no matches for kind \"Widget\" in version \"v1\""))
        #expect(!FileManager.default.fileExists(atPath: data))
        let negative = try run("orca", ["apply", "-f", "-", "--data", data], stdin: """
        {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web"},"spec":{"replicas":-1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}
        """)
        #expect(negative.status == 1)
        #expect(negative.stderr.contains("The ReplicaSet \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"))
        // Several causes: kubectl's one per line.
        let twice = try run("orca", ["apply", "-f", "-", "--data", data], stdin: """
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Always","containers":[{"name":"c","image":"i"},{"name":"c","image":"i"}]}}}}
        """)
        #expect(twice.status == 1)
        #expect(twice.stderr == """
            The Job "j" is invalid: \n\
            * spec.template.spec.containers[1].name: Duplicate value: "c"
            * spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"

            """)
        let missing = try run("orca", ["get", "pods", "--data", dir.sub("nowhere")])
        #expect(missing.status == 1 && missing.stderr.contains("there is no Orca log"))
        let kind = try run("orca", ["get", "widgets", "--data", data])
        #expect(kind.status == 1 && kind.stderr.contains("doesn't have a resource type \"widgets\""))
        let badHistory = try run("orca", ["import", "-", "--data", dir.sub("h")], stdin: "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}}\n{\"type\":\"BOGUS\"}\n")
        #expect(badHistory.status == 1 && badHistory.stderr.contains("line 2"))
        let log = try run("orca", ["log", "--data", dir.sub("h")])
        #expect(log.stdout.isEmpty)
    }

    @Test("a real Kubernetes 1.26 history imports whole and exports field for field")
    func kubernetesHistory() throws {
        let history = try #require(sharedDirectory?.appendingPathComponent("histories/k8s-1.26-job-100.jsonl"))
        let dir = TemporaryDirectory()
        let imported = try run("orca", ["import", history.path, "--data", dir.sub("data")])
        #expect(imported.status == 0 && imported.stdout.contains("imported 535 events"))
        let original = try String(contentsOf: history, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        let exported = try run("orca", ["export", "--data", dir.sub("data")]).stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(exported.count == 535)
        for (a, b) in zip(original, exported) {
            #expect(a["type"] == b["type"])
            #expect(a["object"]?.jsonString() == b["object"]?.jsonString())  // same fields, same order
        }
        let job = try JSONValue.parse(try run("orca", ["get", "job", "job100", "-n", "job100", "-o", "json", "--data", dir.sub("data")]).stdout)
        #expect(job[path: ["status", "succeeded"]] == 100)
        let early = try JSONValue.parse(try run("orca", ["get", "pods", "-n", "job100", "-o", "json", "--at-seq", "11", "--data", dir.sub("data")]).stdout)
        // As many pods as the first 11 lines of the history leave alive.
        var alive = Set<String>()
        for line in original.prefix(11) where line[path: ["object", "kind"]] == "Pod" {
            let name = line[path: ["object", "metadata", "name"]]?.stringValue ?? ""
            if line["type"] == "DELETED" { alive.remove(name) } else { alive.insert(name) }
        }
        #expect(alive.count > 1)
        #expect(early["items"]?.arrayValue?.count == alive.count)
        // --attribute names the writers managedFields give, and the scheduler for the bindings.
        #expect(try run("orca", ["import", "--attribute", history.path, "--data", dir.sub("attributed")]).status == 0)
        var actors: [String: Int] = [:]
        for line in try run("orca", ["log", "-o", "json", "--data", dir.sub("attributed")]).stdout.split(separator: "\n") {
            actors[try JSONValue.parse(String(line))["actor"]?.stringValue ?? "", default: 0] += 1
        }
        #expect(actors == ["kube-controller-manager": 234, "python-requests": 201, "kube-scheduler": 100])
    }

    @Test("delete namespace: Terminating in get, and a create in it is refused as kubectl reports it")
    func terminatingNamespace() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        #expect(try run("orca", ["apply", "-f", "-", "--data", data], stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n").status == 0)
        #expect(try run("orca", ["delete", "ns", "team", "--data", data]).stdout == "namespace \"team\" deleted\n")
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: team}\nspec: {containers: [{name: c, image: nginx}]}\n"
        let refused = try run("orca", ["apply", "-f", "-", "--data", data], stdin: pod)
        #expect(refused.status == 1)
        #expect(refused.stderr == "Error from server (Forbidden): error when creating \"STDIN\": pods \"web\" is forbidden: unable to create new content in namespace team because it is being terminated\n")
        let rows = try run("orca", ["get", "ns", "--data", data]).stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.first == ["NAME", "STATUS", "AGE"] && rows.dropFirst().first?.prefix(2) == ["team", "Terminating"])
        #expect(try run("orca", ["get", "pods", "-n", "team", "--data", data]).stderr == "No resources found in team namespace.\n")
    }
}

@Suite("orca run")
struct RunCommandTests {
    @Test("orca run lists its controllers and rejects unknown ones")
    func help() throws {
        let help = try run("orca", ["run", "--help"])
        #expect(help.stdout.contains("ttl-after-finished"))
        let dir = TemporaryDirectory()
        let bad = try run("orca", ["run", "--controllers", "nope", "--data", dir.sub("d")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains(#"unknown controller "nope""#))
    }

    @Test("a controller in `orca run` reacts to objects applied by `orca apply` from another process")
    func liveReaction() async throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let manifest = """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: short, namespace: default}
        spec:
          ttlSecondsAfterFinished: 0
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox}]
        """
        #expect(try run("orca", ["apply", "-f", "-", "--data", data], stdin: manifest).status == 0)
        let server = try Server(["run", "--data", data])

        // Finish the Job from this process (no Job controller runs here), through the store.
        let store = Store(log: try LMDBEventLog(path: data))
        let current = try #require(try store.get(kind: "Job", name: "short"))
        var status = current.value
        status[path: ["status"]] = ["conditions": [["type": "Complete", "status": "True",
                                                   "lastTransitionTime": .string(SystemClock().now().rfc3339)]]]
        _ = try await store.updateStatus(status)

        // The TTL controller deletes it in the foreground; the garbage collector, also running,
        // then removes the foregroundDeletion finalizer, so the Job may already be gone.
        var deleting = false
        for _ in 0..<300 {
            let job = try store.get(kind: "Job", name: "short")
            if job == nil || job?.deletionTimestamp != nil { deleting = true; break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(deleting, "the ttl-after-finished controller in `orca run` deleted the Job")
        let history = try run("orca", ["log", "--data", data])
        #expect(history.stdout.contains("Job/default/short\tcontroller/ttl-after-finished"), "\(history.stdout)")
        #expect(server.stop().status == 0)
    }

    @Test("orca run --nodes N registers simulated nodes whose kubelets run a pod applied from another shell")
    func liveNodes() async throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let negative = try run("orca", ["run", "--nodes=-1", "--data", data])
        #expect(negative.status != 0)
        #expect(negative.stderr.contains("--nodes must be 0 or more"), "\(negative.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data), "a rejected run creates nothing")

        let server = try Server(["run", "--data", data, "--nodes", "2"])

        let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers: [{name: c, image: nginx}]
        """
        #expect(try await applyWhenReady(pod, data: data))
        let running = try await poll(attempts: 150) { () throws -> JSONValue? in
            let got = try run("orca", ["get", "pod", "web", "-o", "json", "--data", data])
            guard got.status == 0, let json = try? JSONValue.parse(got.stdout),
                  json[path: ["status", "phase"]]?.stringValue == "Running" else { return nil }
            return json
        }
        let json = try #require(running, "the pod is Running within 15 s")
        let node = json[path: ["spec", "nodeName"]]?.stringValue ?? ""
        #expect(["node-1", "node-2"].contains(node))
        #expect(json[path: ["status", "podIP"]]?.stringValue?.hasPrefix("10.244.") == true)
        #expect(json[path: ["status", "conditions"]]?.arrayValue?.contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" } == true)

        let nodes = try run("orca", ["get", "nodes", "--data", data])
        #expect(nodes.stdout.contains("node-1   Ready"), "\(nodes.stdout)")
        #expect(nodes.stdout.contains("node-2   Ready"), "\(nodes.stdout)")
        let leases = try run("orca", ["get", "leases", "-n", "kube-node-lease", "--data", data])
        #expect(leases.stdout.contains("node-1") && leases.stdout.contains("node-2"), "\(leases.stdout)")
        #expect(server.stop().status == 0)
    }
}
