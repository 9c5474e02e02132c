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
    /// Where each block is, looked up through `probeInKeyOrder` (one read transaction, the C
    /// API in key order: GRDB's `Row` built a table of lower-cased column names for every row,
    /// a fifth of a push's walk over 263 661 small blocks): `result[i]` answers `cids[i]`; nil
    /// when absent (identity CIDs too: they are never stored). Each row goes through the one
    /// row check (`IndexEntry`).
    public func locations(of cids: [CID]) throws -> [BlockLocation?] {
        var result = [BlockLocation?](repeating: nil, count: cids.count)
        try probeInKeyOrder(cids.map(\.multihash), sql: BlockStore.entrySQL) { index, handle in
            result[index] = try IndexEntry(
                codec: DatabaseValue(sqliteStatement: handle, index: 0), version: DatabaseValue(sqliteStatement: handle, index: 1),
                pack: DatabaseValue(sqliteStatement: handle, index: 2), offset: DatabaseValue(sqliteStatement: handle, index: 3),
                length: DatabaseValue(sqliteStatement: handle, index: 4), multihash: cids[index].multihash).location
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
