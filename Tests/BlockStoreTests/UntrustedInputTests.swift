import Foundation
import GRDB
import Multiformats
import Testing
import Blocks
@testable import BlockStore

/// The store's decoders of bytes it did not just write (issue 15 item 6 and the `pack-record`
/// and `index-row` fuzz targets): the pack record walk over a buffer is the walk over a file,
/// and every index row goes through one check over its column values (spec/blockstore.md §4).
@Suite("Block store: pack records and index rows as untrusted input")
struct UntrustedInputTests {
    /// What a walk reports: (record start, block offset, length, CID) and the skipped ranges.
    struct Walk: Equatable {
        var records: [[Int64]] = []
        var cids: [CID] = []
        var skipped: [Range<Int64>] = []
        var end: Int64 = 0
    }

    static func walk(_ pack: PackFile, resync: Bool) throws -> Walk {
        var walk = Walk()
        walk.end = try pack.walk(from: Int64(PackFormat.headerSize), resync: resync, { record, bytes in
            walk.records.append([record.start, record.blockOffset, Int64(record.length), Int64(bytes.count)])
            walk.cids.append(record.cid)
        }, skipped: { walk.skipped.append($0) })
        return walk
    }

    static func fileWalk(_ path: String, resync: Bool) throws -> Walk {
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        return try walk(try PackFile(fd: fd, path: path), resync: resync)
    }

