import OrcaAPI
import Testing

@Suite("Typed views of built-in kinds")
struct ModelTests {
    let manifest = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web-0
      namespace: shop
      labels: {app: web}
      ownerReferences:
      - {apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u-1, controller: true}
    spec:
      containers:
      - name: app
        image: nginx
        ports: [{containerPort: 80, name: http}]
        resources: {requests: {cpu: 250m, memory: 64Mi}}
        readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 5}
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchFields: [{key: metadata.name, operator: In, values: [node-2]}]
      futureField: {kept: true}
    status:
      phase: Running
      conditions:
      - {type: Ready, status: "True", lastTransitionTime: "2026-01-02T03:04:05Z"}
      containerStatuses:
      - name: app
        ready: true
        restartCount: 2
        state: {running: {startedAt: "2026-01-02T03:04:00Z"}}
    """

    func pod() throws -> Pod {
        let value = try #require(try JSONValue.parseYAMLDocuments(manifest).first)
        return try #require(Pod(value))
    }

    @Test("a Pod view reads every modelled field with Kubernetes' names and types")
    func readsPod() throws {
        let pod = try pod()
        #expect(pod.metadata.name == "web-0")
        #expect(pod.metadata.labels == ["app": "web"])
        #expect(pod.metadata.ownerReferences.first?.controller == true)
        #expect(pod.key == ObjectKey(kind: "Pod", namespace: "shop", name: "web-0"))
        let container = try #require(pod.spec.containers.first)
        #expect(container.ports.first?.containerPort == 80)
        #expect(container.resources.requests["cpu"]?.milliValue == 250)
        #expect(container.resources.requests["memory"]?.value == Int64(67_108_864))
        #expect(container.readinessProbe?.initialDelaySeconds == 5)
        #expect(container.livenessProbe == nil)
        #expect(pod.spec.tolerations.first?.tolerationSeconds == 300)
        let term = try #require(pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.first)
        #expect(term.matchFields.first?.values == ["node-2"])
        #expect(pod.status.phase == "Running")
        #expect(pod.status.conditions[type: "Ready"]?.isTrue == true)
        #expect(pod.status.conditions[type: "Ready"]?.lastTransitionTime == Timestamp(rfc3339: "2026-01-02T03:04:05Z"))
        #expect(pod.status.containerStatuses.first?.restartCount == 2)
        #expect(pod.status.containerStatuses.first?.state.running?.startedAt != nil)
        #expect(pod.status.containerStatuses.first?.state.terminated == nil)
    }

    @Test("writing through a view changes only that field; unmodelled fields and key order are kept")
    func writesKeepUnknownFields() throws {
        var pod = try pod()
        let before = pod.json
        pod.spec.nodeName = "node-2"
        pod.status.conditions.append(Condition(type: "PodScheduled", status: "True"))
        #expect(pod.raw["spec"]?["futureField"] == before["spec"]?["futureField"])
        #expect(pod.raw["spec"]?.objectValue?.keys.last == "nodeName")
        #expect(pod.spec.containers.first?.readinessProbe?.raw["httpGet"] != nil)
        pod.spec.nodeName = nil
        pod.status.conditions.removeLast()
        #expect(pod.json == before)
        #expect(pod.json.jsonString() == before.jsonString())
    }

    @Test("absent fields read as nil, empty or an empty view, and an empty view adds nothing")
    func absentFields() {
        var rs = ReplicaSet(metadata: ObjectMeta())
        #expect(rs.spec.replicas == nil)
        #expect(rs.status.conditions.isEmpty)
        rs.status = rs.status
        #expect(rs.raw["status"] == nil)
        rs.spec.replicas = 3
        rs.spec.template.metadata.labels = ["app": "a"]
        #expect(rs.json[path: ["spec", "template", "metadata", "labels", "app"]] == "a")
        #expect(rs.raw["kind"] == "ReplicaSet")
        rs.spec.template.metadata.labels = [:]
        #expect(rs.json[path: ["spec", "template", "metadata", "labels"]] == nil)
    }

    @Test("a view of the wrong kind is refused")
    func wrongKind() throws {
        let value = try #require(try JSONValue.parseYAMLDocuments(manifest).first)
        #expect(Node(value) == nil)
        #expect(Job(value) == nil)
    }

    @Test("IntOrString reads both forms and scales percentages as Kubernetes does",
          arguments: [("1", 10, true, 1), ("\"25%\"", 10, true, 3), ("\"25%\"", 10, false, 2), ("\"100%\"", 7, false, 7)])
    func intOrString(json: String, total: Int, roundUp: Bool, expected: Int) throws {
        let value = try #require(IntOrString(json: try JSONValue.parse(json)))
        #expect(value.scaled(total: total, roundUp: roundUp) == expected)
        #expect(IntOrString(json: value.json) == value)
    }

    @Test("every built-in kind has a view with its apiVersion and kind")
    func kinds() {
        let kinds: [(String, String)] = [
            (Pod.apiVersion, Pod.kind), (Node.apiVersion, Node.kind), (Lease.apiVersion, Lease.kind),
            (ReplicaSet.apiVersion, ReplicaSet.kind), (Job.apiVersion, Job.kind), (DaemonSet.apiVersion, DaemonSet.kind),
            (ControllerRevision.apiVersion, ControllerRevision.kind), (Service.apiVersion, Service.kind),
            (Endpoints.apiVersion, Endpoints.kind), (Event.apiVersion, Event.kind),
            (ResourceQuota.apiVersion, ResourceQuota.kind), (Namespace.apiVersion, Namespace.kind),
        ]
        for (apiVersion, kind) in kinds {
            let builtIn = ResourceKind.builtIn.first { $0.kind == kind }
            #expect(builtIn?.apiVersion == apiVersion, "\(kind)")
        }
    }
}
