import ArgumentParser
import Foundation
import Logging
import OrcaAPI
import OrcaLMDB
import OrcaRuntime
import OrcaStore
import ServiceLifecycle
import DaemonSetController
import EndpointsController
import GarbageCollectorController
import JobController
import KubeletSimulator
import NodeLifecycleController
import TaintEvictionController
import PodGCController
import ReplicaSetController
import DeploymentController
import StatefulSetController
import CronJobController
import SchedulerController
import ResourceQuotaController
import NamespaceController
import TTLAfterFinishedController

/// Every controller `orca run` can start, built-ins and examples alike.
enum Catalog {
    static let registry = ControllerRegistry([
        ControllerDescriptor({ ReplicaSetController(clock: SystemClock()) },
                             summary: "keeps spec.replicas pods of each ReplicaSet (adopts, releases, creates, deletes)"),
        ControllerDescriptor({ DeploymentController() },
                             summary: "rolls Deployments out through ReplicaSets (RollingUpdate, Recreate, proportional scaling, history)"),
        ControllerDescriptor(name: "job",
                             summary: "runs Jobs to completion (parallelism, Indexed, back-off, deadline, suspend, pod failure policy)",
                             install: { [$0.register(JobController(clock: SystemClock())), $0.register(JobOrphanFinalizerController())] }),
        ControllerDescriptor({ CronJobController() },
                             summary: "makes a Job from each CronJob at its scheduled times (time zones, deadlines, concurrency, history)"),
        ControllerDescriptor({ DaemonSetController(clock: SystemClock()) },
                             summary: "runs one pod of each DaemonSet per eligible node (rolling update, failed-pod back-off)"),
        ControllerDescriptor({ StatefulSetController() },
                             summary: "runs StatefulSets: ordered pods <name>-<ordinal>, ordered scale-down, partitioned rolling updates"),
        ControllerDescriptor({ SchedulerController() },
                             summary: "binds pending pods to feasible nodes, or marks them Unschedulable"),
        ControllerDescriptor(name: "nodelifecycle",
                             summary: "marks unresponsive nodes Unknown, taints them (NoSchedule, rate-limited NoExecute)",
                             install: { [$0.register(NodeLifecycleController()), $0.register(NodeConditionTaintController())] }),
        ControllerDescriptor({ TaintEvictionController() },
                             summary: "evicts pods from NoExecute-tainted nodes after their tolerationSeconds"),
        ControllerDescriptor({ EndpointsController() },
                             summary: "keeps each Service's Endpoints: ready and not-ready pod addresses and ports"),
        ControllerDescriptor({ EndpointSliceController() },
                             summary: "keeps each Service's EndpointSlices: pod endpoints with ready/serving/terminating, 100 a slice"),
        ControllerDescriptor(name: "garbagecollector",
                             summary: "deletes dependents of deleted owners (Background, Foreground, Orphan)",
                             install: { GarbageCollectorKinds.install(into: $0) }),
        ControllerDescriptor({ PodGCController() },
                             summary: "deletes terminated pods over the threshold and pods of vanished nodes"),
        ControllerDescriptor({ TTLAfterFinishedController() },
                             summary: "deletes finished Jobs spec.ttlSecondsAfterFinished seconds after they finish"),
        ControllerDescriptor({ ResourceQuotaController() },
                             summary: "keeps each ResourceQuota's status: its hard limits and what the namespace uses"),
        ControllerDescriptor({ NamespaceController() },
                             summary: "empties a namespace being deleted, then lifts its kubernetes finalizer"),
    ])

    static var helpText: String { "Controllers:\n" + table(registry) }

    /// One line per controller: its name and summary.
    static func table(_ registry: ControllerRegistry) -> String {
        let width = (registry.names.map(\.count).max() ?? 0) + 2
        return registry.descriptors.map {
            "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary
        }.joined(separator: "\n")
    }
}

/// `--plugin PATH` for `orca run` and `orca simulate`.
enum Plugins {
    /// Loads each library and returns them with their paths, announcing each on stderr.
    static func load(_ paths: [String]) throws -> [(path: String, plugin: OrcaPlugin)] {
        var loaded: [(path: String, plugin: OrcaPlugin)] = []
        for path in paths {
            do {
                let plugin = try PluginLoader.load(path)
                loaded.append((path, plugin))
                Output.err("orca: loaded plugin \"\(plugin.name)\" from \(path): \(plugin.controllers.map(\.name).joined(separator: ", "))")
            } catch {
                throw CLIError("error: \(error)")
            }
        }
        return loaded
    }

