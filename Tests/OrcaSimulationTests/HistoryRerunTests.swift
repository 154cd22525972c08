import Foundation
import Orca
import OrcaLMDB
import Testing
@testable import OrcaSimulation

/// Every controller a re-run can stand in for.
let replaceableControllers = Simulation.controllerOrder.filter { !HistoryRerun.unsupported.contains($0) && $0 != "scheduler" }

/// Simulates `file` of Tests/Scenarios into a temporary log and returns its records as history
/// entries (as `orca rerun DIR` reads a log).
func simulatedHistory(_ file: String) async throws -> (entries: [History.Entry], scenario: Scenario) {
    try await readingSimulatedLog(file) { log, scenario in (try log.readAll().map(History.Entry.init(record:)), scenario) }
}

/// Re-runs `entries` into a temporary log; returns the report and the run's records.
func rerun(_ entries: [History.Entry], _ options: HistoryRerun.Options) async throws -> (HistoryRerun.Report, [EventRecord]) {
    let (log, path) = try temporaryLog()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let report = try await HistoryRerun(entries: entries, options: options, log: log).run()
    return (report, try log.readAll())
}

@Suite("re-running controllers against a recorded history")
struct HistoryRerunTests {
    /// Every scenario but the one whose delayed watch (a scenario step) no log records, and those
    /// where quota admission refuses pods: a refused pod's generated name is quoted by its
    /// FailedCreate Event but never recorded, so a re-run hands out names the original spent.
    @Test("a log re-run with the code that wrote it is reproduced: every creation matched under its recorded name and UID, every end state the same",
          arguments: scenarioFiles.filter { !["replicaset-delayed-watch.yaml", "replicaset-quota-and-burst.yaml", "resource-quota.yaml"].contains($0) })
    func reproducesItself(_ file: String) async throws {
        let (entries, scenario) = try await simulatedHistory(file)
        var options = HistoryRerun.Options(controllers: replaceableControllers)
        options.config = scenario.config
        let (report, records) = try await rerun(entries, options)
        #expect(!report.diverged, "\(file): \(report.endStates.map { "\($0.recorded): \($0.changes)" })")
        #expect(report.skipped.isEmpty)
        #expect(report.replaced > 0 && report.applied + report.replaced == entries.count)
        for creation in report.creations {
            #expect(creation.recorded == creation.rerun && creation.matched == creation.recorded, "\(file): \(creation.kind)")
        }
        // The controllers wrote as many events as the recorded ones they replaced, actor by actor
        // — but the EndpointSlice controller's: before a replaced write the re-run drains every
        // controller, so within one instant it can see a terminating pod the simulated kubelet
        // (drained before it in the simulation, the world in the re-run) had already removed,
        // and write that state too (its end states are still compared below).
        var recorded: [String: Int] = [:]
        for entry in entries where entry.actor.map(options.replacing.contains) == true { recorded[entry.actor ?? "", default: 0] += 1 }
        var written = Dictionary(uniqueKeysWithValues: report.rerunWrites.map { ($0.actor, $0.events) })
        recorded["controller/endpointslice"] = nil
        written["controller/endpointslice"] = nil
        #expect(written == recorded)
        // Objects the controllers created got the recorded names and UIDs — unless the recording
        // holds creations a quota rejected: they used up a name and UID the log never shows.
        guard file != "replicaset-quota-and-burst.yaml" else { return }
        let createdByControllers = { (events: [(actor: String, type: EventType, key: ObjectKey, uid: String)]) in
            Set(events.filter { $0.type == .added && options.replacing.contains($0.actor) }.map { "\($0.key) \($0.uid)" })
        }
        #expect(createdByControllers(entries.map { ($0.actor ?? "", $0.type, Unstructured($0.object).key, Unstructured($0.object).uid) })
            == createdByControllers(records.map { ($0.actor, $0.type, $0.key, $0.uid) }))
    }

    @Test("two re-runs of one history give the same log")
    func deterministic() async throws {
        let (entries, scenario) = try await simulatedHistory("replicaset.yaml")
        var options = HistoryRerun.Options(controllers: ["replicaset"])
        options.config = scenario.config
        let first = try await rerun(entries, options).1.map(History.line)
        let second = try await rerun(entries, options).1.map(History.line)
        #expect(first.count > entries.count / 2)
        #expect(first == second)
    }

    @Test("the same controller with other settings diverges, and the report names the objects whose end state differs")
    func divergesOnSettings() async throws {
        // The scenario sets terminatedPodGCThreshold to 2; Kubernetes' default is 12,500.
        let (entries, _) = try await simulatedHistory("pod-gc.yaml")
        let (report, _) = try await rerun(entries, HistoryRerun.Options(controllers: ["podgc"]))
        #expect(report.diverged)
        #expect(report.endStates.map(\.recorded.name).sorted() == ["done-1", "done-2"])
        #expect(report.endStates.allSatisfy { !$0.existsRecorded && $0.existsInRerun && $0.rerun == $0.recorded })
        // They were the same until pod GC's pass at 20 s deleted them in the recording.
        #expect(report.endStates.allSatisfy { $0.since == Timestamp(rfc3339: "2026-01-01T00:00:20Z") })
    }

    @Test("what the run never creates is reported: unmatched recorded objects, and the world's events about them")
    func unmatched() async throws {
        let (entries, _) = try await simulatedHistory("replicaset.yaml")
        // The ReplicaSet controller's writes are replaced, but only the Job controller runs.
        let options = HistoryRerun.Options(controllers: ["job"], replacing: ["controller/replicaset"])
        let (report, _) = try await rerun(entries, options)
        #expect(report.diverged)
        let pods = try #require(report.creations.first { $0.kind == "Pod" })
        #expect(pods.rerun == 0 && pods.matched == 0 && pods.recorded > 0 && pods.unmatchedRecorded.count == pods.recorded)
        // The scheduler's and kubelets' events about those pods are listed, not silently dropped
        // (the adopted orphan's are applied: the scenario created it).
        let worldEvents = entries.filter {
            $0.object["kind"] == "Pod" && Unstructured($0.object).name.hasPrefix("web-") && $0.actor != "controller/replicaset"
        }
        #expect(!worldEvents.isEmpty)
        #expect(report.skipped.map(\.line) == worldEvents.map(\.line))
        #expect(report.skipped.allSatisfy { $0.reason == "the run never created a counterpart" && $0.key.kind == "Pod" })
    }

    @Test("bad options are clear errors")
    func badOptions() async throws {
        let (entries, _) = try await simulatedHistory("phases.yaml")
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        func message(_ options: HistoryRerun.Options, _ entries: [History.Entry]) -> String? {
            do {
                _ = try HistoryRerun(entries: entries, options: options, log: log)
                return nil
            } catch let error as HistoryRerun.OptionError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(message(.init(controllers: ["jobs"]), entries)?.hasPrefix("unknown controller \"jobs\": use one of deployment, replicaset, job, cronjob, daemonset, statefulset,") == true)
        #expect(message(.init(controllers: ["kubelet"]), entries)?.hasPrefix("unknown controller \"kubelet\"") == true)
        #expect(message(.init(controllers: []), entries) == "name at least one controller to run, or (for a plugin's controllers) the recorded writers they replace")
        #expect(message(.init(controllers: ["job"]), []) == "the history has no events")
        #expect(try log.latestSeq() == 0)
    }
}

