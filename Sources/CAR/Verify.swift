import Hashing
import Multiformats
import Blocks
import CairnSystem

/// A CID as the verifier remembers it: the SHA-256 of its binary form, 32 bytes instead of the
/// ~104 of a `CID` value (two CIDs share a key only if SHA-256 collides). A CAR of a million
/// tiny blocks keeps a million of these (spec/car.md, "Memory").
struct CIDKey: Hashable, Comparable {
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    static let zero = CIDKey(w0: 0, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) { (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3) }

    static func < (a: CIDKey, b: CIDKey) -> Bool { (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3) }

    /// The SHA-256 of `bytes` (a multihash digest, for the CARv2 index check).
    init(hashing bytes: UnsafeRawBufferPointer) {
        (w0, w1, w2, w3) = HashAlgorithm.sha2_256.hash(bytes).withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
             raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        }
    }

    /// The SHA-256 of the CID's binary form, encoded on the stack (every walk asks this for
    /// each link it meets: no array per ask).
    init(_ cid: CID) {
        self = cid.withEncoded { CIDKey(hashing: $0) }
    }
}

/// What `CARVerifier.verify` checks beyond the per-block hashes (always checked).
public struct CARVerifyOptions: Hashable, Sendable {
    public var read = CARReadOptions()
    /// The header must list at least one root and every root must be in the CAR (go-car's
    /// `car verify` rule). Identity-CID roots count as present.
    public var requireRoots = true
    /// Every block reachable from each root (dag-pb and dag-cbor links; raw and identity are leaves) must be
    /// in the CAR.
    public var checkComplete = false
    /// CARv2: the index must be well formed and agree with the payload: every entry names the
    /// section at its offset, and every non-identity block has an entry.
    public var checkIndex = true
    /// Block keys (32 bytes each) kept in memory before they spill to a temporary file
    /// (`SpillingKeySet`); `CAIRN_TEST_SPILL_KEYS` lowers the default.
    public var keysInMemory = SpillingKeySet.defaultMemoryLimit

    public init() {}
}

/// The outcome of a successful verification.
public struct CARSummary: Hashable, Sendable {
    public var header: CARHeader
    /// Sections read (repeats included).
    public var blockCount: Int
    /// Bytes of block data (excluding CIDs and section prefixes).
    public var blockBytes: UInt64
    /// Distinct CIDs among the blocks.
    public var distinctBlocks: Int
    /// CARv2 index entries checked, nil without an index (or when not checked).
    public var indexEntries: Int?
    /// True when `checkComplete` ran and passed.
    public var complete: Bool
}

