public import OrcaAPI
import Synchronization

/// What an event did to its object, in Kubernetes' watch vocabulary.
public enum EventType: String, Sendable, Hashable, CaseIterable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"

    var code: UInt8 {
        switch self {
        case .added: return 1
        case .modified: return 2
        case .deleted: return 3
        }
    }

    init?(code: UInt8) {
        switch code {
        case 1: self = .added
        case 2: self = .modified
        case 3: self = .deleted
        default: return nil
        }
    }
}

/// One entry of the event log: a change to one object, with who made it and why.
///
/// `seq` is the record's position in the log (1, 2, 3…) and is the resourceVersion the store
/// gives the object. For `deleted` events, `object` is the object's final state.
///
/// A record read from a log's bytes keeps its object encoded until first use: reading `object`
/// decodes it once (every copy of the record shares the result), and ``value(at:)`` reads one
/// field without decoding the rest. The bytes were fully checked when the record was read, so
/// a corrupt log still fails at the read, never later.
public struct EventRecord: Sendable, Hashable {
    /// The fields live in one immutable, shared box: a copy of a record (into a cache, an event,
    /// a snapshot) is one retain, and a cache entry holds one reference. A setter replaces the box.
    struct Fields: Sendable {
        var seq: UInt64
        var time: Timestamp
        var type: EventType
        var kind: String
        var namespace: String
        var name: String
        var uid: String
        var actor: String
        var cause: UInt64?
        var payload: Payload
    }

    final class Storage: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    var storage: Storage

    @inline(__always)
    mutating func update(_ body: (inout Fields) -> Void) {
        var fields = storage.fields
        body(&fields)
        storage = Storage(fields)
    }

    public var seq: UInt64 {
        get { storage.fields.seq }
        set { update { $0.seq = newValue } }
    }
    public var time: Timestamp {
        get { storage.fields.time }
        set { update { $0.time = newValue } }
    }
    public var type: EventType {
        get { storage.fields.type }
        set { update { $0.type = newValue } }
    }
    public var kind: String {
        get { storage.fields.kind }
        set { update { $0.kind = newValue } }
    }
    public var namespace: String {
        get { storage.fields.namespace }
        set { update { $0.namespace = newValue } }
    }
    public var name: String {
        get { storage.fields.name }
        set { update { $0.name = newValue } }
    }
    public var uid: String {
        get { storage.fields.uid }
        set { update { $0.uid = newValue } }
    }
    /// Who wrote it: `user`, `controller/replicaset`, `kubelet/node-1`, `import`…
    public var actor: String {
        get { storage.fields.actor }
        set { update { $0.actor = newValue } }
    }
    /// The seq of the event whose handling produced this one, when known.
    public var cause: UInt64? {
        get { storage.fields.cause }
        set { update { $0.cause = newValue } }
    }
    var payload: Payload { storage.fields.payload }

    enum Payload: Sendable {
        case value(JSONValue)
        case encoded(EncodedObject)
    }

    public init(seq: UInt64, time: Timestamp, type: EventType, kind: String, namespace: String, name: String,
                uid: String, actor: String, cause: UInt64?, object: JSONValue) {
        self.init(seq: seq, time: time, type: type, kind: kind, namespace: namespace, name: name, uid: uid,
                  actor: actor, cause: cause, payload: .value(object))
    }

    init(seq: UInt64, time: Timestamp, type: EventType, kind: String, namespace: String, name: String,
         uid: String, actor: String, cause: UInt64?, payload: Payload) {
        storage = Storage(Fields(seq: seq, time: time, type: type, kind: kind, namespace: namespace, name: name,
                                 uid: uid, actor: actor, cause: cause, payload: payload))
    }

    /// The object as it was after this event.
    public var object: JSONValue {
        get {
            switch payload {
            case .value(let v): return v
            case .encoded(let e): return e.value
            }
        }
        _modify {
            var fields = storage.fields
            var v: JSONValue
            switch fields.payload {
            case .value(let x): v = x
            case .encoded(let e): v = e.value
            }
            // Drop this record's references to the value so the mutation below is in place.
            fields.payload = .value(.null)
            storage = Storage(fields)
            defer {
                fields.payload = .value(v)
                storage = Storage(fields)
            }
            yield &v
        }
    }

