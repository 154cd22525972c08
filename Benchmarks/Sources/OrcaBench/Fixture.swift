import Foundation
import Orca

/// Pod-sized objects for the benchmarks: a ReplicaSet's pod, scheduled and Running, shaped like
/// what kube-apiserver returns (about 2 KB of JSON), with every per-pod string distinct.
enum Fixture {
    static func podJSON(_ i: Int) -> String {
        let rs = "web-\(i / 100)"
        let name = "\(rs)-\(String(i, radix: 36))x\(i % 7)k"
        let uid = String(format: "%08x-%04x-4%03x-8%03x-%012x", i, i & 0xffff, i & 0xfff, (i >> 3) & 0xfff, i * 7919)
        let ownerUID = String(format: "%08x-aaaa-4bbb-8ccc-%012x", i / 100, i / 100)
        let node = "node-\(i % 5000)"
        let ip = "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
        let hostIP = "192.168.\(i % 5000 / 250).\(i % 250 + 1)"
        let t = "2026-11-21T10:\(String(format: "%02d", i / 60 % 60)):\(String(format: "%02d", i % 60))Z"
        return """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","generateName":"\(rs)-","namespace":"team-\(i % 50)",\
        "uid":"\(uid)","resourceVersion":"\(i + 1)","creationTimestamp":"\(t)",\
        "labels":{"app":"web","pod-template-hash":"\(String(i / 100 * 2654435761 % 99999999, radix: 16))","tier":"frontend","release":"r\(i % 13)"},\
        "annotations":{"kubernetes.io/psp":"restricted","prometheus.io/scrape":"true"},\
        "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"\(rs)","uid":"\(ownerUID)","controller":true,"blockOwnerDeletion":true}]},\
        "spec":{"containers":[{"name":"app","image":"registry.example.com/web/app:1.\(i % 20).3","args":["--port=8080","--log-level=info"],\
        "ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"POD_INDEX","value":"\(i)"},{"name":"REGION","value":"eu-west-\(i % 3)"}],\
        "resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"250m","memory":"128Mi"}},\
        "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],\
        "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default",\
        "nodeName":"\(node)","schedulerName":"default-scheduler","priority":0,\
        "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},\
        {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},\
        "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"\(t)"},\
        {"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"\(t)"},\
        {"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"\(t)"},\
        {"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"\(t)"}],\
        "hostIP":"\(hostIP)","podIP":"\(ip)","podIPs":[{"ip":"\(ip)"}],"startTime":"\(t)",\
        "containerStatuses":[{"name":"app","state":{"running":{"startedAt":"\(t)"}},"lastState":{},"ready":true,"restartCount":\(i % 3),\
        "image":"registry.example.com/web/app:1.\(i % 20).3","imageID":"registry.example.com/web/app@sha256:\(String(repeating: String(format: "%08x", i), count: 8))",\
        "containerID":"containerd://\(String(repeating: String(format: "%08x", i * 31), count: 8))","started":true}],"qosClass":"Burstable"}}
        """
    }

    static func pod(_ i: Int) -> JSONValue {
        do { return try JSONValue.parse(podJSON(i)) } catch { fatalError("fixture pod \(i) does not parse: \(error)") }
    }

    /// Appends `events` Pod events to `log`: `distinct` pods added, then updates of them in turn,
    /// one second apart, in batches of 10,000.
    static func writePodHistory(to log: some EventLog, events: Int, distinct: Int) async throws {
        let base = (0..<distinct).map { pod($0) }
        var n = 0
        while n < events {
            let drafts = (n..<min(n + 10_000, events)).map { i in
                draft(base[i % distinct], type: i < distinct ? .added : .modified, second: Int64(i))
            }
            _ = try await log.appendBatch(drafts)
            n += drafts.count
        }
    }

    static func draft(_ object: JSONValue, type: EventType = .added, second: Int64) -> EventDraft {
        EventDraft(time: Timestamp(nanoseconds: 1_795_000_000_000_000_000 + second * 1_000_000_000), type: type,
                   actor: "bench", cause: nil, object: object)
    }
}

/// The same Pod as Codable structs: the baseline Foundation's `JSONDecoder` decodes into.
struct CodablePod: Codable {
    struct Meta: Codable {
        struct Owner: Codable { var apiVersion, kind, name, uid: String; var controller, blockOwnerDeletion: Bool? }
        var name: String
        var generateName: String?
        var namespace: String
        var uid: String
        var resourceVersion: String
        var creationTimestamp: String
        var labels: [String: String]
        var annotations: [String: String]
        var ownerReferences: [Owner]
    }
    struct Container: Codable {
        struct Port: Codable { var containerPort: Int; var `protocol`: String }
        struct Env: Codable { var name, value: String }
        struct Resources: Codable { var limits, requests: [String: String] }
        var name, image: String
        var args: [String]
        var ports: [Port]
        var env: [Env]
        var resources: Resources
        var terminationMessagePath, terminationMessagePolicy, imagePullPolicy: String
    }
    struct Toleration: Codable { var key, `operator`, effect: String; var tolerationSeconds: Int? }
    struct Spec: Codable {
        var containers: [Container]
        var restartPolicy: String
        var terminationGracePeriodSeconds: Int
        var dnsPolicy, serviceAccountName, nodeName, schedulerName: String
        var priority: Int
        var tolerations: [Toleration]
    }
    struct Condition: Codable { var type, status: String; var lastProbeTime: String?; var lastTransitionTime: String }
    struct IP: Codable { var ip: String }
    struct ContainerStatus: Codable {
        struct Running: Codable { var startedAt: String }
        struct State: Codable { var running: Running? }
        var name: String
        var state: State
        var lastState: State
        var ready: Bool
        var restartCount: Int
        var image, imageID, containerID: String
        var started: Bool
    }
    struct Status: Codable {
        var phase: String
        var conditions: [Condition]
        var hostIP, podIP: String
        var podIPs: [IP]
        var startTime: String
        var containerStatuses: [ContainerStatus]
        var qosClass: String
    }
    var apiVersion, kind: String
    var metadata: Meta
    var spec: Spec
    var status: Status
}
