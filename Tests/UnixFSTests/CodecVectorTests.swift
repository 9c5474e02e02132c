import CairnTestSupport
import Hashing
import Multiformats
import Testing
@testable import UnixFS
@testable import Blocks

/// Worked byte strings of kubo-import-semantics.md §1.3 / §8 (each one ✅ against published CIDs):
/// our encoder must produce them from the logical values, and our decoder must read them back.
@Suite struct CodecVectorTests {
    static func cidV0(of block: [UInt8]) throws -> CID {
        let digest = HashAlgorithm.sha2_256.hash(block)
        return try CID.v0(Multihash(code: .sha2_256, digest: digest.bytes))
    }

    static func cidV1(of block: [UInt8], codec: Multicodec) throws -> CID {
        CID.v1(codec: codec, multihash: try Multihash(code: .sha2_256, digest: HashAlgorithm.sha2_256.hash(block).bytes))
    }

    @Test func helloWorldLeaf() throws {
        let content = Array("hello world\n".utf8)
        let data = UnixFSData(type: .file, data: content, fileSize: UInt64(content.count))
        let block = PBNode(data: data.bytes).bytes
        #expect(Hex.encode(block) == "0a120802120c68656c6c6f20776f726c640a180c")
        #expect(try Self.cidV0(of: block).description == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        let node = try PBNode(decoding: block)
        #expect(node.links.isEmpty)
        #expect(try UnixFSData(decoding: node.data!) == data)
    }

    @Test func emptyFileDirectoryAndSymlink() throws {
        #expect(Hex.encode(UnixFSData.emptyFile.leafBlock) == "0a0408021800")
        #expect(try Self.cidV0(of: UnixFSData.emptyFile.leafBlock).description == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
        #expect(Hex.encode(UnixFSData.directory().leafBlock) == "0a020801")
        #expect(try Self.cidV0(of: UnixFSData.directory().leafBlock).description == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        let link = UnixFSData.symlink(target: Array("foo".utf8)).leafBlock
        #expect(Hex.encode(link) == "0a0708041203666f6f")
        #expect(try Self.cidV0(of: link).description == "QmTB8BaCJdCH5H3k7GrxJsxgDNmNYGGR71C58ERkivXoj5")
    }

    @Test func metadataOnEmptyFile() throws {
        var data = UnixFSData.emptyFile
        data.mode = 0o764
        data.mtime = UnixFSTime(seconds: 1_603_539_720, nanoseconds: 54321)
        let block = data.leafBlock
        #expect(Hex.encode(block) == "0a140802180038f403420b0888a6d0fc051531d40000")
        #expect(try Self.cidV0(of: block).description == "QmUkxrtBA8tPjwCYz1HrsoRfDz6NgKut3asVeHVQNH4C8L")
        #expect(try UnixFSData(decoding: PBNode(decoding: block).data!) == data)
    }

    @Test func internalNodeOfTwoLeaves() throws {
        let hex = "122a0a2212207d3655b5c77d3c0241ab59e1dd0d06a12f67d29513b7379622ecd81c222e77451200188e8010"
            + "12280a2212207ea5134cef6d5176f671769803b58c1dac76d02f05f64e393e5011daaad59acb12001809"
            + "0a0c080218818010208080102001"
        let block = try #require(Hex.decode(hex))
        let node = try PBNode(decoding: block)
        #expect(node.links.count == 2)
        #expect(node.links.map(\.tsize) == [262_158, 9])
        #expect(node.links.allSatisfy { $0.name == [] })
        let data = try UnixFSData(decoding: node.data!)
        #expect(data == UnixFSData.fileNode(blockSizes: [262_144, 1]))
        // Re-encoding from the logical values gives the same bytes, hence the published CID.
        let rebuilt = PBNode(links: node.links, data: UnixFSData.fileNode(blockSizes: [262_144, 1]).bytes).bytes
        #expect(rebuilt == block)
        #expect(try Self.cidV0(of: rebuilt).description == "QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ")
    }

    @Test func cidV1RawLeafLinks() throws {
        let hex = "122c0a24015512200268cb8e7373247d08ea6c0846700eb7b9c8eb58bfecbd921e4252e9e266ec98120018808040"
            + "122a0a24015512204d7b3ef7300acf70c892d8327db8272f54434adbc61a4e130a563cb59a0d0f4712001801"
            + "0a0c080218818040208080402001"
        let block = try #require(Hex.decode(hex))
        let node = try PBNode(decoding: block)
        #expect(node.links.map(\.hash.codec) == [.raw, .raw])
        #expect(node.bytes == block)
        #expect(try Self.cidV1(of: block, codec: .dagPB).description == "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64")
    }

    @Test func encoderSortsLinksByNameBytesStably() throws {
        let a = try CID("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        let b = try CID("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
        let node = PBNode(links: [
            PBLink(hash: a, name: "foo.txt", tsize: 1), PBLink(hash: a, name: "foo", tsize: 2),
            PBLink(hash: b, name: "foo-bar", tsize: 3), PBLink(hash: b, name: "foo", tsize: 4),
        ], data: UnixFSData.directory().bytes)
        let decoded = try PBNode(decoding: node.bytes)
        #expect(decoded.links.map(\.tsize) == [2, 4, 3, 1])
        #expect(decoded.linksAreSorted)
    }

    @Test func zeroLengthBlockIsAnEmptyNode() throws {
        let node = try PBNode(decoding: [UInt8]())
        #expect(node == PBNode(links: [], data: nil))
        // ipld/specs dag-pb.md "Zero-length blocks".
        #expect(try Self.cidV1(of: [], codec: .dagPB).description == "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    }
}
