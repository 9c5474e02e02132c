@testable import BlockStore
import Blocks
import CairnTestSupport
import Engine
import Foundation
import Multiformats
import Testing
import UnixFS

/// `PinVerifier` (spec/engine.md §5, Kubo's `ipfs pin verify`): each recursive pin's DAG
/// walked with every block verified; a pin lists each bad block under it once.
@Suite struct PinVerifierTests {
    /// A file of `count` 1 KiB chunks (distinct bytes per `seed`) and a directory holding it.
    static func tree(seed: UInt8, count: Int = 40) throws -> (file: CID, directory: CID, leaves: [CID], blocks: [Block]) {
        let bytes = (0..<(count * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ $0 >> 10) }
        let (file, blocks) = try importFile(bytes, flags: ["--chunker=size-1024", "--raw-leaves"])
        let leaves = blocks.filter { $0.cid.codec == .raw }.map(\.cid)
        let directory = try dagNode(UnixFSData.directory(mode: nil, mtime: nil), links: [("f-\(seed)", file)])
        return (file, directory.cid, leaves, blocks + [directory])
    }

    static func results(_ verifier: PinVerifier, _ roots: [CID]) throws -> [PinVerification] {
        var results: [PinVerification] = []
        try verifier.verify(roots) { results.append($0) }
        return results
    }

    @Test func missingAndCorruptBlocksBreakEveryPinAboveThem() throws {
        let directory = try makeTemporaryDirectory("pin-verify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try BlockStore(path: directory.path + "/store")
        let tree = try Self.tree(seed: 1)
        _ = try store.putMany(tree.blocks)
        let verifier = PinVerifier(blocks: store)
        #expect(try Self.results(verifier, [tree.directory, tree.file]).map(\.isComplete) == [true, true])

        // One leaf removed, another with bytes changed in its pack.
        let missing = tree.leaves[3], corrupt = tree.leaves[17]
        try store.write { writer in _ = try writer.delete(missing, force: true) }
        let location = try #require(try store.location(of: corrupt))
        let pack = try FileHandle(forWritingTo: URL(fileURLWithPath: store.layout.packPath(location.pack)))
        try pack.seek(toOffset: UInt64(location.offset))
        try pack.write(contentsOf: Data([UInt8](repeating: 0x5a, count: 8)))
        try pack.close()

        // Both pins reach both blocks: each lists them, once, in walk order (the file's links).
        let results = try Self.results(verifier, [tree.directory, tree.file, tree.directory])
        #expect(results.map(\.root) == [tree.directory, tree.file])
        for result in results {
            #expect(!result.isComplete)
            #expect(result.badNodes.map(\.cid) == [missing, corrupt])
            #expect(result.badNodes.first?.error == "block not found in the store")
            #expect(result.badNodes.last?.error == "block \(corrupt) is corrupt: its bytes at \(location) do not hash to its CID")
        }
    }

    /// A subtree found complete under one pin is not read again under the next (the versions of
    /// one cache share most blocks); a bad subtree is walked for each pin that reaches it.
    @Test func completeSubtreesAreReadOnce() throws {
        let shared = try Self.tree(seed: 2)
        let other = try Self.tree(seed: 3)
        let first = try dagNode(UnixFSData.directory(mode: nil, mtime: nil), links: [("a", shared.file), ("b", other.file)])
        let second = try dagNode(UnixFSData.directory(mode: nil, mtime: nil), links: [("a", shared.file)])
        let blocks = MemoryBlocks(shared.blocks + other.blocks + [first, second])
        let results = try Self.results(PinVerifier(blocks: blocks), [first.cid, second.cid])
        #expect(results.allSatisfy { $0.isComplete })
        #expect(blocks.requested.count == Set(blocks.requested).count, "a block was read twice")
        // Every block of both files and the two roots (not the trees' own directories).
        let reachable = (shared.blocks + other.blocks).map(\.cid).filter { $0 != shared.directory && $0 != other.directory }
        #expect(Set(blocks.requested) == Set(reachable + [first.cid, second.cid]))

        // Without one leaf of the shared file, both pins are broken and both name it.
        let gap = MemoryBlocks((shared.blocks + other.blocks + [first, second]).filter { $0.cid != shared.leaves[0] })
        let broken = try Self.results(PinVerifier(blocks: gap), [first.cid, second.cid])
        #expect(broken.map { $0.badNodes.map(\.cid) } == [[shared.leaves[0]], [shared.leaves[0]]])
    }

    /// A block that does not decode is bad and its links are not followed; a root that is
    /// missing is the pin's one bad block.
    @Test func undecodableAndMissingRoots() throws {
        let leaf = try rawBlock(Array("leaf".utf8))
        let garbage: [UInt8] = [0x12, 0xff, 0xff]  // a dag-pb link field whose length runs past the end
        let multihash = try Multihash(code: .sha2_256, digest: sha256(garbage))
        let bad = Block(cid: CID.v1(codec: .dagPB, multihash: multihash), bytes: garbage)
        let parent = try dagNode(UnixFSData.directory(mode: nil, mtime: nil), links: [("bad", bad.cid), ("leaf", leaf.cid)])
        let absent = try rawBlock(Array("absent".utf8))
        let results = try Self.results(PinVerifier(blocks: MemoryBlocks([leaf, bad, parent])), [parent.cid, absent.cid])
        #expect(results.map { $0.badNodes.map(\.cid) } == [[bad.cid], [absent.cid]])
        // The decoder's own words for that block.
        var decodeError: BlockError?
        do { _ = try links(of: bad.cid, garbage) } catch { decodeError = error }
        let expected = try #require(decodeError).message
        #expect(results[0].badNodes[0].error == expected)
        #expect(results[1].badNodes[0].error == "block not found in the store")
    }
}
