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
        // The SplitMix64 generator the tests use (Tests/CairnTestSupport is not a product of
        // Cairn: spec/api.md), shared through a link to the one source file.
        .target(name: "BenchmarkSupport", path: "Support"),
        .executableTarget(
            name: "HashingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Hashing", package: "Cairn"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/HashingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Plain throughput probe used by Benchmarks/hashing/compare.sh (no benchmark harness).
        .executableTarget(
            name: "HashingThroughput",
            dependencies: [
                .product(name: "Hashing", package: "Cairn"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/HashingThroughput"
        ),
        .executableTarget(
            name: "ChunkingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Chunking", package: "Cairn"),
                "BenchmarkSupport",
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
                "BenchmarkSupport",
            ],
            path: "chunking/ChunkingThroughput"
        ),
    ]
)
