public import Multiformats
public import CAR

/// Reads DAGs back out (spec/engine.md): a file's bytes (a byte range too), a tree onto disk,
/// a DAG as a CAR. Every block is verified against its CID before any of it is delivered.
///
/// A value type over a `BlockGetter`: cheap to copy, safe to use from many threads at once
/// (each call keeps its own state), cancellable through `CancellationToken.process`.
public struct Exporter: Sendable {
    public let reader: UnixFSReader

    public init(blocks: some BlockGetter) {
        reader = UnixFSReader(store: blocks)
    }

    /// Streams the UnixFS file at `root` to `body`, in order, one block in memory at a time;
    /// with `offset`/`length`, only that byte range (an offset past the end gives nothing).
    /// Returns the number of bytes delivered.
    @discardableResult
    public func cat(
        _ root: CID, offset: UInt64 = 0, length: UInt64? = nil, to body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> UInt64 {
        try reader.readFile(root, offset: offset, length: length, body)
    }

    /// Writes the file, directory or symlink at `root` to `path` (which must not exist), all
    /// or nothing: unsafe names refused, written under a temporary name and renamed into place.
    public func writeTree(_ root: CID, to path: String) throws {
        try TreeWriter(reader: reader).write(root, to: path)
    }

    /// How many bytes of blocks `exportCAR` verifies together: enough for the multi-buffer
    /// kernels on every core, and few enough that what is borrowed in place stays resident
    /// only briefly (a store's mappings give their pages back every 16 MiB lent).
    static let batchBytes = 16 << 20
    /// …lying in at most this many 2 MiB regions (`CARExport.exportDAG`): the interior nodes
    /// of a DAG of 263 661 blocks, verified together, faulted 111 MB of their pack in.
    static let batchRegions = 8

    /// Writes the DAG under `root` into `output` as a CAR: depth-first pre-order, each block
    /// once (`CARExport.exportDAG`). Blocks the getter can lend in place are verified in
    /// parallel batches; the others are copied out and verified one by one.
    /// `keysInMemory`: the blocks written kept in memory before they spill to disk
    /// (`SpillingKeySet`; a server passes its smaller per-request bound).
    public func exportCAR<Output: CAROutput>(_ root: CID, into output: Output, format: CARFormat = .v1,
                                             keysInMemory: Int = SpillingKeySet.walkMemoryLimit) throws {
        let blocks = reader.blocks
        let keep = KeepAlive()
        var writer = try CARWriter(output: output, roots: [root], format: format)
        try CARExport.exportDAG(roots: [root], into: &writer, batchBytes: Self.batchBytes, keysInMemory: keysInMemory,
                                batchRegions: Self.batchRegions,
                                getUnverifiedBlock: { cid in
            if let bytes = try blocks.borrowedBlock(cid) { return bytes }
            guard let bytes = try blocks.block(cid, verified: false) else {
                throw EngineError(.notFound, "block \(cid) (in the DAG of \(root)) is not in the store")
            }
            return keep.hold(bytes)
        })
        try writer.finish()
    }
}

/// Owns copies of blocks handed out as borrowed pointers, until it goes away.
final class KeepAlive {
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    func hold(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { if !$0.isEmpty { copy.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        buffers.append(copy)
        return UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count)
    }

    deinit { buffers.forEach { $0.deallocate() } }
}
