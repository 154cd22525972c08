public import OrcaAPI

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
public struct EventRecord: Sendable, Hashable {
    public var seq: UInt64
    public var time: Timestamp
    public var type: EventType
    public var kind: String
    public var namespace: String
    public var name: String
    public var uid: String
    /// Who wrote it: `user`, `controller/replicaset`, `kubelet/node-1`, `import`…
    public var actor: String
    /// The seq of the event whose handling produced this one, when known.
    public var cause: UInt64?
    public var object: JSONValue

    public init(seq: UInt64, time: Timestamp, type: EventType, kind: String, namespace: String, name: String,
                uid: String, actor: String, cause: UInt64?, object: JSONValue) {
        self.seq = seq
        self.time = time
        self.type = type
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.actor = actor
        self.cause = cause
        self.object = object
    }

    public var key: ObjectKey { ObjectKey(kind: kind, namespace: namespace, name: name) }
    /// `kind/namespace/name@seq`, how logs name an event.
    public var label: String { "\(key)@\(seq)" }
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
