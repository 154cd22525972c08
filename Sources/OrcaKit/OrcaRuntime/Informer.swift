import HashTreeCollections
public import OrcaAPI
public import OrcaLog
import Synchronization

/// What an informer tells its handlers, after its cache has been updated.
public enum InformerEvent: Sendable {
    /// An object appeared. `initialList` is true for objects of the first list.
    case added(EventRecord, initialList: Bool)
    /// An object changed (old, new).
    case updated(old: EventRecord, new: EventRecord)
    /// An object went away; the record is its final state. `finalStateUnknown` is true when the
    /// deletion itself was not seen (found missing on a relist — client-go's
    /// `DeletedFinalStateUnknown`), and the record is the last state the cache knew.
    case deleted(EventRecord, finalStateUnknown: Bool)

    /// The newest record the event carries.
    public var record: EventRecord {
        switch self {
        case .added(let r, _), .deleted(let r, _): return r
        case .updated(_, let new): return new
        }
    }
}

/// A function that files an object under zero or more index values.
public typealias IndexFunction = @Sendable (EventRecord) -> [String]

/// The built-in indexes every informer keeps.
public enum IndexName {
    /// `metadata.namespace`.
    public static let namespace = "namespace"
    /// The UID of the object's controller owner reference.
    public static let controllerUID = "controllerUID"
    /// A pod's `spec.nodeName` (empty for unscheduled pods, which are not indexed).
    public static let nodeName = "spec.nodeName"
    /// The namespace of every object without a controller owner reference: the orphans a
    /// controller may adopt.
    public static let orphans = "orphans"
    /// Every `key=value` label of an object. Not built in: a controller that selects by labels
    /// adds it with ``InformerIndex/labels(of:)``.
    public static let labels = "labels"

    /// The UIDs of the object's controller references, and whether it has one (a controller
    /// reference without a UID still makes it no orphan): both owner indexes from one read.
    static func controllers(_ record: EventRecord) -> (uids: [String], hasController: Bool) {
        // Fields arrive element by element: an element's controller flag and UID are noted, and
        // a controller reference counted when the next element starts, and after the last.
        var owners = Owners()
        _ = record.forEachElement(at: ownerReferencesPath, fields: ownerFields) { index, field, value in
            owners.note(index, field, value)
        }
        owners.finish()
        return (owners.uids, owners.hasController)
    }

    /// What ``controllers(_:)`` gathers from the owner references' fields.
    struct Owners {
        var uids: [String] = []
        var hasController = false
        var element = -1
        var isController = false
        var uid: String?

        mutating func note(_ index: Int, _ field: Int, _ value: JSONValue) {
            if index != element {
                finish()
                element = index
                isController = false
                uid = nil
            }
            if field == 0 { isController = value == .bool(true) } else { uid = value.stringValue }
        }

        mutating func finish() {
            guard isController else { return }
            hasController = true
            if let uid { uids.append(uid) }
            isController = false
            uid = nil
        }
    }

    static let ownerReferencesPath = ["metadata", "ownerReferences"]
    static let ownerFields = ElementFields(["controller", "uid"])

    static func labelPairs(_ record: EventRecord) -> [String] {
        guard case .object(let labels)? = record.value(at: ["metadata", "labels"]) else { return [] }
        return labels.map { $0.key + "=" + ($0.value.stringValue ?? "") }
    }

    static func nodeNameValues(_ record: EventRecord) -> [String] {
        guard let node = node(of: record) else { return [] }
        return [node]
    }

    static func node(of record: EventRecord) -> String? {
        guard let node = record.value(at: nodeNamePath)?.stringValue, !node.isEmpty else { return nil }
        return node
    }

    static let nodeNamePath = ["spec", "nodeName"]

    /// Which built-in index a column is (nil: a custom one).
    enum BuiltIn: Sendable {
        case namespace, controllerUID, nodeName, orphans

        init?(name: String) {
            switch name {
            case IndexName.namespace: self = .namespace
            case IndexName.controllerUID: self = .controllerUID
            case IndexName.nodeName: self = .nodeName
            case IndexName.orphans: self = .orphans
            default: return nil
            }
        }
    }

    static let builtIn: [String: IndexFunction] = [
        namespace: { [$0.namespace] },
        controllerUID: { controllers($0).uids },
        nodeName: { nodeNameValues($0) },
        orphans: { record in controllers(record).hasController ? [] : [record.namespace] },
    ]
}

