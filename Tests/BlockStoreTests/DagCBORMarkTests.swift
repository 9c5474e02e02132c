import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks
@testable import BlockStore

/// GC's mark follows dag-cbor links (tag 42 around `0x00 ‖ CID`, built here by hand).
@Suite struct DagCBORMarkTests {
    static func cborLink(_ cid: CID) -> [UInt8] {
        let payload = [0x00] + cid.bytes
        precondition(payload.count < 256)
        return [0xd8, 0x2a, 0x58, UInt8(payload.count)] + payload
    }

    static func cborBlock(_ bytes: [UInt8]) throws -> Block {
        let multihash = try Multihash(code: .sha2_256, digest: HashAlgorithm.sha2_256.hash(bytes).bytes)
        return Block(cid: CID.v1(codec: .dagCBOR, multihash: multihash), bytes: bytes)
    }

    @Test func gcKeepsWhatADagCBORPinReaches() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let leaf = try rawBlock(Array("raw leaf".utf8))
        let child = try rawBlock(Array("child of the dag-pb node".utf8))
        let node = try dagNode(UnixFSData(type: .file), links: [(name: "", cid: child.cid)])
        let unrelated = try rawBlock(Array("nobody links here".utf8))
        // {"a": leaf, "b": [1, node (as CIDv1)], "c": "text"} and a dag-cbor block under it.
        let inner = try Self.cborBlock([0x81] + Self.cborLink(leaf.cid))
        var rootBytes: [UInt8] = [0xa4, 0x61, 0x61] + Self.cborLink(leaf.cid)
        rootBytes += [0x61, 0x62, 0x82, 0x01] + Self.cborLink(node.cid.toV1())
        rootBytes += [0x61, 0x63, 0x64] + Array("text".utf8)
        rootBytes += [0x61, 0x64] + Self.cborLink(inner.cid)
        let root = try Self.cborBlock(rootBytes)
        let report = try temp.store.write { writer in
            for block in [leaf, child, node, unrelated, inner, root] {
                try writer.put(block, verify: true)
            }
            try writer.pin(root.cid, recursive: true)
            return try writer.collectGarbage()
        }
        #expect(report.removedBlocks == 1)
        var kept = Set<Multihash>()
        try temp.store.list { cid, _ in kept.insert(cid.multihash) }
        #expect(kept == Set([leaf, child, node, inner, root].map(\.cid.multihash)))
    }

    @Test func pinOfADagCBORRootNeedsItsLinkedBlocks() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let missing = try rawBlock(Array("never stored".utf8))
        let root = try Self.cborBlock([0x82, 0x00] + Self.cborLink(missing.cid))
        #expect(throws: BlockStoreError.self) {
            try temp.store.write { writer in
                try writer.put(root, verify: true)
                try writer.pin(root.cid, recursive: true)
            }
        }
    }

    /// A pinned dag-cbor block that is not valid dag-cbor stops GC before anything is removed.
    @Test func malformedPinnedDagCBORAbortsGC() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let loose = try rawBlock(Array("loose".utf8))
        let bad = try Self.cborBlock([0x9f, 0x01, 0xff])  // indefinite-length array
        do {
            try temp.store.write { writer in
                try writer.put(loose, verify: true)
                try writer.put(bad, verify: true)
                try writer.commit(pinning: bad.cid, recursive: true, checkDAG: false)
                _ = try writer.collectGarbage()
            }
            Issue.record("GC accepted a malformed dag-cbor pin")
        } catch {
            #expect("\(error)".contains("not valid dag-cbor"), "\(error)")
            #expect("\(error)".contains("indefinite length"), "\(error)")
        }
        var kept = 0
        try temp.store.list { _, _ in kept += 1 }
        #expect(kept == 2)
    }
}
