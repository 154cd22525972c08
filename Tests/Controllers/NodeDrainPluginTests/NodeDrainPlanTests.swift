import NodeDrainPlugin
import Orca
import Testing

/// The sample plugin's pure decision, `NodeDrainController.plan(_:pods:)`.
@Suite("Sample plugin: node drain plan")
struct NodeDrainPlanTests {
    func node(annotations: [String: String] = [:], unschedulable: Bool? = nil) throws -> Node {
        var object: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1"], "spec": [:]]
        if !annotations.isEmpty {
            object[path: ["metadata", "annotations"]] = .object(JSONObject(entries: annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        if let unschedulable { object[path: ["spec", "unschedulable"]] = .bool(unschedulable) }
        return try #require(Node(object))
    }

    func pod(_ name: String, owner: String? = nil, mirror: Bool = false, terminating: Bool = false) throws -> Pod {
        var object: JSONValue = ["apiVersion": "v1", "kind": "Pod",
                                 "metadata": ["name": .string(name), "namespace": "default"],
                                 "spec": ["nodeName": "n1", "containers": [["name": "c", "image": "x"]]]]
        if let owner {
            object[path: ["metadata", "ownerReferences"]] = [["apiVersion": "apps/v1", "kind": .string(owner), "name": "o", "uid": "u", "controller": true]]
        }
        if mirror { object[path: ["metadata", "annotations"]] = ["kubernetes.io/config.mirror": "x"] }
        if terminating { object[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:00:00Z" }
        return try #require(Pod(object))
    }

    @Test("a node nobody asked to drain is left alone, with or without pods")
    func untouched() throws {
        let plan = NodeDrainController.plan(try node(), pods: [try pod("a", owner: "ReplicaSet")])
        #expect(plan == NodeDrainController.Plan(patch: .object([:]), evict: [], drainedNow: false))
    }

    @Test("requested: cordon, evict every pod but DaemonSet, mirror and already-terminating ones, status Draining")
    func draining() throws {
        let pods = [try pod("rs", owner: "ReplicaSet"), try pod("bare"), try pod("ds", owner: "DaemonSet"),
                    try pod("mirror", mirror: true), try pod("going", owner: "Job", terminating: true)]
        let plan = NodeDrainController.plan(try node(annotations: [NodeDrainController.requestAnnotation: "true"]), pods: pods)
        #expect(plan.evict.map { $0.metadata.name ?? "" } == ["rs", "bare"])
        #expect(plan.patch == ["spec": ["unschedulable": true],
                               "metadata": ["annotations": [.init(stringLiteral: NodeDrainController.statusAnnotation): "Draining"]]])
        #expect(!plan.drainedNow)
    }

    @Test("requested and only ignored pods left: Drained once, then nothing more to do")
    func drained() throws {
        let ignoredOnly = [try pod("ds", owner: "DaemonSet"), try pod("mirror", mirror: true)]
        let cordoned = try node(annotations: [NodeDrainController.requestAnnotation: "true",
                                              NodeDrainController.statusAnnotation: "Draining"], unschedulable: true)
        let plan = NodeDrainController.plan(cordoned, pods: ignoredOnly)
        #expect(plan.evict.isEmpty && plan.drainedNow)
        #expect(plan.patch == ["metadata": ["annotations": [.init(stringLiteral: NodeDrainController.statusAnnotation): "Drained"]]])
        let done = try node(annotations: [NodeDrainController.requestAnnotation: "true",
                                          NodeDrainController.statusAnnotation: "Drained"], unschedulable: true)
        #expect(NodeDrainController.plan(done, pods: ignoredOnly) == NodeDrainController.Plan(patch: .object([:]), evict: [], drainedNow: false))
    }

    @Test("request withdrawn: uncordon and drop the status annotation")
    func undrain() throws {
        let plan = NodeDrainController.plan(try node(annotations: [NodeDrainController.statusAnnotation: "Drained"], unschedulable: true), pods: [])
        #expect(plan.patch == ["spec": ["unschedulable": nil],
                               "metadata": ["annotations": [.init(stringLiteral: NodeDrainController.statusAnnotation): nil]]])
        #expect(plan.evict.isEmpty && !plan.drainedNow)
    }
}