/// `car verify` / `dag import` checks in one streaming pass.
///
/// Memory: the read buffer, and bounded spills of what must be remembered: the keys of the
/// distinct blocks and of the visited ones (`SpillingKeySet`), the links of `checkComplete`
/// (`SpillingLinkLists`) and the sections for the CARv2 index check (`SpillingSectionIndex`):
/// metadata only, never block bytes (spec/car.md, "Memory").
public enum CARVerifier {
    /// Verifies a CAR from any source; `onBlock` sees each verified block (borrowed) in file
    /// order, e.g. to store it (`car import`) or list it (`car ls`).
    public static func verify<Source: CARSource>(
        _ source: Source, options: CARVerifyOptions = CARVerifyOptions(),
        onBlock: (CARBlock) throws -> Void = { _ in }
    ) throws -> CARSummary {
        let reader = try CARReader(source: source, options: options.read)
        let header = reader.header
        if options.requireRoots && header.rootList.isEmpty {
            throw CARError(.missingRoot, "the CAR header lists no roots")
        }
        // Each present block's value: 1 + the position of its links in `links` (--complete), or 0.
        let present = SpillingKeySet(memoryLimit: options.keysInMemory)
        let links = SpillingLinkLists(memoryLimit: options.keysInMemory == SpillingKeySet.defaultMemoryLimit
                                      ? SpillingLinkLists.defaultMemoryLimit : max(options.keysInMemory * 40, 64))
        let checkIndex = options.checkIndex && (header.v2?.indexOffset ?? 0) != 0
        let sections = SpillingSectionIndex(memoryLimit: options.keysInMemory)
        var indexRequired = 0
        let fullyIndexed = header.v2?.isFullyIndexed ?? false
        let (blocks, bytes) = try reader.forEachBlock { block in
            let key = CIDKey(block.cid)
            if options.checkComplete && (block.cid.codec == .dagPB || block.cid.codec == .dagCBOR) {
                let found: [CID]
                do throws(CARError) {
                    found = try CARExport.links(of: block.cid, block.bytes)
                } catch {
                    throw CARError(error.code, error.message, offset: block.offset)
                }
                let position = try links.append(found)
                if try !present.insert(key, value: position + 1) { links.removeLast(from: position) }
            } else {
                _ = try present.insert(key)
            }
            if checkIndex {
                try sections.append(offset: block.payloadOffset, multihash: block.cid.multihash)
                if block.cid.multihash.code != .identity || fullyIndexed { indexRequired += 1 }
            }
            try onBlock(block)
        }
        if options.requireRoots {
            try header.rootList.forEachRoot { root in
                guard root.multihash.code != .identity, try !present.contains(CIDKey(root)) else { return }
                throw CARError(.missingRoot, "root \(root) is not in the CAR")
            }
        }
        var indexEntries: Int? = nil
        if checkIndex {
            var matched = 0
            indexEntries = try reader.forEachIndexEntry { entry in
                let result = try entry.digest.withUnsafeBytes { digest in
                    try sections.match(offset: entry.offset, code: entry.code?.rawValue, digest: digest)
                }
                switch result {
                case .noSection:
                    throw CARError(.invalidIndex, "index entry points at payload offset \(entry.offset), where no section starts")
                case .different(let code):
                    let name = Multicodec(rawValue: code).map { "\($0)" } ?? "0x\(String(code, radix: 16))"
                    throw CARError(.invalidIndex, "index entry for payload offset \(entry.offset) does not name the block there (a \(name) multihash)")
                case .matched(let first):
                    if first { matched += 1 }
                }
            }
            if matched < indexRequired {
                throw CARError(.invalidIndex, "\(indexRequired - matched) of \(indexRequired) blocks are missing from the index")
            }
        }
        if options.checkComplete {
            try checkCompleteness(roots: header.rootList, present: present, links: links, keysInMemory: options.keysInMemory)
        }
        return CARSummary(header: header, blockCount: blocks, blockBytes: bytes, distinctBlocks: present.count,
                          indexEntries: indexEntries, complete: options.checkComplete)
    }

    /// Verifies the CAR file at `path` (`-` = standard input).
    public static func verify(
        path: String, options: CARVerifyOptions = CARVerifyOptions(),
        onBlock: (CARBlock) throws -> Void = { _ in }
    ) throws -> CARSummary {
        try verify(try CARFileSource(path: path), options: options, onBlock: onBlock)
    }

    static func checkCompleteness(roots: CARRoots, present: SpillingKeySet, links: SpillingLinkLists,
                                  keysInMemory: Int) throws {
        let visited = SpillingKeySet(memoryLimit: keysInMemory)
        try roots.forEachRoot { root in
            var stack = [root]
            while let cid = stack.popLast() {
                let key = CIDKey(cid)
                guard try visited.insert(key) else { continue }
                if visited.count & 4095 == 0 { try CancellationToken.process.check() }
                if cid.multihash.code == .identity {
                    // Never in a CAR: what it links to must be (links are stored expanded, so only a root gets here).
                    stack.append(contentsOf: try CARExport.expanded([cid]).reversed())
                    continue
                }
                guard let value = try present.value(for: key) else {
                    throw CARError(.incompleteDAG, "the DAG under root \(root) is incomplete: block \(cid) is missing")
                }
                switch cid.codec {
                case .raw: continue
                case .dagPB, .dagCBOR:
                    if value > 0 { stack.append(contentsOf: try links.links(at: value - 1).reversed()) }
                default:
                    throw CARError(.unsupported, "cannot check completeness under block \(cid): Cairn follows links of dag-pb and dag-cbor only, not \(cid.codec)")
                }
            }
        }
    }
}
