public import Logging
public import OrcaAPI
public import OrcaLog
public import OrcaStore
public import ServiceLifecycle
import Synchronization

/// Runs controllers over one log: shared informers, one work queue per controller.
///
/// Two ways to drive it:
/// - **Simulation** (`scheduler: .manual`, a ``VirtualClock``): ``drain()`` delivers every new
///   event to the informers and reconciles until nothing is left to do, one reconcile at a time,
///   controllers in registration order and keys in FIFO order, delivering events after every
///   reconcile. ``nextTimer`` tells the driver when the next delayed requeue falls due. Same log,
///   seed and code give the same writes in the same order.
/// - **Live** (`scheduler: .live`): ``run()`` syncs every informer, then starts each
///   controller's workers and follows the log until cancelled or, inside a swift-service-lifecycle
///   `ServiceGroup`, until a graceful shutdown (the manager is a `Service`).
public final class ControllerManager: Sendable {
    public let log: any EventLog
    public let store: Store
    public let informers: SharedInformers
    public let clock: any Clock
    public let identities: any IdentityGenerator
    let scheduler: WorkQueue<ReconcileRequest>.Scheduler
    let logger: Logger
    let registered = Mutex<[Controller]>([])

    public init(log: any EventLog, clock: any Clock, identities: any IdentityGenerator,
                scheduler: WorkQueue<ReconcileRequest>.Scheduler, admission: AdmissionConfiguration = AdmissionConfiguration(),
                logger: Logger = Logger(label: "orca")) {
        self.log = log
        self.clock = clock
        self.identities = identities
        self.scheduler = scheduler
        self.logger = logger
        store = Store(log: log, clock: clock, identities: identities, admission: admission)
        informers = SharedInformers(log: log)
    }

    /// Adds a controller. Register every controller before the first ``drain()`` or ``run()``.
    @discardableResult
    public func register<R: Reconciler>(_ reconciler: R) -> Controller {
        let controller = Controller(reconciler, informers: informers, store: store, clock: clock,
                                    identities: identities, scheduler: scheduler, logger: logger)
        registered.withLock { $0.append(controller) }
        return controller
    }

    public var controllers: [Controller] { registered.withLock { $0 } }

    // MARK: Simulation

    /// Delivers events and reconciles until quiescent: no undelivered event and no ready key.
    /// Returns the number of reconciles run. Throws only for log errors.
    @discardableResult
    public func drain(maxReconciles: Int = 1_000_000) async throws -> Int {
        var count = 0
        try informers.deliverAll()
        var progressed = true
        while progressed {
            progressed = false
            for controller in controllers {
                while count < maxReconciles, await controller.processNext() {
                    count += 1
                    progressed = true
                    try informers.deliverAll()
                }
            }
            try informers.deliverAll()
        }
        return count
    }

    /// When the earliest delayed requeue of any controller, or the earliest event held back by a
    /// delayed view of a kind, falls due.
    public var nextTimer: Timestamp? {
        (controllers.compactMap(\.queue.nextReadyTime) + [informers.nextDelayedDelivery].compactMap { $0 }).min()
    }

    // MARK: Live

    /// Syncs the informers, starts every controller's workers and follows the log until the task
    /// is cancelled or a graceful shutdown of the enclosing `ServiceGroup` begins (SIGTERM or
    /// SIGINT in `orca run`); then shuts the queues down and waits for the reconciles in flight,
    /// whose tasks are cancelled (as controller-runtime cancels a reconcile's context): a write
    /// already submitted completes, a `Task.sleep` or other cancellable wait ends early.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { [self] in try await runUntilCancelled() }
    }

    func runUntilCancelled() async throws {
        try informers.sync()
        try informers.deliverAll()
        let controllers = self.controllers
        try await withThrowingTaskGroup(of: Void.self) { group in
            for controller in controllers {
                for _ in 0..<controller.workers { group.addTask { await controller.runWorker() } }
            }
            group.addTask { [informers] in
                try await withTaskCancellationHandler {
                    try await informers.run()
                } onCancel: {
                    for controller in controllers { controller.queue.shutDown() }
                }
            }
            try await group.next()
            group.cancelAll()
            for controller in controllers { await controller.queue.shutDownWithDrain() }
        }
    }
}

/// The live manager is a swift-service-lifecycle `Service`: put it in a `ServiceGroup` with other
/// services (an HTTP server, a metrics exporter) and the group's graceful shutdown stops it.
extension ControllerManager: ServiceLifecycle.Service {}
