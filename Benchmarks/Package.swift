// swift-tools-version:6.0
import PackageDescription

// The benchmarks are their own package so that users of Orca never resolve them. Build and run
// them in release mode from this directory: `swift run -c release orca-bench all`.

// A path dependency's identity is its directory name, whatever the clone is called.
let orca = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "main"

let package = Package(
    name: "OrcaBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // The API (libOrca.so), depended on as a product exactly as the tool and plugins do.
        .package(path: "../Sources/OrcaKit"),
    ],
    targets: [
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .executableTarget(
            name: "orca-bench",
            dependencies: [
                "CMalloc",
                .product(name: "Orca", package: "OrcaKit"),
                .product(name: "OrcaLMDB", package: orca),
                .product(name: "OrcaSimulation", package: orca),
                .product(name: "CLMDB", package: orca),
            ],
            path: "Sources/OrcaBench",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
    ]
)
