public import Hashing
public import Multiformats

/// The bytes of one block, borrowed: up to three segments that form the block when
/// concatenated (a dag-pb leaf is its UnixFS framing, the chunk itself, and a short trailer,
/// kept apart so the chunk is never copied). Valid only while the call that lends them runs.
/// It is the hashing layer's `HashInput` itself, so a block is hashed as it is handed over,
/// with no conversion.
public typealias BlockBytes = HashInput

extension HashInput {
    /// Copies the block into `destination` (at least `count` bytes); returns `count`.
    @inlinable
    public func copy(to destination: UnsafeMutableRawPointer) -> Int {
        var offset = 0
        func add(_ segment: UnsafeRawBufferPointer) {
            guard !segment.isEmpty else { return }
            (destination + offset).copyMemory(from: segment.baseAddress!, byteCount: segment.count)
            offset += segment.count
        }
        add(prefix)
        add(body)
        add(suffix)
        return offset
    }

    /// A copy of the block as one array.
    public var array: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = buffer.isEmpty ? 0 : copy(to: UnsafeMutableRawPointer(buffer.baseAddress!))
        }
    }
}

/// Where the importer delivers blocks (a store, a CAR writer, a test collector, or nothing).
///
/// Contract:
/// * **Order**: every block is put after all the blocks it links to, in the order the builder
///   completes them (post-order, left to right): the leaves of a node, then that node, …, the
///   root last. This is the order Kubo's importer stores blocks (see `shared/vectors/blocks/`).
/// * **Duplicates**: a block is put each time it occurs in the DAG (a file of zeros puts the same
///   leaf many times); de-duplication is the sink's business.
/// * **Borrowing**: `bytes` is valid only during the call; copy what you keep.
/// * **Back-pressure**: `put` runs on the importing thread and the importer waits for it, with
///   at most one further batch of leaves chunked and a bounded ring of read-ahead buffers; a
///   slow sink slows the import instead of letting memory grow.
/// * **Errors**: an error thrown by `put` stops the import and is rethrown to the caller.
public protocol BlockSink {
    /// False if the sink ignores block bytes (only-hash): the importer may then skip work that
    /// only serves to produce them. CIDs and the `put` calls are the same either way.
    var wantsBytes: Bool { get }

    mutating func put(_ cid: CID, _ bytes: BlockBytes) throws
}

extension BlockSink {
    public var wantsBytes: Bool { true }
}

/// `--only-hash`: counts blocks and bytes, keeps nothing.
public struct DiscardingSink: BlockSink {
    public var blockCount = 0
    public var byteCount = 0

    public init() {}

    public var wantsBytes: Bool { false }

    @inlinable
    public mutating func put(_ cid: CID, _ bytes: BlockBytes) {
        blockCount += 1
        byteCount += bytes.count
    }
}

/// Keeps every block in memory, in put order (for tests and small imports).
public struct CollectingSink: BlockSink {
    public private(set) var blocks: [Block] = []

    public init() {}

    public mutating func put(_ cid: CID, _ bytes: BlockBytes) {
        blocks.append(Block(cid: cid, bytes: bytes.array))
    }

    /// The blocks without repeats, each at its first position (what a block store holds, in
    /// the order it first stored them).
    public var distinctBlocks: [Block] {
        var seen = Set<CID>()
        return blocks.filter { seen.insert($0.cid).inserted }
    }
}
