public import Logging
public import OrcaAPI
public import OrcaLog
public import OrcaStore

/// Everything a reconcile may use: caches, a store client, time, identities, a logger and an
/// event recorder. Writes through ``client`` are stamped with the controller as `actor` and the
/// seq of the event that triggered this reconcile as `cause`.
public struct ReconcileContext: Sendable {
    let informers: SharedInformers
    /// `replicaset`.
    public let controller: String
    /// The seq of the newest event that queued this request; nil for a timer or retry.
    public let cause: UInt64?
    public let clock: any Clock
    public let identities: any IdentityGenerator
    /// The controller's logger, carrying `controller` metadata.
    let controllerLogger: Logger
    /// The request being reconciled (nil outside a reconcile).
    let request: ReconcileRequest?
    public let client: StoreClient
    public let events: EventRecorder

    /// A logger with `controller` and `request` metadata. Built when asked for: setting
    /// metadata costs a handler update, and most reconciles never log.
    public var logger: Logger {
        var logger = controllerLogger
        if let request { logger[metadataKey: "request"] = .string(request.description) }
        return logger
    }

    /// The cache of `kind`.
    public func snapshot(_ kind: String) -> CacheSnapshot { informers.informer(for: kind, controller: controller).snapshot }

    /// The cached object of type `T` named by `request`, if any.
    public func get<T: ResourceView>(_ type: T.Type, _ request: ReconcileRequest) -> T? {
        snapshot(T.kind).get(namespace: request.namespace, name: request.name).flatMap { T($0.object) }
    }

    /// Every cached object of type `T` (in `namespace` when given), in name order.
    public func list<T: ResourceView>(_ type: T.Type, namespace: String? = nil) -> [T] {
        snapshot(T.kind).list(namespace: namespace).compactMap { T($0.object) }
    }

    /// The cached objects of type `T` in `namespace` that the controller with UID
    /// `controllerUID` may claim: its own and the orphans (``CacheSnapshot/claimCandidates(namespace:controllerUID:)``),
    /// in name order.
    public func claimCandidates<T: ResourceView>(_ type: T.Type, namespace: String, controllerUID: String) -> [T] {
        snapshot(T.kind).claimCandidates(namespace: namespace, controllerUID: controllerUID).compactMap { T($0.object) }
    }

    /// The cached objects of type `T` in `namespace` that the controller with UID
    /// `controllerUID` controls, in name order.
    public func owned<T: ResourceView>(_ type: T.Type, namespace: String, controllerUID: String) -> [T] {
        snapshot(T.kind).byIndex(IndexName.controllerUID, controllerUID).filter { $0.namespace == namespace }.compactMap { T($0.object) }
    }

    /// The current time on the context's clock.
    public var now: Timestamp { clock.now() }
}

/// The store, with every write stamped `actor: controller/<name>` and the reconcile's cause.
public struct StoreClient: Sendable {
    public let store: Store
    public let writeContext: WriteContext

    public init(store: Store, writeContext: WriteContext) {
        self.store = store
        self.writeContext = writeContext
    }

    @discardableResult
    public func create<T: ResourceView>(_ object: T) async throws -> T {
        try await convert(store.create(object.json, context: writeContext))
    }

    @discardableResult
    public func update<T: ResourceView>(_ object: T) async throws -> T {
        try await convert(store.update(object.json, context: writeContext))
    }

    @discardableResult
    public func updateStatus<T: ResourceView>(_ object: T) async throws -> T {
        try await convert(store.updateStatus(object.json, context: writeContext))
    }

    @discardableResult
    public func patch(kind: String, namespace: String, name: String, mergePatch: JSONValue,
                      subresource: Subresource = .main) async throws -> Unstructured {
        try await store.patch(kind: kind, namespace: namespace, name: name, mergePatch: mergePatch, subresource: subresource,
                              context: writeContext)
    }

    /// Creates an Event named `<nameBase>.<hex>`, the first free hex number from `firstSuffix`.
    @discardableResult
    public func createEvent(_ event: Event, nameBase: String, firstSuffix: UInt64) async throws -> Unstructured {
        try await store.create(.object(event.raw), nameBase: nameBase, firstSuffix: firstSuffix, context: writeContext)
    }

