import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaStore
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: OrcaAPI.Clock {
    let current = Mutex(Timestamp(seconds: 1_767_225_600))  // 2026-01-01T00:00:00Z
    func now() -> Timestamp { current.withLock { $0 } }
    func advance(_ d: Duration) { current.withLock { $0 = $0.adding(d) } }
}

final class Fixture: @unchecked Sendable {
    // @unchecked: all fields are immutable references to Sendable values.
    let path: String
    let log: LMDBEventLog
    let clock = ManualClock()
    let store: Store

    init() throws {
        path = NSTemporaryDirectory() + "orca-store-" + UUID().uuidString
        log = try LMDBEventLog(path: path)
        store = Store(log: log, clock: clock, identities: SeededIdentityGenerator(seed: 1))
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func yaml(_ text: String) throws -> JSONValue { try #require(try JSONValue.parseYAMLDocuments(text).first) }

/// A batch/v1 Job manifest: `spec` (and `labels`, if any) as flow-style YAML.
func jobManifest(_ name: String, labels: String? = nil, spec: String) throws -> JSONValue {
    try yaml("{apiVersion: batch/v1, kind: Job, metadata: {name: \(name)\(labels.map { ", labels: \($0)" } ?? "")}, spec: \(spec)}")
}

func podManifest(_ name: String, node: String? = nil, grace: Int? = nil, finalizers: [String] = []) throws -> JSONValue {
    var pod = try yaml("""
    apiVersion: v1
    kind: Pod
    metadata: {name: \(name), labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
    """)
    if let node { pod[path: ["spec", "nodeName"]] = .string(node) }
    if let grace { pod[path: ["spec", "terminationGracePeriodSeconds"]] = .int(Int64(grace)) }
    if !finalizers.isEmpty { pod[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) }) }
    return pod
}

func storeError(_ body: () async throws -> Void) async -> StoreError? {
    do { try await body(); return nil } catch let e as StoreError { return e } catch { return nil }
}

@Suite("store: create and defaults")
struct StoreCreateTests {
    @Test("create assigns uid, creationTimestamp, resourceVersion = seq, defaults and admission tolerations")
    func create() async throws {
        let f = try Fixture()
        let pod = try await f.store.create(try podManifest("web-1"), context: WriteContext(actor: "user"))
        #expect(!pod.uid.isEmpty)
        #expect(pod.creationTimestamp == Timestamp(seconds: 1_767_225_600))
        #expect(pod.resourceVersion == "1")
        #expect(pod.value[path: ["spec", "restartPolicy"]] == "Always")
        #expect(pod.value[path: ["spec", "terminationGracePeriodSeconds"]] == 30)
        #expect(pod.value[path: ["status", "phase"]] == "Pending")
        let tolerations = pod.value[path: ["spec", "tolerations"]]?.arrayValue ?? []
        #expect(tolerations.map { $0["key"]?.stringValue } == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
        #expect(tolerations.allSatisfy { $0["tolerationSeconds"] == 300 && $0["effect"] == "NoExecute" })
        let record = try #require(try f.log.read(from: 1, limit: 1).first)
        #expect(record.actor == "user" && record.type == .added)
    }

    @Test("generateName gives a 5-character suffix; a second create of a name is AlreadyExists and appends nothing")
    func generateNameAndAlreadyExists() async throws {
        let f = try Fixture()
        var manifest = try podManifest("x")
        manifest[path: ["metadata", "name"]] = nil
        manifest[path: ["metadata", "generateName"]] = "web-"
        let pod = try await f.store.create(manifest)
        #expect(pod.name.hasPrefix("web-") && pod.name.count == 9)
        try await f.store.create(try podManifest("dup"))
        let error = await storeError { try await f.store.create(try podManifest("dup")) }
        #expect(error?.message == "pods \"dup\" already exists")
        #expect(error?.reason == .alreadyExists)
        #expect(try f.log.latestSeq() == 2)
    }

