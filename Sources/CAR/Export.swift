import Hashing
public import Multiformats
public import UnixFS

/// Bridges to a block store (which lands separately): export a DAG from a block getter, import
/// a CAR into a block putter. The CLI glue (`cairn car export/import`) waits for the store.
public enum CARExport {
    /// Writes the DAGs under `roots` to `writer` in depth-first pre-order (a node, then each
    /// child subtree in link order), each block once: the order of go-car's and Kubo's
    /// `dag export`. dag-pb links are followed; raw blocks end the walk; identity CIDs are not
    /// written (their CID holds the data). Every block the getter returns is verified against
    /// its CID first. Another codec is an error (its links cannot be followed).
    ///
    /// Memory: one CID per distinct block visited (the no-duplicates set) plus the DFS stack.
    public static func exportDAG<Output: CAROutput>(
        roots: [CID], into writer: inout CARWriter<Output>,
        getBlock: (CID) throws -> [UInt8]
    ) throws {
        var seen = Set<CID>()
        var stack = Array(roots.reversed())
        while let cid = stack.popLast() {
            try Task.checkCancellation()
            guard seen.insert(cid).inserted else { continue }
            if cid.multihash.code == .identity { continue }
            switch cid.codec {
            case .dagPB, .raw: break
            default:
                throw CARError(.unsupported, "cannot export block \(cid): Cairn follows links of dag-pb only, not \(cid.codec)")
            }
            let bytes = try getBlock(cid)
            try bytes.withUnsafeBytes { (raw) throws in
                try CARBlockCheck.verify(cid, raw)
                try writer.put(cid, raw)
                if cid.codec == .dagPB {
                    let node: PBNode
                    do {
                        node = try PBNode(decoding: raw, requireSortedLinks: false)
                    } catch {
                        throw CARError(.invalidSection, "block \(cid) is not valid dag-pb: \(error)")
                    }
                    for link in node.links.reversed() where !seen.contains(link.hash) {
                        stack.append(link.hash)
                    }
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
        let digest = algorithm.hash(bytes)
        let same = digest.withUnsafeBytes { computed in
            multihash.withUnsafeDigest { expected in computed.prefix(expected.count).elementsEqual(expected) }
        }
        guard same else { throw CARError(.hashMismatch, "block \(cid) does not match its CID") }
    }
}

/// A `BlockSink` that streams the import pipeline's blocks into a CAR (`cairn add --car`,
/// `cairn car create`), without a store.
///
/// * Order: the pipeline's (children before parents, root last), each block once (repeats
///   are dropped; identity CIDs are not written).
/// * Root: unknown until the import ends. The header is written with a placeholder root of
///   the same binary length as the real one (`placeholderRoot(for:)`), and `finish(root:)`
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

    /// A root of the shape the import will produce (all-zero digest): a CIDv0 or a dag-pb
    /// CIDv1 with the parameters' hash. Raw-leaf roots (single-chunk files) have the same length.
    public static func placeholderRoot(for parameters: ImportParameters) -> CID {
        let length = parameters.hashAlgorithm.digestLength ?? 32
        let zeros = [UInt8](repeating: 0, count: length)
        let code = Multicodec(rawValue: parameters.hashAlgorithm.multihashCode)!
        let multihash = try! Multihash(code: code, digest: zeros)
        if parameters.cidVersion == .v0, let v0 = try? CID.v0(multihash) { return v0 }
        return CID.v1(codec: .dagPB, multihash: multihash)
    }
}
