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
    /// written (their CID holds the data). Every block the getter returns is verified against
    /// its CID first. Another codec is an error (its links cannot be followed).
    ///
    /// Memory: one CID per distinct block visited (the no-duplicates set) plus the DFS stack.
    public static func exportDAG<Output: CAROutput>(
        roots: [CID], into writer: inout CARWriter<Output>,
        getBlock: (CID) throws -> [UInt8]
    ) throws {
        try checkRoots(roots)
        var seen = Set<CID>()
        var stack = Array(roots.reversed())
        while let cid = stack.popLast() {
            try CancellationToken.process.check()
            guard seen.insert(cid).inserted else { continue }
            if cid.multihash.code == .identity { continue }
            try checkCodec(cid)
            let bytes = try getBlock(cid)
            try bytes.withUnsafeBytes { (raw) throws in
                try CARBlockCheck.verify(cid, raw)
                try writer.put(cid, raw)
                for link in try links(of: cid, raw).reversed() where !seen.contains(link) {
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
    /// Memory: besides the no-duplicates set, the pointers of at most `batchBytes` of blocks.
    public static func exportDAG<Output: CAROutput>(
        roots: [CID], into writer: inout CARWriter<Output>, batchBytes: Int = 64 << 20, threads: Int? = nil,
        getUnverifiedBlock: (CID) throws -> UnsafeRawBufferPointer
    ) throws {
        try checkRoots(roots)
        var seen = Set<CID>()
        var hashers: [HashAlgorithm: BatchHasher] = [:]
        var ready: [CID: UnsafeRawBufferPointer] = [:]
        var stack = Array(roots.reversed())
        while let cid = stack.popLast() {
            try CancellationToken.process.check()
            guard seen.insert(cid).inserted else { continue }
            if cid.multihash.code == .identity { continue }
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
            for link in links.reversed() where !seen.contains(link) { stack.append(link) }
            // Look the children up and verify them together.
            var batch: [(CID, UnsafeRawBufferPointer)] = []
            var batchSize = 0
            var queued = Set<CID>()
            for child in links where batchSize < batchBytes {
                guard !seen.contains(child), ready[child] == nil, child.multihash.code != .identity,
                      queued.insert(child).inserted else { continue }
                try checkCodec(child)
                let bytes = try getUnverifiedBlock(child)
                batchSize += bytes.count
                batch.append((child, bytes))
            }
            if !batch.isEmpty {
                try verifyBatch(batch, hashers: &hashers, threads: threads)
                for (child, bytes) in batch { ready[child] = bytes }
            }
        }
    }

    /// The links of a dag-pb or dag-cbor block, in order (none for raw).
    static func links(of cid: CID, _ raw: UnsafeRawBufferPointer) throws(CARError) -> [CID] {
        switch cid.codec {
        case .dagPB:
            do {
                return try PBNode(decoding: raw, requireSortedLinks: false).links.map(\.hash)
            } catch {
                throw CARError(.invalidSection, "block \(cid) is not valid dag-pb: \(error)")
            }
        case .dagCBOR:
            do {
                return try DagCBOR.links(in: raw)
            } catch {
                throw CARError(.invalidSection, "block \(cid) is not valid dag-cbor: \(error)")
            }
        default:
            return []
        }
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

    /// Checks every block of `batch` against its CID, hashing them in parallel.
    static func verifyBatch(
        _ batch: [(CID, UnsafeRawBufferPointer)], hashers: inout [HashAlgorithm: BatchHasher], threads: Int?
    ) throws {
        var groups: [HashAlgorithm: [Int]] = [:]
        for index in batch.indices {
            let cid = batch[index].0
            if let algorithm = HashAlgorithm(multihashCode: cid.multihash.code.rawValue), algorithm != .identity {
                groups[algorithm, default: []].append(index)
            } else {
                try CARBlockCheck.verify(cid, batch[index].1)
            }
        }
        for (algorithm, indices) in groups {
            let inputs = indices.map { HashInput(batch[$0].1) }
            if hashers[algorithm] == nil { hashers[algorithm] = BatchHasher(algorithm: algorithm, threads: threads) }
            let digests = hashers[algorithm]!.hash(inputs)
            for position in indices.indices {
                let cid = batch[indices[position]].0
                guard cid.multihash.withUnsafeDigest({ digests[position].starts(with: $0) }) else {
                    throw CARError(.hashMismatch, "block \(cid) does not match its CID")
                }
            }
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
        let multihash = cid.multihash
        if multihash.code == .identity {
            guard multihash.withUnsafeDigest({ $0.elementsEqual(bytes) }) else {
                throw CARError(.hashMismatch, "block \(cid) does not match its CID")
            }
            return
        }
        guard let algorithm = HashAlgorithm(multihashCode: multihash.code.rawValue),
              multihash.length <= algorithm.digestLength(forInputLength: bytes.count) else {
            throw CARError(.unsupported, "block \(cid) uses a hash Cairn cannot verify (\(multihash.code), \(multihash.length) bytes)")
        }
        guard multihash.withUnsafeDigest({ algorithm.hash(bytes).starts(with: $0) }) else { throw CARError(.hashMismatch, "block \(cid) does not match its CID") }
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
    private var seen = Set<CID>()

    public init(output: Output, format: CARFormat = .v1, placeholderRoot: CID) throws {
        guard output.isSeekable else {
            throw CARError(.invalidUse, "writing a CAR while importing needs a seekable output (a file, not a pipe): the root is only known at the end")
        }
        writer = try CARWriter(output: output, roots: [placeholderRoot], format: format)
    }

    public var wantsBytes: Bool { true }

    public mutating func put(_ cid: CID, _ bytes: BlockBytes) throws {
        guard cid.multihash.code != .identity, seen.insert(cid).inserted else { return }
        try writer.put(cid, bytes)
    }

    /// Writes the real root into the header (and the CARv2 index and header) and flushes.
    @discardableResult
    public mutating func finish(root: CID) throws -> CARWriteSummary {
        try writer.finish(roots: [root])
    }
}