    @Test("validation errors have Kubernetes' exact messages, and nothing is appended", arguments: [
        ("""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec: {replicas: -1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: x}]}}}
        """, "ReplicaSet.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
        ("""
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: web}
        spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: a, image: x}]}}}
        """, "ReplicaSet.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"db\"}: `selector` does not match template `labels`"),
        ("""
        apiVersion: batch/v1
        kind: Job
        metadata: {name: hello}
        spec: {template: {spec: {restartPolicy: Always, containers: [{name: a, image: x}]}}}
        """, "Job.batch \"hello\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""),
        ("""
        apiVersion: v1
        kind: Pod
        metadata: {name: Web_1}
        spec: {containers: [{name: a, image: x}]}
        """, "Pod \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
        ("""
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec: {containers: [{name: a, image: x}, {name: a, image: y}, {name: b}]}
        """, "Pod \"p\" is invalid: [spec.containers[1].name: Duplicate value: \"a\", spec.containers[2].image: Required value]"),
        ("""
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec: {}
        """, "Pod \"p\" is invalid: spec.containers: Required value"),
        ("""
        apiVersion: v1
        kind: Pod
        metadata: {}
        spec: {containers: [{name: a, image: x}]}
        """, "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"),
        ("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec: {selector: {matchLabels: {app: a}}, updateStrategy: {rollingUpdate: {maxSurge: 1}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: x}]}}}
        """, "DaemonSet.apps \"agent\" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when maxUnavailable is non-zero"),
        ("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec: {selector: {matchLabels: {app: a}}, updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: x}]}}}
        """, "DaemonSet.apps \"agent\" is invalid: spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"),
        ("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec: {selector: {matchLabels: {}}, updateStrategy: {type: Sometimes}, template: {metadata: {labels: {app: a}}, spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}}
        """, "DaemonSet.apps \"agent\" is invalid: [spec.selector: Invalid value: {\"matchLabels\":{}}: empty selector is invalid for daemonset, spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\", spec.updateStrategy: Unsupported value: \"Sometimes\": supported values: \"RollingUpdate\", \"OnDelete\"]"),
        ("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {replicas: -1, selector: {matchLabels: {app: web}}, strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: "0%"}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: x}]}}}
        """, "Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not be 0 when `maxSurge` is 0]"),
        ("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {selector: {matchLabels: {app: web}}, strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}, minReadySeconds: 30, progressDeadlineSeconds: 30, template: {metadata: {labels: {app: db}}, spec: {restartPolicy: OnFailure, containers: [{name: a, image: x}]}}}
        """, "Deployment.apps \"web\" is invalid: [spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"db\"}: `selector` does not match template `labels`, spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\", spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate', spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds]"),
        ("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {selector: {matchLabels: {app: web}}, strategy: {type: BlueGreen}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: x}]}}}
        """, "Deployment.apps \"web\" is invalid: spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\""),
        ("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec: {podManagementPolicy: Sometimes, updateStrategy: {type: OnDelete, rollingUpdate: {partition: 1}}, replicas: -2, selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {restartPolicy: Never, activeDeadlineSeconds: 5, containers: [{name: a, image: x}]}}}
        """, "StatefulSet.apps \"db\" is invalid: [spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel', spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate', spec.replicas: Invalid value: -2: must be greater than or equal to 0, spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\", spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported]"),
        ("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec: {selector: {matchLabels: {}}, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: -1}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: a, image: x}]}}}
        """, "StatefulSet.apps \"db\" is invalid: [spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0, spec.selector: Invalid value: {\"matchLabels\":{}}: empty selector is invalid for statefulset]"),
        ("""
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec: {schedule: "61 * * * *", concurrencyPolicy: Sometimes, timeZone: Mars/Olympus, jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}}
        """, "CronJob.batch \"nightly\" is invalid: [spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61, spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus, spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\", spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"\": supported values: \"OnFailure\", \"Never\"]"),
        ("""
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: a-cronjob-name-that-is-far-too-long-for-its-jobs-names}
        spec: {schedule: "TZ=UTC 0 * * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}}}}
        """, "CronJob.batch \"a-cronjob-name-that-is-far-too-long-for-its-jobs-names\" is invalid: [metadata.name: Invalid value: \"a-cronjob-name-that-is-far-too-long-for-its-jobs-names\": must be no more than 52 characters, spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead]"),
    ])
    func validation(manifest: String, message: String) async throws {
        let f = try Fixture()
        let error = await storeError { try await f.store.create(try yaml(manifest)) }
        #expect(error?.message == message)
        #expect(error?.reason == .invalid)
        #expect(try f.log.latestSeq() == 0)
    }

    @Test("a StatefulSet's spec may change only in replicas, ordinals, template, updateStrategy, retention policy and minReadySeconds")
    func statefulSetUpdateRules() async throws {
        let f = try Fixture()
        let created = try await f.store.create(try yaml("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec: {serviceName: db, selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: a, image: x}]}}}
        """))
        #expect(created.value[path: ["spec", "podManagementPolicy"]] == "OrderedReady")
        #expect(created.value[path: ["spec", "updateStrategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        var scaled = created
        scaled.value[path: ["spec", "replicas"]] = 5
        scaled.value[path: ["spec", "template", "spec", "containers"]] = [["name": "a", "image": "y"]]
        #expect(try await f.store.update(scaled.value).generation == 2)
        var renamed = try #require(try f.store.get(kind: "StatefulSet", name: "db"))
        renamed.value[path: ["spec", "serviceName"]] = "other"
        let error = await storeError { try await f.store.update(renamed.value) }
        #expect(error?.message == "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
    }

    @Test("a DaemonSet's template generation starts at 1 and follows template changes only")
    func daemonSetTemplateGeneration() async throws {
        let f = try Fixture()
        let manifest = """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: x}]}}}
        """
        let created = try await f.store.create(try yaml(manifest))
        #expect(created.annotations["deprecated.daemonset.template.generation"] == "1")
        var object = created
        object.value[path: ["spec", "minReadySeconds"]] = 5
        let spec = try await f.store.update(object.value)
        #expect(spec.annotations["deprecated.daemonset.template.generation"] == "1" && spec.generation == 2)
        var changed = spec
        changed.value[path: ["spec", "template", "spec", "containers"]] = [["name": "a", "image": "y"]]
        changed.annotations = [:]
        let templated = try await f.store.update(changed.value)
        #expect(templated.annotations["deprecated.daemonset.template.generation"] == "2" && templated.generation == 3)
    }

    @Test("unknown kinds and malformed objects are rejected with clear errors")
    func badObjects() async throws {
        let f = try Fixture()
        let unknown = await storeError { try await f.store.create(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"]]) }
        #expect(unknown?.message == "no matches for kind \"Widget\" in version \"example.com/v1\"")
        let wrongVersion = await storeError { try await f.store.create(["apiVersion": "v1", "kind": "ReplicaSet", "metadata": ["name": "w"]]) }
        #expect(wrongVersion?.message == "no matches for kind \"ReplicaSet\" in version \"v1\"")
        let badType = await storeError {
            try await f.store.create(try yaml("{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: w}, spec: {replicas: three}}"))
        }
        #expect(badType?.reason == .badRequest)
        #expect(badType?.message.contains("cannot unmarshal string into Go struct field") == true)
        #expect(try f.log.latestSeq() == 0)
    }

    @Test("ResourceQuota pods: the create past the limit is Forbidden with Kubernetes' message")
    func quota() async throws {
        let f = try Fixture()
        try await f.store.create(try yaml("{apiVersion: v1, kind: ResourceQuota, metadata: {name: compute}, spec: {hard: {pods: \"2\"}}}"))
        try await f.store.create(try podManifest("a"))
        try await f.store.create(try podManifest("b"))
        let error = await storeError { try await f.store.create(try podManifest("c")) }
        #expect(error?.message == "pods \"c\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2")
        // A terminal pod no longer counts.
        try await f.store.updateStatus(try #require(try f.store.get(kind: "Pod", name: "a")).value.applyingMergePatch(["status": ["phase": "Succeeded"]]))
        try await f.store.create(try podManifest("c"))
    }

    @Test("Namespace lifecycle: the kubernetes finalizer, Terminating on delete, no new content, removal once finalized")
    func namespaceLifecycle() async throws {
        let f = try Fixture()
        let created = try await f.store.create(try yaml("{apiVersion: v1, kind: Namespace, metadata: {name: team}, spec: {finalizers: [example.com/x]}}"))
        #expect(created.value[path: ["spec", "finalizers"]] == ["example.com/x", "kubernetes"])
        #expect(created.value[path: ["status", "phase"]] == "Active")
        #expect(created.labels["kubernetes.io/metadata.name"] == "team")
        // spec.finalizers change only through /finalize.
        var edited = created.value
        edited[path: ["spec", "finalizers"]] = []
        let updated = try await f.store.update(edited)
        #expect(updated.value[path: ["spec", "finalizers"]] == ["example.com/x", "kubernetes"])

        try await f.store.create(try podManifest("web", node: "node-1").applyingMergePatch(["metadata": ["namespace": "team"]]))
        let outcome = try await f.store.delete(kind: "Namespace", name: "team")
        guard case .terminating(let terminating) = outcome else { Issue.record("namespace removed at once"); return }
        #expect(terminating.value[path: ["status", "phase"]] == "Terminating")
        #expect(terminating.deletionTimestamp != nil && terminating.deletionGracePeriodSeconds == nil)
        #expect(terminating.finalizers.isEmpty)

        // NamespaceLifecycle admission: nothing new, named by generateName before a name exists.
        let seq = try f.log.latestSeq()
        let named = await storeError { try await f.store.create(try podManifest("late").applyingMergePatch(["metadata": ["namespace": "team"]])) }
        #expect(named?.reason == .forbidden)
        #expect(named?.message == "pods \"late\" is forbidden: unable to create new content in namespace team because it is being terminated")
        #expect(named?.isNamespaceTerminating == true)
        let generated = await storeError {
            try await f.store.create(try yaml("{apiVersion: v1, kind: Event, metadata: {generateName: web-, namespace: team}, involvedObject: {name: web}}"))
        }
        #expect(generated?.message == "events \"web-\" is forbidden: unable to create new content in namespace team because it is being terminated")
        #expect(try f.log.latestSeq() == seq)
        // Updates and deletes of what is there still work; other namespaces are untouched.
        try await f.store.patch(kind: "Pod", namespace: "team", name: "web", mergePatch: ["metadata": ["labels": ["a": "b"]]])
        try await f.store.create(try podManifest("elsewhere"))

        // A second delete, a status write or an ordinary update keep it while spec.finalizers remain.
        guard case .terminating = try await f.store.delete(kind: "Namespace", name: "team") else { Issue.record("removed"); return }
        var status = try #require(try f.store.get(kind: "Namespace", name: "team")).value
        status[path: ["status", "conditions"]] = [["type": "NamespaceContentRemaining", "status": "True"]]
        try await f.store.updateStatus(status)
        #expect(try f.store.get(kind: "Namespace", name: "team") != nil)
        // /finalize removes the namespace once no finalizer is left.
        try await f.store.patch(kind: "Namespace", name: "team", mergePatch: ["spec": ["finalizers": ["example.com/x"]]], subresource: .finalize)
        #expect(try f.store.get(kind: "Namespace", name: "team")?.value[path: ["spec", "finalizers"]] == ["example.com/x"])
        try await f.store.patch(kind: "Namespace", name: "team", mergePatch: ["spec": ["finalizers": []]], subresource: .finalize)
        #expect(try f.store.get(kind: "Namespace", name: "team") == nil)
        let wrong = await storeError { try await f.store.patch(kind: "Pod", name: "elsewhere", mergePatch: [:], subresource: .finalize) }
        #expect(wrong?.reason == .notFound)
    }

    @Test("ResourceQuota compute resources: every container must state them; every exceeded one is named, in the limit's format")
    func computeQuota() async throws {
        let f = try Fixture()
        try await f.store.create(try yaml("""
            {apiVersion: v1, kind: ResourceQuota, metadata: {name: compute},
             spec: {hard: {requests.cpu: "1", limits.memory: 1Gi, pods: "5"}}}
            """))
        func pod(_ name: String, cpu: String, memory: String) throws -> JSONValue {
            var p = try podManifest(name)
            p[path: ["spec", "containers"]] = [["name": "app", "image": "nginx",
                                                "resources": ["requests": ["cpu": .string(cpu)], "limits": ["memory": .string(memory)]]]]
            return p
        }
        let unstated = await storeError { try await f.store.create(try podManifest("bare")) }
        #expect(unstated?.message == "pods \"bare\" is forbidden: failed quota: compute: must specify limits.memory,requests.cpu")
        try await f.store.create(try pod("a", cpu: "600m", memory: "512Mi"))
        let both = await storeError { try await f.store.create(try pod("b", cpu: "500m", memory: "768Mi")) }
        #expect(both?.message == "pods \"b\" is forbidden: exceeded quota: compute, requested: limits.memory=768Mi,requests.cpu=500m, used: limits.memory=512Mi,requests.cpu=600m, limited: limits.memory=1Gi,requests.cpu=1")
        try await f.store.create(try pod("c", cpu: "400m", memory: "512Mi"))
    }

    @Test("Priority admission: 0 and PreemptLowerPriority without a class; a class's value and policy; the global default; errors are Forbidden")
    func priority() async throws {
        let f = try Fixture()
        let plain = try await f.store.create(try podManifest("plain"))
        #expect(plain.value[path: ["spec", "priority"]] == 0)
        #expect(plain.value[path: ["spec", "preemptionPolicy"]] == "PreemptLowerPriority")
        #expect(plain.value[path: ["spec", "priorityClassName"]] == nil)
        // SetDefaults_Pod: enableServiceLinks on pods, not on the templates of workloads.
        #expect(plain.value[path: ["spec", "enableServiceLinks"]] == true)
        let rs = try await f.store.create(try yaml("""
        {apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: web}, spec: {selector: {matchLabels: {app: web}},
         template: {metadata: {labels: {app: web}}, spec: {containers: [{name: app, image: nginx}]}}}}
        """))
        #expect(rs.value[path: ["spec", "template", "spec", "enableServiceLinks"]] == nil)
        #expect(rs.value[path: ["spec", "template", "metadata"]]?.jsonString() == #"{"creationTimestamp":null,"labels":{"app":"web"}}"#)
        #expect(rs.value[path: ["spec", "template", "spec", "priority"]] == nil)

        var critical = try podManifest("critical")
        critical[path: ["spec", "priorityClassName"]] = "system-node-critical"
        #expect(try await f.store.create(critical).value[path: ["spec", "priority"]] == 2_000_001_000)

        let batch = try await f.store.create(try yaml("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: batch}, value: 100, preemptionPolicy: Never}"))
        #expect(batch.namespace == "" && batch.value["globalDefault"] == nil)
        var low = try podManifest("low")
        low[path: ["spec", "priorityClassName"]] = "batch"
        let lowPod = try await f.store.create(low)
        #expect(lowPod.value[path: ["spec", "priority"]] == 100 && lowPod.value[path: ["spec", "preemptionPolicy"]] == "Never")

        var wrong = try podManifest("wrong")
        wrong[path: ["spec", "priorityClassName"]] = "batch"
        wrong[path: ["spec", "priority"]] = 5
        let before = try f.log.latestSeq()
        #expect(await storeError { try await f.store.create(wrong) }?.message
            == "pods \"wrong\" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 100 from the given PriorityClass name")
        var missing = try podManifest("missing")
        missing[path: ["spec", "priorityClassName"]] = "gold"
        #expect(await storeError { try await f.store.create(missing) }?.message == "pods \"missing\" is forbidden: no PriorityClass with name gold was found")
        #expect(try f.log.latestSeq() == before)

        // The global default names itself on pods without a class; a second default is Forbidden.
        try await f.store.create(try yaml("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: standard}, value: 10, globalDefault: true}"))
        let defaulted = try await f.store.create(try podManifest("defaulted"))
        #expect(defaulted.value[path: ["spec", "priorityClassName"]] == "standard" && defaulted.value[path: ["spec", "priority"]] == 10)
        let second = await storeError {
            try await f.store.create(try yaml("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: other}, value: 1, globalDefault: true}"))
        }
        #expect(second?.message == "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass standard is already marked as default. Only one default can exist")
    }

    @Test("PriorityClass validation: reserved system- names, the user maximum, the policy's values; value and policy are immutable")
    func priorityClassValidation() async throws {
        let f = try Fixture()
        func create(_ text: String) async -> String? { await storeError { try await f.store.create(try yaml(text)) }?.message }
        #expect(await create("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: system-mine}, value: 1}")
            == "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class")
        #expect(await create("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: system-node-critical}, value: 1}")
            == "PriorityClass.scheduling.k8s.io \"system-node-critical\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000")
        #expect(await create("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: huge}, value: 1000000001}")
            == "PriorityClass.scheduling.k8s.io \"huge\" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000")
        #expect(await create("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: odd}, value: 1, preemptionPolicy: Sometimes}")
            == "PriorityClass.scheduling.k8s.io \"odd\" is invalid: preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\"")
        #expect(try f.log.latestSeq() == 0)

        let created = try await f.store.create(try yaml("{apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: mid}, value: 50}"))
        #expect(created.value["preemptionPolicy"] == "PreemptLowerPriority")
        var changed = created.value
        changed["value"] = 60
        changed["preemptionPolicy"] = "Never"
        #expect(await storeError { try await f.store.update(changed) }?.message
            == "PriorityClass.scheduling.k8s.io \"mid\" is invalid: [value: Forbidden: may not be changed in an update., preemptionPolicy: Invalid value: \"Never\": field is immutable]")
        var described = created.value
        described["description"] = "for the middle tier"
        #expect(try await f.store.update(described).value["description"] == "for the middle tier")
    }

    @Test("a Job gets the generated selector and labels, and batch/v1 defaults")
    func jobDefaults() async throws {
        let f = try Fixture()
        let job = try await f.store.create(try jobManifest("pi", spec: "{template: {spec: {restartPolicy: Never, containers: [{name: pi, image: perl}]}}}"))
        #expect(job.value[path: ["spec", "selector", "matchLabels", "batch.kubernetes.io/controller-uid"]]?.stringValue == job.uid)
        #expect(Unstructured(job.value[path: ["spec", "template"]] ?? .null).labels["job-name"] == "pi")
        #expect(job.value[path: ["spec", "completions"]] == 1 && job.value[path: ["spec", "parallelism"]] == 1)
        #expect(job.value[path: ["spec", "backoffLimit"]] == 6)
        #expect(job.value[path: ["spec", "completionMode"]] == "NonIndexed")
        // As the API serialises a template's ObjectMeta: its zero creationTimestamp as null.
        #expect(job.value[path: ["spec", "template", "metadata"]]?.objectValue?.keys.first == "creationTimestamp")
        #expect(job.value[path: ["spec", "template", "metadata", "creationTimestamp"]] == .null)
        #expect(job.generation == 1)
        #expect(job.value[path: ["spec", "manualSelector"]] == false)
        #expect(job.value[path: ["spec", "podReplacementPolicy"]] == "TerminatingOrFailed")
        // SetDefaults_Job copies template labels only when the template has a labels map: this
        // one had none, so the Job has none until its first status update is defaulted.
        #expect(job.labels.isEmpty)
        var status = job.value
        status["status"] = ["startTime": "2026-01-01T00:00:00Z"]
        let started = try await f.store.updateStatus(status)
        #expect(started.labels == Unstructured(job.value[path: ["spec", "template"]] ?? .null).labels)
        #expect(started.labels["batch.kubernetes.io/controller-uid"] == job.uid)
    }

    @Test("a Job's spec updates as batch/v1 allows: scheduling directives while suspended and never started, elastic Indexed completions")
    func jobUpdates() async throws {
        let f = try Fixture()
        let template = "template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}"
        var job = try await f.store.create(try jobManifest("queued", spec: "{suspend: true, \(template)}")).value
        job[path: ["spec", "template", "spec", "nodeSelector"]] = ["pool": "gpu"]
        job[path: ["spec", "template", "metadata", "annotations"]] = ["queue": "a"]
        job = try await f.store.update(job).value
        #expect(job[path: ["spec", "template", "spec", "nodeSelector", "pool"]] == "gpu")
        // The container itself stays fixed; so does completionMode.
        var image = job
        image[path: ["spec", "template", "spec", "containers"]] = [["name": "c", "image": "nginx"]]
        image[path: ["spec", "completionMode"]] = "Indexed"
        let message = await #expect(throws: StoreError.self) { try await f.store.update(image) }?.message ?? ""
        #expect(message.hasPrefix("Job.batch \"queued\" is invalid: [spec.template: Invalid value: "))
        #expect(message.hasSuffix("field is immutable, spec.completionMode: Invalid value: \"Indexed\": field is immutable]"))
        // Once started, its scheduling directives are fixed too.
        var started = job
        started["status"] = ["startTime": "2026-01-01T00:00:00Z"]
        job = try await f.store.updateStatus(started).value
        job[path: ["spec", "template", "spec", "nodeSelector"]] = ["pool": "cpu"]
        await #expect(throws: StoreError.self) { try await f.store.update(job) }

        // Indexed: completions change only together with parallelism.
        var elastic = try await f.store.create(try jobManifest("elastic", spec: "{completionMode: Indexed, completions: 4, parallelism: 4, \(template)}")).value
        elastic[path: ["spec", "completions"]] = 6
        let tandem = await #expect(throws: StoreError.self) { try await f.store.update(elastic) }
        #expect(tandem?.message == "Job.batch \"elastic\" is invalid: spec.completions: Invalid value: 6: can only be modified in tandem with spec.parallelism")
        elastic[path: ["spec", "parallelism"]] = 6
        #expect(try await f.store.update(elastic).value[path: ["spec", "completions"]] == 6)
    }

    @Test("scheduling gates: the SchedulingGated condition at creation; gates may only be removed, the nodeSelector only grow while gated")
    func schedulingGates() async throws {
        let f = try Fixture()
        var manifest = try podManifest("p")
        manifest[path: ["spec", "schedulingGates"]] = [["name": "a"]]
        var pod = try await f.store.create(manifest).value
        let condition = pod[path: ["status", "conditions"]]?.arrayValue?.first
        #expect(condition?.objectValue?.keys == ["type", "status", "lastProbeTime", "lastTransitionTime", "reason", "message"])
        #expect(condition?["reason"] == "SchedulingGated" && condition?["message"] == "Scheduling is blocked due to non-empty scheduling gates")
        var added = pod
        added[path: ["spec", "schedulingGates"]] = [["name": "a"], ["name": "b"]]
        let error = await #expect(throws: StoreError.self) { try await f.store.update(added) }
        #expect(error?.message == "Pod \"p\" is invalid: spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'b'")
        pod[path: ["spec", "nodeSelector"]] = ["disk": "ssd"]
        pod = try await f.store.update(pod).value
        var changed = pod
        changed[path: ["spec", "nodeSelector", "disk"]] = "hdd"
        let mutation = await #expect(throws: StoreError.self) { try await f.store.update(changed) }
        #expect(mutation?.message == "Pod \"p\" is invalid: spec.nodeSelector: Forbidden: only additions to spec.nodeSelector are allowed (no mutations or deletions)")
        pod[path: ["spec", "schedulingGates"]] = nil
        pod = try await f.store.update(pod).value
        // Ungated, the pod's spec is as fixed as any pod's.
        pod[path: ["spec", "nodeSelector", "zone"]] = "a"
        await #expect(throws: StoreError.self) { try await f.store.update(pod) }
    }

    @Test("a Job with a podFailurePolicy is only replaced once failed; its template's labels become its own")
    func jobFailurePolicyDefaults() async throws {
        let f = try Fixture()
        let job = try await f.store.create(try jobManifest("pi", spec: """
            {podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]},
             template: {metadata: {labels: {app: pi}}, spec: {restartPolicy: Never, containers: [{name: pi, image: perl}]}}}
            """))
        #expect(job.value[path: ["spec", "podReplacementPolicy"]] == "Failed")
        #expect(job.value[path: ["spec", "podFailurePolicy", "rules"]]?.arrayValue?.first?["onPodConditions"]
                == [["type": "DisruptionTarget", "status": "True"]])
        // Defaulting hands the Job its template's labels map, which selector generation then
        // extends: the Job shows the generated labels from the start.
        #expect(job.labels == ["app": "pi", "batch.kubernetes.io/controller-uid": job.uid, "batch.kubernetes.io/job-name": "pi",
                               "controller-uid": job.uid, "job-name": "pi"])
        let labelled = try await f.store.create(try jobManifest("own", labels: "{app: pi}", spec: """
            {template: {metadata: {labels: {app: pi}}, spec: {restartPolicy: Never, containers: [{name: pi, image: perl}]}}}
            """))
        #expect(labelled.labels == ["app": "pi"])
    }

    @Test("backoffLimitPerIndex, maxFailedIndexes and successPolicy are validated as batch/v1 does; nothing is written")
    func jobIndexPolicies() async throws {
        let f = try Fixture()
        func job(_ spec: String) throws -> JSONValue {
            try yaml("""
            apiVersion: batch/v1
            kind: Job
            metadata: {name: j}
            spec:
              \(spec)
              template: {spec: {restartPolicy: Never, containers: [{name: c, image: x}]}}
            """)
        }
        let cases: [(String, String)] = [
            ("backoffLimitPerIndex: 1", "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"),
            ("maxFailedIndexes: 1", "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified"),
            ("successPolicy: {rules: [{succeededCount: 1}]}", "spec.successPolicy: Invalid value"),
        ]
        for (spec, message) in cases {
            let error = await storeError { try await f.store.create(try job(spec)) }
            #expect(error?.message.contains(message) == true, "\(spec): \(error?.message ?? "accepted")")
        }
        let indexed = "completionMode: Indexed\n  completions: 3\n  "
        let indexedCases: [(String, String)] = [
            ("backoffLimitPerIndex: 1\n  maxFailedIndexes: 4", "spec.maxFailedIndexes: Invalid value: 4: must be less than or equal to completions"),
            ("successPolicy: {rules: []}", "spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified"),
            ("successPolicy: {rules: [{}]}", "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified"),
            ("successPolicy: {rules: [{succeededIndexes: \"2-1\"}]}", "error parsing succeededIndexes: non-increasing order, previous: 2, current: 1"),
            ("successPolicy: {rules: [{succeededIndexes: \"0,5\"}]}", "error parsing succeededIndexes: too large index: \"5\""),
            ("successPolicy: {rules: [{succeededIndexes: \"0-1\", succeededCount: 3}]}",
             "spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)"),
        ]
        for (spec, message) in indexedCases {
            let error = await storeError { try await f.store.create(try job(indexed + spec)) }
            #expect(error?.message.contains(message) == true, "\(spec): \(error?.message ?? "accepted")")
        }
        #expect(try f.log.latestSeq() == 0, "no rejected Job was written")
        let accepted = try await f.store.create(try job(indexed + "backoffLimitPerIndex: 1\n  maxFailedIndexes: 1\n  successPolicy: {rules: [{succeededIndexes: \"0,2\", succeededCount: 1}]}"))
        #expect(accepted.value[path: ["spec", "backoffLimit"]] == 2_147_483_647, "backoffLimit defaults to MaxInt32 with backoffLimitPerIndex")
    }
}

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
