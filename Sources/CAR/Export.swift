import Hashing
import CairnSystem
public import Multiformats
public import Blocks

/// Bridges to a block store: export a DAG from a block getter, import a CAR into a block putter
/// (`cairn car export` / `cairn car import`).
public enum CARExport {
    /// Writes the DAGs under `roots` to `writer` in depth-first pre-order (a node, then each
    /// child subtree in link order), each block once: the order of go-car's and Kubo's
    /// `dag export`. dag-pb and dag-cbor links are followed; raw blocks end the walk; identity CIDs are not
    /// written (their CID holds the data) but what they link to is (`Blocks.expandingIdentity`). Every block the getter returns is verified against
    /// its CID first. Another codec is an error (its links cannot be followed).
    ///
    /// Memory: the no-duplicates set (`SpillingCIDSet`: up to `keysInMemory` 32-byte keys in
    /// memory, 2^20 by default, the rest in sorted runs on disk; a `Set<CID>` took ~200 bytes a
    /// block, 200 MB for a DAG of a million) plus the DFS stack.
    public static func exportDAG<Output: CAROutput>(
        roots: [CID], into writer: inout CARWriter<Output>, keysInMemory: Int = SpillingKeySet.walkMemoryLimit,
        getBlock: (CID) throws -> [UInt8]
    ) throws {
        try checkRoots(roots)
        let seen = SpillingCIDSet(memoryLimit: keysInMemory)
        var stack = Array(try expanded(roots).reversed())
        while let cid = stack.popLast() {
            try CancellationToken.process.check()
            guard try seen.insert(cid) else { continue }
            try checkCodec(cid)
            let bytes = try getBlock(cid)
            try bytes.withUnsafeBytes { (raw) throws in
                try CARBlockCheck.verify(cid, raw)
                try writer.put(cid, raw)
                for link in try links(of: cid, raw).reversed() where try !seen.contains(link) {
                    stack.append(link)
                }
            }
        }
    }

    /// The same walk and order as `exportDAG(roots:into:getBlock:)`, with blocks borrowed
    /// *unverified* (for instance in place in a memory-mapped pack) and checked in batches on
    /// all cores: after a dag-pb or dag-cbor node is written, its children are looked up in link order (up
    /// to `batchBytes` of them), verified together through `BatchHasher` (multi-buffer SHA-256
    /// kernels), and kept until the walk reaches them. Every block is still checked against its
    /// CID before it is written; a mismatch stops the export.
    ///
    /// `getUnverifiedBlock` returns bytes that must stay valid until this call returns.
    /// Memory: besides the no-duplicates set, the pointers of at most `batchBytes` of blocks,
    /// lying in at most `batchRegions` 2 MiB regions of the address space (a batch is cut
    /// there): verifying a batch faults its blocks in, and a fault in a file mapping may map
    /// the large folio around the block, so children scattered through a mapped pack (the
    /// interior nodes of a big DAG) stay within that many folios.
    public static func exportDAG<Output: CAROutput>(
        roots: [CID], into writer: inout CARWriter<Output>, batchBytes: Int = 64 << 20, threads: Int? = nil,
        keysInMemory: Int = SpillingKeySet.walkMemoryLimit, batchRegions: Int = .max,
        getUnverifiedBlock: (CID) throws -> UnsafeRawBufferPointer
    ) throws {
        try checkRoots(roots)
        let seen = SpillingCIDSet(memoryLimit: keysInMemory)
        var verifier = BlockVerifier(threads: threads)
        var ready: [CID: UnsafeRawBufferPointer] = [:]
        var stack = Array(try expanded(roots).reversed())
        while let cid = stack.popLast() {
            try CancellationToken.process.check()
            guard try seen.insert(cid) else { continue }
            try checkCodec(cid)
            let bytes: UnsafeRawBufferPointer
            if let prefetched = ready.removeValue(forKey: cid) {
                bytes = prefetched
            } else {
                bytes = try getUnverifiedBlock(cid)
                try CARBlockCheck.verify(cid, bytes)
            }
            try writer.put(cid, bytes)
            let links = try links(of: cid, bytes)
            for link in links.reversed() where try !seen.contains(link) { stack.append(link) }
            // Look the children up and verify them together.
            var batch: [(CID, UnsafeRawBufferPointer)] = []
            var batchSize = 0
            var queued = Set<CID>()
            var regions = Set<Int>()  // 2 MiB regions of the address space the batch's bytes lie in
            for child in links where batchSize < batchBytes && regions.count < batchRegions {
                guard try !seen.contains(child), ready[child] == nil, queued.insert(child).inserted else { continue }
                try CancellationToken.process.check()  // a lookup may read from disk
                try checkCodec(child)
                let bytes = try getUnverifiedBlock(child)
                batchSize += bytes.count
                batch.append((child, bytes))
                if batchRegions != .max, let start = bytes.baseAddress {
                    let first = Int(bitPattern: start) >> 21, last = (Int(bitPattern: start) + max(bytes.count, 1) - 1) >> 21
                    for region in first...last { regions.insert(region) }
                }
            }
            if !batch.isEmpty {
                try verifyBatch(batch, verifier: &verifier)
                for (child, bytes) in batch { ready[child] = bytes }
            }
        }
    }

