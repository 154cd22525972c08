import Logging
import Metrics
import OrcaAPI
import OrcaLog
import OrcaStore
import Synchronization

/// One registered controller: its reconciler, its work queue and the handlers that feed it.
///
/// Built by ``ControllerManager/register(_:)``; the manager drives it (``processNext()`` in a
/// simulation, worker tasks in live mode).
public final class Controller: Sendable {
    public let name: String
    /// The correlator of every Event this controller records.
    let eventCorrelator = EventCorrelator()
    /// The kind of its requests.
    public let kind: String
    public let queue: WorkQueue<ReconcileRequest>
    public let workers: Int

    let reconcileFunction: @Sendable (ReconcileRequest, ReconcileContext) async throws -> ReconcileResult
    let informers: SharedInformers
    let store: Store
    let clock: any Clock
    let identities: any IdentityGenerator
    let logger: Logger
    /// The newest event seq that queued each request, handed to the reconcile as its cause. A
    /// request its reconcile queues again (`.requeue(after:)`, or a retry after an error) keeps
    /// the cause it had, so a write made when a timer fires still names the event behind it.
    let causes = Mutex<[ReconcileRequest: UInt64]>([:])
    /// Terminal errors by request, kept until the request reconciles cleanly.
    let terminalErrors = Mutex<[ReconcileRequest: String]>([:])
    let reconciles: Counter
    let failures: Counter

    init<R: Reconciler>(_ reconciler: R, informers: SharedInformers, store: Store, clock: any Clock,
                        identities: any IdentityGenerator, scheduler: WorkQueue<ReconcileRequest>.Scheduler, logger: Logger) {
        name = R.name
        kind = R.Object.kind
        let configuration = R.configuration
        workers = max(1, configuration.workers)
        queue = WorkQueue(clock: clock, scheduler: scheduler, rateLimiter: configuration.rateLimiter?())
        reconcileFunction = { request, context in try await reconciler.reconcile(request, context: context) }
        self.informers = informers
        self.store = store
        self.clock = clock
        self.identities = identities
        var logger = logger
        logger[metadataKey: "controller"] = .string(R.name)
        self.logger = logger
        reconciles = Counter(label: "orca_reconcile_total", dimensions: [("controller", R.name)])
        failures = Counter(label: "orca_reconcile_errors_total", dimensions: [("controller", R.name)])

        for index in configuration.indexes { informers.informer(for: index.kind).addIndex(index.name, index.function) }
        let observeContext = ObserveContext(informers: informers, controller: R.name, clock: clock)
        var watches = configuration.watchesPrimary ? [Watch(R.Object.kind, .same)] : []
        watches += configuration.watches.filter { !(configuration.watchesPrimary && $0.kind == R.Object.kind && Self.isSame($0.mapping)) }
        let primary = R.Object.kind
        for watch in watches {
            let informer = informers.informer(for: watch.kind)
            informer.addHandler(owner: R.name) { [self] event in
                reconciler.observe(event, context: observeContext)
                let requests = Self.map(event, watch.mapping, primary: primary, context: observeContext)
                let delay = watch.delay?(event) ?? .zero
                for request in requests { enqueue(request, cause: event.record.seq, after: delay) }
            }
        }
        // The primary kind's informer exists (and syncs) even when its events are not watched.
        _ = informers.informer(for: R.Object.kind)
        for request in configuration.initialRequests { queue.add(request) }
    }

    static func isSame(_ mapping: Watch.Mapping) -> Bool {
        if case .same = mapping { return true }
        return false
    }

    func enqueue(_ request: ReconcileRequest, cause: UInt64, after delay: Duration = .zero) {
        keep(cause, for: request)
        if delay > .zero { queue.addAfter(request, delay) } else { queue.add(request) }
    }

    /// Records `cause` for the next reconcile of `request`, unless a newer one is recorded.
    func keep(_ cause: UInt64?, for request: ReconcileRequest) {
        guard let cause else { return }
        causes.withLock { causes in
            func raise(_ value: inout UInt64) { value = max(value, cause) }
            raise(&causes[request, default: 0])  // one hash lookup, in place
        }
    }

