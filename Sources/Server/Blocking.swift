import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Runs blocking store work off the event loops: every store call (SQLite, pack I/O, fsync,
/// hashing) goes through `run`, on the server's own thread pool, never on a NIO event loop.
final class BlockingPool: Sendable {
    private let pool: NIOThreadPool

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

/// A bounded byte pipe between an async side (a request or response body on the event loop)
/// and a blocking side (a store call on the pool): the async side waits without blocking a
/// thread, the blocking side waits on a condition. At most `capacity` bytes are held, so a body
/// streams through in constant memory whatever its size.
final class BytePipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [ByteBuffer] = []
    private var head = 0
    private var buffered = 0
    private let capacity: Int
    private var finished = false
    private var failure: (any Error)?
    private var waiter: CheckedContinuation<Void, Never>?

    init(capacity: Int = 4 << 20) {
        self.capacity = capacity
    }

    // MARK: Either side

    /// Ends the pipe with an error: both sides see it (a dropped connection, a failed import).
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        wakeAll()
    }

    /// The sender is done: the receiver sees the end once the held bytes are read.
    func finish() {
        condition.lock()
        finished = true
        wakeAll()
    }

    /// Wakes both sides and unlocks.
    private func wakeAll() {
        condition.broadcast()
        let resumed = waiter
        waiter = nil
        condition.unlock()
        resumed?.resume()
    }

    /// Waits (async, without blocking a thread) until `ready` holds. Only this async side
    /// can make `ready` false again, so it still holds when the caller goes on.
    private func waitUntil(_ ready: @escaping () -> Bool) async {
        while !locked(ready) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                park(continuation, unless: ready)
            }
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    private func park(_ continuation: CheckedContinuation<Void, Never>, unless ready: () -> Bool) {
        condition.lock()
        if ready() {
            condition.unlock()
            continuation.resume()
        } else {
            waiter = continuation
            condition.unlock()
        }
    }

    // MARK: Async sender, blocking receiver (uploads)

    func send(_ buffer: ByteBuffer) async throws {
        await waitUntil { [unowned self] in buffered < capacity || failure != nil }
        try locked {
            if let failure { throw failure }
            chunks.append(buffer)
            buffered += buffer.readableBytes
            condition.broadcast()
        }
    }

    /// The next bytes (nil at the end); throws the pipe's failure.
    func receiveBlocking() throws -> ByteBuffer? {
        condition.lock()
        while head == chunks.count && !finished && failure == nil { condition.wait() }
        if let failure { condition.unlock(); throw failure }
        guard head < chunks.count else { condition.unlock(); return nil }
        let buffer = takeLocked()
        wakeAll()
        return buffer
    }

    // MARK: Blocking sender, async receiver (downloads)

    func sendBlocking(_ buffer: ByteBuffer) throws {
        condition.lock()
        while buffered >= capacity && failure == nil { condition.wait() }
        if let failure { condition.unlock(); throw failure }
        chunks.append(buffer)
        buffered += buffer.readableBytes
        wakeAll()
    }

    func receive() async throws -> ByteBuffer? {
        await waitUntil { [unowned self] in head < chunks.count || finished || failure != nil }
        return try locked {
            if let failure { throw failure }
            guard head < chunks.count else { return nil }
            let buffer = takeLocked()
            condition.broadcast()
            return buffer
        }
    }

    private func takeLocked() -> ByteBuffer {
        let buffer = chunks[head]
        // Let go of it now: a taken chunk left in the array until the next compaction kept
        // up to 64 of them (64 MiB of 1 MiB upload chunks) alive.
        chunks[head] = ByteBuffer()
        head += 1
        buffered -= buffer.readableBytes
        if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        return buffer
    }
}

/// An async counting semaphore (FIFO): the one-writer gate and the upload limit.
actor AsyncGate {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Called on every release, before the next holder goes on.
    private let released: (@Sendable () -> Void)?

    init(permits: Int, released: (@Sendable () -> Void)? = nil) {
        available = permits
        self.released = released
    }

    /// Takes a permit, waiting for one.
    func acquire() async {
        if available > 0 { available -= 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Takes a permit if one is free now.
    func tryAcquire() -> Bool {
        guard available > 0 else { return false }
        available -= 1
        return true
    }

    func release() {
        released?()
        if waiting.isEmpty { available += 1 } else { waiting.removeFirst().resume() }
    }

    func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }
}

/// A count that only goes up, shared between threads: how many times the server's one writer
/// has let go of the store (the gateway's cache of verified blocks starts afresh after each).
final class Counter: Sendable {
    private let count = Atomic<UInt64>(0)

    var value: UInt64 { count.load(ordering: .acquiring) }

    func increment() { count.add(1, ordering: .releasing) }
}