    /// A damaged record in the middle: the walk over the pack's bytes in memory finds what the
    /// walk over the file finds, which is every other block at the offset its index row names.
    @Test func theWalkOverABufferIsTheWalkOverTheFile() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 150, count: 6, size: 700)
        try temp.store.putMany(blocks)
        let locations = try blocks.map { try #require(try temp.store.location(of: $0.cid)) }
        let path = temp.store.layout.packPath(1)
        try flipByte(path: path, offset: locations[2].offset + 5)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for resync in [false, true] {
            let fromFile = try Self.fileWalk(path, resync: resync)
            let fromMemory = try Self.walk(PackFile(bytes: bytes), resync: resync)
            #expect(fromMemory == fromFile)
            let kept = resync ? [0, 1, 3, 4, 5] : [0, 1]
            #expect(fromMemory.cids == kept.map { blocks[$0].cid })
            #expect(fromMemory.records.map { $0[1] } == kept.map { locations[$0].offset })
            #expect(fromMemory.records.allSatisfy { $0[2] == 700 && $0[3] == 700 })
        }
        // Record 2 starts 8 + CID bytes before its block; record 3 likewise.
        let header = Int64(8 + blocks[2].cid.bytes.count)
        let resynced = try Self.walk(PackFile(bytes: bytes), resync: true)
        #expect(resynced.skipped == [(locations[2].offset - header)..<(locations[3].offset - header)])
        #expect(resynced.end == Int64(bytes.count))
        let stopped = try Self.walk(PackFile(bytes: bytes), resync: false)
        #expect(stopped.end == locations[1].offset + 700)
        #expect(stopped.skipped.isEmpty)
    }

    /// The resync search reads windows of at most 1 MiB (less near the end): a record found
    /// past the first window, and the bytes before it reported as one skipped range.
    @Test func resyncFindsARecordPastTheFirstWindow() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 151, count: 4, size: 600 << 10)
        try temp.store.putMany(blocks)
        let locations = try blocks.map { try #require(try temp.store.location(of: $0.cid)) }
        let path = temp.store.layout.packPath(1)
        try flipByte(path: path, offset: locations[0].offset + 1)
        try flipByte(path: path, offset: locations[1].offset + 1)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let walk = try Self.walk(PackFile(bytes: bytes), resync: true)
        #expect(walk.cids == [blocks[2].cid, blocks[3].cid])
        let header = Int64(8 + blocks[2].cid.bytes.count)
        #expect(walk.skipped == [16..<(locations[2].offset - header)])
        #expect(locations[2].offset - 16 > 1 << 20)
        #expect(walk == (try Self.fileWalk(path, resync: true)))
    }

    /// Bytes that are no pack: no version, no record, and a walk that finds nothing.
    @Test(arguments: [[], Array("CAIRNPK".utf8), Array("CAIRNPK".utf8) + [3] + [UInt8](repeating: 0, count: 40),
                      Array("CAIRNPK".utf8) + [2] + [UInt8](repeating: 0xFF, count: 40)])
    func bytesThatAreNoPackHoldNoRecord(_ bytes: [UInt8]) throws {
        let pack = PackFile(bytes: bytes)
        #expect(try pack.record(at: 16) == nil)
        #expect(try pack.record(at: -1) == nil)
        #expect(try pack.record(at: Int64.max) == nil)
        let walk = try Self.walk(pack, resync: true)
        #expect(walk.records.isEmpty)
        #expect(walk.end == 16)
    }

    static let multihash = try! Multihash(code: .sha2_256, digest: [UInt8](repeating: 7, count: 32))

    static func entry(_ values: [DatabaseValue]) throws -> IndexEntry {
        try IndexEntry(codec: values[0], version: values[1], pack: values[2], offset: values[3], length: values[4],
                       multihash: multihash)
    }

    /// spec/blockstore.md §4: codec 0…2³¹−1, version 0 or 1, pack ≥ 1, offset ≥ 16,
    /// length 0…64 MiB, each an integer (not a NULL, a text, a real or a blob).
    @Test func aRowInRangeIsAnEntry() throws {
        let entry = try Self.entry([0x70, 1, 3, 16, 64 << 20].map { Int64($0).databaseValue })
        #expect(entry.codec == 0x70 && entry.version == 1)
        #expect(entry.location == BlockLocation(pack: 3, offset: 16, length: 64 << 20))
        #expect(entry.cid(Self.multihash) == CID.v1(codec: .dagPB, multihash: Self.multihash))
    }

    @Test(arguments: [
        (0, DatabaseValue.null, "codec is NULL"),
        (0, (Int64(1) << 31).databaseValue, "codec is 2147483648"),
        (1, Int64(2).databaseValue, "version is 2"),
        (1, 1.0.databaseValue, "version is 1.0"),
        (2, Int64(0).databaseValue, "pack is 0"),
        (3, Int64(15).databaseValue, "offset is 15"),
        (3, "16".databaseValue, "offset is \"16\""),
        (4, Int64(-5).databaseValue, "length is -5"),
        (4, Int64((64 << 20) + 1).databaseValue, "length is 67108865"),
        (4, Data([1, 2]).databaseValue, "length is Data(2 bytes)"),
    ] as [(Int, DatabaseValue, String)])
    func aRowOutOfRangeIsCorruptNamingTheField(_ column: Int, _ value: DatabaseValue, _ shown: String) throws {
        var values = [0x55, 1, 1, 16, 10].map { Int64($0).databaseValue }
        values[column] = value
        let error = #expect(throws: BlockStoreError.self) { try Self.entry(values) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("corrupt index row for block") == true)
        #expect(error?.message.contains(shown + ";") == true, "\(error?.message ?? "")")
    }

    /// A damaged index can hold any text: the error stays one short line (80 characters of the
    /// text at most, each escaped to at most 9, around ~250 of message).
    @Test func aHugeTextInARowGivesAOneLineError() throws {
        let text = String(repeating: "x\ny", count: 100_000)
        var values = [0x55, 1, 1, 16, 10].map { Int64($0).databaseValue }
        values[4] = text.databaseValue
        let error = #expect(throws: BlockStoreError.self) { try Self.entry(values) }
        let message = try #require(error?.message)
        #expect(!message.contains("\n"))
        #expect(message.count < 1100)
        let pinError = #expect(throws: BlockStoreError.self) {
            try Pin(cid: .null, name: text.databaseValue, recursive: Int64(1).databaseValue, layout: StoreLayout(root: "/s"))
        }
        #expect(pinError.map { !$0.message.contains("\n") && $0.message.count < 1100 } == true)
    }

    /// Found by the `index-row` fuzz target: a text holding NEL (U+0085) made a two-line error
    /// (`String(reflecting:)` leaves it as is); so would U+2028 and U+2029.
    @Test(arguments: ["a\u{85}b", "a\u{2028}b", "a\u{2029}b", "a\r\nb", "a\u{0B}b\u{0C}", "a\u{200E}b"])
    func aTextWithALineBreakOfAnyKindGivesAOneLineError(_ text: String) throws {
        var values = [0x55, 1, 1, 16, 10].map { Int64($0).databaseValue }
        values[2] = text.databaseValue
        let error = #expect(throws: BlockStoreError.self) { try Self.entry(values) }
        let message = try #require(error?.message)
        let lines = message.split(whereSeparator: \.isNewline).count
        #expect(lines == 1, "\(message)")
        #expect(message.contains("pack is \"a\\u{"))
        let key = #expect(throws: BlockStoreError.self) { try IndexEntry.multihash(text.databaseValue) }
        #expect(key.map { !$0.message.contains(where: \.isNewline) } == true)
    }

    @Test func aKeyThatIsNoMultihashIsCorrupt() throws {
        #expect(try IndexEntry.multihash(Data(Self.multihash.bytes).databaseValue) == Self.multihash)
        for key in [DatabaseValue.null, Data([0x12, 0x20, 1]).databaseValue, "key".databaseValue, Int64(18).databaseValue] {
            let error = #expect(throws: BlockStoreError.self) { try IndexEntry.multihash(key) }
            #expect(error?.message.contains("is not a multihash") == true)
        }
    }

    @Test func pinRowsAreChecked() throws {
        let layout = StoreLayout(root: "/s")
        let cid = CID.v1(codec: .dagPB, multihash: Self.multihash)
        let key = Data(cid.bytes).databaseValue
        let pin = try Pin(cid: key, name: "".databaseValue, recursive: Int64(1).databaseValue, layout: layout)
        #expect(pin == Pin(cid: cid, recursive: true, name: nil))
        let named = try Pin(cid: key, name: "n".databaseValue, recursive: Int64(0).databaseValue, layout: layout)
        #expect(named == Pin(cid: cid, recursive: false, name: "n"))
        for (c, n, r) in [(DatabaseValue.null, "".databaseValue, Int64(1).databaseValue), (key, .null, Int64(1).databaseValue),
                          (key, "".databaseValue, Int64(2).databaseValue), (key, "".databaseValue, "1".databaseValue),
                          (Data([1, 2, 3]).databaseValue, "".databaseValue, Int64(0).databaseValue)] {
            let error = #expect(throws: BlockStoreError.self) { try Pin(cid: c, name: n, recursive: r, layout: layout) }
            #expect(error?.message.contains("corrupt index row in pins") == true)
        }
    }
}