    /// The requests an event maps to.
    static func map(_ event: InformerEvent, _ mapping: Watch.Mapping, primary: String, context: ObserveContext) -> [ReconcileRequest] {
        // Runs for every handler of every event: the common cases allocate nothing but the result.
        if case .same = mapping { return [ReconcileRequest(event.record)] }
        let records: [EventRecord]
        if case .updated(let old, let new) = event { records = [old, new] } else { records = [event.record] }
        var out: [ReconcileRequest] = []
        // Duplicates are found by a scan while the result is small (nearly always one or two
        // requests), then through a set.
        var seen: Set<ReconcileRequest>?
        func add(_ r: ReconcileRequest) {
            if seen == nil {
                guard !out.contains(r) else { return }
                out.append(r)
                if out.count == 16 { seen = Set(out) }
            } else if seen?.insert(r).inserted == true {
                out.append(r)
            }
        }
        switch mapping {
        case .same:
            break  // answered above
        case .controllerOwner:
            for record in records {
                for owner in record.ownerReferences where owner.controller == true && owner.kind == primary {
                    add(ReconcileRequest(namespace: record.namespace, name: owner.name))
                }
            }
        case .selector:
            let candidates = context.snapshot(primary)
            for record in records {
                let labels = record.labels
                for object in candidates.list(namespace: record.namespace) {
                    guard let selector = LabelSelector(specSelector: object.value(at: ["spec", "selector"])) else { continue }
                    if selector.matches(labels) { add(ReconcileRequest(object)) }
                }
            }
        case .controllerOwnerOrAdopters:
            if case .updated(let old, let new) = event, old.seq == new.seq { return [] }
            for record in records {
                if let owner = record.ownerReferences.first(where: { $0.controller == true }) {
                    if owner.kind == primary { add(ReconcileRequest(namespace: record.namespace, name: owner.name)) }
                    continue
                }
                if case .deleted = event { continue }
                let labels = record.labels
                for candidate in context.snapshot(primary).list(namespace: record.namespace) {
                    guard let selector = LabelSelector(specSelector: candidate.value(at: ["spec", "selector"])), !selector.isEmpty else { continue }
                    if selector.matches(labels) { add(ReconcileRequest(candidate)) }
                }
            }
        case .nodeName:
            for record in records {
                if let node = record.value(at: ["spec", "nodeName"])?.stringValue, !node.isEmpty {
                    add(ReconcileRequest(name: node))
                }
            }
        case .all:
            for object in context.snapshot(primary).list() { add(ReconcileRequest(object)) }
        case .custom(let function):
            for r in function(event, context) { add(r) }
        }
        return out
    }

    /// Takes the next ready request, reconciles it and files the result. Returns false when the
    /// queue had nothing ready. Used by the simulation, one reconcile at a time.
    @discardableResult
    public func processNext() async -> Bool {
        queue.promoteReady()
        guard let request = queue.tryGet() else { return false }
        await process(request)
        return true
    }

    /// Worker loop for live mode: returns when the queue shuts down.
    func runWorker() async {
        while let request = await queue.get() { await process(request) }
    }

    func process(_ request: ReconcileRequest) async {
        defer { queue.done(request) }
        let cause = causes.withLock { $0.removeValue(forKey: request) }
        let writeContext = WriteContext(actor: "controller/\(name)", cause: cause)
        let client = StoreClient(store: store, writeContext: writeContext)
        let context = ReconcileContext(informers: informers, controller: name, cause: cause, clock: clock,
                                       identities: identities, controllerLogger: logger, request: request, client: client,
                                       events: EventRecorder(client: client, clock: clock, component: "\(name)-controller",
                                                             correlator: eventCorrelator))
        reconciles.increment()
        do {
            let result = try await reconcileFunction(request, context)
            terminalErrors.withLock { $0[request] = nil }
            queue.forget(request)
            if case .requeue(let after) = result {
                keep(cause, for: request)
                queue.addAfter(request, after)
            }
        } catch let error as TerminalError {
            failures.increment()
            context.logger.error("reconcile failed permanently: \(error.message)")
            terminalErrors.withLock { $0[request] = error.message }
            queue.forget(request)
        } catch {
            failures.increment()
            if logger.logLevel <= .debug { context.logger.debug("reconcile failed, retrying with back-off: \(error)") }
            keep(cause, for: request)
            queue.addRateLimited(request)
        }
    }

    /// The message of the last terminal error of `request`, until it reconciles cleanly.
    public func terminalError(of request: ReconcileRequest) -> String? { terminalErrors.withLock { $0[request] } }
}
