public import OrcaAPI
public import OrcaLog

/// Why an object is as it is: its latest change, the event that caused that change, the event
/// that caused that one, and so on back to the one that started it all — a user's or a
/// scenario step's write, an import, or a component acting on its own (a kubelet's report, a
/// controller's periodic pass) — with what each event changed in its object (`orca why`).
///
/// Every event in the log carries the seq of the event whose handling produced it (`cause`),
/// when there was one; the chain follows those links. Each link is compared with the previous
/// version of its own object, so a chain reads as "the Node's Ready condition turned Unknown,
/// so the node was tainted, so the pod was marked for deletion".
public struct CauseChain: Sendable {
    /// One event of the chain, with what it changed.
    public struct Link: Sendable {
        public var record: EventRecord
        /// The object's version just before this event (nil when the event created it).
        public var previous: EventRecord?
        /// What changed from `previous` to this event's object; empty for a creation and a
        /// deletion (the object appears, or goes, as it is).
        public var changes: [Change]
    }

    /// One changed field: its path (`status.conditions[Ready].status`), and its values before
    /// and after (nil when absent).
    public struct Change: Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var old: JSONValue?
        public var new: JSONValue?

        public init(path: String, old: JSONValue?, new: JSONValue?) {
            self.path = path
            self.old = old
            self.new = new
        }

        public var description: String { "\(path): \(Self.show(old)) → \(Self.show(new))" }

