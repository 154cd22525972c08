public import Orca
import Synchronization
import DaemonSetController
import EndpointsController
import GarbageCollectorController
import JobController
import KubeletSimulator
import NodeLifecycleController
import PodGCController
import ReplicaSetController
import DeploymentController
import StatefulSetController
import CronJobController
import SchedulerController
import TaintEvictionController
import ResourceQuotaController
import NamespaceController
import TTLAfterFinishedController

/// Runs a scenario in deterministic simulation (SCENARIOS.md §1.3): every built-in controller on
/// one virtual clock, writing the whole history to `log`.
///
/// The loop: at each instant, the steps due run first (in file order), then events are delivered
/// and work queues drained to quiescence (controllers in registration order, keys FIFO), then the
/// clock advances to the next step or timer. Same scenario, seed and code ⇒ the same log.
public final class Simulation: Sendable {
    public let scenario: Scenario
    public let log: any EventLog
    public let clock: VirtualClock
    public let manager: ControllerManager
    public let kubelets: Kubelets
    let controllers: Mutex<[String: Controller]>
    /// The manifest a scenario last applied to each object (`objects:` and `apply` steps), for
    /// the three-way merge of the next `apply`.
    let applied = Mutex<[ObjectKey: JSONValue]>([:])
    /// Step writes admission refused (Forbidden), in order, as `file:line: steps[i] at T: message`.
    let refusals = Mutex<[String]>([])

    /// The step writes the API refused with Forbidden — a quota exceeded, a namespace being
    /// deleted — which, as for `kubectl apply`, do not stop the run.
    public var refusedWrites: [String] { refusals.withLock { $0 } }
    /// Selector targets' candidates, listed at one seq of the log (see `targetCandidates`).
    let targetCandidateCache = Mutex<(seq: UInt64, lists: [String: TargetCandidates])>((0, [:]))

    /// The controllers a simulation runs, in the fixed order they are drained.
    public static let controllerOrder = ["deployment", "replicaset", "job", "cronjob", "daemonset", "statefulset", "scheduler", "kubelet-node", "kubelet", "nodelifecycle",
                                         "taint-eviction-controller", "endpoint", "endpointslice", "garbagecollector", "podgc", "ttl-after-finished",
                                         "resourcequota", "namespace"]

    /// A run of `scenario` writing to `log`; UIDs and generated names come from `identities`, by
    /// default a generator seeded with the scenario's seed.
    public init(scenario: Scenario, log: any EventLog, identities: (any IdentityGenerator)? = nil) {
        self.scenario = scenario
        self.log = log
        clock = VirtualClock(scenario.start)
        let config = scenario.config
        manager = ControllerManager(
            log: log, clock: clock, identities: identities ?? SeededIdentityGenerator(seed: scenario.seed), scheduler: .manual,
            admission: AdmissionConfiguration(defaultTolerationSeconds: config.defaultTolerationSeconds,
                                              defaultTerminationGracePeriodSeconds: config.terminationGracePeriodSeconds))
        kubelets = Kubelets()
        var controllers: [String: Controller] = [:]
        let enabled = { (name: String) in !config.disabled.contains(name) }
        if enabled("deployment") { controllers["deployment"] = manager.register(DeploymentController()) }
        if enabled("replicaset") { controllers["replicaset"] = manager.register(ReplicaSetController(clock: clock)) }
        if enabled("job") {
            controllers["job"] = manager.register(JobController(clock: clock))
            controllers["job-orphans"] = manager.register(JobOrphanFinalizerController())
        }
        if enabled("cronjob") { controllers["cronjob"] = manager.register(CronJobController()) }
        if enabled("daemonset") { controllers["daemonset"] = manager.register(DaemonSetController(clock: clock)) }
        if enabled("statefulset") { controllers["statefulset"] = manager.register(StatefulSetController()) }
        if enabled("scheduler") { controllers["scheduler"] = manager.register(SchedulerController()) }
        if enabled("kubelet-node") { controllers["kubelet-node"] = manager.register(KubeletNodeController(kubelets: kubelets)) }
        if enabled("kubelet") { controllers["kubelet"] = manager.register(KubeletPodController(kubelets: kubelets)) }
        if enabled("nodelifecycle") {
            var settings = NodeLifecycleController.Settings()
            settings.monitorPeriod = config.nodeMonitorPeriod
            settings.gracePeriod = config.nodeMonitorGracePeriod
            settings.startupGracePeriod = config.nodeStartupGracePeriod
            settings.evictionRate = config.nodeEvictionRate
            settings.secondaryEvictionRate = config.secondaryNodeEvictionRate
            settings.largeClusterThreshold = config.largeClusterSizeThreshold
            settings.unhealthyZoneThreshold = config.unhealthyZoneThreshold
            controllers["nodelifecycle"] = manager.register(NodeLifecycleController(settings: settings))
            controllers["nodelifecycle-taints"] = manager.register(NodeConditionTaintController())
        }
        if enabled("taint-eviction-controller") {
            controllers["taint-eviction-controller"] = manager.register(TaintEvictionController())
        }
        if enabled("endpoint") { controllers["endpoint"] = manager.register(EndpointsController()) }
        if enabled("endpointslice") { controllers["endpointslice"] = manager.register(EndpointSliceController()) }
        if enabled("garbagecollector") { GarbageCollectorKinds.install(into: manager) }
        if enabled("podgc") {
            var settings = PodGCController.Settings()
            settings.period = config.podGCPeriod
            settings.quarantine = config.podGCQuarantine
            settings.terminatedPodThreshold = config.terminatedPodGCThreshold
            controllers["podgc"] = manager.register(PodGCController(settings: settings))
        }
        if enabled("ttl-after-finished") { controllers["ttl-after-finished"] = manager.register(TTLAfterFinishedController()) }
        if enabled("resourcequota") { controllers["resourcequota"] = manager.register(ResourceQuotaController()) }
        if enabled("namespace") { controllers["namespace"] = manager.register(NamespaceController()) }
        self.controllers = Mutex(controllers)
    }

