/// Names one object: its kind, namespace (empty for cluster-scoped kinds) and name.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `kind/namespace/name`, or `kind/name` for cluster-scoped objects (how logs name objects).
    public var description: String { namespace.isEmpty ? "\(kind)/\(name)" : "\(kind)/\(namespace)/\(name)" }

    /// Names are compared first: within one cache the kind (and usually the namespace) is the
    /// same for every key, so the name decides.
    public static func == (a: ObjectKey, b: ObjectKey) -> Bool {
        a.name == b.name && a.namespace == b.namespace && a.kind == b.kind
    }

    /// The kind is not hashed — equal keys have equal names and namespaces, so this is a valid
    /// hash, and a cache holds one kind. Hashing two strings instead of three matters: every
    /// informer update and cache read hashes a key. (Namespaces stay in: many namespaces can
    /// each hold an object of the same name.)
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(namespace)
    }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        (a.kind, a.namespace, a.name) < (b.kind, b.namespace, b.name)
    }
}
