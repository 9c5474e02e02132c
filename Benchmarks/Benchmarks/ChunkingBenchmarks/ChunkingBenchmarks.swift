// Chunking throughput (ordo-one/benchmark). Each iteration cuts 64 MiB of SplitMix64 data held
// in memory; the throughput metric counts iterations per second (× 64 MiB = bytes per second).
// For GiB/s against peers on 1 GiB, run Benchmarks/chunking/compare.sh.
import Benchmark
import BenchmarkSupport
import Chunking

let benchmarks: @Sendable () -> Void = {
    let size = 64 << 20
    let data = SplitMix64.bytes(seed: 42, count: size)
    let specs = [
        "size-262144", "rabin", "rabin-16384-65536-131072", "buzhash", "fastcdc", "fastcdc-16384-65536-262144-2",
    ]
    for spec in specs {
        guard let chunker = try? ChunkerSpec(parsing: spec).makeChunker() else { continue }
        Benchmark(
            "chunk 64 MiB \(spec)",
            configuration: .init(metrics: [.throughput, .wallClock], maxDuration: .seconds(5), maxIterations: 50)
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                var chunks = 0
                data.withUnsafeBytes { raw in
                    chunker.forEachChunk(in: raw) { _, chunk in chunks &+= chunk.count }
                }
                blackHole(chunks)
            }
        }
    }

    // The streaming path: the same data through ChunkReader (copied into its buffer in 8 MiB reads).
    Benchmark(
        "stream 64 MiB rabin via ChunkReader",
        configuration: .init(metrics: [.throughput, .wallClock], maxDuration: .seconds(5), maxIterations: 50)
    ) { benchmark in
        let reader = ChunkReader(finder: Chunker(.rabin(minimum: 87381, average: 262_144, maximum: 393_216)))
        for _ in benchmark.scaledIterations {
            var source = BufferSource(data)
            blackHole(try reader.forEachChunk(from: &source) { _, _ in })
        }
    }
}
