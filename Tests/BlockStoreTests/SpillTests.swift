import CairnTestSupport
import Blocks
import Foundation
import GRDB
import Hashing
import Multiformats
import Testing
@testable import BlockStore

/// Issue 15, item 14: the pending rows of a one-transaction import spill to `temp.pending_rows`
/// past `spillRows`; a Bloom filter of the spilled keys answers "not spilled" without a query.
@Suite("Block store: spilled pending rows")
struct SpillTests {
    static func rowCount(_ store: BlockStore) throws -> Int {
        try store.readDatabase { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM blocks") ?? -1 }
    }

    @Test func theFilterNeverMissesAKeyItWasGivenAndForgetsOnRemoveAll() throws {
        var filter = KeyFilter()
        let keys = try randomBlocks(seed: 21, count: 2000, size: 40).map { $0.cid.multihash.key }
        #expect(!keys[0].withUnsafeBytes { filter.mayContain($0) })
        for key in keys[..<1000] { key.withUnsafeBytes { filter.insert($0) } }
        #expect(keys[..<1000].allSatisfy { key in key.withUnsafeBytes { filter.mayContain($0) } })
        // 1000 keys in 2^24 bits, 4 probes: a false positive has odds near 1e-15 each.
        #expect(keys[1000...].allSatisfy { key in !key.withUnsafeBytes { filter.mayContain($0) } })
        filter.removeAll()
        #expect(!keys[0].withUnsafeBytes { filter.mayContain($0) })
    }

    @Test func spilledRowsCommitOnceEachAndNewBlocksCostNoQuery() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let first = try randomBlocks(seed: 22, count: 40, size: 64)
        let later = try randomBlocks(seed: 23, count: 30, size: 64)
        let writer = try temp.store.writer()
        writer.commitsOnlyWhenAsked = true
        writer.spillRows = 3
        for block in first { #expect(try writer.put(block)) }
        // 39 of the 40 rows are spilled (13 spills of 3); none of them was a query.
        #expect(writer.spillQueries == 0)
        #expect(try Self.rowCount(temp.store) == 0)
        // Every repeat is found (in memory or in the table) and stores nothing.
        for block in first { #expect(try !writer.put(block)) }
        #expect(writer.spillQueries == 39)
        // Blocks never seen pass the filter without a query.
        for block in later { #expect(try writer.put(block)) }
        #expect(writer.spillQueries == 39)
        try writer.close()
        #expect(try Self.rowCount(temp.store) == 70)
        for block in first + later { #expect(try temp.store.get(block.cid) == block.bytes) }
    }

    /// `commitsOnlyWhenAsked` also holds past `batchBytes` and `batchBlocks`: an `oci add` over
    /// 256 MiB committed its first batch, and a layout refused later left it stored.
    @Test func noBatchCommitsBeforeTheCommitAsked() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let blocks = try randomBlocks(seed: 25, count: 12, size: 300)
        let writer = try temp.store.writer()
        writer.commitsOnlyWhenAsked = true
        writer.batchBlocks = 2
        writer.batchBytes = 500
        for block in blocks { #expect(try writer.put(block)) }
        #expect(try Self.rowCount(temp.store) == 0)
        writer.abandon()
        #expect(try Self.rowCount(temp.store) == 0)
        #expect(try blocks.allSatisfy { try !temp.store.has($0.cid) })
        // Without the flag the same batches commit as they fill.
        let plain = try temp.store.writer()
        plain.batchBlocks = 2
        for block in blocks.prefix(4) { try plain.put(block) }
        #expect(try Self.rowCount(temp.store) == 4)
        plain.abandon()
    }

    @Test func anAbandonedSpilledImportLeavesNoRow() throws {
        let temp = try TemporaryStore()
        defer { temp.cleanup() }
        let writer = try temp.store.writer()
        writer.commitsOnlyWhenAsked = true
        writer.spillRows = 2
        for block in try randomBlocks(seed: 24, count: 9, size: 64) { try writer.put(block) }
        writer.abandon()
        #expect(try Self.rowCount(temp.store) == 0)
        // The next writer starts with no spill: the same blocks are new again.
        let again = try temp.store.writer()
        again.commitsOnlyWhenAsked = true
        again.spillRows = 2
        for block in try randomBlocks(seed: 24, count: 9, size: 64) { #expect(try again.put(block)) }
        #expect(again.spillQueries == 0)
        try again.close()
        #expect(try Self.rowCount(temp.store) == 9)
    }
}
