import Orca
@testable import ResourceQuotaController
import Testing

@Suite("resource quota usage")
struct ResourceQuotaTests {
    func pod(_ yaml: String) throws -> Pod {
        var object = try #require(try JSONValue.parseYAMLDocuments(yaml).first)
        object["apiVersion"] = "v1"
        object["kind"] = "Pod"
        return try #require(Pod(object))
    }

    @Test("sums keep the limit's format: binary, decimal, milli-units, plain")
    func formats() {
        #expect(Quantity.format(milli: 268_435_456_000, like: "1Gi") == "256Mi")
        #expect(Quantity.format(milli: 1_500, like: "2") == "1500m")
        #expect(Quantity.format(milli: 2_000, like: "4") == "2")
        #expect(Quantity.format(milli: 3_000_000_000_000, like: "10G") == "3G")
        #expect(Quantity.format(milli: 0, like: "1Gi") == "0")
        #expect(Quantity.format(milli: 1_000_000, like: "1Ki") == "1000")
    }

    @Test("what counts: unfinished pods, not past their grace; names without an evaluator are left out")
    func usage() throws {
        let now = Timestamp(seconds: 1_767_225_660)  // 2026-01-01T00:01:00Z
        let running = try pod("{metadata: {name: a}, spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 500m}}}]}, status: {phase: Running}}")
        let done = try pod("{metadata: {name: b}, spec: {containers: [{name: c, image: x, resources: {requests: {cpu: '1'}}}]}, status: {phase: Succeeded}}")
        let going = try pod("""
            {metadata: {name: c, deletionTimestamp: '2026-01-01T00:00:50Z', deletionGracePeriodSeconds: 30},
             spec: {containers: [{name: c, image: x, resources: {requests: {cpu: 250m}}}]}, status: {phase: Running}}
            """)
        let gone = try pod("""
            {metadata: {name: d, deletionTimestamp: '2026-01-01T00:00:10Z', deletionGracePeriodSeconds: 30},
             spec: {containers: [{name: c, image: x, resources: {requests: {cpu: '2'}}}]}, status: {phase: Running}}
            """)
        let hard: JSONObject = ["pods": "5", "requests.cpu": "4", "count/services": "2", "requests.nvidia.com/gpu": "1", "persistentvolumeclaims": "3",
                                "services.loadbalancers": "1"]
        let (used, recountAt) = ResourceQuotaController.usage(hard: hard, pods: [running, done, going, gone], now: now) { kind in
            kind == "Service" ? 1 : 0
        }
        #expect(used["pods"] == "2" && used["requests.cpu"] == "750m" && used["count/services"] == "1")
        #expect(used["requests.nvidia.com/gpu"] == "0" && used["persistentvolumeclaims"] == "0")
        #expect(used["services.loadbalancers"] == nil, "no evaluator: not reported")
        // The terminating pod stops counting once deletion + grace has passed.
        #expect(recountAt == Timestamp(seconds: 1_767_225_681))
    }
}
