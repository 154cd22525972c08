import Foundation
import OrcaAPI
import Testing

/// The sample plugin (Controllers/Examples/NodeDrain), built by `swift build` as
/// libNodeDrainPlugin.so, loaded by real `orca` processes with `--plugin`.
@Suite("Plugins", .serialized)
struct PluginTests {
    var pluginPath: String { productsDirectory.appendingPathComponent("libNodeDrainPlugin.so").path }

    @Test("a library that is not a plugin is refused with a clear error, and nothing is created")
    func badPlugins() throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let missing = try run("orca", ["run", "--plugin", dir.sub("nope.so"), "--data", data])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot load plugin \(dir.sub("nope.so")): no such file"), "\(missing.stderr)")

        let text = dir.sub("text.so")
        try "not a library".write(toFile: text, atomically: true, encoding: .utf8)
        let notELF = try run("orca", ["run", "--plugin", text, "--data", data])
        #expect(notELF.status != 0)
        #expect(notELF.stderr.contains("cannot load plugin \(text):") && notELF.stderr.contains("(a plugin is a shared library built with"),
                "the loader's own reason, then the hint: \(notELF.stderr)")

        // libOrca.so is a real Swift library, but it exports no entry point.
        let runtime = productsDirectory.appendingPathComponent("libOrca.so").path
        let noEntry = try run("orca", ["simulate", "-", "--plugin", runtime, "--data", data], stdin: "until: 1s\n")
        #expect(noEntry.status == 2)
        #expect(noEntry.stderr.contains("not an Orca plugin: it exports no orca_plugin_api_version function"), "\(noEntry.stderr)")

        // A plugin controller may not take a built-in's name; one with a new name is listed.
        let unknown = try run("orca", ["run", "--plugin", pluginPath, "--controllers", "nosuch", "--data", data])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("known controllers: replicaset,"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains(", node-drain"), "the plugin's controller is among the known ones: \(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data), "a refused run creates nothing")

        // --list shows built-ins and the plugin's controllers, and opens nothing.
        let listed = try run("orca", ["run", "--plugin", pluginPath, "--list", "--data", data])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("  replicaset "), "\(listed.stdout)")
        #expect(listed.stdout.contains("  node-drain ") && listed.stdout.contains("cordons nodes annotated drain.orca.dev/requested=true"),
                "\(listed.stdout)")
        #expect(!FileManager.default.fileExists(atPath: data), "--list creates nothing")
    }

    @Test("orca run --plugin: the plugin's controller drains a node while the built-ins move its pods")
    func liveDrain() async throws {
        let dir = TemporaryDirectory()
        let data = dir.sub("data")
        let server = try Server(["run", "--data", data, "--nodes", "2", "--plugin", pluginPath])

        let replicaSet = """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec:
          replicas: 4
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: nginx}]
        """
        #expect(try await applyWhenReady(replicaSet, data: data))
        // Wait for both nodes to hold pods, so the drain has something to move.
        let onNode1 = try await poll(attempts: 150) {
            try pods(data).contains { $0.node == "node-1" && $0.phase == "Running" } ? true : nil
        }
        try #require(onNode1 == true, "the scheduler spread the pods over both nodes")

        let drain = try run("orca", ["apply", "-f", "-", "--data", data], stdin: """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, annotations: {drain.orca.dev/requested: "true"}}
        """)
        #expect(drain.status == 0, "\(drain.stderr)")
        let drained = try await poll(attempts: 200) { () throws -> JSONValue? in
            let node = try nodeOne(data)
            return node?[path: ["metadata", "annotations", "drain.orca.dev/status"]]?.stringValue == "Drained" ? node : nil
        }
        let node = try #require(drained, "node-1 is Drained within 20 s")
        #expect(node[path: ["spec", "unschedulable"]] == .bool(true))
        // The ReplicaSet replaced every evicted pod on the remaining node.
        let moved = try await poll(attempts: 150) {
            let now = try pods(data)
            return now.count == 4 && now.allSatisfy({ $0.node == "node-2" && $0.phase == "Running" }) ? true : nil
        }
        let final = try pods(data)
        #expect(moved == true, "\(final)")
        let events = try run("orca", ["get", "events", "-o", "json", "--data", data])
        #expect(events.stdout.contains("\"reason\": \"NodeDrained\""), "the plugin records its Event")

        // Undo: removing the request uncordons the node.
        let undo = try run("orca", ["apply", "-f", "-", "--data", data], stdin: """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, annotations: {}}
        """)
        #expect(undo.status == 0, "\(undo.stderr)")
        let uncordoned = try await poll(attempts: 100) {
            guard let node = try nodeOne(data) else { return nil as Bool? }
            return node[path: ["spec", "unschedulable"]] == nil
                && node[path: ["metadata", "annotations", "drain.orca.dev/status"]] == nil ? true : nil
        }
        #expect(uncordoned == true)
        let stopped = server.stop()
        #expect(stopped.status == 0)
        #expect(stopped.stderr.contains("loaded plugin \"node-drain\""), "\(stopped.stderr)")
    }

    @Test("orca simulate --plugin: the plugin runs in the deterministic simulation; two runs give the same log")
    func simulatedDrain() throws {
        let dir = TemporaryDirectory()
        let scenario = """
        name: drain node-1 at 10s
        until: 1m
        nodes: {count: 2}
        steps:
          - at: 0s
            apply: |
              apiVersion: apps/v1
              kind: ReplicaSet
              metadata: {name: web}
              spec:
                replicas: 4
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: c, image: nginx}]}
          - at: 10s
            patch: {kind: Node, name: node-1}
            merge: {metadata: {annotations: {drain.orca.dev/requested: "true"}}}
        expect:
          - {kind: Pod, selector: app=web, at: 9s, count: 2, node: node-1, phase: Running}
          - {kind: Node, name: node-1, at: 10s, spec: {unschedulable: true}, metadata: {annotations: {drain.orca.dev/requested: "true"}}}
          - {kind: Node, name: node-1, metadata: {annotations: {drain.orca.dev/status: Drained}}}
          - {kind: Pod, selector: app=web, count: 4, node: node-2, phase: Running}
          - {kind: Event, reason: NodeDrained, count: 1}
        """
        var exports: [String] = []
        for attempt in 1...2 {
            let data = dir.sub("run\(attempt)")
            let result = try run("orca", ["simulate", "-", "--plugin", pluginPath, "--data", data], stdin: scenario)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("all 5 expectations held"), "\(result.stdout)")
            exports.append(try run("orca", ["log", "--data", data, "-o", "json"]).stdout)
        }
        #expect(!exports[0].isEmpty && exports[0] == exports[1], "same scenario, same seed, same plugin: the same log")
        // Re-run against the first log, the plugin alone stands in for what it recorded.
        let rerun = try run("orca", ["rerun", dir.sub("run1"), "--plugin", pluginPath, "--replace", "controller/node-drain",
                                     "--data", dir.sub("rerun")])
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        #expect(rerun.stdout.contains("written by the controllers: controller/node-drain "), "\(rerun.stdout)")
    }

    func nodeOne(_ data: String) throws -> JSONValue? {
        try JSONValue.parse(try run("orca", ["get", "node", "node-1", "-o", "json", "--data", data]).stdout)
    }

    func pods(_ data: String) throws -> [(name: String, node: String, phase: String)] {
        let got = try run("orca", ["get", "pods", "-o", "json", "--data", data])
        guard got.status == 0, let list = try? JSONValue.parse(got.stdout) else { return [] }
        return (list["items"]?.arrayValue ?? []).compactMap { pod in
            guard pod[path: ["metadata", "deletionTimestamp"]] == nil else { return nil }
            return (pod[path: ["metadata", "name"]]?.stringValue ?? "", pod[path: ["spec", "nodeName"]]?.stringValue ?? "",
                    pod[path: ["status", "phase"]]?.stringValue ?? "")
        }
    }
}