    /// The built-in catalog plus every plugin's controllers.
    static func registry(loading paths: [String]) throws -> ControllerRegistry {
        var registry = Catalog.registry
        for (path, plugin) in try load(paths) {
            do {
                try plugin.register(from: path) { descriptor throws(RegistryError) in try registry.add(descriptor) }
            } catch {
                throw CLIError("error: \(error)")
            }
        }
        return registry
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run controllers against the data directory until interrupted.",
        discussion: Catalog.helpText + """


        Writes from other processes on the same data directory (`orca apply`) are seen within \
        milliseconds. SIGINT or SIGTERM stops the controllers after the reconciles in flight.
        """)

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .long, help: "Comma-separated controller names to run (default: all).")
    var controllers: String?

    @Option(name: .long, help: ArgumentHelp(
        "Also run N simulated nodes, node-1 … node-N, each with a kubelet on the wall clock.",
        discussion: "Missing nodes are registered at start (as a scenario's `nodes: {count: N}` would); their kubelets renew leases, post node status and run bound pods as a scenario's kubelet does (containers start after 1 s; `sim.orca.dev/*` annotations apply). Other nodes are left alone.", valueName: "N"))
    var nodes: Int = 0

    @Option(name: .long, help: ArgumentHelp(
        "Load more controllers from a plugin library (repeatable).",
        discussion: "A plugin is a shared library built against the dynamic product `Orca` that exports orca_plugin_api_version and orca_plugin_entry (Docs/WritingAController.md). Its controllers join the built-ins; --controllers selects among them all.",
        valueName: "PATH"))
    var plugin: [String] = []

    @Flag(name: .long, help: "List the controllers (built-in and from --plugin libraries) and exit, without opening --data.")
    var list = false

    func validate() throws {
        guard nodes >= 0 else { throw ValidationError("--nodes must be 0 or more, got \(nodes)") }
        guard nodes <= 100_000 else { throw ValidationError("--nodes must be at most 100000, got \(nodes)") }
    }

    func run() async throws {
        try await reportingErrors {
            let names = controllers.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let registry = try Plugins.registry(loading: plugin)
            if list {
                print(Catalog.table(registry))
                return
            }
            let selected: [ControllerDescriptor]
            do {
                selected = try registry.select(names)
            } catch {
                throw CLIError("error: \(error)")
            }
            let log = try dataOptions.openLog(create: true)
            var logger = Logger(label: "orca")
            logger.logLevel = .info
            let manager = ControllerManager(log: log, clock: SystemClock(), identities: RandomIdentityGenerator(),
                                            scheduler: .live, logger: logger)
            for descriptor in selected { descriptor.install(into: manager) }
            if nodes > 0 { try await startNodes(manager) }
            Output.err("orca run: \(selected.map(\.name).joined(separator: ", "))\(nodes > 0 ? " and \(nodes) simulated node(s)" : "") on \(dataOptions.data) (Ctrl-C to stop)")

            // SIGINT and SIGTERM begin a graceful shutdown: the manager stops taking work and
            // waits for the reconciles in flight.
            let group = ServiceGroup(services: [manager], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
            Output.err("orca run: stopped")
        }
    }
}

extension Run {
    /// Registers node-1 … node-N where missing and installs the kubelets that keep them alive.
    func startNodes(_ manager: ControllerManager) async throws {
        var settings = Kubelets.Settings()
        settings.adoptsUnreservedNodes = false
        let kubelets = Kubelets(settings: settings)
        let names = (1...nodes).map { "node-\($0)" }
        kubelets.reserve(nodes: names, withoutKubelet: [])
        let now = SystemClock().now()
        for name in names where try manager.store.get(kind: "Node", name: name) == nil {
            let manifest = SimulatedNodes.manifest(["metadata": ["name": .string(name)]],
                                                   index: kubelets.index(of: name) ?? 1, now: now, kubelet: true)
            let context = WriteContext(actor: "kubelet/\(name)")
            do {
                var created = try await manager.store.create(manifest, context: context).value
                created["status"] = manifest["status"]
                try await manager.store.updateStatus(created, context: context)
            } catch let error as StoreError where error.reason == .alreadyExists {
                // Registered by another process meanwhile; its kubelet status is refreshed below.
            }
        }
        manager.register(KubeletNodeController(kubelets: kubelets))
        manager.register(KubeletPodController(kubelets: kubelets))
    }
}
