// swift-tools-version:6.0
// OrcaKit: the API a controller is written against — the resource model (OrcaAPI), the log's
// protocols (OrcaLog), API semantics (OrcaStore), replay (OrcaReplay), the runtime (OrcaRuntime)
// and the umbrella module `Orca` — vended as ONE dynamic library, libOrca.so.
//
// It is its own package because that is the only layout in which a plugin loaded with
// `orca run --plugin PATH` and the `orca` executable share one copy of these modules: SwiftPM
// links a *target* dependency statically into every image that uses it, so a plugin and the
// host would each carry their own protocol descriptors and globals (casts across the boundary
// fail). A dependency on a `.dynamic` *product of another package* becomes `NEEDED libOrca.so`
// in both, and the loader maps it once. (Measured: ../../../shared/NOTES-SWIFT.md §4.)
//
// Everything in the root package (the tool, the controllers, the simulation, the LMDB log, the
// tests) and every plugin depends on the product `Orca` of this package, never on its targets,
// and never on swift-log, swift-metrics, swift-collections, swift-service-lifecycle or Yams
// directly: those are linked
// into libOrca.so and are imported through it, so there is one LoggingSystem and one
// MetricsSystem per process.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "OrcaKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Orca", type: .dynamic,
                 targets: ["OrcaAPI", "OrcaLog", "OrcaStore", "OrcaReplay", "OrcaRuntime", "Orca"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Cache prefetch hints for the encoder and CRC-32C for the log's records (C builtins and
        // CPU instructions Swift does not expose).
        .target(name: "COrcaHints", path: "COrcaHints"),
        .target(name: "OrcaAPI", dependencies: ["COrcaHints", .product(name: "Yams", package: "Yams")],
                path: "OrcaAPI", swiftSettings: strict),
        .target(name: "OrcaLog", dependencies: ["OrcaAPI", "COrcaHints"], path: "OrcaLog", swiftSettings: strict),
        .target(name: "OrcaStore", dependencies: ["OrcaAPI", "OrcaLog"], path: "OrcaStore", swiftSettings: strict),
        .target(name: "OrcaReplay", dependencies: ["OrcaAPI", "OrcaLog"], path: "OrcaReplay", swiftSettings: strict),
        .target(
            name: "OrcaRuntime",
            dependencies: ["OrcaAPI", "OrcaLog", "OrcaStore",
                           .product(name: "DequeModule", package: "swift-collections"),
                           .product(name: "HeapModule", package: "swift-collections"),
                           .product(name: "HashTreeCollections", package: "swift-collections"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "OrcaRuntime", swiftSettings: strict),
        .target(name: "Orca", dependencies: ["OrcaAPI", "OrcaLog", "OrcaStore", "OrcaReplay", "OrcaRuntime"],
                path: "Orca", swiftSettings: strict),
    ]
)
