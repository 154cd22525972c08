public import OrcaAPI
public import OrcaLog
import Synchronization

/// Who is writing and why: stamped on every event a write appends.
public struct WriteContext: Sendable, Hashable {
    /// `user`, `controller/replicaset`, `kubelet/node-1`, `import`…
    public var actor: String
    /// The seq of the event whose handling caused this write, when known.
    public var cause: UInt64?

    public init(actor: String = "user", cause: UInt64? = nil) {
        self.actor = actor
        self.cause = cause
    }

    public static let user = WriteContext()
}

/// Kubernetes' API semantics over an ``EventLog`` — what kube-apiserver does.
///
/// Every write is one transaction on the log: it reads the committed state, applies defaulting,
/// admission and validation, checks optimistic concurrency, and appends at most one event per
/// object it changes. A rejected write appends nothing. Writes from several processes to one
/// data directory are safe because every check happens inside the log's write transaction.
///
/// Time and identity come from `clock` and `identities`, never from the system directly.
public final class Store: Sendable {
    public let log: any EventLog
    public let clock: any Clock
    public let identities: any IdentityGenerator
    public let admission: AdmissionConfiguration
    /// For the latest first suffix asked for (one instant, under a virtual clock), the next
    /// suffix likely free per name base — a hint, names are still checked in the transaction;
    /// it holds one instant's names at most.
    let suffixHints = Mutex<(start: UInt64, next: [String: UInt64])>((0, [:]))

    public init(log: any EventLog, clock: any Clock = SystemClock(),
                identities: any IdentityGenerator = RandomIdentityGenerator(),
                admission: AdmissionConfiguration = AdmissionConfiguration()) {
        self.log = log
        self.clock = clock
        self.identities = identities
        self.admission = admission
    }

    // MARK: Reads

    /// The current object, or nil.
    public func get(kind: String, namespace: String = "default", name: String) throws -> Unstructured? {
        let namespace = try Self.resolveNamespace(kind: kind, namespace: namespace)
        return try log.current(ObjectKey(kind: kind, namespace: namespace, name: name)).map { Unstructured($0.object) }
    }

    /// Current objects of `kind` in `namespace` (all namespaces when nil) matching `selector`.
    public func list(kind: String, namespace: String? = nil, selector: LabelSelector = .everything) throws -> [Unstructured] {
        try log.list(kind: kind, namespace: namespace).records
            .map { Unstructured($0.object) }
            .filter { selector.matches($0.labels) }
    }

    static func resolveNamespace(kind: String, namespace: String) throws -> String {
        guard let k = ResourceKind.forKind(kind) else { return namespace }
        return k.namespaced ? (namespace.isEmpty ? "default" : namespace) : ""
    }

    /// Checks a manifest's apiVersion and kind against the kinds the store serves.
    ///
    /// - Throws: ``StoreError`` — `BadRequest` for a missing kind or apiVersion or a non-object,
    ///   `NotFound` (`no matches for kind "X" in version "v"`) for a kind the store does not serve.
    public static func resourceKind(of object: JSONValue) throws -> ResourceKind {
        guard object.objectValue != nil else {
            throw StoreError(.badRequest, "the object is a JSON \(object.typeName), not a Kubernetes object")
        }
        guard let kind = object["kind"]?.stringValue, !kind.isEmpty else {
            throw StoreError(.badRequest, "Object 'Kind' is missing in '\(object.jsonString())'")
        }
        guard let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw StoreError(.badRequest, "Object 'apiVersion' is missing in '\(object.jsonString())'")
        }
        guard let k = ResourceKind.forKind(kind), k.apiVersion == apiVersion else {
            throw StoreError(.notFound, "no matches for kind \"\(kind)\" in version \"\(apiVersion)\"")
        }
        if let meta = object["metadata"], meta.objectValue == nil, !meta.isNull {
            throw StoreError(.badRequest, "\(kind) in version \"\(apiVersion)\" cannot be handled as a \(kind): metadata must be an object, not a \(meta.typeName)")
        }
        return k
    }

    /// Rejects values of the wrong JSON type in fields Orca interprets, as Kubernetes' decoder does.
    static func checkTypes(_ object: JSONValue, kind: ResourceKind) throws {
        let integerFields: [[String]] = [
            ["spec", "replicas"], ["spec", "minReadySeconds"], ["spec", "parallelism"], ["spec", "completions"],
            ["spec", "backoffLimit"], ["spec", "activeDeadlineSeconds"], ["spec", "terminationGracePeriodSeconds"],
            ["spec", "template", "spec", "terminationGracePeriodSeconds"],
        ]
        for path in integerFields {
            if let v = object[path: path], !v.isNull, v.intValue == nil {
                throw StoreError(.badRequest, "\(kind.kind) in version \"\(kind.apiVersion)\" cannot be handled as a \(kind.kind): json: cannot unmarshal \(v.typeName) into Go struct field \(path.dropLast().last.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? "")\(path.joined(separator: ".")) of type int32")
            }
        }
        for path in [["spec"], ["status"], ["spec", "template"], ["spec", "selector"]] {
            if let v = object[path: path], !v.isNull, v.objectValue == nil {
                throw StoreError(.badRequest, "\(kind.kind) in version \"\(kind.apiVersion)\" cannot be handled as a \(kind.kind): json: cannot unmarshal \(v.typeName) into Go struct field \(path.joined(separator: ".")) of type object")
            }
        }
    }

    /// The time of a write, and the same time as a Kubernetes `metav1.Time` string.
    func now() -> Timestamp { clock.now() }
}

/// Settings of the admission plugins the store runs.
public struct AdmissionConfiguration: Sendable, Hashable {
    /// `DefaultTolerationSeconds`: seconds for the not-ready/unreachable tolerations added to pods.
    public var defaultTolerationSeconds: Int64
    /// Pod grace period used when neither the request nor the pod gives one.
    public var defaultTerminationGracePeriodSeconds: Int64

    public init(defaultTolerationSeconds: Int64 = 300, defaultTerminationGracePeriodSeconds: Int64 = 30) {
        self.defaultTolerationSeconds = defaultTolerationSeconds
        self.defaultTerminationGracePeriodSeconds = defaultTerminationGracePeriodSeconds
    }
}
