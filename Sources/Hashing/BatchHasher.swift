import CairnSystem
import Dispatch
import Synchronization

/// Hashes many independent messages at once, on several threads, and returns their digests in
/// input order.
///
/// Made for the DAG builder, which has many 256 KiB leaves to hash: each message is a
/// `HashInput` (up to three borrowed segments, hashed as one message without copying) and
/// lengths may differ. The work is shared out dynamically: every worker thread pulls the next
/// unclaimed message from a shared cursor, so a thread that got short messages simply takes more.
///
/// Inside a worker each claimed range goes to one `HashKernel` (see `spec/hashing.md` §7): a
/// multi-buffer SIMD kernel (SHA-NI ×2/×4, AVX-512 ×16) hashes the range lane by lane, a
/// library kernel one message at a time.
public struct BatchHasher: Sendable {
    /// The algorithm applied to every message.
    public let algorithm: HashAlgorithm
    /// The most threads used by one call (the calling thread included).
    public let threads: Int
    /// The kernel every worker runs: `HashKernel.selected(for: algorithm)` unless given.
    public let kernel: HashKernel

    /// Below this many bytes in total a call runs on the calling thread only: starting workers
    /// costs more than it saves.
    public static let parallelThreshold = 128 * 1024

    /// With a cancellation token, one thread checks it after every this many bytes (about
    /// 2 ms of SHA-256 on one core).
    public static let sliceBytes = 4 << 20

    /// - Parameters:
    ///   - algorithm: the hash applied to each message.
    ///   - threads: worker count; `nil` means the processors available (`Processors.threads`). Values below 1 count as 1.
    ///   - kernel: the implementation to run; `nil` means `HashKernel.selected(for:)`, the
    ///     fastest one this CPU supports unless `CAIRN_HASH_KERNEL` forces another.
    public init(algorithm: HashAlgorithm, threads: Int? = nil, kernel: HashKernel? = nil) {
        self.algorithm = algorithm
        self.threads = Processors.threads(threads)
        let chosen = kernel ?? HashKernel.selected(for: algorithm)
        precondition(chosen.algorithm == algorithm, "kernel \(chosen) does not compute \(algorithm)")
        precondition(chosen.isSupported, "hash kernel \(chosen) is not supported on this CPU")
        self.kernel = chosen
    }

    /// The digests of `inputs`, in order.
    public func hash(_ inputs: [HashInput]) -> [Digest] {
        var digests = [Digest](repeating: Digest(), count: inputs.count)
        inputs.withUnsafeBufferPointer { source in
            digests.withUnsafeMutableBufferPointer { target in
                hash(source, into: target)
            }
        }
        return digests
    }

    /// Writes the digest of `inputs[i]` to `digests[i]`. `digests` must be initialized (for
    /// example with `Digest()`) and at least as long as `inputs`; its elements are replaced.
    public func hash(_ inputs: [HashInput], into digests: UnsafeMutableBufferPointer<Digest>) {
        inputs.withUnsafeBufferPointer { hash($0, into: digests) }
    }

    /// Pointer form of `hash(_:into:)`: no array is touched.
    ///
    /// With `cancellation`, the work stops soon after the token is cancelled (every worker
    /// checks it between claims; one thread, between runs of about `sliceBytes`), leaving some
    /// digests unwritten: the caller must check the token before it uses any digest.
    public func hash(_ inputs: UnsafeBufferPointer<HashInput>, into digests: UnsafeMutableBufferPointer<Digest>,
                     cancellation: CancellationToken? = nil) {
        precondition(digests.count >= inputs.count, "digest buffer shorter than the input list")
        guard let output = digests.baseAddress, !inputs.isEmpty else { return }
        var totalBytes = 0
        for input in inputs { totalBytes &+= input.count }
        let workers = min(threads, inputs.count)
        if workers <= 1 || totalBytes < BatchHasher.parallelThreshold {
            // One call over everything: a multi-lane kernel's scheduler then refills lanes
            // (longest messages first) across what would otherwise be group edges. Cancellable,
            // one call per slice of about `sliceBytes`.
            guard let cancellation, totalBytes > BatchHasher.sliceBytes else {
                kernel.hash(inputs, into: output)
                return
            }
            var start = 0
            while start < inputs.count, !cancellation.isCancelled {
                var end = start, bytes = 0
                while end < inputs.count && bytes < BatchHasher.sliceBytes { bytes &+= inputs[end].count; end += 1 }
                kernel.hash(UnsafeBufferPointer(rebasing: inputs[start..<end]), into: output + start)
                start = end
            }
            return
        }
        // Claim several small messages at a time so the shared cursor is not a hot spot.
        let averageBytes = totalBytes / inputs.count
        var grain = averageBytes >= 16 * 1024 ? 1 : max(1, min(64, inputs.count / (workers * 8)))
        if kernel.lanes > 1 {
            // A multi-lane kernel takes a lane's worth per claim, fewer when that would leave
            // a worker idle.
            grain = max(1, min(max(grain, kernel.lanes), (inputs.count + workers - 1) / workers))
        }
        let cursor = BatchCursor(count: inputs.count, grain: grain)
        let job = BatchJob(kernel: kernel, inputs: inputs, output: output, cursor: cursor, cancellation: cancellation)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in job.work() }
    }
}

/// Hands out message indices to workers, `grain` at a time.
final class BatchCursor: Sendable {
    let count: Int
    let grain: Int
    private let next = Atomic<Int>(0)

    init(count: Int, grain: Int) {
        self.count = count
        self.grain = grain
    }

    /// The next range to hash, or nil when everything is claimed.
    @inline(__always)
    func claim() -> Range<Int>? {
        let start = next.wrappingAdd(grain, ordering: .relaxed).oldValue
        guard start < count else { return nil }
        return start..<min(start + grain, count)
    }
}

/// Everything a worker needs, shared read-only between workers; each writes disjoint outputs.
struct BatchJob: @unchecked Sendable {
    let kernel: HashKernel
    let inputs: UnsafeBufferPointer<HashInput>
    let output: UnsafeMutablePointer<Digest>
    let cursor: BatchCursor
    let cancellation: CancellationToken?

    /// One worker's loop: each claimed range goes to the kernel (Cairn's C kernels run their
    /// lane scheduler over it; a library kernel hashes its messages one by one). A cancelled
    /// token stops the loop between claims.
    func work() {
        while cancellation?.isCancelled != true, let range = cursor.claim() {
            kernel.hash(UnsafeBufferPointer(rebasing: inputs[range]), into: output + range.lowerBound)
        }
    }
}
