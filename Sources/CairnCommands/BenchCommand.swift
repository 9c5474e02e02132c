import ArgumentParser
import Dispatch
import Hashing

import CairnSystem

/// `cairn bench`: measure what this machine does.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Cairn's building blocks on this machine.",
        subcommands: [Hash.self, BenchChunkersCommand.self]
    )

    /// `cairn bench hash`: hashing throughput of every kernel of an algorithm.
    struct Hash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hashing throughput per kernel (MB/s), on buffers of one size.",
            discussion: """
                Hashes TOTAL bytes cut into SIZE-byte buffers with each kernel and prints one \
                line per kernel. A kernel this CPU lacks is listed as skipped. Buffers are \
                pseudo-random bytes in memory (a region of 64 MiB, or of SIZE when larger, reused).
                """
        )

        @Option(name: .long, help: "Hash function (multicodec name).")
        var hash: String = "sha2-256"

        @Option(name: .long, help: "A kernel name, or 'all'.")
        var kernel: String = "all"

        /// The largest `--size`, and the most buffers (`--total / --size`) one run hashes.
        static let maxSize = 256 << 20
        static let maxBuffers = 1 << 20

        @Option(name: .long, help: "Bytes per buffer (at most 256 MiB).")
        var size: Int = 262_144

        @Option(name: .long, help: "Bytes hashed per kernel.")
        var total: Int = 1 << 30

        @Option(name: .customLong("threads"), help: "Threads hashing at once (default: the processors available).")
        var requestedThreads: Int?

        /// `--threads`, else the processors available to the process (spec/system.md).
        var threads: Int { Processors.threads(requestedThreads) }

        @Flag(name: .long, help: "Print one JSON object per kernel.")
        var json = false

        func validate() throws {
            guard let algorithm = HashAlgorithm(name: hash) else {
                throw ValidationError("unknown hash function '\(hash)'")
            }
            if kernel != "all" && HashKernel.named(kernel, for: algorithm) == nil {
                let names = HashKernel.all(for: algorithm).map(\.name).joined(separator: ", ")
                throw ValidationError("\(hash) has no kernel '\(kernel)' (kernels: \(names))")
            }
            guard size > 0 else { throw ValidationError("--size must be positive") }
            // Bounded so that the buffers and the digest list always fit: a size of 10^14 was
            // one allocation of that many bytes, which trapped.
            guard size <= Self.maxSize else { throw usageError("--size must be at most \(Self.maxSize) (256 MiB)") }
            guard total >= size else { throw ValidationError("--total must be at least --size") }
            guard total / size <= Self.maxBuffers else {
                throw usageError("--total / --size must be at most \(Self.maxBuffers) buffers")
            }
            guard (requestedThreads ?? 1) >= 1 && (requestedThreads ?? 1) <= 256 else { throw ValidationError("--threads must be 1…256") }
        }

        func run() async throws {
            let algorithm = HashAlgorithm(name: hash)!
            let kernels = kernel == "all" ? HashKernel.all(for: algorithm) : [HashKernel.named(kernel, for: algorithm)!]
            let region = Region(byteCount: min(max(size, 64 << 20), max(total, size)))
            defer { region.deallocate() }
            let count = total / size
            var inputs: [HashInput] = []
            inputs.reserveCapacity(count)
            let slots = max(1, region.bytes.count / size)
            for index in 0..<count {
                let start = (index % slots) * size
                inputs.append(HashInput(UnsafeRawBufferPointer(rebasing: region.bytes[start..<(start + size)])))
            }
            let digests = UnsafeMutableBufferPointer<Digest>.allocate(capacity: count)
            digests.initialize(repeating: Digest())
            defer { digests.deallocate() }
            let selected = HashKernel.selected(for: algorithm)
            if !json {
                writeStandardOutput(
                    "\(algorithm.name): \(count) buffers of \(size) bytes, \(threads) thread(s); "
                        + "selected kernel: \(selected.name)\n"
                )
            }
            for kernel in kernels {
                try CancellationToken.process.check()
                guard kernel.isSupported else {
                    if json {
                        writeStandardOutput("{\"kernel\":\"\(kernel.name)\",\"supported\":false}\n")
                    } else {
                        writeStandardOutput("  \(pad(kernel.name, 12)) skipped: not supported on this CPU\n")
                    }
                    continue
                }
                // Warm up on a slice, then measure.
                inputs.withUnsafeBufferPointer { all in
                    let warm = UnsafeBufferPointer(rebasing: all[0..<min(all.count, max(1, all.count / 16))])
                    kernel.hash(warm, into: digests.baseAddress!)
                }
                let seconds = inputs.withUnsafeBufferPointer { all in
                    measure(kernel: kernel, inputs: all, digests: digests)
                }
                try CancellationToken.process.check()
                let bytesPerSecond = Double(count * size) / seconds
                if json {
                    writeStandardOutput(
                        "{\"kernel\":\"\(kernel.name)\",\"lanes\":\(kernel.lanes),\"supported\":true,"
                            + "\"selected\":\(kernel.name == selected.name),\"threads\":\(threads),\"size\":\(size),\"bytes\":\(count * size),"
                            + "\"seconds\":\(seconds),\"MBps\":\(Int(bytesPerSecond / 1e6))}\n"
                    )
                } else {
                    writeStandardOutput(
                        "  \(pad(kernel.name, 12)) \(pad(String(kernel.lanes), 3)) lanes  "
                            + "\(pad(String(Int(bytesPerSecond / 1e6)), 6)) MB/s\n"
                    )
                }
            }
        }

        private func measure(
            kernel: HashKernel,
            inputs: UnsafeBufferPointer<HashInput>,
            digests: UnsafeMutableBufferPointer<Digest>
        ) -> Double {
            let start = monotonicSeconds()
            let parts = threads
            let inputsAddress = UInt(bitPattern: inputs.baseAddress)
            let digestsAddress = UInt(bitPattern: digests.baseAddress)
            let count = inputs.count
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let lower = count * part / parts
                let upper = count * (part + 1) / parts
                guard lower < upper else { return }
                let base = UnsafePointer<HashInput>(bitPattern: inputsAddress)!
                let out = UnsafeMutablePointer<Digest>(bitPattern: digestsAddress)!
                // In slices of at most 16 MiB, so that cancellation is seen within milliseconds.
                let step = max(1, (16 << 20) / max(1, size))
                var slice = lower
                while slice < upper && !CancellationToken.process.isCancelled {
                    let end = min(upper, slice + step)
                    kernel.hash(UnsafeBufferPointer(start: base + slice, count: end - slice), into: out + slice)
                    slice = end
                }
            }
            return monotonicSeconds() - start
        }
    }
}

/// A region of pseudo-random bytes (SplitMix64), 64-byte aligned.
struct Region {
    let bytes: UnsafeMutableRawBufferPointer

    init(byteCount: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
        var state: UInt64 = 0x1234_5678
        var offset = 0
        while offset + 8 <= byteCount {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes.storeBytes(of: z ^ (z >> 31), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < byteCount {
            bytes[offset] = UInt8(truncatingIfNeeded: offset)
            offset += 1
        }
    }

    func deallocate() { bytes.deallocate() }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
