// swift-tools-version: 6.1
// Cairn's libFuzzer targets: a separate package (like Benchmarks/) so the main package's
// products stay as they are. Build and run with `make fuzz` from the repository root; see
// Fuzz/README.md. Every target is an executable that exports `LLVMFuzzerTestOneInput`; the
// build passes `--sanitize=fuzzer`, so libFuzzer supplies `main`, and `-enable-testing`, so
// the pack-record and index-row targets reach the store's internal decoders with `@testable`.
import PackageDescription

let targets: [(name: String, dependencies: [String])] = [
    ("FuzzVarint", ["Multiformats"]),
    ("FuzzMultihash", ["Multiformats"]),
    ("FuzzCIDBinary", ["Multiformats"]),
    ("FuzzCIDString", ["Multiformats"]),
    ("FuzzMultibase", ["Multiformats"]),
    ("FuzzDagPB", ["Multiformats", "Blocks"]),
    ("FuzzUnixFSData", ["Blocks"]),
    ("FuzzDagCBOR", ["Multiformats", "Blocks"]),
    ("FuzzCAR", ["Multiformats", "Hashing", "CAR"]),
    ("FuzzChunkerSpec", ["Chunking"]),
    ("FuzzStore", ["Multiformats", "Hashing", "Blocks", "Engine", "BlockStore"]),
    // The store's own decoders, in memory (`@testable`: the parser and the row check are internal).
    ("FuzzPackRecord", ["Multiformats", "Hashing", "BlockStore"]),
    ("FuzzIndexRow", ["Multiformats", "BlockStore"]),
]

let package = Package(
    name: "CairnFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Cairn", path: "../"),
        // The store target edits index rows directly (the store's own SQL is internal); the
        // index-row target makes SQLite's column values (`DatabaseValue`).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + targets.map { target in
        var dependencies: [Target.Dependency] = ["FuzzSupport"]
        dependencies += target.dependencies.map { .product(name: $0, package: "Cairn") }
        if ["FuzzStore", "FuzzIndexRow"].contains(target.name) { dependencies.append(.product(name: "GRDB", package: "GRDB.swift")) }
        return .executableTarget(name: target.name, dependencies: dependencies, path: "Sources/\(target.name)")
    },
    swiftLanguageModes: [.v6]
)
