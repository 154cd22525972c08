/// A value that has a JSON form in Kubernetes objects.
public protocol JSONConvertible: Sendable {
    /// Nil when `json` is not of this type's shape.
    init?(json: JSONValue)
    var json: JSONValue { get }
}

extension String: JSONConvertible {
    public init?(json: JSONValue) {
        guard case .string(let s) = json else { return nil }
        self = s
    }
    public var json: JSONValue { .string(self) }
}

extension Int: JSONConvertible {
    public init?(json: JSONValue) {
        guard let i = json.intValue, let v = Int(exactly: i) else { return nil }
        self = v
    }
    public var json: JSONValue { .int(Int64(self)) }
}

extension Bool: JSONConvertible {
    public init?(json: JSONValue) {
        guard case .bool(let b) = json else { return nil }
        self = b
    }
    public var json: JSONValue { .bool(self) }
}

extension Timestamp: JSONConvertible {
    /// An RFC 3339 string, as Kubernetes writes `metav1.Time`.
    public init?(json: JSONValue) {
        guard case .string(let s) = json, let t = Timestamp(rfc3339: s) else { return nil }
        self = t
    }
    public var json: JSONValue { .string(rfc3339) }
}

extension Quantity: JSONConvertible {
    /// A quantity string (`500m`, `16Gi`) or a bare number.
    public init?(json: JSONValue) {
        switch json {
        case .string(let s): guard let q = Quantity(s) else { return nil }; self = q
        case .int(let i): guard let q = Quantity(String(i)) else { return nil }; self = q
        default: return nil
        }
    }
    public var json: JSONValue { .string(text) }
}

extension Array: JSONConvertible where Element: JSONConvertible {
    /// Elements of the wrong shape are skipped.
    public init?(json: JSONValue) {
        guard case .array(let items) = json else { return nil }
        self = items.compactMap(Element.init(json:))
    }
    public var json: JSONValue { .array(map(\.json)) }
}

extension Dictionary: JSONConvertible where Key == String, Value: JSONConvertible {
    /// Members of the wrong shape are skipped. Written with keys sorted, as Kubernetes does.
    public init?(json: JSONValue) {
        guard case .object(let object) = json else { return nil }
        var out: [String: Value] = [:]
        for entry in object { if let v = Value(json: entry.value) { out[entry.key] = v } }
        self = out
    }
    public var json: JSONValue {
        .object(JSONObject(entries: sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }))
    }
}

/// Kubernetes' `IntOrString`: a port or count that is either a number or a name/percentage.
public enum IntOrString: Sendable, Hashable, JSONConvertible, CustomStringConvertible {
    case int(Int)
    case string(String)

    public init?(json: JSONValue) {
        switch json {
        case .string(let s): self = .string(s)
        default:
            guard let i = Int(json: json) else { return nil }
            self = .int(i)
        }
    }
    public var json: JSONValue {
        switch self {
        case .int(let i): return .int(Int64(i))
        case .string(let s): return .string(s)
        }
    }
    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .string(let s): return s
        }
    }

    /// The value against `total`: an int as is, `"25%"` as a share of `total` rounded up or down.
    /// Nil for a string that is not a percentage.
    public func scaled(total: Int, roundUp: Bool) -> Int? {
        switch self {
        case .int(let i): return i
        case .string(let s):
            guard s.hasSuffix("%"), let p = Int(s.dropLast()) else { return nil }
            let (q, r) = (p * total).quotientAndRemainder(dividingBy: 100)
            return roundUp && r != 0 ? q + 1 : q
        }
    }
}

/// A typed view of a JSON object in a Kubernetes resource.
///
/// A view holds the object itself: reading a property reads the tree, and setting one writes the
/// tree, so fields Orca does not model are kept exactly as they were (and export unchanged). A
/// property whose field is absent reads as nil, an empty collection, or an empty view; setting
/// nil or an empty collection removes the field.
public protocol JSONView: JSONConvertible, Hashable {
    var raw: JSONObject { get set }
    init(raw: JSONObject)
}

extension JSONView {
    public init() { self.init(raw: JSONObject()) }

    public init?(json: JSONValue) {
        guard case .object(let o) = json else { return nil }
        self.init(raw: o)
    }

    public var json: JSONValue { .object(raw) }

    // Note: JSONValue is ExpressibleByNilLiteral (as `.null`), so removals below spell out
    // `Optional<JSONValue>.none`; a bare `nil` in a ternary would write a JSON null.

    /// The field `key` as `T`, or nil when absent or of another shape.
    @inlinable
    public func get<T: JSONConvertible>(_ key: String) -> T? {
        guard let v = raw[key] else { return nil }
        return T(json: v)
    }

