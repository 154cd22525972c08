public import Orca

/// An `expect:` entry that did not hold, with what was found.
public struct ExpectationFailure: Sendable, CustomStringConvertible {
    public var expectation: Int
    public var line: Int
    public var message: String
    public var description: String { "expect[\(expectation)] (line \(line)): \(message)" }
}

extension Expectation {
    /// The criteria, as one line (`Pod selector app=web phase=Running notOnNode=node-2`).
    public var summary: String {
        var parts = [kind]
        if let namespace, !namespace.isEmpty, namespace != "default" { parts.append("-n \(namespace)") }
        if let name { parts.append(name) }
        if let selectorText { parts.append("selector \(selectorText)") }
        if let phase { parts.append("phase=\(phase)") }
        if let onNode { parts.append("node=\(onNode)") }
        if let notOnNode { parts.append("notOnNode=\(notOnNode)") }
        if let ready { parts.append("ready=\(ready)") }
        if let terminating { parts.append("terminating=\(terminating)") }
        for f in fields { parts.append("\(f.path.joined(separator: "."))=\(f.value.jsonString())") }
        if let at { parts.append("at \(at.goString)") }
        return parts.joined(separator: " ")
    }

    /// Whether one object meets every criterion but the count.
    public func matches(_ object: Unstructured) -> Bool {
        if let name, object.name != name { return false }
        if let selector, !selector.matches(object.labels) { return false }
        if let phase, object.value[path: ["status", "phase"]]?.stringValue != phase { return false }
        let node = object.value[path: ["spec", "nodeName"]]?.stringValue ?? ""
        if let onNode, node != onNode { return false }
        if let notOnNode, node == notOnNode { return false }
        if let ready {
            let conditions = object.value[path: ["status", "conditions"]]?.arrayValue ?? []
            let isReady = conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
            if isReady != ready { return false }
        }
        if let terminating, (object.deletionTimestamp != nil) != terminating { return false }
        for field in fields where !Self.contains(object.value[path: field.path], field.value) { return false }
        return true
    }

    /// `actual` holds everything `expected` says: objects recursively, every element of an
    /// expected list matching some element of the actual list, scalars equal (numbers and their
    /// strings compare equal). An empty expected list means an empty or absent list, and an
    /// absent field holds its zero value (0, false, "", an object of zero values), as the API
    /// omits those fields (`readyReplicas: 0` holds for a ReplicaSet whose status has none).
    static func contains(_ actual: JSONValue?, _ expected: JSONValue) -> Bool {
        switch expected {
        case .object(let e):
            // An absent object is a zero one: it holds an expectation of zero values (`lastState: {}`).
            guard let a = actual?.objectValue else { return actual == nil && e.allSatisfy { contains(nil, $0.value) } }
            return e.allSatisfy { contains(a[$0.key], $0.value) }
        case .array(let e):
            let a = actual?.arrayValue ?? []
            if e.isEmpty { return a.isEmpty }
            return e.allSatisfy { item in a.contains { contains($0, item) } }
        case .null:
            return actual == nil || actual == .null
        default:
            guard let actual else { return expected == 0 || expected == false || expected == "" }
            if actual == expected { return true }
            return (actual.stringValue ?? actual.jsonString()) == (expected.stringValue ?? expected.jsonString())
        }
    }
}

extension Simulation {
    /// Checks every expectation against the log: at its `at` time, or the end of the run.
    public func checkExpectations() throws -> [ExpectationFailure] {
        try scenario.expectations.compactMap { try check($0) }
    }

    func check(_ e: Expectation) throws -> ExpectationFailure? {
        let records: [EventRecord]
        if let at = e.at {
            let seq = try log.lastSeq(atOrBefore: scenario.start.adding(at))
            records = try EventLogProjection.state(of: log, atSeq: seq).values
                .filter { $0.kind == e.kind && (e.namespace == nil || $0.namespace == e.namespace) }
                .sorted { $0.key < $1.key }
        } else {
            records = try log.list(kind: e.kind, namespace: e.namespace).records
        }
        let candidates = records.map { Unstructured($0.object) }
            .filter { o in (e.name == nil || o.name == e.name) && (e.selector?.matches(o.labels) ?? true) }
        let matching = candidates.filter { e.matches($0) }
        let ok: Bool
        if let count = e.count {
            ok = matching.count == count
        } else {
            ok = !candidates.isEmpty && matching.count == candidates.count
        }
        if ok { return nil }
        let want = e.count.map { "want \($0) matching, got \(matching.count)" }
            ?? (candidates.isEmpty ? "want at least one object, found none" : "want all \(candidates.count) to match, \(matching.count) do")
        var lines = ["\(e.summary): \(want)"]
        for o in candidates.prefix(20) {
            let phase = o.value[path: ["status", "phase"]]?.stringValue ?? "-"
            let node = o.value[path: ["spec", "nodeName"]]?.stringValue ?? "-"
            let conditions = o.value[path: ["status", "conditions"]]?.arrayValue ?? []
            let ready = conditions.first { $0["type"]?.stringValue == "Ready" }?["status"]?.stringValue ?? "-"
            var line = "  \(o.name)  phase=\(phase) node=\(node) ready=\(ready)"
            if o.deletionTimestamp != nil { line += " terminating" }
            for f in e.fields { line += " \(f.path.joined(separator: "."))=\(o.value[path: f.path]?.jsonString() ?? "<none>")" }
            lines.append(line + (e.matches(o) ? "" : "  (does not match)"))
        }
        if candidates.count > 20 { lines.append("  … \(candidates.count - 20) more") }
        return ExpectationFailure(expectation: e.index, line: e.line, message: lines.joined(separator: "\n"))
    }
}
