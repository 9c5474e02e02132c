import CairnTestSupport
import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks
@testable import BlockStore
import Engine

/// Issue 15, item 8: a DAG that links to itself (possible only through truncated digests, which
/// an older store may hold) must end every walk with a clear error, never spin or grow. The
/// blocks are crafted with the project's encoders; a 1-byte sha2-256 digest is found by trying
/// variants of the node until the first byte of its hash equals the digest it links to.
@Suite struct DAGCycleTests {
    /// A dag-pb block whose CID has a 1-byte sha2-256 digest, made by `encode(digest, salt)`
    /// for the first (digest, salt) where the block's hash starts with `digest`.
    static func selfLinked(_ encode: (CID, UInt64) -> [UInt8]) throws -> Block {
        for salt: UInt64 in 0..<64 {
            for digest in 0...255 {
                let cid = CID.v1(codec: .dagPB, multihash: try Multihash(code: .sha2_256, digest: [UInt8(digest)]))
                let bytes = encode(cid, salt)
                if HashAlgorithm.sha2_256.hash(bytes).bytes[0] == UInt8(digest) { return Block(cid: cid, bytes: bytes) }
            }
        }
        throw CocoaError(.featureUnsupported)
    }

    static func dagPB(_ node: PBNode) throws -> Block {
        let bytes = node.bytes
        return Block(cid: CID.v1(codec: .dagPB, multihash: try Multihash(code: .sha2_256, digest: HashAlgorithm.sha2_256.hash(bytes).bytes)), bytes: bytes)
    }

    /// A file node that is its own only child (the reproduction), below a secure root.
    static func fileCycle() throws -> (root: CID, blocks: [Block]) {
        let loop = try selfLinked { cid, salt in
            PBNode(links: [PBLink(hash: cid, name: nil, tsize: 10 + salt)], data: UnixFSData.fileNode(blockSizes: [5]).bytes).bytes
        }
        let root = try dagPB(PBNode(links: [PBLink(hash: loop.cid, name: nil, tsize: 10)], data: UnixFSData.fileNode(blockSizes: [5]).bytes))
        return (root.cid, [loop, root])
    }

    /// A HAMT shard linking to itself twice (each visit would double the work), below a
    /// secure root shard.
    static func shardCycle() throws -> (root: CID, blocks: [Block]) {
        let data = UnixFSData.hamtShard(bitfield: [0xC0], fanout: 256).bytes
        let loop = try selfLinked { cid, salt in
            var node = PBNode(links: [PBLink(hash: cid, name: "FE", tsize: salt), PBLink(hash: cid, name: "FF", tsize: salt)], data: data)
            node.sortLinks()
            return node.bytes
        }
        let root = try dagPB(PBNode(links: [PBLink(hash: loop.cid, name: "00", tsize: 1)], data: UnixFSData.hamtShard(bitfield: [0x01], fanout: 256).bytes))
        return (root.cid, [loop, root])
    }

    /// A store holding `blocks` as an older Cairn could have written them.
    static func store(_ blocks: [Block]) throws -> TemporaryStore {
        let temporary = try TemporaryStore()
        for block in blocks { try temporary.store.put(block) }
        return temporary
    }

    /// A HAMT shard whose hash function is not murmur3-x64-64 (0x22) cannot be read by name
    /// (boxo refuses it: "only murmur3 supported"): listing it is an error naming the function,
    /// and `get` of it writes nothing.
    @Test func hamtOfAnotherHashFunctionIsRefused() throws {
        let file = try Self.dagPB(PBNode(links: [], data: UnixFSData.fileNode(blockSizes: []).bytes))
        var node = PBNode(links: [PBLink(hash: file.cid, name: "A1name", tsize: 10)],
                          data: UnixFSData.hamtShard(bitfield: [0x01], fanout: 256, hashType: 0x23).bytes)
        node.sortLinks()
        let root = try Self.dagPB(node)
        let temporary = try Self.store([file, root])
        defer { temporary.cleanup() }
        #expect {
            try UnixFSReader(store: temporary.store).forEachEntry(ofDirectory: root.cid) { _ in }
        } throws: { error in
            String(describing: error).contains("uses hash function 0x23")
        }
        let out = temporary.path + "-out"
        let get = try CairnProcess.run(["get", "--store", temporary.path, root.cid.description, "-o", out])
        #expect(get.status == 1 && get.stderr.contains("only murmur3-x64-64 (0x22) is supported"), "\(get.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func selfLinkedFileNodeIsAnErrorNotAHang() throws {
        let (root, blocks) = try Self.fileCycle()
        let temporary = try Self.store(blocks)
        defer { temporary.cleanup() }
        let reader = UnixFSReader(store: temporary.store)
        #expect {
            try reader.readFile(root) { _ in }
        } throws: { error in
            String(describing: error).contains("cycle")
        }
        // Through the CLI: one line, status 1, nothing written by get.
        let cat = try CairnProcess.run(["cat", "--store", temporary.path, root.description])
        #expect(cat.status == 1 && cat.stderr.contains("cycle") && cat.stderr.split(separator: "\n").count == 1, "\(cat.stderr)")
        let out = temporary.path + "-out"
        let get = try CairnProcess.run(["get", "--store", temporary.path, root.description, "-o", out])
        #expect(get.status == 1 && get.stderr.contains("cycle"), "\(get.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // The looping block's own CID is refused as an argument (Kubo's rules, CIDSecurity).
        let insecure = try CairnProcess.run(["cat", "--store", temporary.path, blocks[0].cid.description])
        #expect(insecure.status == 1 && insecure.stderr.contains("digest too small"), "\(insecure.stderr)")
    }

    @Test func selfLinkedHAMTShardIsAnErrorNotUnboundedGrowth() throws {
        let (root, blocks) = try Self.shardCycle()
        let temporary = try Self.store(blocks)
        defer { temporary.cleanup() }
        let reader = UnixFSReader(store: temporary.store)
        #expect {
            try reader.forEachEntry(ofDirectory: root) { _ in }
        } throws: { error in
            String(describing: error).contains("cycle")
        }
        let out = temporary.path + "-out"
        let get = try CairnProcess.run(["get", "--store", temporary.path, root.description, "-o", out])
        #expect(get.status == 1 && get.stderr.contains("cycle") && get.stderr.split(separator: "\n").count == 1, "\(get.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A directory that contains itself through a truncated digest: `get` stops with an error.
    @Test func directoryContainingItselfIsAnError() throws {
        let loop = try Self.selfLinked { cid, salt in
            PBNode(links: [PBLink(hash: cid, name: "again\(salt)", tsize: 1)], data: UnixFSData.directory().bytes).bytes
        }
        let root = try Self.dagPB(PBNode(links: [PBLink(hash: loop.cid, name: "loop", tsize: 1)], data: UnixFSData.directory().bytes))
        let temporary = try Self.store([loop, root])
        defer { temporary.cleanup() }
        let out = temporary.path + "-out"
        let get = try CairnProcess.run(["get", "--store", temporary.path, root.cid.description, "-o", out])
        #expect(get.status == 1 && get.stderr.contains("cycle"), "\(get.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
