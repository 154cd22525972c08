import DeploymentController
import Orca
import Testing

/// The Deployment controller's arithmetic, mirroring upstream's `deployment_util_test.go`
/// (`TestResolveFenceposts`, `TestNewRSNewReplicas`, `TestGetReplicaSetFraction`,
/// `TestEqualIgnoreHash`, `TestDeploymentComplete`, `TestDeploymentProgressing`,
/// `TestDeploymentTimedOut`) and `sync_test.go` (`TestScale`'s proportions).
@Suite("Deployment planning")
struct DeploymentPlanningTests {
    func deployment(replicas: Int = 10, surge: IntOrString? = .int(3), unavailable: IntOrString? = .int(2),
                    type: String = "RollingUpdate") -> Deployment {
        var metadata = ObjectMeta()
        metadata.name = "web"
        metadata.generation = 1
        var d = Deployment(metadata: metadata)
        d.spec.replicas = replicas
        d.spec.strategy.type = type
        if type == "RollingUpdate" {
            var rolling = RollingUpdateDeployment(raw: JSONObject())
            rolling.maxSurge = surge
            rolling.maxUnavailable = unavailable
            d.spec.strategy.rollingUpdate = rolling
        }
        d.spec.progressDeadlineSeconds = 600
        return d
    }

    func rs(_ name: String, replicas: Int, available: Int = 0, created: Int64 = 0, maxReplicas: Int? = nil) -> ReplicaSet {
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.uid = "uid-\(name)"
        metadata.creationTimestamp = Timestamp(seconds: 1_000 + created)
        if let maxReplicas { metadata.annotations = [DeploymentPlanning.maxReplicasAnnotation: String(maxReplicas)] }
        var r = ReplicaSet(metadata: metadata)
        r.spec.replicas = replicas
        r.status.availableReplicas = available
        return r
    }

    @Test("ResolveFenceposts: surge rounds up, unavailable down; both zero makes unavailable 1")
    func fenceposts() {
        #expect(DeploymentPlanning.fenceposts(deployment(replicas: 10, surge: .string("25%"), unavailable: .string("25%"))) == (3, 2))
        #expect(DeploymentPlanning.fenceposts(deployment(replicas: 1, surge: .string("25%"), unavailable: .string("25%"))) == (1, 0))
        #expect(DeploymentPlanning.fenceposts(deployment(replicas: 3, surge: .int(0), unavailable: .string("10%"))) == (0, 1))
        #expect(DeploymentPlanning.maxUnavailable(deployment(replicas: 2, surge: .int(0), unavailable: .int(5))) == 2)
        #expect(DeploymentPlanning.maxSurge(deployment(type: "Recreate")) == 0)
    }

    @Test("NewRSNewReplicas: the new ReplicaSet grows within replicas + maxSurge; Recreate takes the full count")
    func newReplicas() {
        let d = deployment(replicas: 10, surge: .int(3))
        let old = rs("old", replicas: 10)
        let new = rs("new", replicas: 0)
        #expect(DeploymentPlanning.newRSNewReplicas(d, all: [old, new], new: new) == 3)
        let grown = rs("new", replicas: 3)
        #expect(DeploymentPlanning.newRSNewReplicas(d, all: [rs("old", replicas: 8), grown], new: grown) == 5)
        #expect(DeploymentPlanning.newRSNewReplicas(d, all: [old, grown], new: grown) == 3)
        #expect(DeploymentPlanning.newRSNewReplicas(deployment(type: "Recreate"), all: [new], new: new) == 10)
    }

    @Test("GetProportion: shares by size against max-replicas, bounded by what is left")
    func proportions() {
        // A deployment of 10 (+3 surge) scaled to 20 (+3): an RS of 5 sized for 13 gets round(5*23/13) - 5 = 4.
        let d = deployment(replicas: 20, surge: .int(3))
        let r = rs("a", replicas: 5, maxReplicas: 13)
        #expect(DeploymentPlanning.proportion(r, d, toAdd: 10, added: 0) == 4)
        #expect(DeploymentPlanning.proportion(r, d, toAdd: 10, added: 8) == 2)
        #expect(DeploymentPlanning.proportion(rs("empty", replicas: 0), d, toAdd: 10, added: 0) == 0)
        // Scaled to zero: every replica goes.
        #expect(DeploymentPlanning.proportion(r, deployment(replicas: 0), toAdd: -8, added: 0) == -5)
    }

