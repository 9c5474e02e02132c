import Chunking
import Dispatch
import Synchronization

/// What the hashing stage's thread does for a read-ahead ring between batches.
protocol ScheduledReading: AnyObject, Sendable {
    func readScheduled()
}

/// The reading side of ``ReadAheadProducer``. Reads are tickets taken in order: ticket `t`
/// fills buffer `t % depth` with the next bytes of the source, then signals `ready[t % depth]`.
/// Tickets are taken by the hashing stage's thread between batches (``readScheduled()``) and by
/// the importing thread when it would otherwise wait (``tryRead()``) or needs a buffer no one
/// has read yet. Whoever holds `reading` reads, so reads stay in order; the per-buffer results
/// are written before the signal and read after the wait.
final class ReadAheadReader<Source: ByteSource>: ScheduledReading, @unchecked Sendable {
    struct Reading: ~Copyable {
        var source: Source
        /// Tickets taken so far.
        var taken = 0
        var ended = false
    }

    let reading: Mutex<Reading>
    let head: Int
    let body: Int
    let depth: Int
    let buffers: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let lengths: UnsafeMutablePointer<Int>
    let ends: UnsafeMutablePointer<Bool>
    let failures: UnsafeMutablePointer<ChunkingError?>
    let ready: [DispatchSemaphore]
    /// Tickets scheduled so far (only the importing thread adds to it).
    let scheduled = Atomic<Int>(0)

    init(source: sending Source, head: Int, body: Int, depth: Int) {
        self.reading = Mutex(Reading(source: source))
        self.head = head
        self.body = body
        self.depth = depth
        buffers = .allocate(capacity: depth)
        for i in 0..<depth { buffers[i] = .allocate(byteCount: head + body, alignment: 64) }
        lengths = .allocate(capacity: depth)
        lengths.initialize(repeating: 0, count: depth)
        ends = .allocate(capacity: depth)
        ends.initialize(repeating: false, count: depth)
        failures = .allocate(capacity: depth)
        failures.initialize(repeating: nil, count: depth)
        ready = (0..<depth).map { _ in DispatchSemaphore(value: 0) }
    }

    /// Schedules the next ticket; it fills buffer `scheduled % depth`.
    func schedule() {
        scheduled.wrappingAdd(1, ordering: .releasing)
    }

    /// Reads one scheduled ticket on the calling thread unless another thread is reading or
    /// nothing is scheduled; returns whether it read.
    func tryRead() -> Bool {
        reading.withLockIfAvailable { state in takeTicket(&state) } ?? false
    }

    /// Reads every scheduled ticket, unless another thread is reading (it then reads them).
    func readScheduled() {
        _ = reading.withLockIfAvailable { state in
            while takeTicket(&state) {}
        }
    }

    private func takeTicket(_ state: inout Reading) -> Bool {
        guard state.taken < scheduled.load(ordering: .acquiring) else { return false }
        let i = state.taken % depth
        state.taken += 1
        var n = 0
        var failure: ChunkingError? = nil
        let data = buffers[i] + head
        while !state.ended && n < body {
            do throws(ChunkingError) {
                let got = try state.source.read(into: UnsafeMutableRawBufferPointer(start: data + n, count: body - n))
                if got == 0 { state.ended = true } else { n += got }
            } catch {
                failure = error
                state.ended = true
            }
        }
        lengths[i] = n
        ends[i] = state.ended
        failures[i] = failure
        ready[i].signal()
        return true
    }

    /// Frees the buffers; no read may be in progress (the hashing stage has been drained).
    func deallocate() {
        for i in 0..<depth { buffers[i].deallocate() }
        buffers.deallocate()
        lengths.deallocate()
        ends.deallocate()
        failures.deinitialize(count: depth)
        failures.deallocate()
    }
}