    @discardableResult
    public func delete(kind: String, namespace: String, name: String, options: DeleteOptions = DeleteOptions()) async throws -> DeleteOutcome {
        try await store.delete(kind: kind, namespace: namespace, name: name, options: options, context: writeContext)
    }

    @discardableResult
    public func bind(podNamespace: String, podName: String, nodeName: String) async throws -> Unstructured {
        try await store.bind(podNamespace: podNamespace, podName: podName, nodeName: nodeName, context: writeContext)
    }

    func convert<T: ResourceView>(_ u: Unstructured) throws -> T {
        guard let typed = T(u.value) else { throw StoreError(.internalError, "the store returned a \(u.kind) where a \(T.kind) was written") }
        return typed
    }
}

/// Records Kubernetes `Event` objects (core/v1) about the objects a controller acts on, as
/// client-go's `record.EventRecorder` does: `reason`, `message`, type `Normal` or `Warning`,
/// `source.component` the controller's component name.
public struct EventRecorder: Sendable {
    let client: StoreClient
    let clock: any Clock
    /// `replicaset-controller`.
    public let component: String
    /// The controller's correlator: aggregation, de-duplication and the spam filter.
    let correlator: EventCorrelator

    /// The same recorder reporting as another component (the node lifecycle controller reports
    /// as Kubernetes' `node-controller`).
    public func reporting(as component: String) -> EventRecorder {
        EventRecorder(client: client, clock: clock, component: component, correlator: correlator)
    }

    /// Records the event as client-go does: through the ``EventCorrelator`` (so a repeat
    /// updates `count` of the existing Event, similar events are combined and a flood about one
    /// object is cut to 25 plus one per 5 minutes), then creates or patches the `Event`.
    /// Returns whether an Event was written. Failures are never thrown: an event is
    /// best-effort, as in Kubernetes.
    @discardableResult
    public func record(_ object: EventRecord, type: String = "Normal", reason: String, message: String) async -> Bool {
        await record(about: reference(to: object), type: type, reason: reason, message: message)
    }

    /// Records an event about the object `involved` names — for a reference built by hand, as
    /// Kubernetes' node controller does (`RecordNodeEvent`: apiVersion, kind, name and UID, no
    /// resourceVersion), or about an object that is already gone.
    @discardableResult
    public func record(about involved: ObjectReference, type: String = "Normal", reason: String, message: String) async -> Bool {
        let now = clock.now()
        let namespace = involved.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        switch correlator.correlate(component: component, object: involved, type: type, reason: reason, message: message, now: now) {
        case .skip:
            return false
        case .create(let text, let key):
            let event = makeEvent(involved, namespace: namespace, type: type, reason: reason, message: text,
                                  count: 1, first: now, now: now)
            do {
                // Kubernetes names events `<object>.<unix nanoseconds in hex>`; under a virtual
                // clock several events share an instant, so a taken name moves on to the next
                // nanosecond.
                let created = try await client.createEvent(event, nameBase: involved.name ?? "", firstSuffix: UInt64(bitPattern: now.nanoseconds))
                correlator.written(key: key, name: created.name, count: 1, firstTimestamp: now)
                return true
            } catch {
                return false
            }
        case .update(let name, let count, let first, let text, let key):
            let patch: JSONValue = ["count": .int(Int64(count)), "lastTimestamp": .string(now.rfc3339), "message": .string(text)]
            do {
                try await client.patch(kind: "Event", namespace: namespace, name: name, mergePatch: patch)
                return true
            } catch let error as StoreError where error.reason == .notFound {
                // The Event is gone (or was never written): create it under that name.
                var event = makeEvent(involved, namespace: namespace, type: type, reason: reason, message: text,
                                      count: count, first: first, now: now)
                event.metadata.name = name
                do {
                    try await client.create(event)
                    correlator.written(key: key, name: name, count: count, firstTimestamp: first)
                    return true
                } catch {
                    return false
                }
            } catch {
                return false
            }
        }
    }

    /// The host name Orca's control-plane components report from (the second half of an
    /// events.k8s.io/v1 `reportingInstance`, `<component>-<host>`).
    public static let controlPlaneHost = "orca-control-plane"

