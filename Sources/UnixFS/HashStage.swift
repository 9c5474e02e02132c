import Dispatch
import Hashing

extension BatchHasher {
    /// Hashes a batch's leaves into its digest slots.
    func hash(_ batch: LeafBatch) {
        hash(UnsafeBufferPointer(start: batch.inputs, count: batch.count),
             into: UnsafeMutableBufferPointer(start: batch.digests, count: batch.count))
    }
}

/// Runs the hashing of one batch at a time on the hasher's workers, in the order the batches
/// were started, while the importing thread chunks the next batch.
final class HashStage: @unchecked Sendable {
    let hasher: BatchHasher
    let queue = DispatchQueue(label: "cairn.unixfs.hash")
    let done = DispatchSemaphore(value: 0)
    /// `poll` saw the oldest started batch finish (and took its signal).
    private var finished = false

    init(hasher: BatchHasher) { self.hasher = hasher }

    func start(_ batch: LeafBatch) {
        let hasher = hasher
        queue.async { [done] in
            hasher.hash(batch)
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
