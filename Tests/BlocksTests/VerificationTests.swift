import Blocks
import CairnTestSupport
import Hashing
import Multiformats
import Testing

/// The block layer's verifier and link walker against the importer listings of
/// `shared/vectors/blocks/` (CIDs and bytes from the boxo v0.42 importer, each re-hashed by the
/// vectors' author).
@Suite struct VerificationTests {
    struct ListedBlock {
        var cid: CID
        var bytes: [UInt8]
    }

    /// Root CID and the distinct blocks of a listing, in store order (leaves with bytes left
    /// out, `-`, are skipped).
    static func listing(_ name: String) throws -> (root: CID, blocks: [ListedBlock]) {
        let lines = try Vectors.text("blocks/\(name).txt").split(separator: "\n")
        let root = try CID(lines[0])
        var blocks: [ListedBlock] = []
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ")
            if fields.count == 3 && fields[2] == "-" { continue }
            let bytes = fields.count == 3 ? try #require(Hex.decode(fields[2])) : []
            #expect(bytes.count == Int(fields[1]))
            blocks.append(ListedBlock(cid: try CID(fields[0]), bytes: bytes))
        }
        return (root, blocks)
    }

    static let listings = ["sm1_262145.default", "sm1_262145.raw-leaves_cid-version-1", "sm1_4096.trickle",
                           "sm1_1048577.trickle_chunker-size-1000", "sm1_0.default", "sm1_0.cid-version-1"]

    @Test(arguments: listings)
    func everyListedBlockVerifiesAndAFlippedByteDoesNot(name: String) throws {
        let (_, blocks) = try Self.listing(name)
        #expect(!blocks.isEmpty)
        for block in blocks {
            let verdict = block.bytes.withUnsafeBytes { BlockVerifier.verdict(block.cid, $0) }
            #expect(verdict == .valid, "\(block.cid)")
            guard !block.bytes.isEmpty else { continue }
            var damaged = block.bytes
            damaged[damaged.count / 2] ^= 0x01
            #expect(damaged.withUnsafeBytes { BlockVerifier.verdict(block.cid, $0) } == .mismatch, "\(block.cid)")
        }
    }

    @Test(arguments: listings)
    func batchesGiveTheSingleBlockVerdicts(name: String) throws {
        var (_, blocks) = try Self.listing(name)
        // Damage every third non-empty block: exactly those must be reported.
        var damagedIndices: Set<Int> = []
        for index in blocks.indices where index % 3 == 1 && !blocks[index].bytes.isEmpty {
            blocks[index].bytes[0] ^= 0x80
            damagedIndices.insert(index)
        }
        var verifier = BlockVerifier(threads: 2)
        var verdicts: [BlockVerdict] = []
        let buffers = blocks.map { $0.bytes }
        withExtendedLifetime(buffers) {
            let pointers = buffers.map { bytes in
                bytes.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
            }
            verifier.check(count: blocks.count, into: &verdicts) { (blocks[$0].cid, BlockBytes(pointers[$0])) }
        }
        #expect(verdicts.count == blocks.count)
        for index in blocks.indices {
            #expect(verdicts[index] == (damagedIndices.contains(index) ? .mismatch : .valid), "block \(index)")
        }
    }

    @Test func threeSegmentBlocksVerifyAsTheirConcatenation() throws {
        let (_, blocks) = try Self.listing("sm1_262145.default")
        let leaf = try #require(blocks.first { $0.bytes.count > 100 })
        leaf.bytes.withUnsafeBytes { raw in
            let bytes = BlockBytes(prefix: UnsafeRawBufferPointer(rebasing: raw[0..<7]),
                                   body: UnsafeRawBufferPointer(rebasing: raw[7..<(raw.count - 3)]),
                                   suffix: UnsafeRawBufferPointer(rebasing: raw[(raw.count - 3)...]))
            #expect(BlockVerifier.verdict(leaf.cid, bytes) == .valid)
            #expect(bytes.array == leaf.bytes)
        }
    }

    /// The root of a two-leaf file links to its two leaves, in order: the listing stores the
    /// leaves first, then the root.
    @Test func rootLinksAreTheListedLeaves() throws {
        let (root, blocks) = try Self.listing("sm1_262145.default")
        let rootBlock = try #require(blocks.last)
        #expect(rootBlock.cid == root)
        let linked = try links(of: root, rootBlock.bytes)
        #expect(linked == blocks.dropLast().map(\.cid))
        #expect(linked.count == 2)
        // A raw leaf has no links, whatever its bytes.
        let (_, rawBlocks) = try Self.listing("sm1_262145.raw-leaves_cid-version-1")
        let rawLeaf = try #require(rawBlocks.first { $0.cid.codec == .raw })
        #expect(try links(of: rawLeaf.cid, rawLeaf.bytes).isEmpty)
    }

    @Test func undecodableLinkedBlocksAreRefused() throws {
        let (root, _) = try Self.listing("sm1_262145.default")
        // 0x0a 0xff: a Data field whose length runs past the end (spec/unixfs.md, dag-pb).
        #expect(throws: BlockError.self) { try links(of: root, [0x0a, 0xff]) }
        let cbor = CID.v1(codec: .dagCBOR, multihash: root.multihash)
        // 0x1f: a reserved additional-info value (RFC 8949 §3).
        #expect(throws: BlockError.self) { try links(of: cbor, [0x1f]) }
    }

    /// Identity CIDs: the digest is the block itself, so a longer block with the digest as a
    /// prefix is a mismatch (a prefix comparison would take it).
    @Test func identityBlocksMustEqualTheirDigest() throws {
        let abc: [UInt8] = Array("abc".utf8)
        let cid = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: abc))
        #expect(abc.withUnsafeBytes { BlockVerifier.verdict(cid, $0) } == .valid)
        let longer: [UInt8] = Array("abcd".utf8)
        #expect(longer.withUnsafeBytes { BlockVerifier.verdict(cid, $0) } == .mismatch)
    }

    /// md5 (multicodec 0xd5) is not a function Cairn computes: never `.valid`.
    @Test func unknownHashFunctionsAreUnsupported() throws {
        let md5 = try #require(Multicodec(rawValue: 0xd5))
        let cid = CID.v1(codec: .raw, multihash: try Multihash(code: md5, digest: [UInt8](repeating: 0, count: 16)))
        #expect([UInt8]().withUnsafeBytes { BlockVerifier.verdict(cid, $0) } == .unsupported)
        #expect(throws: BlockError.self) { try [UInt8]().withUnsafeBytes { try BlockVerifier.verify(cid, $0) } }
    }
}