    /// The value at `path` (object keys) in ``object``, e.g. `["spec", "nodeName"]`; nil when
    /// absent. For a record still encoded, only that value is decoded: what informer indexes and
    /// event mappings use, so that an object nobody reads in full is never built.
    public func value(at path: [String]) -> JSONValue? {
        switch payload {
        case .value(let v): return v[path: path]
        case .encoded(let e): return e.value(at: path)
        }
    }

    /// For the array at `path` in ``object``, the values of `fields` in each element, in order
    /// (nil for a field an element lacks or for every field of an element that is not an object);
    /// nil when the path is missing or not an array. For a record still encoded, only those
    /// values are decoded.
    public func fields(_ fields: [String], ofElementsAt path: [String]) -> [[JSONValue?]]? {
        var rows: [[JSONValue?]] = []
        let found = forEachElement(at: path, fields: ElementFields(fields)) { element, field, value in
            rows[element][field] = value
        } elements: { count in
            rows = Array(repeating: Array(repeating: nil, count: fields.count), count: count)
        }
        return found ? rows : nil
    }

    /// For the array at `path` in ``object``, calls `body(element, field, value)` for each of
    /// `fields` that an element (an object) holds, element by element, after telling `elements`
    /// how many elements there are; false when the path is missing or not an array. For a record
    /// still encoded, only those values are decoded, and nothing is allocated for the walk.
    public func forEachElement(at path: [String], fields: ElementFields,
                               _ body: (_ element: Int, _ field: Int, _ value: JSONValue) -> Void,
                               elements: (Int) -> Void = { _ in }) -> Bool {
        switch payload {
        case .value(let v): return Self.forEachElement(of: v[path: path], fields: fields, body, elements: elements)
        case .encoded(let e): return e.forEachElement(at: path, fields: fields, body, elements: elements)
        }
    }

    static func forEachElement(of value: JSONValue?, fields: ElementFields,
                               _ body: (_ element: Int, _ field: Int, _ value: JSONValue) -> Void,
                               elements: (Int) -> Void) -> Bool {
        guard case .array(let items)? = value else { return false }
        elements(items.count)
        for (element, item) in items.enumerated() {
            guard case .object(let object) = item else { continue }
            for (field, name) in fields.names.enumerated() {
                if let value = object[name] { body(element, field, value) }
            }
        }
        return true
    }

    /// Whether ``object`` has been built (false while the record's object is still encoded).
    public var isDecoded: Bool {
        if case .encoded(let e) = payload { return e.isDecoded }
        return true
    }

    public var key: ObjectKey {
        // Projected field by field: copying `fields` whole would retain and release every string.
        ObjectKey(kind: storage.fields.kind, namespace: storage.fields.namespace, name: storage.fields.name)
    }
    /// `kind/namespace/name@seq`, how logs name an event.
    public var label: String { "\(key)@\(seq)" }

    public static func == (lhs: EventRecord, rhs: EventRecord) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.seq == rhs.seq && lhs.time == rhs.time && lhs.type == rhs.type && lhs.kind == rhs.kind
            && lhs.namespace == rhs.namespace && lhs.name == rhs.name && lhs.uid == rhs.uid && lhs.actor == rhs.actor
            && lhs.cause == rhs.cause && lhs.object == rhs.object
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seq)
        hasher.combine(time)
        hasher.combine(type)
        hasher.combine(kind)
        hasher.combine(namespace)
        hasher.combine(name)
        hasher.combine(uid)
        hasher.combine(actor)
        hasher.combine(cause)
        hasher.combine(object)
    }
}

extension EventRecord {
    /// `metadata.ownerReferences`, read without building the rest of the object.
    public var ownerReferences: [OwnerReference] {
        value(at: ["metadata", "ownerReferences"])?.arrayValue?.compactMap(OwnerReference.init(json:)) ?? []
    }

