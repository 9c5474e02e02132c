import Chunking
import Dispatch
import Blocks

/// Reads a `ByteSource` into a ring of `depth` buffers. With one thread the chunker reads each
/// buffer as it reaches it; with two or more, buffers are read ahead (see ``ReadAheadReader``),
/// so that reading overlaps chunking and hashing.
///
/// Each buffer keeps room for one chunk in front of its data: when the chunker reaches the end of
/// a buffer, the bytes after its last whole chunk (shorter than the longest chunk) are copied
/// just in front of the next buffer's data, so every chunk is contiguous. A batch never spans two
/// buffers; a buffer goes back to the reader once every batch that took chunks from it has been
/// released.
struct ReadAheadProducer<Source: ByteSource>: ChunkProducer {
    let reader: ReadAheadReader<Source>
    let finder: Chunker
    let maximum: Int
    /// Index, in reading order, of the buffer being chunked (−1 before the first).
    var sequence = -1
    var current = 0
    var position = 0
    var end = 0
    var atEnd = false
    /// Non-empty batches filled and released so far.
    var fills = 0
    var releases = 0
    /// Per buffer: the last fill that took chunks from it.
    var lastUse: [Int]
    /// Buffers left behind by the chunker, each free once that fill is released.
    var retired: [(buffer: Int, fill: Int)] = []

    init(source: sending Source, finder: Chunker, bufferBytes: Int, depth: Int) {
        self.finder = finder
        self.maximum = finder.maximumChunkLength
        let head = (maximum + 63) / 64 * 64
        self.reader = ReadAheadReader(source: source, head: head, body: max(bufferBytes, maximum), depth: max(2, depth))
        self.lastUse = Array(repeating: 0, count: reader.depth)
        for _ in 0..<reader.depth { reader.schedule() }
    }

    /// Waits for the reader to stop, then frees the buffers.
    func finish() { reader.deallocate() }

    /// Moves to the next buffer in reading order, carrying the unchunked tail over.
    private mutating func advance() throws {
        let previous = sequence >= 0 ? current : nil
        sequence += 1
        let next = sequence % reader.depth
        // Read it here unless someone else already is (whoever holds the source reads every
        // scheduled ticket in order, this one included).
        while reader.ready[next].wait(timeout: .now()) != .success {
            if !reader.tryRead() {
                reader.ready[next].wait()
                break
            }
        }
        if let failure = reader.failures[next] { throw ImportError(.io, failure.description) }
        let carry = end - position
        precondition(carry <= reader.head, "read-ahead carry longer than the longest chunk")
        let data = reader.buffers[next] + reader.head
        if carry > 0, let previous {
            (data - carry).copyMemory(from: reader.buffers[previous] + position, byteCount: carry)
        }
        current = next
        position = reader.head - carry
        end = reader.head + reader.lengths[next]
        atEnd = reader.ends[next]
        if let previous {
            retired.append((previous, lastUse[previous]))
            freeRetired()
        }
    }

    private mutating func freeRetired() {
        while let first = retired.first, first.fill <= releases {
            retired.removeFirst()
            reader.schedule()
        }
    }

    mutating func fill(_ batch: LeafBatch, limits: BatchLimits, framing: UnixFSType?) throws {
        batch.count = 0
        if sequence < 0 { try advance() }
        while true {
            let base = reader.buffers[current]
            var bytes = 0
            while batch.count < limits.leaves && bytes < limits.bytes {
                let remaining = end - position
                if remaining == 0 || (!atEnd && remaining < maximum) { break }
                let length = finder.checkedCut(in: UnsafeRawBufferPointer(start: base + position, count: remaining))
                batch.append(UnsafeRawBufferPointer(start: base + position, count: length), framing: framing)
                position += length
                bytes += length
            }
            // Stop at a full batch, at the input's end, or at the end of this buffer once the
            // batch holds something (the next fill moves on, after this batch is handed over).
            if batch.count > 0 || atEnd { break }
            try advance()
        }
        if batch.count > 0 {
            fills += 1
            lastUse[current] = fills
        }
    }

    mutating func release(_ batch: LeafBatch) {
        guard batch.count > 0 else { return }
        releases += 1
        freeRetired()
    }

    mutating func workAhead() -> Bool { reader.tryRead() }

    var backgroundTask: (@Sendable () -> Void)? { readAheadTask(reader) }
}

/// The background task of a read-ahead ring, built outside the generic producer so that it
/// captures no type metadata.
private func readAheadTask(_ reader: any ScheduledReading) -> @Sendable () -> Void {
    { reader.readScheduled() }
}
