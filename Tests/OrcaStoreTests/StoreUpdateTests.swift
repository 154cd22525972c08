import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaStore
import Synchronization
import Testing

@Suite("store: updates and optimistic concurrency")
struct StoreUpdateTests {
    @Test("a stale resourceVersion is a Conflict and appends nothing; generation bumps on spec changes only")
    func conflict() async throws {
        let f = try Fixture()
        let rs = try await f.store.create(try yaml("""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec: {replicas: 1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: x}]}}}
        """))
        var scaled = rs.value
        scaled[path: ["spec", "replicas"]] = 3
        let updated = try await f.store.update(scaled)
        #expect(updated.generation == 2)
        #expect(updated.resourceVersion == "2")
        let error = await storeError { try await f.store.update(scaled) }  // still carries resourceVersion 1
        #expect(error?.message == "Operation cannot be fulfilled on replicasets.apps \"web\": the object has been modified; please apply your changes to the latest version and try again")
        #expect(try f.log.latestSeq() == 2)
        var labelled = updated.value
        labelled[path: ["metadata", "labels"]] = ["team": "a"]
        #expect(try await f.store.update(labelled).generation == 2)
        // A status update cannot change spec; a main update cannot change status.
        var status = try #require(try f.store.get(kind: "ReplicaSet", name: "web")).value
        status[path: ["status", "replicas"]] = 3
        status[path: ["spec", "replicas"]] = 9
        let afterStatus = try await f.store.updateStatus(status)
        #expect(afterStatus.value[path: ["status", "replicas"]] == 3 && afterStatus.value[path: ["spec", "replicas"]] == 3)
        var main = afterStatus.value
        main[path: ["status", "replicas"]] = 0
        main[path: ["spec", "minReadySeconds"]] = 5
        let afterMain = try await f.store.update(main)
        #expect(afterMain.value[path: ["status", "replicas"]] == 3)
    }

    @Test("an update that changes nothing appends nothing")
    func noop() async throws {
        let f = try Fixture()
        let pod = try await f.store.create(try podManifest("p"))
        try await f.store.update(pod.value)
        #expect(try f.log.latestSeq() == 1)
    }

    @Test("merge patch; apply is idempotent and keeps server-set fields")
    func patchAndApply() async throws {
        let f = try Fixture()
        let svc = try yaml("{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}")
        let created = try await f.store.apply(svc)
        #expect(created.created && created.object.value[path: ["spec", "clusterIP"]] == "10.96.0.10")
        let again = try await f.store.apply(svc)
        #expect(!again.created && !again.changed)
        let patched = try await f.store.patch(kind: "Service", name: "web", mergePatch: ["metadata": ["labels": ["tier": "front"]]])
        #expect(patched.labels == ["tier": "front"])
        #expect(try f.log.latestSeq() == 2)
    }

    @Test("re-applying a pod merges its containers by name, as kubectl's strategic merge does")
    func applyMergesContainers() async throws {
        let f = try Fixture()
        let first = """
            {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {tier: a, old: "yes"}},
             spec: {containers: [{name: c, image: nginx}, {name: side, image: busybox}]}}
            """
        let created = try await f.store.apply(try yaml(first)).object
        #expect(created.value[path: ["spec", "containers"]]?.arrayValue?.first?["imagePullPolicy"] == "Always")
        var sidecar = created
        sidecar.value[path: ["metadata", "labels", "added"]] = "by-someone"
        try await f.store.update(sidecar.value)
        let second = """
            {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {tier: b}},
             spec: {containers: [{name: c, image: "nginx:1.27"}, {name: side, image: busybox}]}}
            """
        let result = try await f.store.apply(try yaml(second))
        #expect(!result.created && result.changed)
        let pod = result.object
        #expect(pod.labels == ["tier": "b", "added": "by-someone"])
        let containers = try #require(pod.value[path: ["spec", "containers"]]?.arrayValue)
        #expect(containers.map { $0["name"] } == ["c", "side"])
        #expect(containers[0]["image"] == "nginx:1.27")
        #expect(containers[0]["imagePullPolicy"] == "Always", "a defaulted field the manifest never set is kept")
        #expect(containers[1]["terminationMessagePath"] == "/dev/termination-log")
    }

