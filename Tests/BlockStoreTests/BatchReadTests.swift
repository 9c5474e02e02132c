import Blocks
import CairnTestSupport
import Foundation
import GRDB
import Multiformats
import Testing
@testable import BlockStore

@Suite("Block store: batched reads into the caller's buffer")
struct BatchReadTests {
    @Test func locationsAnswerEachCIDInOrderAndReadsFillTheCallersBuffer() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 81, count: 30, size: 3_000)
        try temp.store.putMany(blocks)
        let absent = try randomBlocks(seed: 82, count: 1)[0].cid
        let identity = CID.v1(codec: .raw, multihash: try Multihash(code: .identity, digest: [9]))
        let asked = blocks.map(\.cid).reversed() + [absent, identity]
        let found = try temp.store.locations(of: Array(asked))
        #expect(found.count == asked.count)
        #expect(found[found.count - 2] == nil && found[found.count - 1] == nil)
        for (cid, location) in zip(asked.prefix(blocks.count), found) {
            let location = try #require(location)
            let stored = try temp.store.location(of: cid)
            #expect(location == stored)
            // Read into the middle of a larger buffer: only `length` bytes are written.
            var buffer = [UInt8](repeating: 0xEE, count: location.length + 10)
            try buffer.withUnsafeMutableBytes { raw in
                try temp.store.read(cid, at: location, into: UnsafeMutableRawBufferPointer(rebasing: raw[5...]))
            }
            #expect(Array(buffer[5..<(5 + location.length)]) == blocks.first { $0.cid == cid }!.bytes)
            #expect(buffer.prefix(5).allSatisfy { $0 == 0xEE } && buffer.suffix(5).allSatisfy { $0 == 0xEE })
        }
    }

    /// A row out of range (or of the wrong type) is `.corrupt` naming it, never a location.
    @Test(arguments: ["UPDATE blocks SET length = -5", "UPDATE blocks SET pack = 'x'", "UPDATE blocks SET offset = 2.5"])
    func aDamagedRowIsCorruptNotALocation(_ damage: String) throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 83, count: 5, size: 1_000)
        try temp.store.putMany(blocks)
        try temp.store.database.write { db in try db.execute(sql: damage) }
        let error = #expect(throws: BlockStoreError.self) { try temp.store.locations(of: blocks.map(\.cid)) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("corrupt index row for block") == true)
    }

    @Test func aDamagedBlockIsCorruptUnlessVerificationIsOff() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 83, count: 3, size: 2_000)
        try temp.store.putMany(blocks)
        let location = try #require(try temp.store.locations(of: [blocks[1].cid])[0])
        try flipByte(path: temp.store.layout.packPath(location.pack), offset: location.offset + 7)
        let store = try temp.reopen()
        var buffer = [UInt8](repeating: 0, count: location.length)
        #expect {
            try buffer.withUnsafeMutableBytes { try store.read(blocks[1].cid, at: location, into: $0) }
        } throws: { error in
            (error as? BlockStoreError).map { $0.code == .corrupt && $0.message.contains(blocks[1].cid.description) } ?? false
        }
        try buffer.withUnsafeMutableBytes { try store.read(blocks[1].cid, at: location, into: $0, verify: false) }
        #expect(buffer != blocks[1].bytes && buffer.count == blocks[1].bytes.count)
    }
}