    /// Records an event as client-go's events.k8s.io/v1 recorder (`tools/events`) does — the
    /// one kube-scheduler uses (`Scheduled` with action `Binding`, `FailedScheduling` with
    /// action `Scheduling`). Read as core/v1, such an Event has `eventTime` (microseconds),
    /// `action`, `reportingComponent` and `reportingInstance` (`<component>-<host>`) set, and
    /// an empty `source`, no `count` and null `firstTimestamp`/`lastTimestamp`. An event
    /// isomorphic to one of the last 6 minutes (same type, action, reason, reporter and
    /// regarding object, resourceVersion included) turns that Event into a `series` of count 2;
    /// later repeats are only counted (Kubernetes writes them every 30 minutes, Orca does not).
    /// `related` names a second object the event is about (kube-scheduler's `Preempted` event
    /// about a victim names the preemptor).
    @discardableResult
    public func record(_ object: EventRecord, related: EventRecord? = nil, type: String = "Normal", reason: String,
                       action: String, message: String) async -> Bool {
        let regarding = reference(to: object)
        let relatedReference = related.map(reference(to:))
        let now = clock.now()
        let instance = "\(component)-\(Self.controlPlaneHost)"
        var key = EventCorrelator.seriesKey(component: component, instance: instance, object: regarding, type: type,
                                            action: action, reason: reason)
        if let relatedReference { key += "\u{1e}" + (relatedReference.uid ?? "") + "/" + (relatedReference.resourceVersion ?? "") }
        let namespace = object.namespace.isEmpty ? "default" : object.namespace
        switch correlator.observeSeries(key: key, objectName: object.name, now: now) {
        case .counted:
            return false
        case .startSeries(let name, _):
            let series: JSONValue = ["series": ["count": 2, "lastObservedTime": .string(now.rfc3339Micro)]]
            do {
                try await client.patch(kind: "Event", namespace: namespace, name: name, mergePatch: series)
                return true
            } catch {
                return false
            }
        case .create:
            var event = Event(metadata: ObjectMeta())
            event.metadata.namespace = namespace
            event.involvedObject = regarding
            event.reason = reason
            event.message = message
            event.raw["source"] = .object(JSONObject())
            event.raw["firstTimestamp"] = .null
            event.raw["lastTimestamp"] = .null
            event.type = type
            event.raw["eventTime"] = .string(now.rfc3339Micro)
            event.raw["action"] = .string(action)
            if let relatedReference { event.raw["related"] = .object(relatedReference.raw) }
            event.reportingComponent = component
            event.raw["reportingInstance"] = .string(instance)
            event.raw = event.raw.ordered(first: ["apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "source",
                                                  "firstTimestamp", "lastTimestamp", "type", "eventTime", "action",
                                                  "related", "reportingComponent", "reportingInstance"])
            do {
                let created = try await client.createEvent(event, nameBase: object.name, firstSuffix: UInt64(bitPattern: now.nanoseconds))
                correlator.writtenSeriesEvent(key: key, name: created.name)
                return true
            } catch {
                return false
            }
        }
    }

    func reference(to object: EventRecord) -> ObjectReference {
        var involved = ObjectReference()
        involved.apiVersion = object.object["apiVersion"]?.stringValue
        involved.kind = object.kind
        involved.namespace = object.namespace.isEmpty ? nil : object.namespace
        involved.name = object.name
        involved.uid = object.uid
        involved.resourceVersion = String(object.seq)
        return involved
    }

    func makeEvent(_ involved: ObjectReference, namespace: String, type: String, reason: String, message: String,
                   count: Int, first: Timestamp, now: Timestamp) -> Event {
        var event = Event(metadata: ObjectMeta())
        event.metadata.namespace = namespace
        event.involvedObject = involved
        event.reason = reason
        event.message = message
        event.type = type
        event.count = count
        event.firstTimestamp = first
        event.lastTimestamp = now
        var source = EventSource()
        source.component = component
        event.source = source
        event.reportingComponent = component
        // As core/v1 serialises an Event client-go's recorder made: eventTime (a struct) as null,
        // reportingInstance (the recorder's empty host) as "", fields in the API's order.
        event.raw["eventTime"] = .null
        event.raw["reportingInstance"] = ""
        event.raw = event.raw.ordered(first: ["apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "source", "firstTimestamp",
                                              "lastTimestamp", "count", "type", "eventTime", "reportingComponent", "reportingInstance"])
        return event
    }
}