    @Test("EqualIgnoreHash: the pod-template-hash label and empty maps do not count")
    func equalIgnoringHash() throws {
        let a = PodTemplateSpec(raw: ["metadata": ["labels": ["app": "web", "pod-template-hash": "abc"]],
                                      "spec": ["containers": [["name": "c", "image": "nginx"]]]])
        let b = PodTemplateSpec(raw: ["metadata": ["labels": ["app": "web"], "annotations": .object(JSONObject())],
                                      "spec": ["containers": [["name": "c", "image": "nginx"]]]])
        let c = PodTemplateSpec(raw: ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx:2"]]]])
        #expect(DeploymentPlanning.equalIgnoringHash(a, b))
        #expect(!DeploymentPlanning.equalIgnoringHash(a, c))
    }

    @Test("ordering: by size (newer or older first on ties), by revision, the active or latest ReplicaSet")
    func ordering() {
        let a = rs("a", replicas: 2, created: 1), b = rs("b", replicas: 2, created: 2), c = rs("c", replicas: 5, created: 3)
        #expect(DeploymentPlanning.bySize([a, b, c], newerFirst: true).map { $0.metadata.name ?? "" } == ["c", "b", "a"])
        #expect(DeploymentPlanning.bySize([a, b, c], newerFirst: false).map { $0.metadata.name ?? "" } == ["c", "a", "b"])
        #expect(DeploymentPlanning.activeOrLatest(new: rs("n", replicas: 0), old: [a]).map { $0.metadata.name ?? "" } == "a")
        #expect(DeploymentPlanning.activeOrLatest(new: rs("n", replicas: 1), old: [a]) == nil)
        #expect(DeploymentPlanning.activeOrLatest(new: nil, old: [rs("x", replicas: 0, created: 1), rs("y", replicas: 0, created: 9)])
                    .map { $0.metadata.name ?? "" } == "y")
    }

    @Test("conditions: same status and reason change nothing; a new reason keeps the transition time and moves to the end")
    func conditions() throws {
        let t0 = Timestamp(seconds: 100), t1 = Timestamp(seconds: 200)
        var conditions = [DeploymentPlanning.condition("Progressing", "True", "NewReplicaSetCreated", "Created", t0),
                          DeploymentPlanning.condition("Available", "False", "MinimumReplicasUnavailable", "no", t0)]
        DeploymentPlanning.setCondition(&conditions, DeploymentPlanning.condition("Available", "False", "MinimumReplicasUnavailable", "no", t1))
        #expect(conditions[1].raw["lastUpdateTime"]?.stringValue == t0.rfc3339)
        DeploymentPlanning.setCondition(&conditions, DeploymentPlanning.condition("Progressing", "True", "NewReplicaSetAvailable", "done", t1))
        #expect(conditions.map(\.type) == ["Available", "Progressing"])
        #expect(conditions[1].raw["lastTransitionTime"]?.stringValue == t0.rfc3339)
        #expect(conditions[1].raw["lastUpdateTime"]?.stringValue == t1.rfc3339)
        #expect(conditions[1].raw.keys == ["type", "status", "lastUpdateTime", "lastTransitionTime", "reason", "message"])
    }

    @Test("DeploymentComplete, DeploymentProgressing and DeploymentTimedOut")
    func progress() {
        var d = deployment(replicas: 3)
        var status = DeploymentStatus(raw: ["observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3])
        #expect(DeploymentPlanning.isComplete(d, status))
        status.availableReplicas = 2
        #expect(!DeploymentPlanning.isComplete(d, status))
        d.status = DeploymentStatus(raw: ["replicas": 3, "updatedReplicas": 1])
        #expect(DeploymentPlanning.isProgressing(d, DeploymentStatus(raw: ["replicas": 3, "updatedReplicas": 2])))
        #expect(!DeploymentPlanning.isProgressing(d, DeploymentStatus(raw: ["replicas": 3, "updatedReplicas": 1])))
        let updated = Timestamp(seconds: 1_000)
        let progressing = DeploymentStatus(raw: ["conditions": [.object(DeploymentPlanning.condition("Progressing", "True", "ReplicaSetUpdated", "x", updated).raw)]])
        #expect(!DeploymentPlanning.hasTimedOut(d, progressing, now: Timestamp(seconds: 1_600)))
        #expect(DeploymentPlanning.hasTimedOut(d, progressing, now: Timestamp(seconds: 1_601)))
    }
}