    /// The links of a block, identity links expanded (`Blocks.linksThroughIdentity`: an
    /// identity CID is never written, but what it links to is), as a CAR error.
    static func links(of cid: CID, _ raw: UnsafeRawBufferPointer) throws(CARError) -> [CID] {
        do { return try Blocks.linksThroughIdentity(of: cid, raw) } catch { throw CARError(error) }
    }

    /// Roots with identity roots expanded to what they link to.
    static func expanded(_ roots: [CID]) throws(CARError) -> [CID] {
        do { return try Blocks.expandingIdentity(roots) } catch { throw CARError(error) }
    }

    /// The roots come from outside: Kubo's rules for secure CIDs apply (`CIDSecurity`).
    private static func checkRoots(_ roots: [CID]) throws(CARError) {
        for root in roots {
            do {
                try root.checkSecure()
            } catch {
                throw CARError(.insecureCID, "root \(root): \(error.message)")
            }
        }
    }

    private static func checkCodec(_ cid: CID) throws(CARError) {
        switch cid.codec {
        case .dagPB, .dagCBOR, .raw: return
        default:
            throw CARError(.unsupported, "cannot export block \(cid): Cairn follows links of dag-pb and dag-cbor only, not \(cid.codec)")
        }
    }

    /// Checks every block of `batch` against its CID, hashing them in parallel; throws for the
    /// first one that is not valid.
    static func verifyBatch(_ batch: [(CID, UnsafeRawBufferPointer)], verifier: inout BlockVerifier) throws(CARError) {
        var verdicts: [BlockVerdict] = []
        verifier.check(count: batch.count, into: &verdicts) { (batch[$0].0, BlockBytes(batch[$0].1)) }
        for (index, verdict) in verdicts.enumerated() where verdict != .valid {
            do { try BlockVerifier.throwing(verdict, batch[index].0, count: batch[index].1.count) } catch { throw CARError(error) }
        }
    }

    /// Reads and verifies a CAR (the checks of `options`), handing each verified block to
    /// `putBlock` in file order: `cairn car import` / `dag import` once the store exists.
    @discardableResult
    public static func importCAR<Source: CARSource>(
        from source: Source, options: CARVerifyOptions = CARVerifyOptions(),
        putBlock: (CID, UnsafeRawBufferPointer) throws -> Void
    ) throws -> CARSummary {
        try CARVerifier.verify(source, options: options) { block in try putBlock(block.cid, block.bytes) }
    }
}

/// One block against its CID (the exporter's check; the reader batches instead).
enum CARBlockCheck {
    static func verify(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws(CARError) {
        do { try BlockVerifier.verify(cid, bytes) } catch { throw CARError(error) }
    }
}

/// A `BlockSink` that streams the import pipeline's blocks into a CAR (`cairn add --car`,
/// `cairn car create`), without a store.
///
/// * Order: the pipeline's (children before parents, root last), each block once (repeats
///   are dropped; identity CIDs are not written).
/// * Root: unknown until the import ends. The header is written with a placeholder root of
///   the same binary length as the real one (`ImportParameters.placeholderRoot` in UnixFS), and `finish(root:)`
///   patches it in place. If the real root's length differs (an identity-CID root with
///   `--inline`), the payload is shifted in place (one pass). Either way the output must be
///   seekable: a regular file, or memory. For a pipe, compute the root first (`--only-hash`)
///   and write with a `CARWriter` directly.
public struct CARBlockSink<Output: CAROutput>: BlockSink {
    public private(set) var writer: CARWriter<Output>
    /// The blocks written (`SpillingCIDSet`: constant memory, whatever the block count).
    private let seen = SpillingCIDSet()

    public init(output: Output, format: CARFormat = .v1, placeholderRoot: CID) throws {
        guard output.isSeekable else {
            throw CARError(.invalidUse, "writing a CAR while importing needs a seekable output (a file, not a pipe): the root is only known at the end")
        }
        writer = try CARWriter(output: output, roots: [placeholderRoot], format: format)
    }

    public var wantsBytes: Bool { true }

    public mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
        guard cid.multihash.code != .identity, try seen.insert(cid) else { return }
        try writer.put(cid, bytes)
    }

    /// Writes the real root into the header (and the CARv2 index and header) and flushes.
    @discardableResult
    public mutating func finish(root: CID) throws -> CARWriteSummary {
        try writer.finish(roots: [root])
    }
}
