// Single-purpose throughput probe for Benchmarks/hashing/compare.sh: hashes one 256 KiB buffer
// over and over on one thread (as `openssl speed` does) and prints decimal MB/s per algorithm.
//
// usage: HashingThroughput [--seconds S] [--rounds R] [--size BYTES] [algorithm ...]
// Prints one line per algorithm: `<name> <best MB/s over the rounds>`; with `batch:<name>`
// the batch API over 64 buffers on all cores is measured instead.
import BenchmarkSupport
import Foundation
import Hashing

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

var seconds = 1.0
var rounds = 3
var size = 262_144
var names: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--seconds": seconds = Double(arguments.popFirst()!)!
    case "--rounds": rounds = Int(arguments.popFirst()!)!
    case "--size": size = Int(arguments.popFirst()!)!
    default: names.append(argument)
    }
}
if names.isEmpty { names = ["sha2-256", "blake2b-256", "blake3"] }

let buffer = SplitMix64.bytes(seed: 1, count: size)
var sink: UInt8 = 0

for name in names {
    var best = 0.0
    if name.hasPrefix("batch:") {
        guard let algorithm = HashAlgorithm(name: String(name.dropFirst(6))) else { fatalError("unknown \(name)") }
        let hasher = BatchHasher(algorithm: algorithm)
        let leaves = (0..<64).map { SplitMix64.bytes(seed: UInt64($0), count: size) }
        var digests = [Digest](repeating: Digest(), count: leaves.count)
        var inputs: [HashInput] = []
        for leaf in leaves { leaf.withUnsafeBytes { inputs.append(HashInput($0)) } }  // leaves outlive use
        for _ in 0..<rounds {
            var bytes = 0
            let start = now()
            var elapsed = 0.0
            repeat {
                digests.withUnsafeMutableBufferPointer { hasher.hash(inputs, into: $0) }
                sink &+= digests[0].bytes[0]
                bytes += leaves.count * size
                elapsed = now() - start
            } while elapsed < seconds
            best = max(best, Double(bytes) / elapsed / 1e6)
        }
    } else {
        guard let algorithm = HashAlgorithm(name: name) else { fatalError("unknown \(name)") }
        buffer.withUnsafeBytes { raw in
            for _ in 0..<rounds {
                var bytes = 0
                let start = now()
                var elapsed = 0.0
                repeat {
                    for _ in 0..<8 {
                        sink &+= algorithm.hash(raw).withUnsafeBytes { $0[0] }
                    }
                    bytes += 8 * size
                    elapsed = now() - start
                } while elapsed < seconds
                best = max(best, Double(bytes) / elapsed / 1e6)
            }
        }
    }
    print("\(name) \(String(format: "%.1f", best))")
}
if sink == 42 { print("") }  // keep the digests observable
