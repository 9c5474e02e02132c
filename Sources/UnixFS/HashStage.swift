import Dispatch
import Hashing

import CairnSystem

extension BatchHasher {
    /// Hashes a batch's leaves into its digest slots; once `cancellation` is cancelled some
    /// slots may stay unwritten (the assembler checks the token before its first leaf).
    func hash(_ batch: LeafBatch, cancellation: CancellationToken) {
        hash(UnsafeBufferPointer(start: batch.inputs, count: batch.count),
             into: UnsafeMutableBufferPointer(start: batch.digests, count: batch.count), cancellation: cancellation)
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