    /// `metadata.labels`, read without building the rest of the object.
    public var labels: [String: String] {
        guard let object = value(at: ["metadata", "labels"])?.objectValue else { return [:] }
        var out: [String: String] = [:]
        for entry in object { if let s = entry.value.stringValue { out[entry.key] = s } }
        return out
    }
}

/// A record's object as the log stored it (``BinaryCodec`` bytes, already checked), decoded on
/// first use; the bytes are released once decoded. Shared by every copy of the record.
final class EncodedObject: Sendable {
    enum State {
        case encoded([UInt8], MemberTable?)
        case decoded(JSONValue)
    }

    let seq: UInt64
    let state: Mutex<State>

    init(bytes: [UInt8], table: MemberTable?, seq: UInt64) {
        self.seq = seq
        state = Mutex(.encoded(bytes, table))
    }

    var value: JSONValue {
        state.withLock { state -> JSONValue in
            switch state {
            case .decoded(let v):
                return v
            case .encoded(let bytes, _):
                let v = Self.decode(bytes, seq: seq)
                state = .decoded(v)
                return v
            }
        }
    }

    func value(at path: [String]) -> JSONValue? {
        state.withLock { state -> JSONValue? in
            switch state {
            case .decoded(let v):
                return v[path: path]
            case .encoded(let bytes, let table):
                return bytes.withUnsafeBytes { b -> JSONValue? in
                    var reader = BinaryReader(bytes: b, recordSeq: seq)
                    return (try? reader.readJSONValue(at: path, table: table)) ?? nil
                }
            }
        }
    }

    func forEachElement(at path: [String], fields: ElementFields,
                        _ body: (_ element: Int, _ field: Int, _ value: JSONValue) -> Void,
                        elements: (Int) -> Void) -> Bool {
        state.withLock { state -> Bool in
            switch state {
            case .decoded(let v):
                return EventRecord.forEachElement(of: v[path: path], fields: fields, body, elements: elements)
            case .encoded(let bytes, let table):
                return bytes.withUnsafeBytes { b -> Bool in
                    var reader = BinaryReader(bytes: b, recordSeq: seq)
                    return (try? reader.forEachElement(at: path[...], fields: fields, table: table, body, elements: elements)) ?? false
                }
            }
        }
    }

    var isDecoded: Bool {
        state.withLock { state -> Bool in
            if case .decoded = state { return true }
            return false
        }
    }

    /// The checked bytes decode without error; `.null` stands in for the impossible failure
    /// rather than a trap.
    static func decode(_ bytes: [UInt8], seq: UInt64) -> JSONValue {
        bytes.withUnsafeBytes { b -> JSONValue in
            var reader = BinaryReader(bytes: b, recordSeq: seq)
            return (try? reader.readJSONValue()) ?? .null
        }
    }
}

/// An event about to be appended; the log assigns its seq.
public struct EventDraft: Sendable, Hashable {
    public var time: Timestamp
    public var type: EventType
    public var actor: String
    public var cause: UInt64?
    public var object: JSONValue
    /// When true (every write through the store), the log sets `metadata.resourceVersion` to the
    /// assigned seq. Imports keep the resourceVersion the object came with.
    public var stampResourceVersion: Bool

    public init(time: Timestamp, type: EventType, actor: String, cause: UInt64?, object: JSONValue,
                stampResourceVersion: Bool = true) {
        self.time = time
        self.type = type
        self.actor = actor
        self.cause = cause
        self.object = object
        self.stampResourceVersion = stampResourceVersion
    }

    /// The record this draft becomes at `seq`.
    public func record(seq: UInt64) -> EventRecord {
        var object = object
        if stampResourceVersion, object["metadata"]?.objectValue != nil {
            object[path: ["metadata", "resourceVersion"]] = .string(String(seq))
        }
        let u = Unstructured(object)
        return EventRecord(seq: seq, time: time, type: type, kind: u.kind, namespace: u.namespace, name: u.name,
                           uid: u.uid, actor: actor, cause: cause, object: object)
    }
}
