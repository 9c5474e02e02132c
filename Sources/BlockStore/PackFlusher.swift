import CairnSystem
import Dispatch
import Foundation
import Synchronization

/// Flushes the pack being written on a thread of its own, while the writer goes on appending.
///
/// The cost of a commit's `fsync` is the device's: the flush writes every byte the disk's
/// cache (a VM host's page cache, say) holds, about 2.5 ms per MiB here, so one `fsync` of a
/// 256 MiB pack blocked for 300–400 ms, uninterruptibly, far past the 100 ms a signal allows
/// (spec/system.md §4). The writer starts a flush of the pack every `BlockStoreWriter.flushBytes`
/// written, one at a time (it waits for the previous one first), so that the flushing overlaps
/// the writing and the `fsync` that makes a batch durable finds at most that much left.
///
/// A background flush is not where durability is decided (the commit's `fsync` is), so it is
/// not counted by the fault plan; its failure is kept and thrown by the next `wait`, never lost
/// (the kernel reports a write-back error once per open file, possibly to this flush only).
final class PackFlusher: Sendable {
    private struct State {
        var running = false
        var failure: BlockStoreError?
    }

    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)
    private let queue = DispatchQueue(label: "cairn.blockstore.pack-flush")

    /// Whether a flush is queued or running.
    var isRunning: Bool { state.withLock { $0.running } }

    /// Starts flushing the file `fd` refers to, on a duplicate of `fd` (the writer may close
    /// its own descriptor meanwhile). Call only when no flush is running (`wait` first).
    func start(_ fd: Int32, path: String) {
        let own = dup(fd)
        guard own >= 0 else { return }  // no descriptor left: the commit's fsync does it all
        state.withLock { $0.running = true }
        queue.async { [self] in
            var failure: BlockStoreError?
            do throws(SystemError) {
                #if os(Linux)
                _ = try SystemCall.retrying(nil, "fdatasync", path: path) { fdatasync(own) }
                #else
                _ = try SystemCall.retrying(nil, "fsync", path: path) { fsync(own) }
                #endif
            } catch {
                failure = BlockStoreError(error, "cannot sync \(path)")
            }
            SystemCall.close(own)
            state.withLock { state in
                state.running = false
                if state.failure == nil { state.failure = failure }
            }
            done.signal()
        }
    }

    /// Waits until no flush runs, then throws the failure of one that failed. With
    /// `cancellable`, a signal ending the process stops the wait (`CancellationError`): the
    /// flush goes on in its thread, bounded by `BlockStoreWriter.flushBytes`.
    func wait(cancellable: Bool) throws {
        while isRunning {
            if cancellable && CancellationToken.process.signal != nil { throw CancellationError() }
            _ = done.wait(timeout: .now() + .milliseconds(5))
        }
        if let failure = state.withLock({ state -> BlockStoreError? in
            defer { state.failure = nil }
            return state.failure
        }) {
            throw failure
        }
    }
}
