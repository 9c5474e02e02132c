import Dispatch
import Foundation

/// The pack writer's direct writes in flight (`BlockStoreWriter.directWrites`): a direct write
/// waits for the device, so a full staging buffer is written on a thread of this object's own
/// while the writer fills a second buffer, and the writer waits for that write only when it
/// needs the buffer back or syncs the pack. One write at a time; use from the writer's thread.
final class DirectWrites: @unchecked Sendable {
    /// The buffer the write in flight (if any) reads: handed back by the next `start`.
    private(set) var spare: UnsafeMutableRawBufferPointer
    private let queue = DispatchQueue(label: "cairn.pack-direct-writes")
    private let done = DispatchSemaphore(value: 0)
    private var inFlight = false
    /// The failure of a write, under the lock (set by the queue, thrown by every `finish`).
    private let lock = NSLock()
    private var failure: BlockStoreError?

    /// `spare`: the second buffer, owned by the caller, who must `wait` before freeing it.
    init(spare: UnsafeMutableRawBufferPointer) {
        self.spare = spare
    }

    /// Starts writing `buffer[0..<count]` at `offset` of `fd` and hands back the spare buffer
    /// (waiting for the previous write first, which must have been `finish`ed): the caller
    /// goes on in the returned buffer and must not touch `buffer` until the next `finish`.
    func start(_ buffer: UnsafeMutableRawBufferPointer, count: Int, to fd: Int32, at offset: Int64,
               path: String) -> UnsafeMutableRawBufferPointer {
        precondition(!inFlight, "DirectWrites.start with a write in flight")
        let handedBack = spare
        spare = buffer
        inFlight = true
        let address = UInt(bitPattern: buffer.baseAddress)
        queue.async { [self] in
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: count)
            do throws(BlockStoreError) {
                try Sys.pwriteAll(fd, bytes, at: offset, path: path)
            } catch {
                lock.withLock { failure = error }
            }
            done.signal()
        }
        return handedBack
    }

    /// Whether a write was started and not yet waited for.
    var isInFlight: Bool { inFlight }

    /// Waits for the write in flight, if any, and throws the failure of any write so far: once
    /// one failed, every later call throws it (its bytes are no longer staged anywhere).
    func finish() throws(BlockStoreError) {
        wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// Waits for the write in flight, if any (its failure is kept for `finish`).
    func wait() {
        guard inFlight else { return }
        done.wait()
        inFlight = false
    }
}
