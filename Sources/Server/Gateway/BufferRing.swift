import NIOCore
import Synchronization

/// The few buffers a CAR stream fills in turn (spec/gateway.md §3.4). A buffer comes back
/// to be filled again once the connection has let go of it (else `clear` gives it fresh
/// storage), so a long stream keeps reusing the same pages: a fresh 5 MiB buffer per batch
/// cost a page fault and a zeroed page for every 4 KiB that `pread` wrote into it, about 7 %
/// of the server's CPU for a 1 GiB CAR.
final class BufferRing: Sendable {
    private let state: Mutex<(buffers: [ByteBuffer], turn: Int)>
    private let capacity: Int

    /// `slots` buffers of at least `capacity` bytes: for a CAR stream, the batch being read,
    /// the one being verified, the one being sent and one the connection may still hold.
    init(slots: Int = 4, capacity: Int) {
        state = Mutex((Array(repeating: ByteBuffer(), count: slots), 0))
        self.capacity = capacity
    }

    /// The next buffer, empty; hand it back with `keep` once filled.
    func take() -> (slot: Int, buffer: ByteBuffer) {
        var (slot, buffer) = state.withLock { state -> (Int, ByteBuffer) in
            let slot = state.turn
            state.turn = (slot + 1) % state.buffers.count
            let buffer = state.buffers[slot]
            state.buffers[slot] = ByteBuffer()  // so that only the connection may still hold it
            return (slot, buffer)
        }
        buffer.clear(minimumCapacity: capacity)
        return (slot, buffer)
    }

    /// Keeps `buffer` to be filled again in its turn.
    func keep(_ buffer: ByteBuffer, in slot: Int) {
        state.withLock { $0.buffers[slot] = buffer }
    }
}
