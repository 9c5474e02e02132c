import Benchmark
import BenchmarkSupport
import Hashing

/// Hashing over 256 KiB buffers (Kubo's default chunk size): one-shot per algorithm on one
/// core, and the batch API over 64 leaves on all cores. `throughput` counts buffers per second;
/// multiply by 262144 for bytes.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    let leafSize = 256 * 1024
    let buffer = SplitMix64.bytes(seed: 1, count: leafSize)

    for algorithm in [HashAlgorithm.sha2_256, .blake2b_256, .blake3, .sha2_512, .sha3_256] {
        Benchmark("\(algorithm.rawValue) one-shot 256 KiB") { benchmark in
            buffer.withUnsafeBytes { raw in
                for _ in benchmark.scaledIterations {
                    blackHole(algorithm.hash(raw))
                }
            }
        }
    }

    Benchmark("sha2-256 streaming 256 KiB in 16 KiB updates") { benchmark in
        buffer.withUnsafeBytes { raw in
            for _ in benchmark.scaledIterations {
                var hasher = SHA256()
                var offset = 0
                while offset < raw.count {
                    hasher.update(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 16 * 1024)]))
                    offset += 16 * 1024
                }
                blackHole(hasher.finalize())
            }
        }
    }

    // Same through the run-time dispatched hasher: its malloc count shows whether the
    // copy-on-write context is copied per update (it must not be).
    Benchmark("sha2-256 StreamingHasher 256 KiB in 16 KiB updates") { benchmark in
        buffer.withUnsafeBytes { raw in
            for _ in benchmark.scaledIterations {
                var hasher = HashAlgorithm.sha2_256.makeHasher()
                var offset = 0
                while offset < raw.count {
                    hasher.update(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 16 * 1024)]))
                    offset += 16 * 1024
                }
                blackHole(hasher.finalize())
            }
        }
    }

    // 64 leaves of 256 KiB (16 MiB) per iteration, each framed like a CIDv0 leaf block
    // (small protobuf prefix + chunk + suffix), hashed through the batch API.
    let leaves = (0..<64).map { SplitMix64.bytes(seed: UInt64($0), count: leafSize) }
    let prefix: [UInt8] = [0x0a, 0x8b, 0x80, 0x10, 0x08, 0x02, 0x12, 0x80, 0x80, 0x10]
    let suffix: [UInt8] = [0x18, 0x80, 0x80, 0x10]
    for algorithm in [HashAlgorithm.sha2_256, .blake2b_256, .blake3] {
        for threads in [1, 2] {
            Benchmark(
                "\(algorithm.rawValue) batch 64 x 256 KiB, \(threads) thread(s)",
                configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(3))
            ) { benchmark in
                let hasher = BatchHasher(algorithm: algorithm, threads: threads)
                var digests = [Digest](repeating: Digest(), count: leaves.count)
                prefix.withUnsafeBytes { p in
                    suffix.withUnsafeBytes { s in
                        var inputs: [HashInput] = []
                        for leaf in leaves {
                            leaf.withUnsafeBytes { inputs.append(HashInput(prefix: p, body: $0, suffix: s)) }
                        }
                        // The arrays in `leaves` are immutable and outlive this closure, so
                        // their storage stays valid after withUnsafeBytes returns.
                        for _ in benchmark.scaledIterations {
                            digests.withUnsafeMutableBufferPointer { hasher.hash(inputs, into: $0) }
                            blackHole(digests)
                        }
                    }
                }
            }
        }
    }
}
