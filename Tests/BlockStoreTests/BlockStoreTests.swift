import CairnTestSupport
import Foundation
import GRDB
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks
@testable import BlockStore

@Suite("Block store: put, get, has, delete, verify")
struct BlockStoreCoreTests {
    @Test func putGetRoundTripAndDuplicateCostsNoWrite() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 1, count: 50, size: 300)
        #expect(try temp.store.putMany(blocks) == 50)
        let sizeAfterFirst = try fileSize(temp.path + "/packs/" + temp.packFiles()[0])
        // Everything already present: no new bytes anywhere.
        #expect(try temp.store.putMany(blocks) == 0)
        #expect(try temp.store.put(blocks[7]) == false)
        #expect(try fileSize(temp.path + "/packs/" + temp.packFiles()[0]) == sizeAfterFirst)
        let reopened = try temp.reopen()
        for block in blocks {
            #expect(try reopened.get(block.cid) == block.bytes)
            #expect(try reopened.size(of: block.cid) == block.bytes.count)
        }
        let stat = try reopened.stat()
        #expect(stat.blocks == 50)
        #expect(stat.blockBytes == 50 * 300)
        #expect(stat.packs == 1)
    }

    @Test func hasAndHasManyAnswerInInputOrder() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let stored = try randomBlocks(seed: 2, count: 20)
        let absent = try randomBlocks(seed: 3, count: 20)
        try temp.store.putMany(stored)
        var cids: [CID] = []
        var expected: [Bool] = []
        for i in 0..<20 {
            cids.append(absent[i].cid); expected.append(false)
            cids.append(stored[i].cid); expected.append(true)
        }
        #expect(try temp.store.hasMany(cids) == expected)
        #expect(try temp.store.has(stored[3].cid))
        #expect(try !temp.store.has(absent[3].cid))
        #expect(try temp.store.getIfPresent(absent[0].cid) == nil)
        #expect(throws: BlockStoreError.self) { try temp.store.get(absent[0].cid) }
    }

    @Test func identityBlocksAreNeverStored() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let payload = Array("tiny".utf8)
        let cid = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: payload))
        #expect(try temp.store.put(Block(cid: cid, bytes: payload)) == false)
        #expect(try temp.store.stat().blocks == 0)
        #expect(try temp.store.has(cid))
        #expect(try temp.store.get(cid) == payload)
    }

    @Test func bytesThatDoNotMatchTheirCIDAreRefused() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let block = try rawBlock(Array("hello".utf8))
        let error = #expect(throws: BlockStoreError.self) { try temp.store.put(Block(cid: block.cid, bytes: Array("hellO".utf8))) }
        #expect(error?.code == .invalidInput)
        #expect(try temp.store.stat().blocks == 0)
    }

    @Test func otherHashFunctionsRoundTrip() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        for algorithm in [HashAlgorithm.blake3, .sha2_512, .blake2b_256] {
            let block = try rawBlock(Array("payload \(algorithm)".utf8), hash: algorithm)
            try temp.store.put(block)
            #expect(try temp.store.get(block.cid) == block.bytes)
        }
    }

    @Test func corruptPackByteIsDetectedByGetAndVerifyAndDropped() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 4, count: 10, size: 1000)
        try temp.store.putMany(blocks)
        let victim = blocks[4]
        let location = try #require(try temp.store.location(of: victim.cid))
        try flipByte(path: temp.store.layout.packPath(location.pack), offset: location.offset + 10)
        let store = try temp.reopen()
        let error = #expect(throws: BlockStoreError.self) { try store.get(victim.cid) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains(victim.cid.description) == true)
        #expect(error?.message.contains(PackFormat.fileName(location.pack)) == true)
        // Opting out of verification returns the (wrong) bytes.
        #expect(try store.get(victim.cid, verify: false) != victim.bytes)
        let report = try store.verify()
        #expect(report.checkedBlocks == 10)
        #expect(report.problems.map(\.cid) == [victim.cid])
        let dropped = try store.write { try $0.dropCorrupt(report.problems) }
        #expect(dropped == 1)
        #expect(try !store.has(victim.cid))
        #expect(try store.verify().isClean)
        #expect(try store.get(blocks[5].cid) == blocks[5].bytes)
    }

    @Test func truncatedPackIsReportedNotReturned() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 5, count: 4, size: 500)
        try temp.store.putMany(blocks)
        let last = try #require(try temp.store.location(of: blocks[3].cid))
        let path = temp.store.layout.packPath(last.pack)
        try FileHandle(forUpdating: URL(fileURLWithPath: path)).truncate(atOffset: UInt64(last.offset + 100))
        let store = try temp.reopen()
        #expect(throws: BlockStoreError.self) { try store.get(blocks[3].cid) }
        let report = try store.verify()
        #expect(report.problems.map(\.cid) == [blocks[3].cid])
        #expect(!report.packProblems.isEmpty)
    }

    @Test func abandonedBatchAndOrphanPacksAreReclaimedByTheNextWriter() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let committed = try randomBlocks(seed: 6, count: 5)
        try temp.store.putMany(committed)
        let pack = temp.store.layout.packPath(1)
        let committedSize = try fileSize(pack)
        // A writer that dies before committing: its bytes are in the pack, its rows nowhere.
        let writer = try temp.store.writer()
        for block in try randomBlocks(seed: 7, count: 5) { try writer.put(block) }
        writer.batchBytes = .max
        try writer.commit(with: nil)   // commits the five
        for block in try randomBlocks(seed: 8, count: 5) { try writer.put(block) }
        writer.abandon()
        #expect(try fileSize(pack) > committedSize)
        // And a stray pack file from a compaction that never committed.
        #expect(FileManager.default.createFile(atPath: temp.store.layout.packPath(99), contents: Data([1, 2, 3])))
        let store = try temp.reopen()
        try store.write { _ in }
        #expect(try temp.packFiles() == [PackFormat.fileName(1)])
        #expect(try fileSize(pack) == store.stat().packBytes)
        #expect(try store.stat().blocks == 10)
        #expect(try store.verify().isClean)
        for block in try randomBlocks(seed: 8, count: 5) { #expect(try !store.has(block.cid)) }
    }

    @Test func deleteRemovesTheRowButRefusesPinnedBlocks() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 9, count: 3)
        try temp.store.putMany(blocks)
        try temp.store.write { writer in
            try writer.pin(blocks[0].cid, recursive: false, name: "keep")
            #expect(try writer.delete(blocks[1].cid))
            #expect(try !writer.delete(blocks[1].cid))
            let error = #expect(throws: BlockStoreError.self) { try writer.delete(blocks[0].cid) }
            #expect(error?.code == .refused)
        }
        #expect(try !temp.store.has(blocks[1].cid))
        #expect(try temp.store.has(blocks[0].cid))
    }

    @Test func newerFormatVersionIsRefused() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        try temp.store.database.write { db in
            try db.execute(sql: "UPDATE meta SET value = '2' WHERE key = 'format'")
        }
        let error = #expect(throws: BlockStoreError.self) { _ = try temp.reopen() }
        #expect(error?.code == .formatVersion)
        let missing = #expect(throws: BlockStoreError.self) { _ = try BlockStore(path: temp.path + "/nothing", create: false) }
        #expect(missing?.code == .noStore)
    }

    @Test func listReturnsEveryBlockWithItsCID() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 10, count: 30)
        try temp.store.putMany(blocks)
        var listed = Set<CID>()
        try temp.store.list { cid, size in
            listed.insert(cid)
            #expect(size == 100)
        }
        #expect(listed == Set(blocks.map(\.cid)))
    }
}

/// `cairn block put` hashes each block once: it computes the CID and hands the store the
/// checked block (`verify: false`); the default put still verifies.
@Suite struct PutVerificationTests {
    @Test func verifyFalseTrustsTheCallerVerifyTrueChecks() throws {
        let temporary = try TemporaryStore()
        defer { temporary.cleanup() }
        let block = try rawBlock(Array("checked once".utf8))
        let other = Array("other bytes".utf8)
        #expect(throws: BlockStoreError.self) { try temporary.store.put(Block(cid: block.cid, bytes: other)) }
        // Not hashed again: even wrong bytes go in (the caller's promise broken on purpose),
        // and only a verified read finds them out.
        #expect(try temporary.store.put(Block(cid: block.cid, bytes: other), verify: false))
        #expect(try temporary.store.get(block.cid, verify: false) == other)
        #expect(throws: BlockStoreError.self) { try temporary.store.get(block.cid) }
    }
}
