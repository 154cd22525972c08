// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Orca",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orca", targets: ["OrcaCLI"]),
        .library(name: "Orca", targets: ["Orca"]),
        .library(name: "OrcaLMDB", targets: ["OrcaLMDB"]),
        // For Benchmarks/, whose raw-LMDB baselines write through the same C library.
        .library(name: "CLMDB", targets: ["CLMDB"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", providers: [.apt(["liblmdb-dev"])]),
        .target(name: "OrcaAPI", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(name: "OrcaLog", dependencies: ["OrcaAPI"], swiftSettings: strict),
        .target(name: "OrcaLMDB", dependencies: ["CLMDB", "OrcaLog"], swiftSettings: strict),
        .target(name: "OrcaStore", dependencies: ["OrcaAPI", "OrcaLog"], swiftSettings: strict),
        .target(name: "OrcaReplay", dependencies: ["OrcaAPI", "OrcaLog"], swiftSettings: strict),
        .target(
            name: "OrcaRuntime",
            dependencies: ["OrcaAPI", "OrcaLog", "OrcaStore",
                           .product(name: "DequeModule", package: "swift-collections"),
                           .product(name: "HeapModule", package: "swift-collections"),
                           .product(name: "HashTreeCollections", package: "swift-collections"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: strict),
        .target(name: "Orca", dependencies: ["OrcaAPI", "OrcaLog", "OrcaStore", "OrcaReplay", "OrcaRuntime"], swiftSettings: strict),
        .target(name: "TTLAfterFinishedController", dependencies: ["Orca"],
                path: "Controllers/Examples/TTLAfterFinished", swiftSettings: strict),
        .target(name: "SchedulerController", dependencies: ["Orca"], path: "Controllers/Scheduler", swiftSettings: strict),
        .target(name: "KubeletSimulator", dependencies: ["Orca"], path: "Controllers/Kubelet", swiftSettings: strict),
        .target(name: "GarbageCollectorController", dependencies: ["Orca"], path: "Controllers/GarbageCollector", swiftSettings: strict),
        .target(name: "PodGCController", dependencies: ["Orca"], path: "Controllers/PodGC", swiftSettings: strict),
        .target(name: "ReplicaSetController", dependencies: ["Orca"], path: "Controllers/ReplicaSet", swiftSettings: strict),
        .target(name: "NodeLifecycleController", dependencies: ["Orca"], path: "Controllers/NodeLifecycle", swiftSettings: strict),
        .target(name: "TaintEvictionController", dependencies: ["Orca"], path: "Controllers/TaintEviction", swiftSettings: strict),
        .target(name: "OrcaSimulation",
                dependencies: ["Orca", "OrcaLMDB", "SchedulerController", "KubeletSimulator", "GarbageCollectorController",
                               "PodGCController", "ReplicaSetController", "TTLAfterFinishedController",
                               "NodeLifecycleController", "TaintEvictionController", .product(name: "Yams", package: "Yams")],
                swiftSettings: strict),
        .executableTarget(
            name: "OrcaCLI",
            dependencies: ["OrcaAPI", "OrcaLog", "OrcaLMDB", "OrcaStore", "OrcaReplay", "OrcaRuntime",
                           "TTLAfterFinishedController", "OrcaSimulation", "ReplicaSetController", "SchedulerController",
                           "GarbageCollectorController", "PodGCController", "NodeLifecycleController", "TaintEvictionController",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/orca", swiftSettings: strict),
        .executableTarget(
            name: "OrcaLogWriter", dependencies: ["OrcaAPI", "OrcaLog", "OrcaLMDB", "OrcaStore"],
            path: "Tests/Support/LogWriter", swiftSettings: strict),
        .testTarget(name: "OrcaAPITests", dependencies: ["OrcaAPI"], swiftSettings: strict),
        .testTarget(name: "OrcaLogTests", dependencies: ["OrcaLog", "OrcaLMDB"], swiftSettings: strict),
        .testTarget(name: "OrcaStoreTests", dependencies: ["OrcaStore", "OrcaLog", "OrcaLMDB", "OrcaReplay"], swiftSettings: strict),
        .testTarget(name: "OrcaRuntimeTests", dependencies: ["OrcaRuntime", "OrcaStore", "OrcaLog", "OrcaLMDB"], swiftSettings: strict),
        .testTarget(name: "TTLAfterFinishedControllerTests", dependencies: ["TTLAfterFinishedController", "Orca", "OrcaLMDB"],
                    path: "Tests/Controllers/TTLAfterFinishedControllerTests", swiftSettings: strict),
        .testTarget(name: "OrcaSimulationTests", dependencies: ["OrcaSimulation", "KubeletSimulator", "SchedulerController", "OrcaLMDB"],
                    swiftSettings: strict),
        .testTarget(name: "ReplicaSetControllerTests", dependencies: ["ReplicaSetController", "Orca"],
                    path: "Tests/Controllers/ReplicaSetControllerTests", swiftSettings: strict),
        .testTarget(name: "NodeLifecycleControllerTests", dependencies: ["NodeLifecycleController", "TaintEvictionController", "Orca"],
                    path: "Tests/Controllers/NodeLifecycleControllerTests", swiftSettings: strict),
        .testTarget(name: "OrcaCLITests", dependencies: ["OrcaCLI", "OrcaLogWriter", "OrcaLMDB", "OrcaLog", "OrcaReplay", "OrcaStore"],
                    swiftSettings: strict),
    ]
)