    @Test("re-applying merges keyed list elements: removed ones go, ones only the server has stay")
    func applyMergesKeyedElements() throws {
        let last = try yaml("{spec: {containers: [{name: c, image: a, env: [{name: A, value: '1'}, {name: B, value: '2'}]}]}}")
        let current = try yaml("""
            {spec: {containers: [{name: c, image: a, imagePullPolicy: Always,
                                  env: [{name: A, value: '1'}, {name: B, value: '2'}, {name: INJECTED, value: x}]},
                                 {name: injected-sidecar, image: proxy}]}}
            """)
        let manifest = try yaml("{spec: {containers: [{name: c, image: b, env: [{name: A, value: '3'}], args: [--x]}]}}")
        let next = Store.applying(manifest, lastApplied: last, to: current)
        #expect(next == (try yaml("""
            {spec: {containers: [{name: c, image: b, imagePullPolicy: Always,
                                  env: [{name: A, value: '3'}, {name: INJECTED, value: x}], args: [--x]},
                                 {name: injected-sidecar, image: proxy}]}}
            """)))
        // Lists without a merge key are replaced whole; without a previous manifest nothing is removed.
        let tolerations = Store.applying(try yaml("{spec: {tolerations: [{key: a}]}}"), lastApplied: nil,
                                         to: try yaml("{spec: {tolerations: [{key: b}], nodeName: n}}"))
        #expect(tolerations == (try yaml("{spec: {tolerations: [{key: a}], nodeName: n}}")))
    }

    @Test("concurrent updates from many tasks: exactly one wins per resourceVersion")
    func racingUpdates() async throws {
        let f = try Fixture()
        let pod = try await f.store.create(try podManifest("p"))
        let wins = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<10 {
                group.addTask {
                    var v = pod.value
                    v[path: ["metadata", "labels", "n"]] = .string("\(i)")
                    return (try? await f.store.update(v)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try f.log.latestSeq() == 2)
    }
}

@Suite("store: deletion")
struct StoreDeleteTests {
    @Test("an unscheduled pod is removed at once")
    func unscheduled() async throws {
        let f = try Fixture()
        try await f.store.create(try podManifest("p"))
        guard case .deleted = try await f.store.delete(kind: "Pod", name: "p") else { Issue.record("not deleted"); return }
        #expect(try f.store.get(kind: "Pod", name: "p") == nil)
    }

    @Test("a scheduled pod is deleted gracefully: deletionTimestamp = now + 30s; a shorter grace shortens; force removes")
    func graceful() async throws {
        let f = try Fixture()
        try await f.store.create(try podManifest("p", node: "node-1"))
        guard case .terminating(let pod) = try await f.store.delete(kind: "Pod", name: "p") else { Issue.record("not terminating"); return }
        #expect(pod.deletionTimestamp == Timestamp(seconds: 1_767_225_630))
        #expect(pod.deletionGracePeriodSeconds == 30)
        f.clock.advance(.seconds(5))
        guard case .terminating(let shorter) = try await f.store.delete(kind: "Pod", name: "p", options: .init(gracePeriodSeconds: 10)) else {
            Issue.record("not terminating"); return
        }
        #expect(shorter.deletionTimestamp == Timestamp(seconds: 1_767_225_615) && shorter.deletionGracePeriodSeconds == 10)
        // A longer grace never lengthens.
        guard case .terminating(let same) = try await f.store.delete(kind: "Pod", name: "p", options: .init(gracePeriodSeconds: 60)) else {
            Issue.record("not terminating"); return
        }
        #expect(same.deletionTimestamp == shorter.deletionTimestamp)
        guard case .deleted = try await f.store.delete(kind: "Pod", name: "p", options: .force) else { Issue.record("not deleted"); return }
        let types = try f.log.readAll().map(\.type)
        #expect(types == [.added, .modified, .modified, .deleted])
    }

    @Test("a terminal pod and a pod's own terminationGracePeriodSeconds are honoured")
    func terminalAndOwnGrace() async throws {
        let f = try Fixture()
        try await f.store.create(try podManifest("own", node: "n", grace: 5))
        guard case .terminating(let own) = try await f.store.delete(kind: "Pod", name: "own") else { Issue.record("not terminating"); return }
        #expect(own.deletionGracePeriodSeconds == 5)
        let done = try await f.store.create(try podManifest("done", node: "n"))
        try await f.store.updateStatus(done.value.applyingMergePatch(["status": ["phase": "Failed"]]))
        guard case .deleted = try await f.store.delete(kind: "Pod", name: "done") else { Issue.record("terminal pod not removed at once"); return }
    }

    @Test("finalizers hold an object until removed; then it goes, and no new finalizer may be added")
    func finalizers() async throws {
        let f = try Fixture()
        try await f.store.create(try podManifest("p", finalizers: ["example.com/hold"]))
        guard case .terminating(let held) = try await f.store.delete(kind: "Pod", name: "p") else { Issue.record("not held"); return }
        #expect(held.deletionGracePeriodSeconds == 0)
        var adding = held.value
        adding[path: ["metadata", "finalizers"]] = ["example.com/hold", "example.com/more"]
        let error = await storeError { try await f.store.update(adding) }
        #expect(error?.message.contains("no new finalizers can be added if the object is being deleted") == true)
        var removing = held.value
        removing[path: ["metadata", "finalizers"]] = nil
        try await f.store.update(removing)
        #expect(try f.store.get(kind: "Pod", name: "p") == nil)
        #expect(try f.log.readAll().last?.type == .deleted)
    }

    @Test("propagation: Jobs orphan by default; Foreground and Orphan add their finalizers")
    func propagation() async throws {
        let f = try Fixture()
        let job = """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: j}
        spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}}
        """
        try await f.store.create(try yaml(job))
        guard case .terminating(let orphaned) = try await f.store.delete(kind: "Job", name: "j") else { Issue.record("job not held"); return }
        #expect(orphaned.finalizers == ["orphan"])
        let rs = """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: r}
        spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: x}]}}}
        """
        try await f.store.create(try yaml(rs))
        guard case .terminating(let fg) = try await f.store.delete(kind: "ReplicaSet", name: "r", options: .init(propagationPolicy: .foreground)) else {
            Issue.record("rs not held"); return
        }
        #expect(fg.finalizers == ["foregroundDeletion"])
        let missing = await storeError { try await f.store.delete(kind: "Pod", name: "nope") }
        #expect(missing?.message == "pods \"nope\" not found")
    }
}
