import EndpointsController
import Orca
import Testing

@Suite("Endpoints planning (mirrors endpoints_controller_test's TestTruncateEndpoints and FindPort cases)")
struct EndpointsPlanningTests {
    func pod(_ ip: String, ready: Bool, phase: String = "Running") -> Pod {
        var meta = ObjectMeta()
        meta.name = "p-\(ip)"
        meta.namespace = "default"
        meta.uid = ip
        var p = Pod(metadata: meta)
        p.status.phase = phase
        p.status.podIP = ip
        p.status.conditions = [Condition(type: "Ready", status: ready ? "True" : "False")]
        var c = Container(raw: JSONObject())
        var port = ContainerPort(raw: JSONObject())
        port.name = "web"
        port.containerPort = 8080
        c.ports = [port]
        p.spec.containers = [c]
        return p
    }

    func service(_ targetPort: IntOrString) -> Service {
        var meta = ObjectMeta()
        meta.name = "s"
        meta.namespace = "default"
        var s = Service(metadata: meta)
        var port = ServicePort(raw: JSONObject())
        port.port = 80
        port.targetPort = targetPort
        s.spec.ports = [port]
        return s
    }

    @Test("Addresses sort by IP as strings; terminal pods are left out; named ports resolve")
    func subsets() {
        let pods = [pod("10.0.0.9", ready: true), pod("10.0.0.10", ready: true), pod("10.0.0.11", ready: false),
                    pod("10.0.0.12", ready: true, phase: "Succeeded")]
        let subsets = EndpointsController.subsets(service: service(.string("web")), pods: pods)
        #expect(subsets.count == 1)
        #expect(subsets.first?.addresses.map { $0.ip ?? "" } == ["10.0.0.10", "10.0.0.9"])
        #expect(subsets.first?.notReadyAddresses.map { $0.ip ?? "" } == ["10.0.0.11"])
        #expect(subsets.first?.ports.first?.port == 8080)
        #expect(EndpointsController.subsets(service: service(.string("nope")), pods: pods).isEmpty)
    }

    @Test("TestTruncateEndpoints: ready addresses kept first, at most 1000 in all")
    func truncate() {
        var a = EndpointSubset(raw: JSONObject())
        a.addresses = (0..<900).map { i in var e = EndpointAddress(raw: JSONObject()); e.ip = "10.0.\(i / 256).\(i % 256)"; return e }
        a.notReadyAddresses = (0..<300).map { i in var e = EndpointAddress(raw: JSONObject()); e.ip = "10.1.\(i / 256).\(i % 256)"; return e }
        let (out, truncated) = EndpointsController.truncate([a])
        #expect(truncated)
        #expect(out[0].addresses.count == 900)
        #expect(out[0].notReadyAddresses.count == 100)
        let (same, untouched) = EndpointsController.truncate([EndpointSubset(raw: JSONObject())])
        #expect(!untouched && same.count == 1)
    }
}
