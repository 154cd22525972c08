public import OrcaAPI

extension History {
    /// Who wrote `object`, the version of an object that followed `previous` (nil for its first
    /// version), judged from the `metadata.managedFields` Kubernetes keeps — for a history
    /// recorded from a real cluster, where a watch event does not say who wrote it.
    ///
    /// - The manager whose managedFields entry (one per manager, operation and subresource) this
    ///   write added or changed (its `time` or `fieldsV1`); of several, the one with the latest
    ///   time, the later in the list on a tie.
    /// - Else (a write that left every entry as it was, as an update within the same second of
    ///   fields a manager already owns does) the manager whose `fieldsV1` owns the first field
    ///   that changed and that some manager owns (`status.active` → `f:status` › `f:active`; a
    ///   list item by its list).
    /// - Else, for a pod's binding (`spec.nodeName` set through the `binding` subresource, which
    ///   records no managedFields), `kube-scheduler`.
    /// - Else nil: the write touched no managed field, such as a deletion.
    public static func writer(of object: JSONValue, previous: JSONValue?) -> String? {
        let entries = object[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        guard !entries.isEmpty else { return nil }
        let before = previous?[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        func identity(_ entry: JSONValue) -> [String] {
            ["manager", "operation", "subresource"].map { entry[$0]?.stringValue ?? "" }
        }
        var changed: (manager: String, time: Timestamp)?
        for entry in entries {
            let id = identity(entry)
            let old = before.first { identity($0) == id }
            guard old?["time"] != entry["time"] || old?["fieldsV1"] != entry["fieldsV1"],
                  let manager = entry["manager"]?.stringValue else { continue }
            let time = entry["time"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? .zero
            if changed.map({ time >= $0.time }) ?? true { changed = (manager, time) }
        }
        if let changed { return changed.manager }
        guard let previous else { return nil }
        if (previous[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty,
           !(object[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty {
            return "kube-scheduler"
        }
        for change in CauseChain.changes(from: previous, to: object) {
            let fields = managedPath(change.path)
            guard fields.first != "f:metadata" || !["f:generation", "f:uid"].contains(fields.dropFirst().first ?? "") else { continue }
            if let owner = entries.first(where: { owns($0["fieldsV1"], fields) }) { return owner["manager"]?.stringValue }
        }
        return nil
    }

    /// `entries` with each missing `actor` filled in by ``writer(of:previous:)`` from the
    /// previous entry of the same object (by UID, else by kind, namespace and name); still nil
    /// where managedFields say nothing.
    public static func attributingWriters(_ entries: [Entry]) -> [Entry] {
        var attribution = Attribution()
        return entries.map { attribution.attributed($0) }
    }

    /// ``attributingWriters(_:)`` one entry at a time, for a history read in batches: keeps the
    /// latest version of each live object.
    public struct Attribution: Sendable {
        var latest: [String: JSONValue] = [:]

        public init() {}

        /// `entry` with its `actor` filled in when it had none and managedFields say.
        public mutating func attributed(_ entry: Entry) -> Entry {
            var entry = entry
            let id = History.identity(of: entry.object)
            if entry.actor == nil { entry.actor = History.writer(of: entry.object, previous: latest[id]) }
            if entry.type == .deleted { latest[id] = nil } else { latest[id] = entry.object }
            return entry
        }
    }

    /// What tells one recorded object from another across its versions: its UID, or (in a
    /// hand-written history without UIDs) `key:` and its kind, namespace and name.
    public static func identity(of object: JSONValue) -> String {
        let u = Unstructured(object)
        return u.uid.isEmpty ? "key:" + u.key.description : u.uid
    }

    /// `status.conditions[Ready].status` → `["f:status", "f:conditions"]`: the fieldsV1 keys down
    /// to the first list (list items are keyed by their content there, which a path does not
    /// name).
    static func managedPath(_ path: String) -> [String] {
        var out: [String] = []
        for part in path.split(separator: ".") {
            if let bracket = part.firstIndex(of: "[") {
                out.append("f:" + part[..<bracket])
                break
            }
            out.append("f:" + part)
        }
        return out
    }

    static func owns(_ fields: JSONValue?, _ path: [String]) -> Bool {
        var node = fields
        for key in path {
            node = node?[key]
            if node == nil { return false }
        }
        return true
    }
}