@Suite("re-running against a Kubernetes audit log")
struct AuditRerunTests {
    /// One audit.k8s.io/v1 event: `user` did `verb` and the API server answered with `object`.
    static func audit(_ verb: String, _ user: String, at second: Int, _ object: JSONValue, subresource: String? = nil) -> String {
        var event: JSONObject = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse", "stage": "ResponseComplete",
            "verb": .string(verb), "user": ["username": .string(user)], "responseStatus": ["code": 200],
            "stageTimestamp": .string("2026-03-01T10:00:0\(second).000000Z"), "responseObject": object,
        ]
        if let subresource { event["objectRef"] = ["subresource": .string(subresource)] }
        return JSONValue.object(event).jsonString()
    }

    static let jobUID = "0d5f6a4e-1111-4a4a-8a8a-000000000001"
    static let podUID = "0d5f6a4e-2222-4a4a-8a8a-000000000002"

    static func job(status: JSONValue = [:]) throws -> JSONValue {
        var job = try JSONValue.parse("""
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi","namespace":"default","uid":"\(jobUID)","generation":1,
         "creationTimestamp":"2026-03-01T10:00:00Z","labels":{"batch.kubernetes.io/controller-uid":"\(jobUID)","batch.kubernetes.io/job-name":"pi","controller-uid":"\(jobUID)","job-name":"pi"}},
         "spec":{"parallelism":1,"completions":1,"backoffLimit":6,"completionMode":"NonIndexed","suspend":false,"podReplacementPolicy":"TerminatingOrFailed",
          "selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"\(jobUID)"}},
          "template":{"metadata":{"labels":{"batch.kubernetes.io/controller-uid":"\(jobUID)","batch.kubernetes.io/job-name":"pi","controller-uid":"\(jobUID)","job-name":"pi"}},
           "spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
            "terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}}}
        """)
        job["status"] = status
        return job
    }

    static func pod(phase: String?, finalizers: Bool = true) throws -> JSONValue {
        var pod = try JSONValue.parse("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"pi-x7k2p","generateName":"pi-","namespace":"default","uid":"\(podUID)",
         "creationTimestamp":"2026-03-01T10:00:00Z","labels":{"batch.kubernetes.io/controller-uid":"\(jobUID)","batch.kubernetes.io/job-name":"pi","controller-uid":"\(jobUID)","job-name":"pi"},
         "ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"pi","uid":"\(jobUID)","controller":true,"blockOwnerDeletion":true}]},
         "spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl"}]},"status":{"phase":"Pending"}}
        """)
        if finalizers { pod[path: ["metadata", "finalizers"]] = ["batch.kubernetes.io/job-tracking"] }
        if let phase {
            pod[path: ["spec", "nodeName"]] = "n1"
            pod["status"] = ["phase": .string(phase), "hostIP": "10.0.0.1", "podIP": "10.244.1.2"]
        }
        return pod
    }

    @Test("writers come from the audit log's users; the job-controller service account's writes are replaced by Orca's Job controller")
    func auditLog() async throws {
        let text = [
            Self.audit("create", "alice", at: 0, try Self.job()),
            Self.audit("create", "system:serviceaccount:kube-system:job-controller", at: 0, try Self.pod(phase: nil)),
            Self.audit("patch", "system:node:n1", at: 1, try Self.pod(phase: "Running"), subresource: "status"),
            Self.audit("patch", "system:node:n1", at: 4, try Self.pod(phase: "Succeeded"), subresource: "status"),
            Self.audit("update", "system:serviceaccount:kube-system:job-controller", at: 5, try Self.pod(phase: "Succeeded", finalizers: false)),
            Self.audit("update", "system:serviceaccount:kube-system:job-controller", at: 5,
                       try Self.job(status: ["succeeded": 1, "startTime": "2026-03-01T10:00:00Z", "completionTime": "2026-03-01T10:00:05Z"])),
        ].joined(separator: "\n")
        let entries = try History.parse(text)
        #expect(entries.map(\.actor) == ["alice", "system:serviceaccount:kube-system:job-controller", "system:node:n1", "system:node:n1",
                                         "system:serviceaccount:kube-system:job-controller", "system:serviceaccount:kube-system:job-controller"])
        #expect(entries.map(\.type) == [.added, .added, .modified, .modified, .modified, .modified])
        let (log, path) = try temporaryLog()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try await HistoryRerun(entries: entries, options: .init(controllers: ["job"]), log: log).run()
        #expect(report.replaced == 3 && report.applied == 3 && report.skipped.isEmpty)
        let pods = try #require(report.creations.first { $0.kind == "Pod" })
        #expect(pods.recorded == 1 && pods.rerun == 1 && pods.matched == 1)
        // The run's pod has the recorded name and UID, the kubelet's status, and no finalizer left.
        let pod = try #require(try log.current(ObjectKey(kind: "Pod", namespace: "default", name: "pi-x7k2p")))
        #expect(pod.uid == Self.podUID && pod.object[path: ["status", "phase"]] == "Succeeded" && pod.object[path: ["spec", "nodeName"]] == "n1")
        #expect(pod.object[path: ["metadata", "finalizers"]] == nil)
        let job = try #require(try log.current(ObjectKey(kind: "Job", namespace: "default", name: "pi")))
        #expect(job.object[path: ["status", "succeeded"]] == 1)
        #expect(job.object[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Complete" && $0["status"] == "True" } == true)
        // This hand-made recording leaves out what the API server and the controller add (the
        // pod's defaults, the Job's conditions): the end states differ exactly there.
        #expect(report.endStates.map(\.recorded.name) == ["pi", "pi-x7k2p"])
        let podChanges = report.endStates.first { $0.recorded.kind == "Pod" }?.changes.map(\.path) ?? []
        #expect(!podChanges.isEmpty && podChanges.allSatisfy { $0.hasPrefix("spec.") || $0 == "status.qosClass" }, "\(podChanges)")
        let jobChanges = report.endStates.first { $0.recorded.kind == "Job" }?.changes.map(\.path) ?? []
        #expect(jobChanges.contains("status.conditions") && !jobChanges.contains("status.succeeded"), "\(jobChanges)")
    }
}

@Suite("which of kube-controller-manager's writes a re-run replaces")
struct SharedWriterTests {
    static func entry(_ type: EventType, _ json: String, actor: String = "kube-controller-manager", line: Int) throws -> History.Entry {
        History.Entry(record: EventRecord(seq: UInt64(line), time: Timestamp(rfc3339: "2026-03-01T10:00:00Z") ?? .zero, type: type,
                                          kind: "", namespace: "", name: "", uid: "", actor: actor, cause: nil, object: try JSONValue.parse(json)))
    }

    @Test("only the writes of the run's controllers: an Event by its source, a Pod by its owner's controller, other writes by kind")
    func classification() throws {
        let options = HistoryRerun.Options(controllers: ["job"])
        func replaced(_ type: EventType, _ json: String, actor: String = "kube-controller-manager") throws -> Bool {
            HistoryRerun.replaces(try Self.entry(type, json, actor: actor, line: 1), writer: actor, options: options)
        }
        let ownedBy = { (kind: String) in
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"d","uid":"u1","ownerReferences":[{"apiVersion":"x","kind":"\#(kind)","name":"o","uid":"u0","controller":true}]}}"#
        }
        #expect(try replaced(.added, ownedBy("Job")))
        #expect(try !replaced(.added, ownedBy("ReplicaSet")))  // the ReplicaSet controller is not in the run
        #expect(try !replaced(.added, ownedBy("StatefulSet")))
        #expect(try replaced(.modified, ownedBy("ReplicaSet")))  // a pod write: the Job controller writes pods
        #expect(try replaced(.added, #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e","namespace":"d"},"source":{"component":"job-controller"}}"#))
        #expect(try !replaced(.added, #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e","namespace":"d"},"source":{"component":"deployment-controller"}}"#))
        #expect(try !replaced(.added, #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s","namespace":"d"}}"#))
        #expect(try !replaced(.added, #"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r","namespace":"d"}}"#))
        // A precise writer (the controller's own actor or service account) is replaced whatever it writes.
        #expect(try replaced(.added, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d"}}"#,
                             actor: "system:serviceaccount:kube-system:job-controller"))
        #expect(try !replaced(.added, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d"}}"#, actor: "alice"))
    }
}
