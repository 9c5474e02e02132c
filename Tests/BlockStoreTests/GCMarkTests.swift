import Foundation
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks
@testable import BlockStore

/// GC's mark runs on disk (a scratch SQLite table) with a bounded in-memory frontier.
@Suite struct GCMarkTests {
    /// Block `i` of the test DAG: 8 little-endian bytes of `i` plus a tag, so all differ.
    private static func leaf(_ i: Int) throws -> Block {
        var bytes = [UInt8](repeating: 0x5A, count: 9)
        for k in 0..<8 { bytes[k] = UInt8(truncatingIfNeeded: i >> (8 * k)) }
        return try rawBlock(bytes)
    }

    @Test func gcOfManyTinyBlocksKeepsExactlyTheReachableOnes() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        // 200 000 raw leaves: the first 100 000 in 1 000 groups of 100 under a dag-pb node
        // each, the other 100 000 loose.
        let groups = 1_000, perGroup = 100, loose = 100_000
        var leaves: [CID] = []
        var groupNodes: [CID] = []
        try temp.store.write { writer in
            for i in 0..<(groups * perGroup + loose) {
                let block = try Self.leaf(i)
                try writer.put(block, verify: false)
                leaves.append(block.cid)
            }
            for g in 0..<groups {
                let links = (0..<perGroup).map { (name: String(format: "%03d", $0), cid: leaves[g * perGroup + $0]) }
                let node = try dagNode(UnixFSData(type: .file), links: links)
                try writer.put(node, verify: false)
                groupNodes.append(node.cid)
            }
        }
        // Pins: a root over every even group (group 0 linked twice), recursive; every group
        // g ≡ 1 (mod 6) pinned directly (the node only); loose leaves 0, 7, 14, … pinned
        // directly; one unpinned node over odd groups (must go, with what only it reaches).
        let evenGroups = stride(from: 0, to: groups, by: 2).map { $0 }
        var rootLinks = evenGroups.map { (name: "g\($0)", cid: groupNodes[$0]) }
        rootLinks.append((name: "again", cid: groupNodes[0]))
        let root = try dagNode(UnixFSData(type: .file), links: rootLinks)
        let orphan = try dagNode(UnixFSData(type: .file),
                                 links: stride(from: 1, to: groups, by: 2).map { (name: "g\($0)", cid: groupNodes[$0]) })
        let directGroups = stride(from: 1, to: groups, by: 6).map { $0 }
        let directLoose = stride(from: 0, to: loose, by: 7).map { $0 }

        var expected = Set<Multihash>()
        expected.insert(root.cid.multihash)
        for g in evenGroups {
            expected.insert(groupNodes[g].multihash)
            for k in 0..<perGroup { expected.insert(leaves[g * perGroup + k].multihash) }
        }
        for g in directGroups { expected.insert(groupNodes[g].multihash) }
        for i in directLoose { expected.insert(leaves[groups * perGroup + i].multihash) }

        let store = temp.store
        let report = try store.write { writer in
            try writer.put(root, verify: true)
            try writer.put(orphan, verify: true)
            try writer.pin(root.cid, recursive: true, name: "root")
            for g in directGroups { try writer.pin(groupNodes[g], recursive: false) }
            try writer.commit(pinningAll: directLoose.map { leaves[groups * perGroup + $0] }, recursive: false)
            // The root has 501 links: with a frontier of 64 in memory the rest must spill.
            writer.markFrontierLimit = 64
            let report = try writer.collectGarbage()
            let mark = try #require(writer.lastMark)
            #expect(mark.markedRows == expected.count)
            #expect(mark.peakFrontierInMemory <= 65)
            #expect(mark.spilledFrontier > 0)
            return report
        }
        let total = groups * perGroup + loose + groups + 2
        #expect(report.liveBlocks == expected.count)
        #expect(report.removedBlocks == total - expected.count)
        var kept = Set<Multihash>()
        try store.list { cid, _ in kept.insert(cid.multihash) }
        #expect(kept == expected)
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/gc-mark.sqlite"))
        #expect(try store.verify().isClean)
    }

    /// Several blocks at once, one walk of the pins: each removed, absent or refused, in
    /// order, as one block at a time would answer; the refused and absent ones stop nothing.
    @Test func deletingSeveralBlocksAnswersEachAsOneAtATimeWould() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let a = try Self.leaf(11), b = try Self.leaf(12), c = try Self.leaf(13), d = try Self.leaf(14), absent = try Self.leaf(15)
        let inner = try dagNode(UnixFSData(type: .file), links: [(name: "a", cid: a.cid)])
        let outer = try dagNode(UnixFSData(type: .file), links: [(name: "i", cid: inner.cid)])
        try temp.store.putMany([a, b, c, d, inner, outer])
        let identity = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: [1, 2, 3]))
        try temp.store.write { writer in
            try writer.pin(outer.cid, name: "top")
            try writer.pin(d.cid, recursive: false, name: nil)
            let outcomes = try writer.delete([a.cid, b.cid, d.cid, absent.cid, c.cid, b.cid, identity, inner.cid])
            #expect(outcomes.count == 8)
            #expect(outcomes[0] == .pinned("block \(a.cid) is pinned (directly or under a recursive pin); unpin it first"))
            #expect(outcomes[1] == .removed)
            #expect(outcomes[2] == .pinned("block \(d.cid) is pinned (directly or under a recursive pin); unpin it first"))
            #expect(outcomes[3] == .absent)
            #expect(outcomes[4] == .removed)
            #expect(outcomes[5] == .absent)  // removed just before
            #expect(outcomes[6] == .absent)
            if case .pinned = outcomes[7] {} else { Issue.record("the pinned DAG's inner node: \(outcomes[7])") }
            #expect(try writer.delete([a.cid, d.cid], force: true) == [.removed, .removed])
        }
        #expect(try !temp.store.has(b.cid) && !temp.store.has(c.cid) && temp.store.has(inner.cid))
    }

    @Test func deleteRefusesABlockDeepUnderARecursivePinAndAMissingPinnedBlockStopsGC() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let a = try Self.leaf(1), b = try Self.leaf(2), c = try Self.leaf(3)
        let inner = try dagNode(UnixFSData(type: .file), links: [(name: "a", cid: a.cid)])
        let outer = try dagNode(UnixFSData(type: .file), links: [(name: "i", cid: inner.cid), (name: "b", cid: b.cid)])
        try temp.store.putMany([a, b, c, inner, outer])
        try temp.store.write { writer in
            try writer.pin(outer.cid, name: "top")
            let refused = #expect(throws: BlockStoreError.self) { try writer.delete(a.cid) }
            #expect(refused?.code == .refused)
            #expect(try writer.delete(c.cid))
            // Unpinned leaf deleted under a pinned DAG: GC must stop before removing anything.
            #expect(try writer.delete(b.cid, force: true))
            try writer.put(c, verify: true)
            let missing = #expect(throws: BlockStoreError.self) { try writer.collectGarbage() }
            #expect(missing?.code == .notFound)
            #expect(missing?.message.contains(b.cid.description) == true)
        }
        #expect(try temp.store.has(c.cid))
        #expect(try temp.store.has(a.cid))
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/gc-mark.sqlite"))
    }
}
