internal import CCairnSIMD
import Synchronization

import CairnSystem

/// One implementation of a hash algorithm: a library's one-buffer code, or one of Cairn's
/// multi-buffer SIMD kernels.
///
/// `HashKernel.selected(for:)` is what the batch hasher uses: the fastest kernel this CPU
/// supports, unless the environment variable `CAIRN_HASH_KERNEL` forces another one. Its
/// value is a comma-separated list of `ALGORITHM=KERNEL` pairs (`sha2-256=shani-x2`), or a
/// bare kernel name that applies to every algorithm that has a kernel of that name.
public struct HashKernel: Hashable, Sendable, CustomStringConvertible {
    /// The algorithm this kernel computes.
    public let algorithm: HashAlgorithm
    /// The kernel's name, unique per algorithm (`openssl`, `shani-x2`, `avx512-x16`, …).
    public let name: String
    /// How many messages the kernel hashes side by side.
    public let lanes: Int

    @usableFromInline
    enum Implementation: Hashable, Sendable {
        case library
        case sha256(UInt32)
        case blake3(UInt32)
    }

    @usableFromInline
    let implementation: Implementation

    public var description: String { "\(algorithm.name)/\(name)" }

    /// Whether this CPU can run the kernel.
    public var isSupported: Bool {
        switch implementation {
        case .library: return true
        case .sha256(let id): return ccairn_sha256_kernel_supported(ccairn_sha256_kernel(id)) != 0
        case .blake3(let id): return ccairn_blake3_kernel_supported(ccairn_blake3_kernel(id)) != 0
        }
    }

    /// Every kernel of `algorithm`, supported here or not, the reference implementation first.
    public static func all(for algorithm: HashAlgorithm) -> [HashKernel] {
        switch algorithm {
        case .sha2_256:
            var kernels = [HashKernel(algorithm: algorithm, name: "openssl", lanes: 1, implementation: .library)]
            for id in 0..<UInt32(CCAIRN_SHA256_KERNEL_COUNT.rawValue) {
                let kernel = ccairn_sha256_kernel(id)
                kernels.append(
                    HashKernel(
                        algorithm: algorithm,
                        name: String(cString: ccairn_sha256_kernel_name(kernel)),
                        lanes: Int(ccairn_sha256_kernel_lanes(kernel)),
                        implementation: .sha256(id)
                    )
                )
            }
            return kernels
        case .blake3:
            var kernels: [HashKernel] = []
            for id in 0..<UInt32(CCAIRN_BLAKE3_KERNEL_COUNT.rawValue) {
                let kernel = ccairn_blake3_kernel(id)
                kernels.append(
                    HashKernel(
                        algorithm: algorithm,
                        name: String(cString: ccairn_blake3_kernel_name(kernel)),
                        lanes: Int(ccairn_blake3_kernel_lanes(kernel)),
                        implementation: .blake3(id)
                    )
                )
            }
            return kernels
        case .blake2b_256, .blake2b_512:
            return [HashKernel(algorithm: algorithm, name: "libsodium", lanes: 1, implementation: .library)]
        case .identity:
            return [HashKernel(algorithm: algorithm, name: "identity", lanes: 1, implementation: .library)]
        case .sha2_512, .sha3_256, .sha3_512:
            return [HashKernel(algorithm: algorithm, name: "openssl", lanes: 1, implementation: .library)]
        }
    }

    /// The kernel of `algorithm` called `name`, if there is one.
    public static func named(_ name: String, for algorithm: HashAlgorithm) -> HashKernel? {
        all(for: algorithm).first { $0.name == name }
    }

    /// The fastest supported kernel of `algorithm` on this CPU.
    public static func best(for algorithm: HashAlgorithm) -> HashKernel {
        let supported = all(for: algorithm).filter(\.isSupported)
        switch algorithm {
        case .sha2_256:
            // Measured preference on x86-64 (see spec/hashing.md): AVX-512 ×16, SHA-NI ×2,
            // SHA-NI ×4, AVX2 ×8, SHA-NI ×1, then OpenSSL.
            for name in ["avx512-x16", "shani-x2", "shani-x4", "avx2-x8", "shani-x1", "openssl"] {
                if let kernel = supported.first(where: { $0.name == name }) { return kernel }
            }
            return supported[0]
        case .blake3:
            return supported.max { $0.lanes < $1.lanes } ?? supported[0]
        default:
            return supported[0]
        }
    }

