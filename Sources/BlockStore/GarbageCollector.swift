import Foundation
import GRDB
import Multiformats
import CairnSystem

/// What a garbage collection did.
public struct GCReport: Sendable, Hashable {
    /// Blocks reachable from pins (kept).
    public var liveBlocks = 0
    /// Index rows removed (unreachable blocks).
    public var removedBlocks = 0
    public var removedBytes: Int64 = 0
    /// Packs rewritten (their live blocks copied to a new pack).
    public var compactedPacks = 0
    /// Blocks copied by compaction.
    public var movedBlocks = 0
    /// Pack files deleted (compacted or empty).
    public var deletedPacks = 0
    /// Pack bytes freed on disk.
    public var reclaimedBytes: Int64 = 0
    /// Packs that should have been compacted but were left for lack of free space, and the
    /// dead bytes they still hold.
    public var packsNotCompacted = 0
    public var unreclaimedBytes: Int64 = 0
}

extension BlockStoreWriter {
    /// Garbage collection, under this writer's lock:
    /// 1. mark everything reachable from the pins (every block read is verified; a missing or
    ///    corrupt pinned block stops GC before anything is removed);
    /// 2. sweep: remove the index rows of unmarked blocks (in batches, each a transaction);
    /// 3. compact: every pack whose live ratio (live record bytes / pack bytes) is below
    ///    `compactBelow` has its live blocks copied (re-verified) into a new pack; once that is
    ///    durable, one transaction moves their rows and drops the old pack's row, and only then
    ///    is the old file unlinked. Packs with no live block are simply dropped.
    /// A crash at any point leaves a consistent store: index rows always point at durable
    /// bytes, and pack files the index no longer lists are removed by the next writer.
    /// `removed`, if given, sees the multihash of every removed block once its batch is
    /// committed (a streaming report that never holds the list); if it throws, GC stops there.
    public func collectGarbage(compactBelow threshold: Double = 0.5, removed: ((Multihash) throws -> Void)? = nil) throws -> GCReport {
        var report = GCReport()
        try commit()
        let store = self.store
        // Mark (on disk, see `withMark`), then sweep: the unmarked rows, found in key order
        // 10 000 at a time, each batch deleted in its own transaction.
        try withMark(.pins, strict: true) { db, mark in
            report.liveBlocks = mark.markedRows
            var after = Data()
            while true {
                try CancellationToken.process.check()
                let dead = try Row.fetchAll(db, sql: """
                    SELECT b.mh, b.length FROM main.blocks b
                    WHERE b.mh > ? AND NOT EXISTS (SELECT 1 FROM mark.marked m WHERE m.mh = b.mh)
                    ORDER BY b.mh LIMIT 10000
                    """, arguments: [after]).map { row -> (Data, Int64) in
                        guard let key = row.blob(0) else {
                            throw BlockStoreError.corruptRow(store.layout, "blocks", "after \(after.count) key bytes", "its key is not a blob")
                        }
                        return (key, max(0, row.integer(1) ?? 0))
                    }
                guard let last = dead.last else { break }
                after = last.0
                try db.inTransaction {
                    let delete = try db.makeStatement(sql: "DELETE FROM main.blocks WHERE mh = ?")
                    for (index, (key, _)) in dead.enumerated() {
                        // Cancelled, the batch rolls back: nothing of it was removed.
                        if index & 1023 == 1023 { try CancellationToken.process.check() }
                        try delete.execute(arguments: [key])
                    }
                    return .commit
                }
                report.removedBlocks += dead.count
                if let removed {
                    for (key, _) in dead { if let multihash = try? Multihash(bytes: key) { try removed(multihash) } }
                }
                // Saturating: a dead row is never read, so its length was never checked.
                for (_, length) in dead {
                    let (sum, overflow) = report.removedBytes.addingReportingOverflow(length)
                    report.removedBytes = overflow ? .max : sum
                }
            }
        }

        // Compact: first drop the packs no live block is in (that frees space without
        // needing any), then rewrite the emptiest candidates first, each only if the free
        // space holds its live bytes; what is left is reported.
        let packs = try store.readDatabase { db in
            // A live record is its block, its CID (a CIDv1 adds its version and codec varints
            // to the multihash) and the record framing, counted as format 2's 8 bytes: never
            // less than a record takes, so a pack without garbage is never seen to hold some.
            try Row.fetchAll(db, sql: """
                SELECT p.id, p.size, COUNT(b.mh), COALESCE(SUM(b.length), 0),
                       COALESCE(SUM(b.length + LENGTH(b.mh) + 8 + CASE WHEN b.version = 0 THEN 0
                           WHEN b.codec < 128 THEN 2 WHEN b.codec < 16384 THEN 3 WHEN b.codec < 2097152 THEN 4 ELSE 6 END), 0)
                FROM packs p LEFT JOIN blocks b ON b.pack = p.id GROUP BY p.id ORDER BY p.id
                """).map { row -> (id: Int64, size: Int64, blocks: Int64, live: Int64, dead: Int64) in
                guard let id = row.integer(0), let size = row.integer(1), let blocks = row.integer(2), let live = row.integer(3),
                      let records = row.integer(4) else {
                    throw BlockStoreError.corruptRow(store.layout, "packs", "id \(row.integer(0).map(String.init) ?? "NULL")",
                                                     "its size or its blocks' lengths are not integers")
                }
                return (id: id, size: size, blocks: blocks, live: live,
                        dead: max(0, size - Int64(PackFormat.headerSize) - records))
            }
        }
        // A pack is rewritten for its garbage (bytes no live record takes), never for the
        // framing of its live records: one without garbage stays as it is, whatever the threshold.
        let candidates = packs.filter { pack in
            let payload = max(pack.size - Int64(PackFormat.headerSize), 1)
            return pack.blocks == 0 || (pack.dead > 0 && Double(payload - pack.dead) / Double(payload) < threshold)
        }.sorted { a, b in
            let liveA: Int64 = a.blocks == 0 ? -1 : a.live
            let liveB: Int64 = b.blocks == 0 ? -1 : b.live
            return liveA != liveB ? liveA < liveB : a.id < b.id
        }
        guard !candidates.isEmpty else { return report }
        try closeActivePack()
        let firstNewPack = nextPack
        for pack in candidates {
            try CancellationToken.process.check()
            if pack.blocks > 0 {
                // Room for the copies, their record headers and the index's growth.
                let needed = pack.live + pack.blocks * 256 + (4 << 20)
                guard try Sys.freeSpace(store.layout.packsPath) >= needed else {
                    report.packsNotCompacted += 1
                    report.unreclaimedBytes += pack.dead
                    continue
                }
                let rows = try store.readDatabase { db in
                    try Row.fetchAll(db, sql: "SELECT \(IndexEntry.columns), mh FROM blocks WHERE pack = ? ORDER BY offset",
                                     arguments: [pack.id])
                }
                for row in rows {
                    try CancellationToken.process.check()
                    let multihash = try IndexEntry.multihash(row, column: 5)
                    let entry = try IndexEntry(row: row, multihash: multihash)
                    let cid = entry.cid(multihash)
                    let bytes = try store.read(entry.location, cid: cid)
                    try BlockStore.check(bytes, cid: cid, location: entry.location)
                    try bytes.withUnsafeBytes { try appendMoved(cid, bytes: $0, from: pack.id) }
                    report.movedBlocks += 1
                }
                report.compactedPacks += 1
            }
            // The moved rows and the old pack's removal commit together.
            try commit { db in
                let left = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blocks WHERE pack = ?", arguments: [pack.id]) ?? 0
                guard left == 0 else {
                    throw BlockStoreError(.database, "compaction of pack \(pack.id) left \(left) rows behind")
                }
                try db.execute(sql: "DELETE FROM packs WHERE id = ?", arguments: [pack.id])
            }
            try Sys.unlink(store.layout.packPath(pack.id))
            store.dropReadHandles([pack.id])
            report.deletedPacks += 1
            report.reclaimedBytes += pack.size
            if pack.blocks == 0 { try Sys.syncDirectory(store.layout.packsPath) }
        }
        try closeActivePack()
        try Sys.syncDirectory(store.layout.packsPath)
        report.reclaimedBytes -= try store.readDatabase { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM packs WHERE id >= ?",
                               arguments: [firstNewPack]) ?? 0
        }
        return report
    }
}
