// swift-tools-version: 6.1
// Cairn: content-addressed blocks in Swift. The module graph is in README.md ("How it is
// built": a module never imports one listed after it); every behaviour is specified under
// spec/ (start at spec/README.md; the public-API policy is spec/api.md).
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        // Only the library modules are products (spec/api.md §1).
        .library(name: "CairnErrors", targets: ["CairnErrors"]),
        .library(name: "Multiformats", targets: ["Multiformats"]),
        .library(name: "CairnSystem", targets: ["CairnSystem"]),
        .library(name: "Hashing", targets: ["Hashing"]),
        .library(name: "Chunking", targets: ["Chunking"]),
        .library(name: "Blocks", targets: ["Blocks"]),
        .library(name: "UnixFS", targets: ["UnixFS"]),
        .library(name: "CAR", targets: ["CAR"]),
        .library(name: "BlockStore", targets: ["BlockStore"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Remote", targets: ["Remote"]),
        .library(name: "Server", targets: ["Server"]),
        .library(name: "OCI", targets: ["OCI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // The trait exposes response trailers (Kubo and the Cluster report late errors in `X-Stream-Error`).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0", traits: ["UnstableHTTPAPIsSupport"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // MARK: - Targets
        // The one error shape (`CairnError`, `ErrorCode`, `CairnFailure`): below every module,
        // Multiformats included, and importing nothing.
        .target(name: "CairnErrors", swiftSettings: swiftSettings),
        .target(name: "Multiformats", dependencies: ["CairnErrors"], swiftSettings: swiftSettings),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // Multi-buffer SHA-256 kernels (SHA-NI, AVX2, AVX-512) and their lane scheduler.
        .target(
            name: "CCairnSIMD",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        // Guarded file mappings (SIGBUS on a truncated mapped file becomes an error, not a crash),
        // signals that cancel, the processors available to the process.
        .target(name: "CCairnSystem"),
        // Tests only: a SQLite VFS that forwards to the default one and lets `CAIRN_FAULT` fail
        // SQLite's own open/write/truncate/sync calls (registered only when a plan is active).
        .target(name: "CCairnFaultVFS", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The platform shim, the one system-call helper (EINTR, errors, fault injection),
        // cancellation and the thread-count policy.
        .target(name: "CairnSystem", dependencies: ["CairnErrors", "CCairnSystem"], swiftSettings: swiftSettings),
        .target(
            name: "Hashing",
            dependencies: ["CCrypto", "CSodium", "CCairnSIMD", "CairnSystem"],
            swiftSettings: swiftSettings
        ),
        .target(name: "Chunking", dependencies: ["CairnSystem"], swiftSettings: swiftSettings),
        // The block layer: dag-pb, dag-cbor and UnixFS-data codecs, links, verification, block sinks.
        .target(name: "Blocks", dependencies: ["Multiformats", "Hashing"], swiftSettings: swiftSettings),
        .target(
            name: "UnixFS",
            dependencies: ["Multiformats", "Blocks", "Hashing", "Chunking", "CairnSystem", "CCairnSystem"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CAR",
            dependencies: ["Multiformats", "Hashing", "Blocks", "CairnSystem"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BlockStore",
            dependencies: [
                "Multiformats", "Hashing", "Blocks", "CairnSystem", "CCairnSystem", "CCairnFaultVFS",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Library-level add and export (Adder, Exporter): what the commands, the server and the
        // network clients share.
        .target(
            name: "Engine",
            dependencies: ["Multiformats", "Hashing", "Chunking", "Blocks", "UnixFS", "CAR", "BlockStore", "CairnSystem"],
            swiftSettings: swiftSettings
        ),
        // Clients for remote block holders: Kubo RPC, IPFS Cluster, trustless gateways (push/fetch).
        .target(
            name: "Remote",
            dependencies: [
                "Multiformats", "Hashing", "Blocks", "CAR", "BlockStore", "Engine", "CairnSystem",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `cairn serve`: the store as a Kubo RPC subset and a trustless gateway.
        .target(
            name: "Server",
            dependencies: [
                "Multiformats", "Hashing", "Chunking", "Blocks", "UnixFS", "CAR", "BlockStore", "Engine", "CairnSystem", "CSodium",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // OCI image layouts and archives: read, verify (digests, sizes, diff_ids), add, dedup.
        .target(
            name: "OCI",
            dependencies: [
                "Multiformats", "Hashing", "Chunking", "Blocks", "UnixFS", "BlockStore", "Engine", "CairnSystem",
                "CZlib", "CZstd",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CairnCommands",
            dependencies: [
                "Multiformats", "Hashing", "Chunking", "Blocks", "UnixFS", "CAR", "BlockStore", "Engine", "CairnSystem",
                "Remote", "Server", "OCI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cairn",
            dependencies: [
                "CairnCommands", "CairnSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Test support (a plain target, not a product)
        .target(name: "CairnTestSupport", path: "Tests/CairnTestSupport", swiftSettings: swiftSettings),

        // MARK: - Tests
        .testTarget(
            name: "CairnSystemTests",
            dependencies: ["CairnSystem", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MultiformatsTests",
            dependencies: ["Multiformats", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HashingTests",
            dependencies: ["Hashing", "Multiformats", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChunkingTests",
            dependencies: ["Chunking", "CairnSystem", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BlocksTests",
            dependencies: ["Blocks", "Multiformats", "Hashing", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnixFSTests",
            dependencies: ["UnixFS", "Blocks", "Multiformats", "Hashing", "Chunking", "CairnSystem", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CARTests",
            dependencies: ["CAR", "Blocks", "Chunking", "UnixFS", "Multiformats", "Hashing", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BlockStoreTests",
            dependencies: ["BlockStore", "Engine", "Blocks", "UnixFS", "Multiformats", "Hashing", "CairnTestSupport", "CairnSystem"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "BlockStore", "UnixFS", "CAR", "Blocks", "Multiformats", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Remote", "Engine", "BlockStore", "CAR", "UnixFS", "Chunking", "Blocks", "Multiformats", "CairnTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RemoteTests",
            dependencies: [
                "Remote", "Server", "Engine", "BlockStore", "CAR", "UnixFS", "Blocks", "Multiformats", "Chunking",
                "CairnTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OCITests",
            dependencies: ["OCI", "Engine", "BlockStore", "UnixFS", "Chunking", "Hashing", "Multiformats", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CairnCommandsTests",
            dependencies: ["CairnCommands", "Multiformats", "Hashing", "Blocks", "UnixFS", "CairnSystem", "CairnTestSupport"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