    /// The kernel forced for `algorithm` by `CAIRN_HASH_KERNEL`, or nil if none is.
    /// A forced kernel this CPU lacks, or an unknown name, is ignored with a note on stderr.
    public static func forced(for algorithm: HashAlgorithm) -> HashKernel? {
        guard let raw = getenv("CAIRN_HASH_KERNEL") else { return nil }
        let value = String(cString: raw)
        for item in value.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            let name: String
            if parts.count == 2 {
                guard parts[0] == algorithm.name else { continue }
                name = parts[1]
            } else {
                name = parts[0]
            }
            guard let kernel = named(name, for: algorithm) else { continue }
            if kernel.isSupported { return kernel }
            warnOnce("cairn: CAIRN_HASH_KERNEL names \(kernel), which this CPU lacks; using the default")
        }
        return nil
    }

    /// The kernel the batch hasher uses for `algorithm`: the forced one, else the best.
    public static func selected(for algorithm: HashAlgorithm) -> HashKernel {
        forced(for: algorithm) ?? best(for: algorithm)
    }

    /// Hashes each input into the matching digest slot with this kernel, on the calling thread.
    /// The kernel must be supported (`isSupported`); an unsupported one traps.
    public func hash(_ inputs: UnsafeBufferPointer<HashInput>, into digests: UnsafeMutablePointer<Digest>) {
        precondition(isSupported, "hash kernel \(self) is not supported on this CPU")
        switch implementation {
        case .library:
            for index in inputs.indices {
                digests[index] = algorithm.hash(inputs[index])
            }
        case .sha256(let id):
            hashSHA256(kernel: ccairn_sha256_kernel(id), inputs, into: digests)
        case .blake3(let id):
            for index in inputs.indices {
                digests[index] = BLAKE3SIMD.hash(inputs[index], kernel: ccairn_blake3_kernel(id))
            }
        }
    }

    private func hashSHA256(
        kernel: ccairn_sha256_kernel,
        _ inputs: UnsafeBufferPointer<HashInput>,
        into digests: UnsafeMutablePointer<Digest>
    ) {
        // Jobs go to the C scheduler up to 256 at a time, from stack buffers (no heap
        // allocation per call: the importer calls this once per group of lanes).
        let group = min(256, inputs.count)
        guard group > 0 else { return }
        withUnsafeTemporaryAllocation(of: ccairn_sha256_job.self, capacity: group) { jobs in
            withUnsafeTemporaryAllocation(byteCount: 32 * group, alignment: 16) { output in
                let out = output.baseAddress!
                var start = 0
                while start < inputs.count {
                    let count = min(group, inputs.count - start)
                    for slot in 0..<count {
                        let input = inputs[start + slot]
                        var job = ccairn_sha256_job()
                        job.segment.0 = input.prefix.baseAddress?.assumingMemoryBound(to: UInt8.self)
                        job.segment.1 = input.body.baseAddress?.assumingMemoryBound(to: UInt8.self)
                        job.segment.2 = input.suffix.baseAddress?.assumingMemoryBound(to: UInt8.self)
                        job.length = (input.prefix.count, input.body.count, input.suffix.count)
                        job.digest = (out + 32 * slot).assumingMemoryBound(to: UInt8.self)
                        jobs[slot] = job
                    }
                    _ = ccairn_sha256_hash_jobs(kernel, jobs.baseAddress!, count)
                    for slot in 0..<count {
                        digests[start + slot] = Digest(UnsafeRawBufferPointer(start: out + 32 * slot, count: 32))
                    }
                    start += count
                }
            }
        }
    }
}

private let warned = Mutex<Set<String>>([])

private func warnOnce(_ message: String) {
    let first = warned.withLock { $0.insert(message).inserted }
    if first {
        let line = Array((message + "\n").utf8)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}
