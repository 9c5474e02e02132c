// swift-tools-version: 6.1
// Cairn's benchmarks: a separate package so the main build never pulls ordo-one/benchmark.
// Run with `make bench` (or `swift package --disable-sandbox benchmark` in this folder).
import PackageDescription

let package = Package(
    name: "CairnBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Cairn", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HashingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Hashing", package: "Cairn"),
                .product(name: "CairnTestSupport", package: "Cairn"),
            ],
            path: "Benchmarks/HashingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Plain throughput probe used by Benchmarks/hashing/compare.sh (no benchmark harness).
        .executableTarget(
            name: "HashingThroughput",
            dependencies: [
                .product(name: "Hashing", package: "Cairn"),
                .product(name: "CairnTestSupport", package: "Cairn"),
            ],
            path: "Benchmarks/HashingThroughput"
        ),
        .executableTarget(
            name: "ChunkingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Chunking", package: "Cairn"),
                .product(name: "CairnTestSupport", package: "Cairn"),
            ],
            path: "Benchmarks/ChunkingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "IgnoreRulesBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "UnixFS", package: "Cairn"),
            ],
            path: "Benchmarks/IgnoreRulesBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ChunkingThroughput",
            dependencies: [
                .product(name: "Chunking", package: "Cairn"),
                .product(name: "CairnTestSupport", package: "Cairn"),
            ],
            path: "chunking/ChunkingThroughput"
        ),
    ]
)
