public import OrcaAPI
public import OrcaLog

/// The key of one object a controller reconciles: only a namespace and a name. Level-based: a
/// request names an object, never the event that caused it.
public struct ReconcileRequest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String = "", name: String) {
        self.namespace = namespace
        self.name = name
    }

    public init(_ record: EventRecord) { self.init(namespace: record.namespace, name: record.name) }

    public static func < (a: ReconcileRequest, b: ReconcileRequest) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// What a reconcile asks for next.
public enum ReconcileResult: Sendable, Hashable {
    /// Nothing more until something changes.
    case done
    /// Reconcile this key again after `after` (on the context's clock), even if nothing changes.
    case requeue(after: Duration)
}

/// An error that retrying cannot fix: it is recorded (log, metric) and the key is not retried
/// until something changes. Any other thrown error retries the key with back-off.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Drives the cluster toward the state its objects declare.
///
/// A reconciler must not read the wall clock, random numbers or global state except through
/// its `context`; then a simulation of it is reproducible byte for byte. Inside `reconcile`,
/// gather state from the context's caches, call a pure planning function, then submit the writes
/// through `context.client`.
public protocol Reconciler: Sendable {
    /// The kind whose objects are the requests (`ReplicaSet` for the ReplicaSet controller).
    associatedtype Object: ResourceView
    /// The controller's name: `replicaset`. Writes are stamped `controller/<name>`.
    static var name: String { get }
    /// What to watch besides `Object`, how those objects map to requests, and how many workers.
    static var configuration: ControllerConfiguration { get }

    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult

    /// Called for every informer event of a watched kind, before it is mapped to requests, in
    /// log order (for bookkeeping such as expectations). The default does nothing.
    func observe(_ event: InformerEvent, context: ObserveContext)
}

extension Reconciler {
    public static var configuration: ControllerConfiguration { ControllerConfiguration() }
    public func observe(_ event: InformerEvent, context: ObserveContext) {}
}

/// What a reconciler watches and how it runs.
public struct ControllerConfiguration: Sendable {
    /// Other kinds to watch and how their events become requests. The primary kind is always
    /// watched, each object mapping to itself.
    public var watches: [Watch]
    /// Concurrent reconciles in live mode (a key is never reconciled by two at once). The
    /// simulation runs one reconcile at a time.
    public var workers: Int
    /// The retry policy; nil is client-go's default controller rate limiter.
    public var rateLimiter: (@Sendable () -> any RateLimiter<ReconcileRequest>)?
    /// Whether every event of the primary kind queues its object (true for nearly every
    /// controller; false for one driven only by timers and ``initialRequests``, such as pod GC).
    public var watchesPrimary: Bool
    /// Requests queued once when the controller is registered (the first tick of a periodic
    /// controller, which then keeps itself going with `.requeue(after:)`).
    public var initialRequests: [ReconcileRequest]
    /// Extra informer indexes the controller's mappings and reconciles use.
    public var indexes: [InformerIndex]

    public init(watches: [Watch] = [], workers: Int = 1,
                rateLimiter: (@Sendable () -> any RateLimiter<ReconcileRequest>)? = nil,
                watchesPrimary: Bool = true, initialRequests: [ReconcileRequest] = [], indexes: [InformerIndex] = []) {
        self.indexes = indexes
        self.watches = watches
        self.workers = workers
        self.rateLimiter = rateLimiter
        self.watchesPrimary = watchesPrimary
        self.initialRequests = initialRequests
    }
}

/// A named index on one kind's informer (see ``CacheSnapshot/byIndex(_:_:)``).
public struct InformerIndex: Sendable {
    public var kind: String
    public var name: String
    public var function: IndexFunction
    public init(kind: String, name: String, function: @escaping IndexFunction) {
        self.kind = kind
        self.name = name
        self.function = function
    }
}

extension InformerIndex {
    /// The ``IndexName/labels`` index of `kind`: every object under each of its `key=value`
    /// labels, for ``CacheSnapshot/selecting(_:namespace:)``.
    public static func labels(of kind: String) -> InformerIndex {
        InformerIndex(kind: kind, name: IndexName.labels, function: IndexName.labelPairs)
    }
}

/// A watched kind and how its events map to the controller's requests.
public struct Watch: Sendable {
    public var kind: String
    public var mapping: Mapping
    /// How long to wait before the mapped requests are processed (client-go's `AddAfter`), per
    /// event; nil or zero queues them at once. The Job controller batches pod events by 1 s.
    public var delay: (@Sendable (InformerEvent) -> Duration)?

    public init(_ kind: String, _ mapping: Mapping, delay: (@Sendable (InformerEvent) -> Duration)? = nil) {
        self.kind = kind
        self.mapping = mapping
        self.delay = delay
    }

    public enum Mapping: Sendable {
        /// The object itself.
        case same
        /// The object's controller owner reference, when it is of the primary kind (old and new
        /// owners on an update).
        case controllerOwner
        /// Every primary object in the same namespace whose `spec.selector` matches the object's
        /// labels (old and new labels on an update).
        case selector
        /// The object's controller when it is of the primary kind (old and new); for an object
        /// without a controller, every primary object in its namespace whose `spec.selector`
        /// matches its labels — the owners that may adopt it (ReplicaSet, Job). A deleted orphan
        /// maps to nothing.
        case controllerOwnerOrAdopters
        /// The Node named by the object's `spec.nodeName` (for controllers of Nodes).
        case nodeName
        /// Every object of the primary kind.
        case all
        /// Anything else.
        case custom(@Sendable (InformerEvent, ObserveContext) -> [ReconcileRequest])
    }
}

/// What event handlers and mapping functions may read: the caches.
public struct ObserveContext: Sendable {
    let informers: SharedInformers
    /// The controller's name.
    public let controller: String
    public let clock: any Clock

    /// The cache of `kind` (created and synced on first use).
    public func snapshot(_ kind: String) -> CacheSnapshot { informers.informer(for: kind, controller: controller).snapshot }
}
