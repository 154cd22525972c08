import Foundation
import OrcaAPI
import OrcaLMDB
import OrcaLog
import OrcaStore
import Synchronization
import Testing

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