/// Pack ids the store did not write: a file named with an id no index row may name, and a
/// `next_pack` out of that range, are no numbers to add one to (a review found both reaching
/// `highest + 1` on Int64.max when a writer opened): the file is no pack, the value is unreadable.
@Suite struct PackIDRangeTests {
    @Test func idsOutOfRangeAreNoPacks() throws {
        #expect(PackFormat.id(ofFileName: "9223372036854775807.pack") == nil)
        #expect(PackFormat.id(ofFileName: "\(IndexEntry.packRange.upperBound + 1).pack") == nil)
        #expect(PackFormat.id(ofFileName: "00000001.pack") == 1)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-ids-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try BlockStore(path: directory)
        let blocks = try randomBlocks(seed: 9, count: 3)
        _ = try store.put(blocks[0])
        FileManager.default.createFile(atPath: store.layout.packsPath + "/9223372036854775807.pack", contents: Data([1, 2, 3]))
        try store.writeDatabase { db in
            try db.execute(sql: "UPDATE meta SET value = '9223372036854775807' WHERE key = 'next_pack'")
            #expect(db.changesCount == 1)
        }
        // A new writer recovers, writes and reads as usual; the stray file is left alone.
        _ = try store.putMany(blocks.dropFirst())
        for block in blocks { #expect(try store.getIfPresent(block.cid) == block.bytes) }
        #expect(FileManager.default.fileExists(atPath: store.layout.packsPath + "/9223372036854775807.pack"))
    }
}
