import Orca
import StatefulSetController
import Testing

/// The StatefulSet controller's pure parts, mirroring upstream's `stateful_set_utils_test.go`
/// (`TestGetParentNameAndOrdinal`, `TestIdentityMatches`, `TestUpdateIdentity`,
/// `TestNewStatefulSetPod`, `TestCreateApplyRevision`) and `controller_history`'s hash.
@Suite("StatefulSet planning")
struct StatefulSetPlanningTests {
    func set(_ name: String = "web", replicas: Int = 3, service: String? = "nginx", claims: Bool = false) -> StatefulSet {
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.namespace = "default"
        metadata.uid = "uid-\(name)"
        var s = StatefulSet(metadata: metadata)
        s.spec.replicas = replicas
        s.spec.serviceName = service
        s.spec.template = PodTemplateSpec(raw: ["metadata": ["labels": ["app": "web"]],
                                                "spec": ["containers": [["name": "c", "image": "nginx<1>&"]]]])
        if claims { s.spec.raw["volumeClaimTemplates"] = [["metadata": ["name": "data"]]] }
        return s
    }

    let owner = OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "uid-web", controller: true, blockOwnerDeletion: true)

    @Test("getParentNameAndOrdinal: <set>-<n> only")
    func ordinals() {
        let s = set()
        #expect(StatefulSetPlanning.ordinal(of: "web-0", in: s) == 0)
        #expect(StatefulSetPlanning.ordinal(of: "web-12", in: s) == 12)
        #expect(StatefulSetPlanning.ordinal(of: "web-x", in: s) == nil)
        #expect(StatefulSetPlanning.ordinal(of: "webby-1", in: s) == nil)
        #expect(StatefulSetPlanning.ordinal(of: "web-", in: s) == nil)
        #expect(StatefulSetPlanning.inRange(2, s) && !StatefulSetPlanning.inRange(3, s))
    }

    @Test("newStatefulSetPod: name, identity labels, hostname and subdomain, claim volumes, revision label")
    func newPod() {
        let pod = StatefulSetPlanning.pod(set(claims: true), ordinal: 2, revision: "web-abc", owner: owner)
        #expect(pod.metadata.name == "web-2")
        #expect(pod.metadata.labels == ["app": "web", "statefulset.kubernetes.io/pod-name": "web-2", "apps.kubernetes.io/pod-index": "2",
                                        "controller-revision-hash": "web-abc"])
        #expect(pod.spec.raw["hostname"] == "web-2" && pod.spec.raw["subdomain"] == "nginx")
        #expect(pod.spec.raw["volumes"] == [["name": "data", "persistentVolumeClaim": ["claimName": "data-web-2"]]])
        #expect(pod.metadata.ownerReferences.first?.uid == "uid-web")
        #expect(StatefulSetPlanning.identityMatches(set(), pod))
        var moved = pod
        moved.spec.raw["subdomain"] = "other"
        #expect(!StatefulSetPlanning.identityMatches(set(), moved))
        #expect(StatefulSetPlanning.identityMatches(set(), StatefulSetPlanning.withIdentity(set(), moved)))
    }

    @Test("revisions: the template as a $patch replace, named by FNV-1 of Go's JSON and the collision count; applying restores it")
    func revisions() throws {
        let s = set()
        let a = StatefulSetPlanning.revision(s, number: 1, collisionCount: 0, owner: owner)
        let b = StatefulSetPlanning.revision(s, number: 2, collisionCount: 1, owner: owner)
        #expect(a.metadata.name != b.metadata.name && (a.metadata.name ?? "").hasPrefix("web-"))
        #expect(a.metadata.labels["controller.kubernetes.io/hash"].map { "web-" + $0 } == a.metadata.name)
        #expect(a.raw["data"]?[path: ["spec", "template", "$patch"]] == "replace")
        #expect(StatefulSetPlanning.applying(a, to: set(replicas: 1)).spec.template == s.spec.template)
        // Go's encoder escapes <, > and & in strings; the hash covers exactly those bytes.
        #expect(TemplateHash.controllerRevisionHash(data: ["a": "<"], collisionCount: 0)
                    != TemplateHash.controllerRevisionHash(data: ["a": "\\u003c"], collisionCount: 0))
        // FNV-1 of `{}` then "0", as Go's fnv.New32 computes it: 0x...; encoded with SafeEncodeString.
        #expect(TemplateHash.controllerRevisionHash(data: .object(JSONObject()), collisionCount: 0).allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
    }

    @Test("replica counts: created, ready, available after minReadySeconds, current and updated by revision label")
    func counts() {
        func pod(_ name: String, phase: String, ready: Bool, revision: String, readySince: Int64 = 0, terminating: Bool = false) -> Pod {
            var p = StatefulSetPlanning.pod(set(), ordinal: Int(name.split(separator: "-").last.map(String.init) ?? "0") ?? 0, revision: revision, owner: owner)
            p.status.phase = phase
            p.status.conditions = [Condition(type: "Ready", status: ready ? "True" : "False", lastTransitionTime: Timestamp(seconds: readySince))]
            if terminating { p.metadata.deletionTimestamp = Timestamp(seconds: 1) }
            return p
        }
        let pods = [pod("web-0", phase: "Running", ready: true, revision: "old"),
                    pod("web-1", phase: "Running", ready: true, revision: "new", readySince: 95),
                    pod("web-2", phase: "Pending", ready: false, revision: "new"),
                    pod("web-3", phase: "Running", ready: true, revision: "new", terminating: true)]
        let c = StatefulSetPlanning.counts(pods, minReadySeconds: 10, now: Timestamp(seconds: 100), current: "old", update: "new")
        #expect(c.replicas == 4 && c.ready == 3 && c.available == 2 && c.current == 1 && c.updated == 2)
    }
}
