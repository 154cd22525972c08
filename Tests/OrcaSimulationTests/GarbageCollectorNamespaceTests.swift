import Foundation
import Orca
import OrcaLMDB
import Testing
@testable import OrcaSimulation

@Suite("the garbage collector and owners in another namespace")
struct GarbageCollectorNamespaceTests {
    @Test("a cross-namespace owner is absent (the dependent is deleted); a cluster-scoped dependent of a namespaced owner is left alone; both get OwnerRefInvalidNamespace")
    func invalidNamespace() async throws {
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var scenario = Scenario(file: "")
        scenario.config.disabled = Set(Simulation.controllerOrder).subtracting(["garbagecollector"])
        let simulation = Simulation(scenario: scenario, log: log)
        let store = simulation.manager.store
        let owner = try await store.create(try JSONValue.parse(
            #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"owner","namespace":"a"}}"#))
        let reference: JSONValue = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "name": "owner", "uid": .string(owner.uid)]
        for (namespace, name) in [("a", "same"), ("b", "elsewhere")] {
            try await store.create(["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                    "metadata": ["name": .string(name), "namespace": .string(namespace), "ownerReferences": [reference]]])
        }
        try await store.create(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1", "ownerReferences": [reference]]])
        try await simulation.manager.drain()

        #expect(try store.get(kind: "Lease", namespace: "a", name: "same") != nil)  // a solid owner
        #expect(try store.get(kind: "Lease", namespace: "b", name: "elsewhere") == nil)  // its owner is not in b: absent
        #expect(try store.get(kind: "Node", namespace: "", name: "n1") != nil)  // unresolvable: never collected
        let events = try log.list(kind: "Event", namespace: nil).records.map(\.object).filter { $0["reason"] == "OwnerRefInvalidNamespace" }
        let messages = Dictionary(events.map { ($0[path: ["involvedObject", "name"]]?.stringValue ?? "", $0["message"]?.stringValue ?? "") },
                                  uniquingKeysWith: { a, _ in a })
        #expect(messages == [
            "elsewhere": "ownerRef [coordination.k8s.io/v1/Lease, namespace: b, name: owner, uid: \(owner.uid)] does not exist in namespace \"b\"",
            "n1": "ownerRef [coordination.k8s.io/v1/Lease, namespace: , name: owner, uid: \(owner.uid)] does not exist in namespace \"\"",
        ])
        #expect(events.allSatisfy { $0["type"] == "Warning" && $0[path: ["source", "component"]] == "garbage-collector-controller" })
    }
}
