import CairnSystem

/// The streaming driver: cuts a ``ByteSource`` into chunks with constant memory.
///
/// It owns one buffer (allocated once, reused for every refill) that always holds at least the
/// finder's maximum chunk length ahead of the current boundary unless the input has ended, so
/// the cut points are those of the whole input however the source splits its reads. Each chunk
/// is handed to the body as a slice of that buffer, valid only during the call.
///
/// Cancellation: before every refill the reader checks its `CancellationToken` (the process's
/// by default, which also sees the running task's cancellation) and throws `CancellationError`.
public struct ChunkReader<Finder: ChunkBoundaryFinder>: ~Copyable {
    public let finder: Finder
    @usableFromInline let buffer: UnsafeMutableRawBufferPointer
    @usableFromInline let cancellation: CancellationToken

    /// The default read size: 8 MiB.
    public static var defaultBlockSize: Int { 8 << 20 }

    /// - Parameters:
    ///   - finder: the cut rule.
    ///   - blockSize: bytes asked for per refill; the buffer is at least `2 × maximumChunkLength`.
    ///   - cancellation: checked before every refill.
    public init(finder: Finder, blockSize: Int = ChunkReader.defaultBlockSize, cancellation: CancellationToken = .process) {
        self.finder = finder
        let capacity = max(blockSize, 2 * finder.maximumChunkLength, 4096)
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        self.cancellation = cancellation
    }

    deinit {
        buffer.deallocate()
    }

    /// Reads `source` to its end and calls `body(offset, chunk)` for every chunk in order.
    /// Returns the total number of bytes read.
    @discardableResult
    public func forEachChunk<Source: ByteSource>(
        from source: inout Source,
        _ body: (_ offset: Int, _ chunk: UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        let base = buffer.baseAddress!
        let capacity = buffer.count
        let maximum = finder.maximumChunkLength
        var start = 0  // current boundary, index into buffer
        var end = 0  // bytes [start, end) are read and not yet chunked
        var offset = 0  // input offset of `start`
        var atEnd = false
        while true {
            if !atEnd && end - start < maximum {
                try cancellation.check()
                if start > 0 {
                    (base).copyMemory(from: base + start, byteCount: end - start)
                    end -= start
                    start = 0
                }
                while end < capacity {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
                    if n == 0 {
                        atEnd = true
                        break
                    }
                    end += n
                }
            }
            if start == end { return offset }
            let window = UnsafeRawBufferPointer(start: base + start, count: end - start)
            let length = finder.checkedCut(in: window)
            try body(offset, UnsafeRawBufferPointer(start: base + start, count: length))
            start += length
            offset += length
        }
    }

    /// Convenience: the chunks of `source` as `(offset, length)` pairs.
    public func boundaries<Source: ByteSource>(of source: inout Source) throws -> [ChunkBoundary] {
        var result: [ChunkBoundary] = []
        try forEachChunk(from: &source) { offset, chunk in
            result.append(ChunkBoundary(offset: offset, length: chunk.count))
        }
        return result
    }
}

/// A chunk's position in its input.
public struct ChunkBoundary: Hashable, Sendable {
    public var offset: Int
    public var length: Int

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}