        static func show(_ value: JSONValue?) -> String {
            guard let value else { return "<none>" }
            switch value {
            case .object(let o): return o.isEmpty ? "{}" : "{…}"
            case .array(let a): return a.isEmpty ? "[]" : "[\(a.count) item\(a.count == 1 ? "" : "s")]"
            default:
                let text = value.jsonString()
                return text.count > 60 ? String(text.prefix(57)) + "…" : text
            }
        }
    }

    /// Where the chain ends.
    public enum Origin: Sendable, Hashable {
        /// An event without a recorded cause: what started the chain.
        case root(actor: String)
        /// The last link names a cause that is not in the log (an imported history's cause that
        /// was not imported with it, or a seq beyond the log's end).
        case missing(cause: UInt64)
    }

    /// The links, the object's latest change first, the origin last.
    public var links: [Link]
    public var origin: Origin

    /// The chain behind the latest change of `key` at or before `atSeq` (the whole log when nil),
    /// or, with `creation`, behind the latest creation of it by then ("why does this pod
    /// exist?"); nil when the log has no such event for that object by then.
    ///
    /// - Throws: ``LogError`` when the log cannot be read.
    /// - Complexity: one point read per link; the latest change (when the object is deleted, the
    ///   moment is earlier or `creation` is set) and each link's previous version are searched
    ///   backwards from where they must lie, batch by batch — for a recently changed object a
    ///   batch or two, at worst the log back to the object's creation.
    public static func explain(_ key: ObjectKey, in log: any EventLog, atSeq: UInt64? = nil,
                               creation: Bool = false) throws(LogError) -> CauseChain? {
        let end = try log.latestSeq()
        let bound = min(atSeq ?? .max, end)
        // The latest change: the projection has it when the object exists now; otherwise (or for
        // an earlier moment, or a creation) the log is searched.
        let latest: EventRecord?
        if !creation, bound == end, let current = try log.current(key) {
            latest = current
        } else {
            latest = try log.lastRecord(atOrBefore: bound) { $0.key == key && (!creation || $0.type == .added) }
        }
        guard let latest else { return nil }

        var records = [latest]
        var origin = Origin.root(actor: latest.actor)
        var current = latest
        while let cause = current.cause {
            // A cause always precedes its effect; anything else would loop.
            guard cause < current.seq, let record = try log.read(from: cause, limit: 1).first, record.seq == cause else {
                origin = .missing(cause: cause)
                break
            }
            records.append(record)
            current = record
            origin = .root(actor: record.actor)
        }

        var links: [Link] = []
        for record in records {
            // A creation has no previous version (a key deleted and created again starts afresh).
            let previous = record.type == .added || record.seq <= 1 ? nil : try log.lastRecord(atOrBefore: record.seq - 1) { $0.key == record.key }
            links.append(Link(record: record, previous: previous,
                              changes: record.type == .modified ? changes(from: previous?.object, to: record.object) : []))
        }
        return CauseChain(links: links, origin: origin)
    }

    /// The fields that differ between two versions of an object, in the order of the new one
    /// (removed fields after), leaving out the bookkeeping every write changes
    /// (`metadata.resourceVersion`, `metadata.managedFields`). A list whose items all carry a
    /// `type` or a `name` is compared item by item under that key (`status.conditions[Ready]`).
    /// Objects nested deeper than eight levels are compared whole.
    ///
    /// - Complexity: O(n · k) for values of n nodes whose widest object has k members (a member is
    ///   looked up by a linear search, as in ``JSONObject``).
    public static func changes(from old: JSONValue?, to new: JSONValue?) -> [Change] {
        var out: [Change] = []
        diff(old, new, path: "", depth: 0, into: &out)
        return out
    }

    static let ignored: Set<String> = ["metadata.resourceVersion", "metadata.managedFields"]
    static let maxDepth = 8

    static func diff(_ old: JSONValue?, _ new: JSONValue?, path: String, depth: Int, into out: inout [Change]) {
        if ignored.contains(path) || old == new { return }
        switch (old, new) {
        case (.object(let a)?, .object(let b)?) where depth < maxDepth:
            for (key, value) in b { diff(a[key], value, path: join(path, key), depth: depth + 1, into: &out) }
            for (key, value) in a where b[key] == nil { diff(value, nil, path: join(path, key), depth: depth + 1, into: &out) }
        case (.array(let a)?, .array(let b)?) where depth < maxDepth:
            if let field = a.isEmpty ? keyField(b) : keyField(a), a.isEmpty || b.isEmpty || keyField(b) == field {
                let before = Dictionary(a.map { ($0[field]?.stringValue ?? "", $0) }, uniquingKeysWith: { first, _ in first })
                let afterKeys = Set(b.map { $0[field]?.stringValue ?? "" })
                for item in b {
                    let name = item[field]?.stringValue ?? ""
                    diff(before[name], item, path: "\(path)[\(name)]", depth: depth + 1, into: &out)
                }
                for item in a where !afterKeys.contains(item[field]?.stringValue ?? "") {
                    diff(item, nil, path: "\(path)[\(item[field]?.stringValue ?? "")]", depth: depth + 1, into: &out)
                }
            } else if a.count == b.count {
                for i in a.indices { diff(a[i], b[i], path: "\(path)[\(i)]", depth: depth + 1, into: &out) }
            } else {
                out.append(Change(path: path, old: old, new: new))
            }
        default:
            out.append(Change(path: path, old: old, new: new))
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// `type` or `name`, when every item is an object with a distinct string under it.
    static func keyField(_ items: [JSONValue]) -> String? {
        guard !items.isEmpty else { return nil }
        for field in ["type", "name"] {
            let names = items.compactMap { $0[field]?.stringValue }
            if names.count == items.count && Set(names).count == names.count { return field }
        }
        return nil
    }
}

extension CauseChain.Origin {
    /// What started the chain, in words.
    public var explanation: String {
        switch self {
        case .missing(let cause):
            return "its cause, seq \(cause), is not in this log"
        case .root(let actor):
            if actor == "user" { return "a user's write (orca apply, delete or the store API)" }
            if actor == "import" { return "an imported history" }
            if actor == "scenario/setup" { return "the scenario's initial objects" }
            if actor.hasPrefix("scenario/") { return "the scenario step \(actor.dropFirst("scenario/".count))" }
            if actor.hasPrefix("kubelet/") {
                return "the kubelet of \(actor.dropFirst("kubelet/".count)) acting on its own (a container's start or exit, a probe, a heartbeat)"
            }
            if actor.hasPrefix("controller/") {
                return "the \(actor.dropFirst("controller/".count)) controller acting on its own (a periodic pass or a timer, no triggering event)"
            }
            return "\(actor), with no recorded cause"
        }
    }
}