/// An immutable view of one kind's cache at one seq of the log.
///
/// Taking a snapshot is O(1) and it never changes afterwards: the cache is a persistent hash
/// tree, so the informer's next update shares everything it does not touch.
public struct CacheSnapshot: Sendable {
    public let kind: String
    /// The log seq the snapshot reflects: every event up to it, none after.
    public let seq: UInt64
    let objects: TreeDictionary<ObjectKey, CacheEntry>
    let indexes: [String: TreeDictionary<String, TreeSet<ObjectKey>>]

    /// The object's latest record, if the cache holds it.
    public func get(namespace: String = "", name: String) -> EventRecord? {
        objects[ObjectKey(kind: kind, namespace: namespace, name: name)]?.record
    }

    public func get(_ key: ObjectKey) -> EventRecord? { objects[key]?.record }

    /// Every object (in `namespace` when given), in key order.
    ///
    /// - Complexity: O(n log n) in the number of objects returned.
    public func list(namespace: String? = nil) -> [EventRecord] {
        if let namespace { return byIndex(IndexName.namespace, namespace) }
        // Sorted by key before the records are looked up: a record builds its key on each call.
        return objects.keys.sorted().compactMap { objects[$0]?.record }
    }

    /// Objects filed under `value` in the index `name`, in key order; empty for an unknown index.
    public func byIndex(_ name: String, _ value: String) -> [EventRecord] {
        guard let keys = indexes[name]?[value] else { return [] }
        return keys.sorted().compactMap { objects[$0]?.record }
    }

    public var count: Int { objects.count }

    /// The values under which the index `name` files at least one object, sorted; empty for an
    /// unknown index (the nodes that have pods, from ``IndexName/nodeName``).
    public func indexValues(_ name: String) -> [String] {
        guard let index = indexes[name] else { return [] }
        return index.compactMap { $0.value.isEmpty ? nil : $0.key }.sorted()
    }

    /// The objects a controller with UID `controllerUID` may claim in `namespace` — those it
    /// controls and the orphans — in key order. Claiming (``ControllerRefManager``) ignores every
    /// other object, so this is all it needs instead of the whole namespace.
    public func claimCandidates(namespace: String, controllerUID: String) -> [EventRecord] {
        var keys = indexes[IndexName.orphans]?[namespace] ?? []
        for key in indexes[IndexName.controllerUID]?[controllerUID] ?? [] where key.namespace == namespace { keys.insert(key) }
        return keys.sorted().compactMap { objects[$0]?.record }
    }

    /// The objects in `namespace` whose labels include every pair of `selector`, in key order,
    /// found through the ``IndexName/labels`` index (added with ``InformerIndex/labels(of:)``);
    /// without that index, every object of the namespace is checked. An empty selector selects
    /// the whole namespace.
    public func selecting(_ selector: [String: String], namespace: String) -> [EventRecord] {
        let matches = { (record: EventRecord) -> Bool in
            guard case .object(let labels)? = record.value(at: ["metadata", "labels"]) else { return selector.isEmpty }
            return selector.allSatisfy { labels[$0.key]?.stringValue == $0.value }
        }
        guard let index = indexes[IndexName.labels], !selector.isEmpty else { return list(namespace: namespace).filter(matches) }
        var smallest: TreeSet<ObjectKey>?
        for (key, value) in selector {
            let keys = index[key + "=" + value] ?? []
            if smallest == nil || keys.count < smallest?.count ?? 0 { smallest = keys }
        }
        return (smallest ?? []).filter { $0.namespace == namespace }.sorted().compactMap { objects[$0]?.record }.filter(matches)
    }
}

/// The shared, indexed cache of one kind, fed from the log by ``SharedInformers``.
///
/// Contract (the full statement is in Docs/Consistency.md):
/// - Events are applied in log order; handlers see each change after the cache holds it.
/// - Every change is delivered to every handler, in order, none skipped — except across a
///   relist after a gap, where what changed in between is delivered as one update per object
///   (or a `finalStateUnknown` delete), as client-go's `Replace`.
/// - An update whose record is identical to the cached one (same seq) is not delivered.
public final class Informer: Sendable {
    public let kind: String

    struct State {
        var objects = TreeDictionary<ObjectKey, CacheEntry>()
        var indexes: [String: TreeDictionary<String, TreeSet<ObjectKey>>] = [:]
        /// The index functions, in name order; each entry's `filed` holds its values in this order.
        var columns: [IndexColumn]
        var seq: UInt64 = 0
        var synced = false
        /// Handlers with the name of the controller that registered them (nil for others).
        var handlers: [(owner: String?, handler: @Sendable (InformerEvent) -> Void)] = []
    }

