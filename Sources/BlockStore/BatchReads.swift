import Blocks
import CairnSystem
import Foundation
import GRDB
import GRDBSQLite
public import Multiformats

/// Batched reads for callers that stream many blocks (`cairn push`): the index is asked for a
/// whole batch in one read transaction, and each block is read straight into the caller's
/// buffer, verified there (spec/blockstore.md §6, "Batched reads").
extension BlockStore {
    /// Where each block is, looked up in one read transaction through one prepared statement
    /// driven with the SQLite C API (GRDB's `Row` built a table of lower-cased column names for
    /// every row: a fifth of a push's walk over 263 661 small blocks), in key order (the
    /// B-tree's pages stay hot): `result[i]` answers `cids[i]`; nil when absent (identity CIDs
    /// too: they are never stored). Each row goes through the one row check (`IndexEntry`).
    public func locations(of cids: [CID]) throws -> [BlockLocation?] {
        var result = [BlockLocation?](repeating: nil, count: cids.count)
        var keys: [[UInt8]] = []
        var order: [(prefix: UInt64, index: Int)] = []
        keys.reserveCapacity(cids.count)
        order.reserveCapacity(cids.count)
        for (index, cid) in cids.enumerated() {
            let key = cid.multihash.bytes
            keys.append(key)
            if cid.multihash.code == .identity { continue }
            order.append((key.withUnsafeBytes(BlockStore.sortPrefix), index))
        }
        order.sort { a, b in
            a.prefix != b.prefix ? a.prefix < b.prefix : keys[a.index].lexicographicallyPrecedes(keys[b.index])
        }
        try readDatabase { db in
            let statement = try db.makeStatement(sql: BlockStore.entrySQL)
            let handle = statement.sqliteStatement
            var checked = 0
            for (_, index) in order {
                checked += 1
                if checked & 0x3FF == 0 { try CancellationToken.process.check() }
                defer { sqlite3_reset(handle) }
                let step: Int32 = keys[index].withUnsafeBytes { key in
                    sqlite3_bind_blob(handle, 1, key.baseAddress, Int32(key.count), nil)
                    return sqlite3_step(handle)
                }
                switch step {
                case SQLITE_ROW:
                    let multihash = cids[index].multihash
                    result[index] = try IndexEntry(
                        codec: DatabaseValue(sqliteStatement: handle, index: 0), version: DatabaseValue(sqliteStatement: handle, index: 1),
                        pack: DatabaseValue(sqliteStatement: handle, index: 2), offset: DatabaseValue(sqliteStatement: handle, index: 3),
                        length: DatabaseValue(sqliteStatement: handle, index: 4), multihash: multihash).location
                case SQLITE_DONE: break
                default:
                    throw BlockStoreError(.database, "index \(layout.databasePath): lookup failed with SQLite code \(step)")
                }
            }
        }
        return result
    }

    /// Reads the block `cid` stored at `location` (from `locations(of:)`) into the first
    /// `location.length` bytes of `buffer`, with one `pread` and no copy of its own, then (unless
    /// `verify` is false) hashes those bytes against the CID: a mismatch is `.corrupt` naming
    /// the CID and the location. A block that compaction moved since the lookup (its old pack
    /// unlinked before this process opened it) is looked up again and read from its new place;
    /// gone altogether, it is `.notFound`.
    public func read(_ cid: CID, at location: BlockLocation, into buffer: UnsafeMutableRawBufferPointer,
                     verify: Bool = true) throws {
        precondition(buffer.count >= location.length, "buffer too small for \(location)")
        var location = location
        for attempt in 0..<3 {
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<location.length])
            let got: Int
            do {
                got = try Sys.preadFull(try readHandle(location.pack), target, at: location.offset,
                                        path: layout.packPath(location.pack))
            } catch let error as BlockStoreError where error.errno == ENOENT && attempt < 2 {
                guard let moved = try self.location(of: cid), moved.length == location.length else {
                    throw BlockStoreError(.notFound, "block \(cid) not found in \(layout.root) (removed while it was read)")
                }
                location = moved
                continue
            }
            guard got == location.length else {
                throw BlockStoreError(.corrupt,
                    "block \(cid) is corrupt: \(location) extends past the end of the pack (only \(got) bytes there)")
            }
            if verify { try BlockStore.check(UnsafeRawBufferPointer(target), cid: cid, location: location) }
            return
        }
    }
}
