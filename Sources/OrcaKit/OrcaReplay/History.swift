public import OrcaAPI
public import OrcaLog

/// The history format (JSON Lines): one watch event per line, as
/// `kubectl get --watch --output-watch-events -o json` prints, plus optional provenance:
/// `{"type":"MODIFIED","object":{…},"time":"…","actor":"kubelet/node-1","seq":42,"cause":40}`.
///
/// Kubernetes audit logs (one `audit.k8s.io/v1` Event per line) are accepted too: each
/// `ResponseComplete` event of a create, update, patch or delete with a response object becomes
/// one history entry, timed by `stageTimestamp` and attributed to the requesting user.
public enum History {
    /// One parsed line, before it is appended.
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var type: EventType
        public var object: JSONValue
        public var time: Timestamp?
        public var actor: String?
        public var seq: UInt64?
        public var cause: UInt64?
    }

    /// A problem with one line; nothing of the history is imported.
    public struct LineError: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses every line of a history (blank lines are skipped).
    /// - Throws: ``LineError`` for the first bad line.
    public static func parse(_ text: String) throws(LineError) -> [Entry] {
        var entries: [Entry] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if let entry = try parseLine(line, number: lineNumber) { entries.append(entry) }
        }
        return entries
    }

    /// One line of a history (a trailing `\r` allowed): its entry, or nil for a blank line or an
    /// audit event that records no write (another stage, a failed or read-only request).
    /// - Throws: ``LineError`` naming `number` for a bad line.
    public static func parseLine(_ rawLine: Substring, number: Int) throws(LineError) -> Entry? {
        let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
        if line.allSatisfy({ $0 == " " || $0 == "\t" }) { return nil }
        let value: JSONValue
        do {
            value = try JSONValue.parse(String(line))
        } catch {
            throw LineError(line: number, message: "invalid JSON: \(error)")
        }
        if let entry = try parseAudit(value, line: number) { return entry }
        if value["apiVersion"]?.stringValue?.hasPrefix("audit.k8s.io/") == true { return nil }
        return try parseWatchEvent(value, line: number)
    }

    static func parseWatchEvent(_ value: JSONValue, line: Int) throws(LineError) -> Entry {
        guard value.objectValue != nil else { throw LineError(line: line, message: "expected a JSON object, found a \(value.typeName)") }
        guard let typeText = value["type"]?.stringValue else { throw LineError(line: line, message: "missing \"type\"") }
        guard let type = EventType(rawValue: typeText) else {
            throw LineError(line: line, message: "unsupported type \"\(typeText)\": must be ADDED, MODIFIED or DELETED")
        }
        guard let object = value["object"], object.objectValue != nil else {
            throw LineError(line: line, message: "missing \"object\"")
        }
        try checkObject(object, line: line)
        var time: Timestamp?
        if let t = value["time"], !t.isNull {
            guard let s = t.stringValue, let parsed = Timestamp(rfc3339: s) else {
                throw LineError(line: line, message: "\"time\" must be an RFC 3339 timestamp, found \(t.jsonString())")
            }
            time = parsed
        }
        func number(_ key: String) throws(LineError) -> UInt64? {
            guard let v = value[key], !v.isNull else { return nil }
            guard let i = v.intValue, i >= 0 else { throw LineError(line: line, message: "\"\(key)\" must be a non-negative integer") }
            return UInt64(i)
        }
        if let a = value["actor"], !a.isNull, a.stringValue == nil {
            throw LineError(line: line, message: "\"actor\" must be a string")
        }
        return Entry(line: line, type: type, object: object, time: time, actor: value["actor"]?.stringValue,
                     seq: try number("seq"), cause: try number("cause"))
    }

    static func checkObject(_ object: JSONValue, line: Int) throws(LineError) {
        guard let kind = object["kind"]?.stringValue, !kind.isEmpty else { throw LineError(line: line, message: "object has no \"kind\"") }
        guard object["apiVersion"]?.stringValue != nil else { throw LineError(line: line, message: "object has no \"apiVersion\"") }
        guard let name = object[path: ["metadata", "name"]]?.stringValue, !name.isEmpty else {
            throw LineError(line: line, message: "\(kind) has no metadata.name")
        }
    }

    static func parseAudit(_ value: JSONValue, line: Int) throws(LineError) -> Entry? {
        guard value["kind"]?.stringValue == "Event", value["apiVersion"]?.stringValue?.hasPrefix("audit.k8s.io/") == true else {
            return nil
        }
        guard value["stage"]?.stringValue == "ResponseComplete",
              let verb = value["verb"]?.stringValue,
              let code = value[path: ["responseStatus", "code"]]?.intValue, (200..<300).contains(code),
              let object = value["responseObject"], object["kind"]?.stringValue != "Status"
        else { return nil }
        let type: EventType
        switch verb {
        case "create": type = .added
        case "update", "patch": type = .modified
        case "delete": type = .deleted
        default: return nil
        }
        try checkObject(object, line: line)
        let time = (value["stageTimestamp"]?.stringValue).flatMap(Timestamp.init(rfc3339:))
        return Entry(line: line, type: type, object: object, time: time, actor: value[path: ["user", "username"]]?.stringValue,
                     seq: nil, cause: nil)
    }

    /// The best timestamp an object carries: the latest of its creation, managedFields,
    /// condition and container-state times. (`deletionTimestamp` is not used: it lies a grace
    /// period in the future of the write that set it.)
    public static func bestTimestamp(of object: JSONValue) -> Timestamp? {
        var best: Timestamp?
        func consider(_ v: JSONValue?) {
            guard let s = v?.stringValue, let t = Timestamp(rfc3339: s) else { return }
            if best.map({ t > $0 }) ?? true { best = t }
        }
        consider(object[path: ["metadata", "creationTimestamp"]])
        for field in object[path: ["metadata", "managedFields"]]?.arrayValue ?? [] { consider(field["time"]) }
        for condition in object[path: ["status", "conditions"]]?.arrayValue ?? [] {
            consider(condition["lastTransitionTime"])
            consider(condition["lastProbeTime"])
        }
        consider(object[path: ["status", "startTime"]])
        consider(object[path: ["status", "completionTime"]])
        for status in object[path: ["status", "containerStatuses"]]?.arrayValue ?? [] {
            consider(status[path: ["state", "running", "startedAt"]])
            consider(status[path: ["state", "terminated", "finishedAt"]])
        }
        return best
    }

    /// Turns parsed entries into drafts for a log whose next seq is `nextSeq`: times default to
    /// the best timestamp and never go backwards; causes that name a seq of the same history are
    /// renumbered to the seq that entry gets here. Objects keep every field, resourceVersion
    /// included.
    public static func drafts(_ entries: [Entry], nextSeq: UInt64, after previousTime: Timestamp?) -> [EventDraft] {
        var seqMap: [UInt64: UInt64] = [:]
        for (i, entry) in entries.enumerated() { if let s = entry.seq { seqMap[s] = nextSeq + UInt64(i) } }
        var timing = Timing(after: previousTime)
        return entries.map { entry in
            let cause = entry.cause.map { seqMap[$0] ?? $0 }
            return EventDraft(time: timing.time(of: entry), type: entry.type, actor: entry.actor ?? "import", cause: cause,
                              object: entry.object, stampResourceVersion: false)
        }
    }

    /// The times entries get, one after another: an entry's `time`, else the best timestamp its
    /// object carries, never before the previous entry's; else the previous entry's.
    public struct Timing: Sendable {
        var last: Timestamp

        /// Times following `previous` (the log's latest, when appending to one).
        public init(after previous: Timestamp? = nil) { last = previous ?? .zero }

        /// The next entry's time.
        public mutating func time(of entry: Entry) -> Timestamp {
            var time = entry.time ?? History.bestTimestamp(of: entry.object) ?? last
            if time < last, entry.time == nil { time = last }
            last = max(last, time)
            return time
        }
    }

    /// One history line with provenance, as `orca export` and `orca log -o json` print.
    public static func line(_ record: EventRecord) -> String { entry(record).jsonString() }

    /// ``line(_:)``'s value: `{"type", "object", "time", "actor", "seq", "cause"}`.
    public static func entry(_ record: EventRecord) -> JSONValue {
        var o = JSONObject()
        o["type"] = .string(record.type.rawValue)
        o["object"] = record.object
        o["time"] = .string(record.time.description)
        o["actor"] = .string(record.actor)
        o["seq"] = .int(Int64(record.seq))
        if let cause = record.cause { o["cause"] = .int(Int64(cause)) }
        return .object(o)
    }

    /// One human-readable line: `SEQ TIME TYPE kind/ns/name actor [cause]`.
    public static func text(_ record: EventRecord) -> String {
        "\(record.seq)\t\(record.time)\t\(record.type.rawValue)\t\(record.key)\t\(record.actor)" + (record.cause.map { "\tcause=\($0)" } ?? "")
    }
}

extension History.Entry {
    /// A record of a log as an entry (`line` is its seq), as `orca export` would print it.
    public init(record: EventRecord) {
        self.init(line: Int(clamping: record.seq), type: record.type, object: record.object, time: record.time,
                  actor: record.actor, seq: record.seq, cause: record.cause)
    }
}
