/// A pure cut-point rule: given the bytes that start at a chunk boundary, how long is the chunk?
///
/// Every chunker here restarts its state at each chunk start, so the rule needs no state beyond
/// its parameters. Callers must pass a window that holds at least ``maximumChunkLength`` bytes,
/// or, at the end of the input, every byte that is left; cut points then never depend on how the
/// input was split into reads.
public protocol ChunkBoundaryFinder: Sendable {
    /// The longest chunk the rule produces.
    var maximumChunkLength: Int { get }

    /// The length of the chunk that starts at `window.baseAddress`: in `1...window.count`, or 0
    /// for an empty window. `window` holds at least ``maximumChunkLength`` bytes unless it is the
    /// final part of the input.
    func nextCut(in window: UnsafeRawBufferPointer) -> Int
}

/// One of the four chunkers, chosen at run time (from a ``ChunkerSpec``).
///
/// The `switch` happens once per chunk; every inner loop is monomorphic.
public enum Chunker: ChunkBoundaryFinder {
    case fixed(FixedSizeChunker)
    case rabin(RabinChunker)
    case buzhash(BuzhashChunker)
    case fastCDC(FastCDCChunker)

    /// Builds the chunker for a spec.
    public init(_ spec: ChunkerSpec) {
        self = spec.makeChunker()
    }

    @inlinable
    public var maximumChunkLength: Int {
        switch self {
        case .fixed(let c): return c.maximumChunkLength
        case .rabin(let c): return c.maximumChunkLength
        case .buzhash(let c): return c.maximumChunkLength
        case .fastCDC(let c): return c.maximumChunkLength
        }
    }

    @inlinable
    public func nextCut(in window: UnsafeRawBufferPointer) -> Int {
        switch self {
        case .fixed(let c): return c.nextCut(in: window)
        case .rabin(let c): return c.nextCut(in: window)
        case .buzhash(let c): return c.nextCut(in: window)
        case .fastCDC(let c): return c.nextCut(in: window)
        }
    }
}

extension ChunkBoundaryFinder {
    /// `nextCut(in:)`, checked: a finder must cut at least one byte and at most the window.
    @inlinable
    public func checkedCut(in window: UnsafeRawBufferPointer) -> Int {
        let length = nextCut(in: window)
        precondition(length > 0 && length <= window.count, "chunker returned an impossible cut")
        return length
    }

    /// Cuts a whole in-memory input with no copying: `body(offset, chunk)` per chunk, where
    /// `chunk` is a slice of `bytes`.
    @inlinable
    public func forEachChunk<E: Error>(
        in bytes: UnsafeRawBufferPointer,
        _ body: (_ offset: Int, _ chunk: UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        var offset = 0
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return }
        while offset < count {
            let window = UnsafeRawBufferPointer(start: base + offset, count: count - offset)
            let length = checkedCut(in: window)
            try body(offset, UnsafeRawBufferPointer(start: base + offset, count: length))
            offset += length
        }
    }

    /// The chunk lengths of a whole in-memory input.
    public func chunkLengths(of bytes: UnsafeRawBufferPointer) -> [Int] {
        var lengths: [Int] = []
        forEachChunk(in: bytes) { _, chunk in lengths.append(chunk.count) }
        return lengths
    }
}

/// Fixed-size chunks (`size-N`): `size` bytes each, the last one holds the remainder.
public struct FixedSizeChunker: ChunkBoundaryFinder, Hashable {
    public let size: Int

    public init(size: Int) {
        precondition(size > 0, "fixed chunk size must be positive")
        self.size = size
    }

    @inlinable public var maximumChunkLength: Int { size }

    @inlinable
    public func nextCut(in window: UnsafeRawBufferPointer) -> Int {
        min(size, window.count)
    }
}
