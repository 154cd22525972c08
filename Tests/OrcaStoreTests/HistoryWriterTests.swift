import Orca
import Testing

@Suite("who wrote a version of a recorded object (managedFields)")
struct HistoryWriterTests {
    static func entry(_ manager: String, _ operation: String, _ subresource: String?, _ time: String, _ fields: String) -> String {
        #"{"manager":"\#(manager)","operation":"\#(operation)",\#(subresource.map { #""subresource":"\#($0)","# } ?? "")"time":"\#(time)","fieldsType":"FieldsV1","fieldsV1":\#(fields)}"#
    }

    static func pod(_ managed: [String], nodeName: String? = nil, phase: String = "Pending", ready: Int = 0) throws -> JSONValue {
        try JSONValue.parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","managedFields":[\#(managed.joined(separator: ","))]},"#
            + #""spec":{\#(nodeName.map { #""nodeName":"\#($0)""# } ?? "")},"status":{"phase":"\#(phase)","ready":\#(ready)}}"#)
    }

    static let creator = entry("kube-controller-manager", "Update", nil, "2026-01-01T00:00:00Z", #"{"f:metadata":{"f:labels":{}},"f:spec":{"f:containers":{}}}"#)
    static let statusAt1 = entry("kubelet", "Update", "status", "2026-01-01T00:00:01Z", #"{"f:status":{"f:phase":{},"f:ready":{}}}"#)
    static let statusAt2 = entry("kubelet", "Update", "status", "2026-01-01T00:00:02Z", #"{"f:status":{"f:phase":{},"f:ready":{}}}"#)

    @Test("the manager whose entry the write added or changed; the latest of several")
    func changedEntry() throws {
        let created = try Self.pod([Self.creator])
        #expect(History.writer(of: created, previous: nil) == "kube-controller-manager")
        let running = try Self.pod([Self.creator, Self.statusAt1], phase: "Running")
        #expect(History.writer(of: running, previous: created) == "kubelet")
        let later = try Self.pod([Self.creator, Self.statusAt2], phase: "Succeeded")
        #expect(History.writer(of: later, previous: running) == "kubelet")
        let both = try Self.pod([Self.entry("a", "Update", nil, "2026-01-01T00:00:05Z", "{}"), Self.entry("b", "Update", nil, "2026-01-01T00:00:04Z", "{}")])
        #expect(History.writer(of: both, previous: created) == "a")
    }

    @Test("an entry left as it was: the owner of the first changed field; a binding is the scheduler's; nothing to go on, no writer")
    func unchangedEntries() throws {
        let running = try Self.pod([Self.creator, Self.statusAt1], phase: "Running")
        // Within the same second the kubelet's entry does not change; it owns status.ready.
        let ready = try Self.pod([Self.creator, Self.statusAt1], phase: "Running", ready: 1)
        #expect(History.writer(of: ready, previous: running) == "kubelet")
        // spec.nodeName, set through the binding subresource, is in no manager's fieldsV1: the
        // scheduler binds. A change no manager owns otherwise has no writer.
        let bound = try Self.pod([Self.creator, Self.statusAt1], nodeName: "n1", phase: "Running")
        #expect(History.writer(of: bound, previous: running) == "kube-scheduler")
        var annotated = bound
        annotated[path: ["metadata", "annotations", "unowned"]] = "x"
        #expect(History.writer(of: annotated, previous: bound) == nil)
        // Without managedFields there is nothing to go on.
        let bare = try JSONValue.parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}"#)
        #expect(History.writer(of: bare, previous: nil) == nil)
    }
}
