import CairnTestSupport
import Foundation
import GRDB
import Hashing
import Multiformats
import Testing
import UnixFS
import Blocks
@testable import BlockStore

/// Issue 15 item 1: losing or damaging the index never destroys pack bytes; `repair` rebuilds
/// the index from the packs; record headers carry a checksum (pack format 2).
@Suite("Block store: index loss, recovery limits, repair, pack formats")
struct IndexLossTests {
    /// The CRC-32C check value of "123456789" is 0xE3069283 (the CRC-32/ISCSI entry of the CRC
    /// RevEng catalogue; RFC 3720 §12.1 defines the polynomial).
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test func newPacksAreFormatTwoWithAHeaderChecksum() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let block = try rawBlock(Array("hello pack".utf8))
        try temp.store.put(block)
        let pack = [UInt8](try Data(contentsOf: URL(fileURLWithPath: temp.store.layout.packPath(1))))
        // Header: "CAIRNPK", version 2, 8 zero bytes (spec §3).
        #expect(Array(pack[0..<8]) == Array("CAIRNPK".utf8) + [2])
        let cidBytes = block.cid.bytes
        let length = UInt32(cidBytes.count + block.bytes.count)
        let lengthBytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
        #expect(Array(pack[16..<20]) == lengthBytes)
        let crc = CRC32C.checksum(lengthBytes + cidBytes)
        #expect(Array(pack[20..<24]) == withUnsafeBytes(of: crc.littleEndian) { Array($0) })
        #expect(Array(pack[24..<(24 + cidBytes.count)]) == cidBytes)
        #expect(Array(pack[(24 + cidBytes.count)...]) == block.bytes)
    }

    @Test(arguments: ["cid", "length"])
    func verifyNoticesAFlippedRecordHeaderByte(_ field: String) throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 40, count: 3, size: 300)
        try temp.store.putMany(blocks)
        #expect(try temp.store.verify().isClean)
        let location = try #require(try temp.store.location(of: blocks[1].cid))
        let cidLength = Int64(blocks[1].cid.bytes.count)
        let offset = field == "cid" ? location.offset - 1 : location.offset - cidLength - 8
        try flipByte(path: temp.store.layout.packPath(location.pack), offset: offset)
        let report = try temp.reopen().verify()
        #expect(report.problems.map(\.cid) == [blocks[1].cid])
    }

    @Test func aMissingIndexMakesWritersAndReadersRefuseAndNothingIsDeleted() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        try temp.store.putMany(try randomBlocks(seed: 41, count: 20, size: 1000))
        let pack = temp.store.layout.packPath(1)
        let size = try fileSize(pack)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temp.path + "/index.sqlite" + suffix) }
        for create in [true, false] {
            let error = #expect(throws: BlockStoreError.self) { _ = try BlockStore(path: temp.path, create: create) }
            #expect(error?.message.contains("cairn store repair") == true)
        }
        #expect(try fileSize(pack) == size)
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/index.sqlite"))
    }

    @Test func aDamagedCommittedSizeIsRefusedNotTruncated() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        try temp.store.putMany(try randomBlocks(seed: 42, count: 20, size: 1000))
        let pack = temp.store.layout.packPath(1)
        let size = try fileSize(pack)
        try temp.store.database.write { db in try db.execute(sql: "UPDATE packs SET size = 100") }
        let error = #expect(throws: BlockStoreError.self) { try temp.reopen().write { _ in } }
        #expect(error?.message.contains("cairn store repair") == true)
        #expect(try fileSize(pack) == size)
        try temp.store.database.write { db in try db.execute(sql: "DELETE FROM packs") }
        #expect(throws: BlockStoreError.self) { try temp.reopen().write { _ in } }
        #expect(try fileSize(pack) == size)
    }

    /// A format-2 record (spec §3) of `block`, built by hand.
    static func record(_ block: Block) -> [UInt8] {
        let cid = block.cid.bytes
        let length = withUnsafeBytes(of: UInt32(cid.count + block.bytes.count).littleEndian) { Array($0) }
        let crc = withUnsafeBytes(of: CRC32C.checksum(length + cid).littleEndian) { Array($0) }
        return length + crc + cid + block.bytes
    }

    @Test func recoveryKeepsVerifiedRecordsPastTheCommittedSizeAndCutsOnlyTheTornTail() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        try temp.store.putMany(try randomBlocks(seed: 43, count: 5))
        let pack = temp.store.layout.packPath(1)
        let committed = try fileSize(pack)
        // An interrupted batch: one whole record, then one cut short.
        let extra = try randomBlocks(seed: 44, count: 2)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: pack))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(Self.record(extra[0]) + Self.record(extra[1]).prefix(30)))
        try handle.close()
        let validEnd = committed + Int64(Self.record(extra[0]).count)
        try temp.reopen().write { _ in }
        #expect(try fileSize(pack) == validEnd)
        #expect(try temp.store.stat().packBytes == validEnd)
        #expect(try !temp.store.has(extra[0].cid))
        #expect(try temp.store.verify().isClean)
    }

    @Test func repairRebuildsADeletedIndexFromThePacksAndRepinsRoots() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let leaves = try randomBlocks(seed: 45, count: 6, size: 2000)
        let file = try dagNode(UnixFSData(type: .file), links: leaves.map { (name: "", cid: $0.cid) })
        let loose = try randomBlocks(seed: 46, count: 4)
        try temp.store.write { writer in
            writer.batchBlocks = 3   // several batches
            for block in leaves + [file] + loose { try writer.put(block) }
            try writer.commit(pinning: file.cid)
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temp.path + "/index.sqlite" + suffix) }
        let report = try BlockStore.repair(layout: temp.store.layout, pinRoots: true)
        #expect(report.blocks == 11)
        #expect(report.pinsKept == nil)
        #expect(report.rootsPinned == [file.cid])
        let store = try BlockStore(path: temp.path, create: false)
        for block in leaves + [file] + loose { #expect(try store.get(block.cid) == block.bytes) }
        #expect(try store.pins().map(\.cid) == [file.cid])
        #expect(try store.verify().isClean)
        // A repair over a readable index keeps its pins.
        let again = try BlockStore.repair(layout: store.layout, pinRoots: false)
        #expect(again.pinsKept == 1)
        #expect(try BlockStore(path: temp.path, create: false).pins().map(\.cid) == [file.cid])
    }

    /// A format-1 pack (spec §3: records `u32le L | CID | block`, no checksum), written by hand,
    /// is indexed by repair and read and verified like a format-2 one; new blocks then go to a
    /// new (format-2) pack.
    @Test func formatOnePacksStayReadable() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let old = try randomBlocks(seed: 47, count: 4, size: 700)
        var pack = Array("CAIRNPK".utf8) + [1] + [UInt8](repeating: 0, count: 8)
        for block in old {
            let cid = block.cid.bytes
            pack += withUnsafeBytes(of: UInt32(cid.count + block.bytes.count).littleEndian) { Array($0) } + cid + block.bytes
        }
        try Data(pack).write(to: URL(fileURLWithPath: temp.store.layout.packPath(1)))
        let report = try BlockStore.repair(layout: temp.store.layout, pinRoots: false)
        #expect(report.blocks == 4 && report.skipped.isEmpty)
        let store = try BlockStore(path: temp.path, create: false)
        for block in old { #expect(try store.get(block.cid) == block.bytes) }
        let fresh = try randomBlocks(seed: 48, count: 2)
        try store.putMany(fresh)
        #expect(try store.location(of: fresh[0].cid)?.pack == 2)
        #expect(try store.verify().isClean)
        // Flipping a CID byte of a format-1 record is still noticed (against the index row).
        let location = try #require(try store.location(of: old[2].cid))
        try flipByte(path: store.layout.packPath(1), offset: location.offset - 1)
        #expect(try store.verify().problems.map(\.cid) == [old[2].cid])
    }

    @Test func repairSkipsDamageAndFindsTheRecordsAfterIt() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 49, count: 10, size: 500)
        try temp.store.putMany(blocks)
        let damaged = try #require(try temp.store.location(of: blocks[4].cid))
        try flipByte(path: temp.store.layout.packPath(1), offset: damaged.offset + 10)
        let report = try BlockStore.repair(layout: temp.store.layout, pinRoots: false)
        #expect(report.blocks == 9)
        #expect(report.skipped.count == 1)
        let store = try BlockStore(path: temp.path, create: false)
        for (i, block) in blocks.enumerated() where i != 4 { #expect(try store.get(block.cid) == block.bytes) }
        #expect(try !store.has(blocks[4].cid))
        #expect(try fileSize(store.layout.packPath(1)) == store.stat().packBytes)
    }
}