    /// Adds a controller of your own (a plugin) to the run, drained after the built-in ones;
    /// register before ``run(progress:)``. Its name is the reconciler's ``Reconciler/name``.
    @discardableResult
    public func register<R: Reconciler>(_ reconciler: R) -> Controller {
        let controller = manager.register(reconciler)
        controllers.withLock { $0[R.name] = controller }
        return controller
    }

    /// Adds a plugin's controller (as `orca simulate --plugin` does), drained after the
    /// built-in ones. A name already in the run is an error.
    public func install(_ descriptor: ControllerDescriptor) throws(RegistryError) {
        guard controller(descriptor.name) == nil, !Self.controllerOrder.contains(descriptor.name) else {
            throw RegistryError("a controller named \"\(descriptor.name)\" is already registered")
        }
        let installed = descriptor.install(into: manager)
        if let first = installed.first { controllers.withLock { $0[descriptor.name] = first } }
    }

    /// The registered controller called `name`.
    func controller(_ name: String) -> Controller? { controllers.withLock { $0[name] } }

    /// Progress of a run, for a progress line.
    public struct Progress: Sendable {
        public var elapsed: Duration
        public var events: UInt64
    }

    /// Sets up t=0, runs every step and timer up to `until`, and returns the last seq written.
    @discardableResult
    public func run(progress: (@Sendable (Progress) -> Void)? = nil) async throws -> UInt64 {
        try await run(progress: progress, afterSettling: nil)
    }

    /// A reconcile that wrote although nothing had changed since the previous one.
    public struct IdempotenceViolation: Sendable, CustomStringConvertible {
        public var time: Timestamp
        public var controller: String
        public var request: ReconcileRequest
        /// `TYPE Kind ns/name` of each write.
        public var writes: [String]
        public var description: String { "\(time.rfc3339) \(controller) \(request): wrote \(writes.joined(separator: ", "))" }
    }

    /// Runs the scenario, and every time an instant has settled re-runs the reconcile of every
    /// object of the named controllers' primary kinds (except keys waiting on a delayed requeue,
    /// whose work is deliberately deferred). A level-based, idempotent controller writes nothing
    /// then, and the run is the same as without the check; every write is reported (and stays
    /// in the log, so later steps see it).
    public func runVerifyingIdempotence(of names: [String]) async throws -> [IdempotenceViolation] {
        let registered = controllers.withLock { $0 }
        let checked = names.compactMap { name in registered[name].map { (name: name, controller: $0) } }
        let violations = ReconcilerState<[IdempotenceViolation]>([])
        _ = try await run(progress: nil) { [self] in
            for (name, controller) in checked {
                for record in manager.informers.informer(for: controller.kind).snapshot.list() {
                    let request = ReconcileRequest(record)
                    if controller.queue.isWaiting(request) { continue }
                    let before = try log.latestSeq()
                    controller.queue.add(request)
                    try await manager.drain()
                    let after = try log.latestSeq()
                    guard after > before else { continue }
                    let writes = try log.read(from: before + 1, limit: Int(after - before)).map {
                        "\($0.type.rawValue) \($0.kind) \($0.namespace.isEmpty ? "" : $0.namespace + "/")\($0.name)"
                    }
                    let violation = IdempotenceViolation(time: clock.now(), controller: name, request: request, writes: writes)
                    violations.withLock { $0.append(violation) }
                }
            }
        }
        return violations.value
    }