    let state: Mutex<State>

    init(kind: String) {
        self.kind = kind
        var s = State(columns: IndexName.builtIn.map { IndexColumn(name: $0.key, function: $0.value, builtIn: IndexName.BuiltIn(name: $0.key)) }
            .sorted { $0.name < $1.name })
        for column in s.columns { s.indexes[column.name] = [:] }
        state = Mutex(s)
    }

    /// The current cache, as an immutable snapshot.
    public var snapshot: CacheSnapshot {
        state.withLock { CacheSnapshot(kind: kind, seq: $0.seq, objects: $0.objects, indexes: $0.indexes) }
    }

    /// True once the first list has been applied.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The seq of the last event applied.
    public var seq: UInt64 { state.withLock { $0.seq } }

    /// A private copy of `shared` holding the same objects, indexes and seq, to which the handlers
    /// registered by `owner` move (a controller's delayed view, see
    /// ``SharedInformers/delay(_:for:by:clock:)``).
    init(splittingFrom shared: Informer, owner: String) {
        kind = shared.kind
        let copied = shared.state.withLock { s -> State in
            var copy = s
            copy.handlers = s.handlers.filter { $0.owner == owner }
            s.handlers.removeAll { $0.owner == owner }
            return copy
        }
        state = Mutex(copied)
    }

    /// Registers a handler. A handler added after the first list is first told about every cached
    /// object (`initialList: true`), in key order, so it misses nothing. `owner` names the
    /// controller the handler feeds, so that a delayed view of the kind can take its handlers.
    public func addHandler(owner: String? = nil, _ handler: @escaping @Sendable (InformerEvent) -> Void) {
        let existing = state.withLock { s -> [EventRecord] in
            s.handlers.append((owner: owner, handler: handler))
            return s.synced ? s.objects.values.map(\.record).sorted { $0.key < $1.key } : []
        }
        for record in existing { handler(.added(record, initialList: true)) }
    }

    /// Adds an index; objects already cached are indexed at once.
    public func addIndex(_ name: String, _ function: @escaping IndexFunction) {
        state.withLock { s in
            s.columns.removeAll { $0.name == name }
            s.columns.append(IndexColumn(name: name, function: function, builtIn: nil))
            s.columns.sort { $0.name < $1.name }
            Self.refile(s.objects.values.map(\.record), &s)
        }
    }

    // MARK: Applying (called by SharedInformers, in log order)

    /// Applies one record of this kind. Returns the event to deliver, if any.
    func apply(_ record: EventRecord) -> InformerEvent? {
        state.withLock { s -> InformerEvent? in
            guard record.seq > s.seq else { return nil }
            s.seq = record.seq
            let key = record.key
            if record.type == .deleted {
                guard let old = s.objects.removeValue(forKey: key) else { return nil }
                Self.file(key, from: old.filed, to: nil, &s)
                return .deleted(record, finalStateUnknown: false)
            }
            // One walk of the tree: the entry is read and replaced in place.
            let columns = s.columns
            var old: CacheEntry?
            var values: [[String]] = []
            Self.modify(&s.objects[key]) { entry in
                old = entry
                values = Self.values(of: record, columns, before: entry?.filed)
                entry = CacheEntry(record: record, filed: values)
            }
            Self.file(key, from: old?.filed, to: values, &s)
            if let old { return .updated(old: old.record, new: record) }
            return .added(record, initialList: false)
        }
    }

    /// Replaces the cache with a list taken at `seq` and returns the events that turn the old
    /// cache into the new one (all adds, on the first list).
    func replace(with records: [EventRecord], seq: UInt64) -> [InformerEvent] {
        state.withLock { s -> [InformerEvent] in
            let first = !s.synced
            var events: [InformerEvent] = []
            var fresh = TreeDictionary<ObjectKey, EventRecord>()
            for record in records { fresh[record.key] = record }
            for (key, old) in s.objects where fresh[key] == nil {
                events.append(.deleted(old.record, finalStateUnknown: true))
            }
            for record in records.sorted(by: { $0.key < $1.key }) {
                if let old = s.objects[record.key]?.record {
                    if old.seq != record.seq { events.append(.updated(old: old, new: record)) }
                } else {
                    events.append(.added(record, initialList: first))
                }
            }
            Self.refile(Array(fresh.values), &s)
            s.seq = max(s.seq, seq)
            s.synced = true
            return events
        }
    }

