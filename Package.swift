// swift-tools-version:6.0
// The Orca tool, the built-in controllers, the simulation, the LMDB log and the tests.
//
// The API every controller is written against (OrcaAPI, OrcaLog, OrcaStore, OrcaReplay,
// OrcaRuntime and the umbrella `Orca`) is the package in Sources/OrcaKit, vended as one dynamic
// library (libOrca.so) so that plugins loaded with `orca run --plugin PATH` share it with the
// host; see Sources/OrcaKit/Package.swift for why. Targets here depend on its product `Orca`
// (`orca` below), never on its targets, and never directly on the packages linked into it
// (swift-log, swift-metrics, swift-collections, Yams): their modules are imported through it.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let orca: Target.Dependency = .product(name: "Orca", package: "OrcaKit")

let package = Package(
    name: "Orca",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orca", targets: ["OrcaCLI"]),
        // The sample plugin, built as a dynamic library: `orca run --plugin .build/debug/libNodeDrainPlugin.so`.
        .library(name: "NodeDrainPlugin", type: .dynamic, targets: ["NodeDrainPlugin"]),
        .library(name: "OrcaLMDB", targets: ["OrcaLMDB"]),
        .library(name: "OrcaSimulation", targets: ["OrcaSimulation"]),
        // The test kit for controller authors: TestCluster, FaultyLog, HistoryBuilder.
        .library(name: "OrcaTesting", targets: ["OrcaTesting"]),
        // For Benchmarks/, whose raw-LMDB baselines write through the same C library.
        .library(name: "CLMDB", targets: ["CLMDB"]),
    ],
    dependencies: [
        .package(path: "Sources/OrcaKit"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", providers: [.apt(["liblmdb-dev"])]),
        .target(name: "OrcaLMDB", dependencies: ["CLMDB", orca], swiftSettings: strict),
        // The built-in controllers: each uses only the public API, exactly as a plugin does.
        .target(name: "SchedulerController", dependencies: [orca], path: "Controllers/Scheduler", swiftSettings: strict),
        .target(name: "KubeletSimulator", dependencies: [orca], path: "Controllers/Kubelet", swiftSettings: strict),
        .target(name: "GarbageCollectorController", dependencies: [orca], path: "Controllers/GarbageCollector", swiftSettings: strict),
        .target(name: "PodGCController", dependencies: [orca], path: "Controllers/PodGC", swiftSettings: strict),
        .target(name: "ReplicaSetController", dependencies: [orca], path: "Controllers/ReplicaSet", swiftSettings: strict),
        .target(name: "DeploymentController", dependencies: [orca], path: "Controllers/Deployment", swiftSettings: strict),
        .target(name: "StatefulSetController", dependencies: [orca], path: "Controllers/StatefulSet", swiftSettings: strict),
        .target(name: "CronJobController", dependencies: [orca], path: "Controllers/CronJob", swiftSettings: strict),
        .target(name: "EndpointsController", dependencies: [orca], path: "Controllers/Endpoints", swiftSettings: strict),
        .target(name: "JobController", dependencies: [orca], path: "Controllers/Job", swiftSettings: strict),
        .target(name: "DaemonSetController", dependencies: [orca], path: "Controllers/DaemonSet", swiftSettings: strict),
        .target(name: "NodeLifecycleController", dependencies: [orca], path: "Controllers/NodeLifecycle", swiftSettings: strict),
        .target(name: "TaintEvictionController", dependencies: [orca], path: "Controllers/TaintEviction", swiftSettings: strict),
        .target(name: "TTLAfterFinishedController", dependencies: [orca], path: "Controllers/TTLAfterFinished", swiftSettings: strict),
        .target(name: "ResourceQuotaController", dependencies: [orca], path: "Controllers/ResourceQuota", swiftSettings: strict),
        .target(name: "NamespaceController", dependencies: [orca], path: "Controllers/Namespace", swiftSettings: strict),
        // The sample plugin: a dynamic library with the documented entry point, loaded by `orca run --plugin`.
        .target(name: "NodeDrainPlugin", dependencies: [orca], path: "Controllers/Examples/NodeDrain", swiftSettings: strict),
        .target(name: "OrcaSimulation",
                dependencies: [orca, "OrcaLMDB", "SchedulerController", "KubeletSimulator", "GarbageCollectorController",
                               "PodGCController", "ReplicaSetController", "DeploymentController", "StatefulSetController", "CronJobController", "TTLAfterFinishedController", "ResourceQuotaController",
                               "NamespaceController", "NodeLifecycleController", "TaintEvictionController", "JobController", "EndpointsController", "DaemonSetController"],
                swiftSettings: strict),
        .target(name: "OrcaTesting", dependencies: [orca, "OrcaLMDB"], swiftSettings: strict),
        .executableTarget(
            name: "OrcaCLI",
            dependencies: [orca, "OrcaLMDB", "OrcaSimulation",
                           "TTLAfterFinishedController", "ResourceQuotaController", "NamespaceController", "ReplicaSetController", "DeploymentController",
                           "StatefulSetController", "CronJobController", "SchedulerController",
                           "GarbageCollectorController", "PodGCController", "NodeLifecycleController", "TaintEvictionController",
                           "JobController", "EndpointsController", "DaemonSetController", "KubeletSimulator",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/orca", swiftSettings: strict),
        .executableTarget(
            name: "OrcaLogWriter", dependencies: [orca, "OrcaLMDB"],
            path: "Tests/Support/LogWriter", swiftSettings: strict),
        .testTarget(name: "OrcaTestingTests", dependencies: ["OrcaTesting", "ReplicaSetController"], swiftSettings: strict),
        .testTarget(name: "OrcaAPITests", dependencies: [orca], swiftSettings: strict),
        .testTarget(name: "OrcaLogTests", dependencies: [orca, "OrcaLMDB"], swiftSettings: strict),
        .testTarget(name: "OrcaStoreTests", dependencies: [orca, "OrcaLMDB"], swiftSettings: strict),
        .testTarget(name: "OrcaRuntimeTests", dependencies: [orca, "OrcaLMDB", "OrcaTesting"], swiftSettings: strict),
        .testTarget(name: "TTLAfterFinishedControllerTests", dependencies: ["TTLAfterFinishedController", orca, "OrcaLMDB"],
                    path: "Tests/Controllers/TTLAfterFinishedControllerTests", swiftSettings: strict),
        .testTarget(name: "OrcaSimulationTests", dependencies: ["OrcaSimulation", "KubeletSimulator", "SchedulerController",
                                                              "ResourceQuotaController", "OrcaLMDB"],
                    swiftSettings: strict),
        .testTarget(name: "ReplicaSetControllerTests", dependencies: ["ReplicaSetController", orca],
                    path: "Tests/Controllers/ReplicaSetControllerTests", swiftSettings: strict),
        .testTarget(name: "DeploymentControllerTests", dependencies: ["DeploymentController", orca],
                    path: "Tests/Controllers/DeploymentControllerTests", swiftSettings: strict),
        .testTarget(name: "StatefulSetControllerTests", dependencies: ["StatefulSetController", orca],
                    path: "Tests/Controllers/StatefulSetControllerTests", swiftSettings: strict),
        .testTarget(name: "CronJobControllerTests", dependencies: ["CronJobController", orca],
                    path: "Tests/Controllers/CronJobControllerTests", swiftSettings: strict),
        .testTarget(name: "NodeLifecycleControllerTests", dependencies: ["NodeLifecycleController", "TaintEvictionController", orca],
                    path: "Tests/Controllers/NodeLifecycleControllerTests", swiftSettings: strict),
        .testTarget(name: "JobControllerTests", dependencies: ["JobController", "EndpointsController", orca],
                    path: "Tests/Controllers/JobControllerTests", swiftSettings: strict),
        .testTarget(name: "DaemonSetControllerTests", dependencies: ["DaemonSetController", orca],
                    path: "Tests/Controllers/DaemonSetControllerTests", swiftSettings: strict),
        .testTarget(name: "NodeDrainPluginTests", dependencies: ["NodeDrainPlugin", orca],
                    path: "Tests/Controllers/NodeDrainPluginTests", swiftSettings: strict),
        .testTarget(name: "OrcaCLITests", dependencies: ["OrcaCLI", "OrcaLogWriter", "OrcaLMDB", orca],
                    swiftSettings: strict),
    ]
)
