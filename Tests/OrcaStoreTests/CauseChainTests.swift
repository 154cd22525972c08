import Foundation
import OrcaAPI
import OrcaLog
import OrcaReplay
import OrcaStore
import Testing

@Suite("orca why: the chain of causes behind an object's latest change")
struct CauseChainTests {
    func seq(_ object: Unstructured) throws -> UInt64 { try #require(object.resourceVersion.flatMap { UInt64($0) }) }

    /// A user creates a ReplicaSet; a controller creates a pod for it; a kubelet binds and runs
    /// it; the user scales the ReplicaSet down and the controller deletes the pod.
    func history(_ f: Fixture) async throws -> (rs: UInt64, created: UInt64, running: UInt64, scaled: UInt64, deleting: UInt64) {
        let rs = try await f.store.create(yaml("""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec: {replicas: 1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: app, image: nginx}]}}}
        """))
        let rsSeq = try seq(rs)
        let created = try await f.store.create(podManifest("web-1", node: "node-1"),
                                               context: WriteContext(actor: "controller/replicaset", cause: rsSeq))
        _ = try await f.store.create(podManifest("other"))  // unrelated traffic in between
        var pod = created.value
        pod[path: ["status", "phase"]] = "Running"
        pod[path: ["status", "conditions"]] = try yaml(#"[{type: PodScheduled, status: "True"}, {type: Ready, status: "False"}]"#)
        let running = try await f.store.updateStatus(pod, context: WriteContext(actor: "kubelet/node-1", cause: try seq(created)))
        let scaled = try await f.store.patch(kind: "ReplicaSet", name: "web", mergePatch: yaml("spec: {replicas: 0}"))
        let deleting = try await f.store.delete(kind: "Pod", name: "web-1",
                                                context: WriteContext(actor: "controller/replicaset", cause: try seq(scaled)))
        guard case .terminating(let marked) = deleting else {
            Issue.record("expected a graceful deletion, got \(deleting)")
            return (rsSeq, try seq(created), try seq(running), try seq(scaled), 0)
        }
        return (rsSeq, try seq(created), try seq(running), try seq(scaled), try seq(marked))
    }

    @Test("follows each event's cause back to the user's write, with what each event changed")
    func chain() async throws {
        let f = try Fixture()
        let h = try await history(f)
        let key = ObjectKey(kind: "Pod", namespace: "default", name: "web-1")
        let chain = try #require(try CauseChain.explain(key, in: f.log))
        #expect(chain.links.map(\.record.seq) == [h.deleting, h.scaled])
        #expect(chain.links.map(\.record.actor) == ["controller/replicaset", "user"])
        #expect(chain.origin == .root(actor: "user"))
        #expect(chain.links[0].changes.map(\.path) == ["metadata.deletionTimestamp", "metadata.deletionGracePeriodSeconds"])
        #expect(chain.links[1].changes.contains(CauseChain.Change(path: "spec.replicas", old: 1, new: 0)))
        #expect(chain.links[1].previous?.seq == h.rs)

        // As of the kubelet's report: the pod's latest change then, caused by its creation,
        // caused by the ReplicaSet.
        let earlier = try #require(try CauseChain.explain(key, in: f.log, atSeq: h.running))
        #expect(earlier.links.map(\.record.seq) == [h.running, h.created, h.rs])
        #expect(earlier.links[0].previous?.seq == h.created)
        #expect(earlier.links[0].changes.map(\.description) == [
            "status.phase: \"Pending\" → \"Running\"",
            "status.conditions: <none> → [2 items]",
        ])
        #expect(earlier.links[1].changes.isEmpty && earlier.links[2].changes.isEmpty)  // creations
        // Why the pod exists: its creation, by the controller, for the user's ReplicaSet.
        let creation = try #require(try CauseChain.explain(key, in: f.log, creation: true))
        #expect(creation.links.map(\.record.seq) == [h.created, h.rs])
        #expect(creation.origin == .root(actor: "user"))
        #expect(try CauseChain.explain(key, in: f.log, atSeq: h.rs) == nil, "the pod did not exist yet")
        #expect(try CauseChain.explain(ObjectKey(kind: "Pod", namespace: "default", name: "nope"), in: f.log) == nil)
    }

    @Test("a cause that is not in the log ends the chain and says so")
    func missingCause() async throws {
        let f = try Fixture()
        let pod = try await f.store.create(podManifest("p"), context: WriteContext(actor: "import", cause: 500))
        let chain = try #require(try CauseChain.explain(ObjectKey(kind: "Pod", namespace: "default", name: "p"), in: f.log))
        #expect(chain.links.map(\.record.seq) == [try seq(pod)])
        #expect(chain.origin == .missing(cause: 500))
        #expect(chain.origin.explanation == "its cause, seq 500, is not in this log")
    }

    @Test("changes: lists keyed by type or name are compared item by item; bookkeeping fields are left out")
    func changes() throws {
        let old = try yaml("""
        metadata: {resourceVersion: "1", managedFields: [{manager: a}], labels: {a: "1", gone: x}}
        spec: {containers: [{name: app, image: v1}, {name: side, image: s}], tolerations: [{key: k}]}
        status: {conditions: [{type: Ready, status: "False"}, {type: Old, status: "True"}]}
        """)
        let new = try yaml("""
        metadata: {resourceVersion: "2", managedFields: [{manager: b}], labels: {a: "2"}}
        spec: {containers: [{name: app, image: v2}, {name: side, image: s}], tolerations: [{key: k}, {key: l}]}
        status: {conditions: [{type: Ready, status: "True"}, {type: New, status: "True"}]}
        """)
        #expect(CauseChain.changes(from: old, to: new).map(\.description) == [
            "metadata.labels.a: \"1\" → \"2\"",
            "metadata.labels.gone: \"x\" → <none>",
            "spec.containers[app].image: \"v1\" → \"v2\"",
            "spec.tolerations: [1 item] → [2 items]",
            "status.conditions[Ready].status: \"False\" → \"True\"",
            "status.conditions[New]: <none> → {…}",
            "status.conditions[Old]: {…} → <none>",
        ])
        #expect(CauseChain.changes(from: old, to: old).isEmpty)
    }
}