    func deliver(_ events: [InformerEvent]) {
        let handlers = state.withLock { $0.handlers }
        for event in events { for entry in handlers { entry.handler(event) } }
    }

    func deliver(_ event: InformerEvent) {
        let handlers = state.withLock { $0.handlers }
        for entry in handlers { entry.handler(event) }
    }

    /// The values each index files `record` under, in column order. `before` is what the
    /// record's key was filed under: a column whose values did not change returns that very array
    /// (and when none changed, `before` itself is returned), so an update that moves nothing
    /// allocates nothing for the built-in indexes and filing it compares buffers, not strings.
    static func values(of record: EventRecord, _ columns: [IndexColumn], before: [[String]]? = nil) -> [[String]] {
        var owners: (uids: [String], hasController: Bool)?
        var out: [[String]]?  // nil while every column so far equals `before`
        for (i, column) in columns.enumerated() {
            let previous = before.flatMap { i < $0.count ? $0[i] : nil }
            let value: [String]
            switch column.builtIn {
            case .namespace?:
                value = reuse(previous, one: record.namespace)
            case .nodeName?:
                value = reuse(previous, one: IndexName.node(of: record))
            case .controllerUID?:
                // The two built-in owner indexes share one read of the owner references.
                let o = owners ?? IndexName.controllers(record)
                owners = o
                if let previous, previous == o.uids { value = previous } else { value = o.uids }
            case .orphans?:
                let o = owners ?? IndexName.controllers(record)
                owners = o
                value = reuse(previous, one: o.hasController ? nil : record.namespace)
            case nil:
                value = column.function(record)
            }
            if out == nil {
                if let previous, previous == value { continue }
                var fresh: [[String]] = []
                fresh.reserveCapacity(columns.count)
                if let before { fresh.append(contentsOf: before.prefix(i)) }
                out = fresh
            }
            out?.append(value)
        }
        if let out { return out }
        guard let before else { return [] }
        return before.count == columns.count ? before : Array(before.prefix(columns.count))
    }

    @inline(__always)
    static func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    /// `previous` when it holds exactly `value` (or nothing, for nil), else a new array.
    @inline(__always)
    static func reuse(_ previous: [String]?, one value: String?) -> [String] {
        if let previous {
            if let value {
                if previous.count == 1 && previous[0] == value { return previous }
            } else if previous.isEmpty {
                return previous
            }
        }
        guard let value else { return [] }
        return [value]
    }

    /// Moves `key` from the index values it was filed under (`before`, nil when it was not
    /// cached) to `values` (nil: unfiles it), touching only the index entries that change (most
    /// updates change none).
    static func file(_ key: ObjectKey, from before: [[String]]?, to values: [[String]]?, _ s: inout State) {
        guard before != values else { return }
        for (i, column) in s.columns.enumerated() {
            let old = before?[i] ?? []
            let new = values?[i] ?? []
            guard old != new else { continue }
            for value in old where !new.contains(value) {
                s.indexes[column.name]?[value]?.remove(key)
                if s.indexes[column.name]?[value]?.isEmpty == true { s.indexes[column.name]?[value] = nil }
            }
            for value in new where !old.contains(value) {
                s.indexes[column.name, default: [:]][value, default: []].insert(key)
            }
        }
    }

    /// Rebuilds the cache and every index from `records` (one per key).
    static func refile(_ records: [EventRecord], _ s: inout State) {
        s.indexes = [:]
        for column in s.columns { s.indexes[column.name] = [:] }
        var objects = TreeDictionary<ObjectKey, CacheEntry>()
        for record in records {
            let values = values(of: record, s.columns)
            for (i, column) in s.columns.enumerated() {
                for value in values[i] { s.indexes[column.name, default: [:]][value, default: []].insert(record.key) }
            }
            objects[record.key] = CacheEntry(record: record, filed: values)
        }
        s.objects = objects
    }
}

/// One index of an informer, and which built-in it is (nil for a custom one, including one that
/// replaced a built-in): the built-ins are answered without calling their functions.
struct IndexColumn: Sendable {
    let name: String
    let function: IndexFunction
    let builtIn: IndexName.BuiltIn?
}

/// One cached object: its latest record and the index values it is filed under (an update or
/// delete unfiles these instead of running the index functions on the old record again).
struct CacheEntry: Sendable {
    let record: EventRecord
    let filed: [[String]]
}
