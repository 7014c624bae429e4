// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "botyard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "botyard-dispatcher", targets: ["botyard-dispatcher"]),
        .executable(name: "botyard-worker", targets: ["botyard-worker"]),
        .executable(name: "botyard", targets: ["botyard"]),
        .executable(name: "botyard-bench", targets: ["botyard-bench"]),
        .executable(name: "botyard-sim", targets: ["botyard-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(name: "CSpawn"),
        // A process-wide SQLite setting made before SQLite initializes (`sqlite3_config` is variadic).
        .target(name: "CSQLiteConfig", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "Shared",
            dependencies: [
                "CRabbitMQ",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Dispatcher",
            dependencies: [
                "Shared",
                "CSQLiteConfig",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own functions, for statements bound without GRDB's arguments (`Statement+Binding`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Compiled into the binary (`PackageResources`): nothing to install beside it.
            resources: [
                .embedInCode("Resources/openapi.json"),
                // The web console (ConsoleRoutes): plain files, no build step.
                .embedInCode("Resources/console/index.html"),
                .embedInCode("Resources/console/console.css"),
                .embedInCode("Resources/console/console.js"),
                .embedInCode("Resources/console/dom.js"),
                .embedInCode("Resources/console/charts.js"),
                .embedInCode("Resources/console/pages.js"),
            ]
        ),
        .target(
            name: "Worker",
            dependencies: [
                "Shared",
                "CSpawn",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "botyard-dispatcher",
            dependencies: [
                "Dispatcher",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "botyard-worker",
            dependencies: [
                "Worker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "BotyardClient",
            dependencies: ["Shared", .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "botyard",
            dependencies: [
                "Shared",
                "BotyardClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "botyard-bench",
            dependencies: [
                "Shared",
                "Dispatcher",
                "CRabbitMQ",
                "CSpawn",
                "BotyardClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "TriggerSimulation",
            dependencies: ["Shared"]
        ),
        .executableTarget(
            name: "botyard-sim",
            dependencies: [
                "TriggerSimulation",
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "Shared",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: ["Shared"]
        ),
        .testTarget(
            name: "BotyardClientTests",
            dependencies: ["BotyardClient", "Shared"]
        ),
        .testTarget(
            name: "TriggerSimulationTests",
            dependencies: ["TriggerSimulation", "Shared"]
        ),
        .testTarget(
            name: "DispatcherTests",
            dependencies: [
                "Dispatcher",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: ["Worker", "TestSupport"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Dispatcher",
                "Worker",
                "BotyardClient",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
