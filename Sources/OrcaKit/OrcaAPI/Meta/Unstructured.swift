/// A Kubernetes object of any kind, held as its full JSON tree.
///
/// This is the currency of the store and the log: every field is kept, including the ones Orca
/// does not model, so an object exports exactly as it was written. The accessors read and write
/// the standard `apiVersion`, `kind` and `metadata` fields.
public struct Unstructured: Sendable, Hashable {
    public var value: JSONValue

    public init(_ value: JSONValue) { self.value = value }

    public var apiVersion: String { get { value["apiVersion"]?.stringValue ?? "" } set { value["apiVersion"] = .string(newValue) } }
    public var kind: String { get { value["kind"]?.stringValue ?? "" } set { value["kind"] = .string(newValue) } }

    public var name: String { get { meta("name") ?? "" } set { setMeta("name", .string(newValue)) } }
    public var generateName: String? { meta("generateName") }
    public var namespace: String {
        get { meta("namespace") ?? "" }
        set { setMeta("namespace", newValue.isEmpty ? nil : .string(newValue)) }
    }
    public var uid: String { get { meta("uid") ?? "" } set { setMeta("uid", .string(newValue)) } }
    public var resourceVersion: String? {
        get { meta("resourceVersion") }
        set { setMeta("resourceVersion", newValue.map { .string($0) }) }
    }
    public var generation: Int64? {
        get { value[path: ["metadata", "generation"]]?.intValue }
        set { setMeta("generation", newValue.map { .int($0) }) }
    }
    public var creationTimestamp: Timestamp? {
        get { meta("creationTimestamp").flatMap(Timestamp.init(rfc3339:)) }
        set { setMeta("creationTimestamp", newValue.map { .string($0.rfc3339) }) }
    }
    public var deletionTimestamp: Timestamp? {
        get { meta("deletionTimestamp").flatMap(Timestamp.init(rfc3339:)) }
        set { setMeta("deletionTimestamp", newValue.map { .string($0.rfc3339) }) }
    }
    public var deletionGracePeriodSeconds: Int64? {
        get { value[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue }
        set { setMeta("deletionGracePeriodSeconds", newValue.map { .int($0) }) }
    }
    public var labels: [String: String] {
        get { stringMap(value[path: ["metadata", "labels"]]) }
        set { setMeta("labels", newValue.isEmpty ? nil : .object(JSONObject(entries: newValue.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))) }
    }
    public var annotations: [String: String] {
        get { stringMap(value[path: ["metadata", "annotations"]]) }
        set { setMeta("annotations", newValue.isEmpty ? nil : .object(JSONObject(entries: newValue.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))) }
    }
    public var finalizers: [String] {
        get { value[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { setMeta("finalizers", newValue.isEmpty ? nil : .array(newValue.map { .string($0) })) }
    }
    public var ownerReferences: [OwnerReference] {
        get { value[path: ["metadata", "ownerReferences"]]?.arrayValue?.compactMap(OwnerReference.init(json:)) ?? [] }
        set { setMeta("ownerReferences", newValue.isEmpty ? nil : .array(newValue.map(\.json))) }
    }

    /// The object's key (kind, namespace, name).
    public var key: ObjectKey { ObjectKey(kind: kind, namespace: namespace, name: name) }

    func meta(_ field: String) -> String? { value[path: ["metadata", field]]?.stringValue }
    mutating func setMeta(_ field: String, _ newValue: JSONValue?) {
        if value["metadata"]?.objectValue == nil { value["metadata"] = .object(JSONObject()) }
        value[path: ["metadata", field]] = newValue
    }
    func stringMap(_ v: JSONValue?) -> [String: String] {
        guard let object = v?.objectValue else { return [:] }
        var out: [String: String] = [:]
        for entry in object { if let s = entry.value.stringValue { out[entry.key] = s } }
        return out
    }
}

/// A reference from a dependent object to its owner (`metadata.ownerReferences[]`).
public struct OwnerReference: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
                blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    public init?(json: JSONValue) {
        guard let kind = json["kind"]?.stringValue, let name = json["name"]?.stringValue else { return nil }
        self.init(apiVersion: json["apiVersion"]?.stringValue ?? "", kind: kind, name: name,
                  uid: json["uid"]?.stringValue ?? "", controller: json["controller"]?.boolValue,
                  blockOwnerDeletion: json["blockOwnerDeletion"]?.boolValue)
    }

    public var json: JSONValue {
        var o: JSONObject = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name),
                             "uid": .string(uid)]
        if let controller { o["controller"] = .bool(controller) }
        if let blockOwnerDeletion { o["blockOwnerDeletion"] = .bool(blockOwnerDeletion) }
        return .object(o)
    }
}
