import Foundation
import GRDB
public import Multiformats

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
}

extension BlockStoreWriter {
    /// Garbage collection, under this writer's lock:
    /// 1. mark everything reachable from the pins (every block read is verified; a missing or
    ///    corrupt pinned block stops GC before anything is removed);
    /// 2. sweep: remove the index rows of unmarked blocks (in batches, each a transaction);
    /// 3. compact: every pack whose live ratio (live block bytes / pack bytes) is below
    ///    `compactBelow` has its live blocks copied (re-verified) into a new pack; once that is
    ///    durable, one transaction moves their rows and drops the old pack's row, and only then
    ///    is the old file unlinked. Packs with no live block are simply dropped.
    /// A crash at any point leaves a consistent store: index rows always point at durable
    /// bytes, and pack files the index no longer lists are removed by the next writer.
    public func collectGarbage(compactBelow threshold: Double = 0.5) throws -> GCReport {
        var report = GCReport()
        try commit()
        let store = self.store
        let live = try store.mark(store.pinRoots(), strict: true)
        report.liveBlocks = live.count

        // Sweep.
        var dead: [(Data, Int64)] = []
        try store.readDatabase { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT mh, length FROM blocks")
            var seen = 0
            while let row = try rows.next() {
                seen += 1
                if seen & 0x3FFF == 0 { try Task.checkCancellation() }
                let key: Data = row[0]
                let multihash = try Multihash(bytes: key)
                if !live.contains(multihash) { dead.append((key, row[1])) }
            }
        }
        var start = 0
        while start < dead.count {
            try Task.checkCancellation()
            let slice = dead[start..<min(start + 10_000, dead.count)]
            try transaction { db in
                let delete = try db.cachedStatement(sql: "DELETE FROM blocks WHERE mh = ?")
                for (key, _) in slice { try delete.execute(arguments: [key]) }
            }
            report.removedBlocks += slice.count
            report.removedBytes += slice.reduce(0) { $0 + $1.1 }
            start += 10_000
        }
        dead = []

        // Compact.
        let packs = try store.readDatabase { db in
            try Row.fetchAll(db, sql: """
                SELECT p.id, p.size, COUNT(b.mh), COALESCE(SUM(b.length), 0)
                FROM packs p LEFT JOIN blocks b ON b.pack = p.id GROUP BY p.id ORDER BY p.id
                """).map { (id: $0[0] as Int64, size: $0[1] as Int64, blocks: $0[2] as Int, live: $0[3] as Int64) }
        }
        let candidates = packs.filter { pack in
            let payload = max(pack.size - Int64(PackFormat.headerSize), 1)
            return pack.blocks == 0 || Double(pack.live) / Double(payload) < threshold
        }
        guard !candidates.isEmpty else { return report }
        try closeActivePack()
        let firstNewPack = nextPack
        for pack in candidates {
            try Task.checkCancellation()
            if pack.blocks > 0 {
                let rows = try store.readDatabase { db in
                    try Row.fetchAll(db, sql: "SELECT \(IndexEntry.columns), mh FROM blocks WHERE pack = ? ORDER BY offset",
                                     arguments: [pack.id])
                }
                for row in rows {
                    try Task.checkCancellation()
                    let entry = IndexEntry(row: row)
                    let key: Data = row[5]
                    let cid = entry.cid(try Multihash(bytes: key))
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