    func run(progress: (@Sendable (Progress) -> Void)?, afterSettling: (() async throws -> Void)?) async throws -> UInt64 {
        try await setUp()
        let end = scenario.start.adding(scenario.until)
        var next = 0
        let steps = scenario.steps
        while true {
            let now = clock.now()
            while next < steps.count, scenario.start.adding(steps[next].at) <= now {
                try await perform(steps[next])
                next += 1
            }
            try await manager.drain()
            try await afterSettling?()
            progress?(Progress(elapsed: now.since(scenario.start), events: try log.latestSeq()))
            var wake = manager.nextTimer
            if next < steps.count {
                let stepTime = scenario.start.adding(steps[next].at)
                wake = wake.map { min($0, stepTime) } ?? stepTime
            }
            guard let wake, wake <= end else { break }
            clock.advance(to: max(wake, now))
            if wake <= now { continue }
        }
        clock.advance(to: end)
        return try log.latestSeq()
    }

    // MARK: Setup

    func setUp() async throws {
        let context = WriteContext(actor: "scenario/setup")
        // Nodes, with their pod CIDRs in name order.
        let declared = scenario.nodes.sorted { nodeName($0) < nodeName($1) }
        kubelets.reserve(nodes: declared.map(nodeName), withoutKubelet: Set(declared.filter { !$0.kubelet }.map(nodeName)))
        for declaration in declared {
            let manifest = nodeManifest(declaration)
            do {
                let created = try await manager.store.create(manifest, context: context)
                if let status = manifest["status"] {
                    var withStatus = created.value
                    withStatus["status"] = status
                    try await manager.store.updateStatus(withStatus, context: context)
                }
            } catch let error as StoreError {
                throw ScenarioError(file: scenario.file, line: declaration.line, field: "nodes", message: error.message)
            }
        }
        try await createObjects(context: context)
    }

    func nodeName(_ d: NodeDeclaration) -> String { d.manifest[path: ["metadata", "name"]]?.stringValue ?? "" }

    /// A declared node with the defaults of SCENARIOS.md §1: capacity, allocatable, the zone
    /// label, the pod CIDR, and (for a node with a kubelet) the status it registers with.
    func nodeManifest(_ declaration: NodeDeclaration) -> JSONValue {
        SimulatedNodes.manifest(declaration.manifest, index: kubelets.index(of: nodeName(declaration)) ?? 1,
                                now: scenario.start, kubelet: declaration.kubelet)
    }

    /// `objects:`, created in order (status kept), an ownerReference without a uid resolved by
    /// kind and name; objects whose owners come later in the list wait for them.
    func createObjects(context: WriteContext) async throws {
        var pending = scenario.objects
        while !pending.isEmpty {
            var waiting: [Located<JSONValue>] = []
            var unresolved: (Located<JSONValue>, String)?
            for item in pending {
                var object = item.value
                var resolved = true
                if var owners = object[path: ["metadata", "ownerReferences"]]?.arrayValue {
                    for i in owners.indices where (owners[i]["uid"]?.stringValue ?? "").isEmpty {
                        let kind = owners[i]["kind"]?.stringValue ?? ""
                        let name = owners[i]["name"]?.stringValue ?? ""
                        let namespace = object[path: ["metadata", "namespace"]]?.stringValue ?? "default"
                        if let owner = try manager.store.get(kind: kind, namespace: namespace, name: name) {
                            owners[i]["uid"] = .string(owner.uid)
                        } else {
                            resolved = false
                            unresolved = (item, "\(kind)/\(name)")
                        }
                    }
                    object[path: ["metadata", "ownerReferences"]] = .array(owners)
                }
                guard resolved else {
                    waiting.append(item)
                    continue
                }
                do {
                    let created = try await manager.store.create(object, context: context)
                    applied.withLock { $0[created.key] = object }
                    if let status = object["status"], status.objectValue != nil {
                        var withStatus = created.value
                        withStatus["status"] = status
                        try await manager.store.updateStatus(withStatus, context: context)
                    }
                } catch let error as StoreError {
                    throw ScenarioError(file: scenario.file, line: item.line, field: item.field, message: Self.describe(error))
                }
            }
            if waiting.count == pending.count, let (item, owner) = unresolved {
                throw ScenarioError(file: scenario.file, line: item.line, field: item.field,
                                    message: "ownerReference to \(owner): no such object among objects")
            }
            pending = waiting
        }
    }

    static func describe(_ error: StoreError) -> String { "\(error.reason): \(error.message)" }
}
