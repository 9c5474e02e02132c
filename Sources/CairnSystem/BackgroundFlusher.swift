import CCairnSystem
import Dispatch
import Synchronization

/// Flushes a file being written in the background (a child process on Linux, else a thread),
/// while the writer goes on appending.
///
/// The cost of an `fsync` is the device's: it writes every byte the disk's cache (a VM host's
/// page cache, say) holds, about 2.5 ms per MiB here, so one `fsync` of a 256 MiB pack or a
/// 1 GiB CAR blocked for 0.4 to 2.5 s, uninterruptibly, far past the 100 ms a signal allows
/// (spec/system.md §4). A writer that reports its progress (`wrote(upTo:)`) starts the writeback of
/// every 8 MiB it writes and a flush of the file every 16 MiB (one at a time: it waits for the
/// previous one first), so that the flushing overlaps the writing and the `fsync` that makes
/// the file durable finds at most 16 MiB left. Used by the store's pack writer and by every
/// output file (CARs, `get`'s files).
///
/// A background flush is not where durability is decided (the writer's own final sync is), so
/// the fault plan does not count it; its failure is kept and thrown by the next `wait`, never
/// lost (the kernel reports a write-back error once per open file, possibly to this flush only).
public final class BackgroundFlusher: Sendable {
    private struct State {
        var failure: SystemError?
        /// The writer's side (`wrote`): where the last writeback and the last flush started.
        var lastWriteback: Int64 = 0
        var lastFlush: Int64 = 0
    }

    private let state = Mutex(State())
    /// Whether a flush is queued or running: set by the writer before it queues one, cleared
    /// (release) by the flush once its failure is recorded, read (acquire) by `wait`. An atomic
    /// rather than a field under the lock: the writer polls it while the flush ends, and TSan
    /// reported that pair as a race although both held the `Mutex` (presumably the lock's
    /// contended path, in the uninstrumented Synchronization library, which TSan does not see).
    private let running = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let queue = DispatchQueue(label: "cairn.background-flush")

    public init() {}

    /// Whether a flush is queued or running.
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Starts flushing the file `fd` refers to. Call only when no flush is running (`wait`
    /// first); the writer may close its own descriptor meanwhile.
    ///
    /// On Linux the flush runs in a child process (`ccairn_spawn_flush`): a thread blocked in
    /// `fdatasync` cannot be interrupted, and the exit a signal asks for waits for every thread
    /// of the process (0.2 to 1.2 s here when one was flushing). A thread of this process only
    /// reaps the child, an interruptible wait. Elsewhere, or when no child can start, a thread
    /// flushes a duplicate of `fd` itself.
    public func start(_ fd: Int32, path: String) {
        #if os(Linux)
        let child = ccairn_spawn_flush(fd)
        if child > 0 {
            running.store(true, ordering: .releasing)
            queue.async { [self] in
                finish(Self.reap(child) ? nil : SystemError(code: EIO, call: "fdatasync", path: path))
            }
            return
        }
        #endif
        let own = dup(fd)
        guard own >= 0 else { return }  // no descriptor left: the writer's final sync does it all
        running.store(true, ordering: .releasing)
        queue.async { [self] in
            var failure: SystemError?
            do throws(SystemError) {
                #if os(Linux)
                _ = try SystemCall.retrying(nil, "fdatasync", path: path) { fdatasync(own) }
                #else
                _ = try SystemCall.retrying(nil, "fsync", path: path) { fsync(own) }
                #endif
            } catch {
                failure = error
            }
            // Past a signal the writer may have removed the file meanwhile: this descriptor can
            // be its last reference, and freeing the blocks (a discard on some mounts: 0.2-0.5 s
            // for 1 GiB) is then handed to a child, not left to delay the exit (FileDisposal).
            FileDisposal.closeUnlinked([own])
            finish(failure)
        }
    }

    private func finish(_ failure: SystemError?) {
        state.withLock { state in
            if state.failure == nil { state.failure = failure }
        }
        running.store(false, ordering: .releasing)
        done.signal()
    }

    /// Waits for the flushing child; whether it flushed. A child that cannot be waited for
    /// (reaped elsewhere) counts as flushed: the writer's final sync decides durability anyway.
    private static func reap(_ child: pid_t) -> Bool {
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            if errno != EINTR { return true }
        }
        // WIFEXITED and WEXITSTATUS: terminated normally (low 7 bits 0) with status 0.
        return status & 0x7f == 0 && (status >> 8) & 0xff == 0
    }

    /// Waits until no flush runs, then throws the failure of one that failed (`SystemError`).
    /// With `cancellable`, a signal ending the process stops the wait (`CancellationError`):
    /// the flush goes on in its thread, bounded by `flushBytes`.
    public func wait(cancellable: Bool) throws {
        while isRunning {
            if cancellable && CancellationToken.process.signal != nil { throw CancellationError() }
            _ = done.wait(timeout: .now() + .milliseconds(5))
        }
        if let failure = state.withLock({ state -> SystemError? in
            defer { state.failure = nil }
            return state.failure
        }) {
            throw failure
        }
    }

    /// Bytes between two starts of writeback (`sync_file_range`, no waiting)…
    public static let writebackBytes: Int64 = 8 << 20
    /// …and between two background flushes: the most a final `fsync`, or a signal's wait for a
    /// flush under way, has left to flush (about 40 ms here).
    public static let flushBytes: Int64 = 16 << 20

    /// Starts the pacing of a new file (or of one whose first `offset` bytes are already
    /// durable: a pack reopened for appending).
    public func restart(from offset: Int64 = 0) {
        state.withLock { state in
            state.lastWriteback = offset
            state.lastFlush = offset
        }
    }

    /// Call after the file has grown to `end` bytes (written, not yet synced): starts the
    /// writeback of what was written since the last one, and, every `flushBytes`, a background
    /// flush once the previous one has ended. Throws the failure of an earlier flush
    /// (`SystemError`), or `CancellationError` when a signal ends a wait for one.
    public func wrote(upTo end: Int64, fd: Int32, path: @autoclosure () -> String) throws {
        let (writebackFrom, flushDue) = state.withLock { state -> (Int64?, Bool) in
            var from: Int64?
            if end - state.lastWriteback >= Self.writebackBytes {
                from = state.lastWriteback
                state.lastWriteback = end
            }
            return (from, end - state.lastFlush >= Self.flushBytes)
        }
        if let writebackFrom { SystemCall.startWriteback(fd, offset: writebackFrom, count: Int(end - writebackFrom)) }
        if flushDue {
            try wait(cancellable: true)
            start(fd, path: path())
            state.withLock { $0.lastFlush = end }
        }
    }
}