    /// Sets the field `key`; nil removes it.
    @inlinable
    public mutating func set<T: JSONConvertible>(_ key: String, _ value: T?) {
        raw[key] = value?.json
    }

    /// A collection field; empty when absent.
    @inlinable
    public func list<T: JSONConvertible>(_ key: String) -> [T] { get(key) ?? [] }

    /// Sets a collection field; an empty collection removes it.
    @inlinable
    public mutating func setList<T: JSONConvertible>(_ key: String, _ value: [T]) {
        raw[key] = value.isEmpty ? Optional<JSONValue>.none : value.json
    }

    @inlinable
    public func map<T: JSONConvertible>(_ key: String) -> [String: T] { get(key) ?? [:] }

    @inlinable
    public mutating func setMap<T: JSONConvertible>(_ key: String, _ value: [String: T]) {
        raw[key] = value.isEmpty ? Optional<JSONValue>.none : value.json
    }

    /// A nested view; empty when absent.
    @inlinable
    public func view<V: JSONView>(_ key: String) -> V { V(raw: raw[key]?.objectValue ?? JSONObject()) }

    /// Sets a nested view. An empty view does not add a field that was absent.
    @inlinable
    public mutating func setView<V: JSONView>(_ key: String, _ value: V) {
        if value.raw.isEmpty && raw[key] == nil { return }
        raw[key] = .object(value.raw)
    }
}

/// A top-level Kubernetes resource of a known kind, as a typed view of its JSON.
public protocol ResourceView: JSONView {
    static var apiVersion: String { get }
    static var kind: String { get }
}

extension ResourceView {
    /// A new object of this kind with `metadata`.
    public init(metadata: ObjectMeta) {
        self.init(raw: ["apiVersion": .string(Self.apiVersion), "kind": .string(Self.kind)])
        self.metadata = metadata
    }

    /// A view of `value` when it is an object of this kind; nil otherwise.
    public init?(_ value: JSONValue) {
        guard case .object(let o) = value, o["kind"]?.stringValue == Self.kind else { return nil }
        self.init(raw: o)
    }

    public var metadata: ObjectMeta {
        get { view("metadata") }
        set { setView("metadata", newValue) }
    }

    /// The object as the store and the log hold it.
    public var unstructured: Unstructured { Unstructured(.object(raw)) }
    public var key: ObjectKey { ObjectKey(kind: Self.kind, namespace: metadata.namespace ?? "", name: metadata.name ?? "") }
}

extension OwnerReference: JSONConvertible {}

/// A condition as every kind writes it (`Ready`, `PodScheduled`, `Complete`, `ReplicaFailure`…).
public struct Condition: JSONView {
    public var raw: JSONObject
    public init(raw: JSONObject) { self.raw = raw }

    public init(type: String, status: String, reason: String? = nil, message: String? = nil,
                lastTransitionTime: Timestamp? = nil) {
        raw = JSONObject()
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    /// A pod condition as the API serialises one: type, status, `lastProbeTime` (null),
    /// `lastTransitionTime`, then reason and message when set.
    public static func pod(type: String, status: String, reason: String? = nil, message: String? = nil,
                           lastTransitionTime: Timestamp) -> Condition {
        var c = Condition(raw: JSONObject())
        c.type = type
        c.status = status
        c.raw["lastProbeTime"] = .null
        c.lastTransitionTime = lastTransitionTime
        c.reason = reason
        c.message = message
        return c
    }

    public var type: String { get { get("type") ?? "" } set { set("type", newValue) } }
    /// `True`, `False` or `Unknown`.
    public var status: String { get { get("status") ?? "" } set { set("status", newValue) } }
    public var isTrue: Bool { status == "True" }
    public var reason: String? { get { get("reason") } set { set("reason", newValue) } }
    public var message: String? { get { get("message") } set { set("message", newValue) } }
    public var lastTransitionTime: Timestamp? { get { get("lastTransitionTime") } set { set("lastTransitionTime", newValue) } }
    public var lastProbeTime: Timestamp? { get { get("lastProbeTime") } set { set("lastProbeTime", newValue) } }
    public var lastHeartbeatTime: Timestamp? { get { get("lastHeartbeatTime") } set { set("lastHeartbeatTime", newValue) } }
    public var lastUpdateTime: Timestamp? { get { get("lastUpdateTime") } set { set("lastUpdateTime", newValue) } }
}

extension Array where Element == Condition {
    /// The condition of `type`, if present.
    public subscript(type type: String) -> Condition? { first { $0.type == type } }
}
