import Dispatch
import Hashing

import CairnSystem

extension BatchHasher {
    /// Hashes a batch's leaves into its digest slots; once `cancellation` is cancelled some
    /// slots may stay unwritten (the assembler checks the token before its first leaf).
    ///
    /// Leaves of one length (fixed-size chunks) go to the hasher's own work sharing. Leaves of
    /// varied lengths (content-defined chunks) with a multi-lane kernel are split instead into
    /// one contiguous run per thread, of about equal bytes, each hashed by one kernel call: the
    /// kernel's scheduler then refills every lane that finishes with the longest leaf left in
    /// the run, whereas claims of one lane-group each (16 leaves of 64 KiB … 1 MiB) leave most
    /// lanes idle while the longest leaf of the group finishes.
    func hash(_ batch: LeafBatch, cancellation: CancellationToken) {
        let inputs = UnsafeBufferPointer(start: batch.inputs, count: batch.count)
        let parts = Swift.min(threads, batch.count / Swift.max(1, 2 * kernel.lanes))
        guard kernel.lanes > 1, parts > 1, !Self.oneLength(inputs) else {
            hash(inputs, into: UnsafeMutableBufferPointer(start: batch.digests, count: batch.count),
                 cancellation: cancellation)
            return
        }
        var total = 0
        for input in inputs { total &+= input.count }
        // Run p ends after the first leaf whose running total reaches (p + 1) / parts of the bytes.
        var ends: [Int] = []
        var sum = 0
        for (index, input) in inputs.enumerated() {
            sum &+= input.count
            if sum * parts >= (ends.count + 1) * total { ends.append(index + 1) }
        }
        ends[ends.count - 1] = inputs.count
        let runs = LeafRuns(kernel: kernel, inputs: inputs, digests: batch.digests, ends: ends)
        // One run is at most a batch's bytes / threads (a few tens of ms of hashing): checked before each.
        DispatchQueue.concurrentPerform(iterations: ends.count) { part in
            if !cancellation.isCancelled { runs.hash(part) }
        }
    }

    /// Whether every input but the last has the length of the first.
    private static func oneLength(_ inputs: UnsafeBufferPointer<HashInput>) -> Bool {
        guard let first = inputs.first else { return true }
        return inputs.dropLast().allSatisfy { $0.count == first.count }
    }
}

/// Runs the hashing of one batch at a time on the hasher's workers, in the order the batches
/// were started, while the importing thread chunks the next batch.
final class HashStage: @unchecked Sendable {
    let hasher: BatchHasher
    let cancellation: CancellationToken
    let queue = DispatchQueue(label: "cairn.unixfs.hash")
    let done = DispatchSemaphore(value: 0)
    /// `poll` saw the oldest started batch finish (and took its signal).
    private var finished = false

    init(hasher: BatchHasher, cancellation: CancellationToken) {
        self.hasher = hasher
        self.cancellation = cancellation
    }

    func start(_ batch: LeafBatch) {
        let hasher = hasher, cancellation = cancellation
        queue.async { [done] in
            hasher.hash(batch, cancellation: cancellation)
            done.signal()
        }
    }

    /// Waits until the oldest started batch is hashed.
    func wait() {
        if finished {
            finished = false
        } else {
            done.wait()
        }
    }

    /// Runs `task` on the stage's thread after the batches started so far.
    func enqueue(_ task: @escaping @Sendable () -> Void) {
        queue.async(execute: task)
    }

    /// Waits until every started batch is hashed (whatever `wait` has or has not consumed).
    func drain() {
        queue.sync {}
    }

    /// Whether the oldest started batch is hashed, without waiting.
    func poll() -> Bool {
        if !finished { finished = done.wait(timeout: .now()) == .success }
        return finished
    }
}

/// Contiguous runs of a batch's leaves, one per thread; each thread writes its run's digests only.
private struct LeafRuns: @unchecked Sendable {
    let kernel: HashKernel
    let inputs: UnsafeBufferPointer<HashInput>
    let digests: UnsafeMutablePointer<Digest>
    /// Run `p` is `ends[p − 1] ..< ends[p]` (from 0 for the first).
    let ends: [Int]

    func hash(_ p: Int) {
        let start = p == 0 ? 0 : ends[p - 1]
        kernel.hash(UnsafeBufferPointer(rebasing: inputs[start..<ends[p]]), into: digests + start)
    }
}
