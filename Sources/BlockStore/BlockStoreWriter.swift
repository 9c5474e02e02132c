import Foundation
import Hashing
import GRDB
import GRDBSQLite
public import Multiformats
public import Blocks

import CairnSystem

/// The one writer of a store (across processes, through an exclusive `flock`).
///
/// Blocks are appended to the current pack file through a staging buffer and collected as
/// pending index rows. The staged bytes go through the page cache (a block of 64 KiB or more
/// written from where it is, with the staged bytes before it), or, when asked for and the file
/// system allows it, with direct I/O, 4 KiB blocks at a time (`directWrites`). `commit()`
/// makes them durable in this order: pack bytes written and
/// `fdatasync`ed (and the packs directory synced when the pack is new), then the index rows and
/// the pack's new committed size written in one SQLite transaction (WAL, synchronous=FULL).
/// An index row therefore never points at bytes that are not on disk, and a crash leaves at
/// most bytes past a pack's committed size, which the next writer truncates away.
///
/// A batch is committed by itself when it reaches `batchBytes` or `batchBlocks`, so memory stays
/// bounded (staging buffer + one row per pending block, no block bytes). Not thread-safe: use
/// from one thread at a time.
public final class BlockStoreWriter: BlockSink {
    public let store: BlockStore
    private let lock: FileLock
    private var isOpen = true

    /// Commit after this many pending bytes…
    public var batchBytes = 256 << 20
    /// …or this many pending blocks.
    public var batchBlocks = 1 << 16
    /// A pack takes no more records once it is this large (256 MiB). Tests lower it through
    /// the environment variable `CAIRN_TEST_PACK_SIZE_LIMIT` (bytes) to cross pack boundaries
    /// without writing hundreds of megabytes.
    var packSizeLimit: Int64 = ProcessInfo.processInfo.environment["CAIRN_TEST_PACK_SIZE_LIMIT"]
        .flatMap { Int64($0) }.map { max($0, Int64(PackFormat.headerSize) + 1) } ?? PackFormat.targetPackSize

    /// With `commitsOnlyWhenAsked`, at most this many index rows wait in memory; past it they
    /// spill to a temporary table of the index connection (SQLite keeps it in a temporary
    /// file), and the commit moves them into `blocks` in its one transaction. Tests lower it
    /// through `CAIRN_TEST_SPILL_ROWS`.
    var spillRows: Int = ProcessInfo.processInfo.environment["CAIRN_TEST_SPILL_ROWS"]
        .flatMap { Int($0) }.map { max($0, 1) } ?? 1 << 13
    /// Rows spilled since the last commit (they are in `temp.pending_rows`).
    private var spilledRows = 0
    /// The keys of the spilled rows, so that a block not spilled (the common case) costs no
    /// query of the temporary table.
    private var spilledKeys = KeyFilter()
    /// Queries of the temporary table since the writer opened (test hook).
    private(set) var spillQueries = 0

    /// The most CIDs a mark's DFS stack keeps in memory; the rest wait in its scratch table.
    var markFrontierLimit = 4096
    /// What the last mark did (test hook).
    var lastMark: MarkStatistics?

    /// Blocks written by this writer (committed or pending).
    public private(set) var blocksWritten = 0
    /// Their bytes.
    public private(set) var bytesWritten: Int64 = 0
    /// Puts that found the block already stored (or pending, or identity).
    public private(set) var blocksPresent = 0

    private struct PendingRow {
        var key: Data
        var codec: UInt64
        var version: UInt64
        var offset: Int64
        var length: Int
        /// The pack its record is in.
        var pack: Int64
        /// For a block compaction copies: the pack it moves out of (the row is updated).
        var movedFrom: Int64? = nil
    }

    // The pack being appended to (opened on the first record).
    private var packID: Int64 = -1
    private var packFD: Int32 = -1
    /// The active pack opened a second time, with `O_DIRECT`, for the staged writes; -1 when
    /// they go through `packFD` and the page cache (`directWrites`).
    private var directFD: Int32 = -1
    /// The direct write in flight and the second staging buffer (made with the first direct
    /// descriptor).
    private var directWrites: DirectWrites?
    /// Whether a direct write of the active pack has succeeded: the first is made in place,
    /// so that a file system refusing it (`EINVAL`) is caught with the bytes still staged.
    private var directWriteTaken = false
    /// Whether packs may be written directly (`directWrites`); false once the file system
    /// refused a first direct write.
    private var allowsDirectWrites: Bool
    /// A direct write was still under way when a signal ended the writer: its descriptor and
    /// buffer are left to the process's exit rather than waited for (`closeDirect`).
    private var leftInFlight = false
    /// Whether the active pack is being written directly (test hook).
    var writesDirectly: Bool { directFD >= 0 }
    /// Direct writes handed to the writer's thread so far (test hook).
    private(set) var directWritesStarted = 0
    private var packIsNew = false
    /// Logical end of the pack: committed bytes + written or staged bytes of this batch.
    private var packEnd: Int64 = 0
    private var packCommittedEnd: Int64 = 0
    private var nextPackID: Int64 = 1
    /// Starts the active pack's writeback and background flushes as it grows.
    private let flusher = BackgroundFlusher()

    /// The staging buffer: 4 MiB, written to the pack in one `pwrite` when full; with direct
    /// writes, its two halves in turn (one filling while the other is written).
    static let stagingBytes = 4 << 20

    /// Whether pack bytes are written with direct I/O (`O_DIRECT`) where the file system takes
    /// it, rather than through the page cache (spec/blockstore.md §5, "Direct writes"): only
    /// when the environment variable `CAIRN_PACK_DIRECT_IO=1` asks for it.
    ///
    /// Direct writes take the copy into the page cache off the CPU: a 1 GiB `dag/import` cost
    /// the server 0.36–0.54 s of system time with them against 0.75–0.81 s without, on this
    /// project's 2-core VMs (`copy_folio_from_iter` was 0.5 s), and they leave the page cache
    /// to readers. But the writer then waits for the device, one 2 MiB write in flight, and on
    /// those VMs that was slower than the kernel's writeback: the same import took 1.29–1.67 s
    /// against 1.17–1.32 s through the page cache (alternated runs), so they are not the
    /// default. With direct writes the staging buffer is always written at an offset that is a
    /// multiple of `directAlignment`, whole blocks of it; the last partial block stays staged
    /// (it is written again with the bytes that complete it) and a sync writes it padded with
    /// zeros, then truncates the file back to its logical end.
    static let directWrites = ProcessInfo.processInfo.environment["CAIRN_PACK_DIRECT_IO"] == "1"
    /// Direct writes start at offsets that are multiples of this and write whole multiples of it
    /// (the largest logical block size of common devices; the staging buffer is aligned to it).
    static let directAlignment = 4096
    private var staging: UnsafeMutableRawBufferPointer
    /// The memory of the staging buffer (or of both halves).
    private let stagingMemory: UnsafeMutableRawBufferPointer
    private var stagingUsed = 0
    /// The pack offset where `staging[0]` goes.
    private var stagingOffset: Int64 = 0

    private var pending: [PendingRow] = []
    /// Packs filled during the current batch (synced, closed, not yet in the index) and their
    /// ends: only with `commitsOnlyWhenAsked`.
    private var sealedPacks: [(id: Int64, end: Int64)] = []
    /// Packs created since the last commit (unlisted: `abandon` removes them).
    private var uncommittedNewPacks: [Int64] = []
    /// The index transaction of a commit failed in SQLite's I/O (spec §5, "SQLite's own I/O"):
    /// whether it committed is unknown (a failed WAL sync after the commit frame was written is
    /// undone in this process but replayed by the next opener's WAL recovery), so `abandon`
    /// leaves the synced pack bytes of the batch for the next writer's recovery to resolve.
    private var commitOutcomeUnknown = false

    /// When true, nothing commits but an explicit `commit`: not `batchBytes` or `batchBlocks`
    /// (an `oci add` of a layout over 256 MiB committed its first batch, and a layout that then
    /// failed verification left those blocks stored), and not a full pack, which is synced and
    /// sealed, its rows waiting (spilled past `spillRows`) for the commit (`cairn car import`:
    /// one transaction whatever the number of packs, spec/blockstore.md §5).
    public var commitsOnlyWhenAsked = false {
        didSet { if commitsOnlyWhenAsked != oldValue { setCache(importing: commitsOnlyWhenAsked) } }
    }
    private var pendingKeys = Set<Multihash>()
    private var pendingBytes = 0

    init(store: BlockStore, directWrites: Bool = BlockStoreWriter.directWrites) throws {
        self.store = store
        allowsDirectWrites = directWrites
        lock = try FileLock(path: store.layout.lockPath, wait: store.lockWait)
        stagingMemory = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.stagingBytes, alignment: Self.directAlignment)
        staging = stagingMemory
        do {
            try recover()
        } catch {
            // `deinit` runs for a class whose init throws after every property is set: it
            // frees the staging memory (freeing it here too was a double free). Only the lock goes now.
            isOpen = false
            closeActive()
            lock.unlock()
            throw error
        }
    }

    deinit {
        if isOpen { abandon() }
        guard !leftInFlight else { return }
        directWrites?.wait()
        stagingMemory.deallocate()
    }

    public var wantsBytes: Bool { true }

    // MARK: Recovery

    /// Brings the packs directory in line with the index, deleting or truncating only bytes
    /// the index proves are garbage (spec/blockstore.md §5):
    /// - a pack file the index does not list is removed if no index row points into it and the
    ///   index knows the next pack id (a crash before the pack's first commit, or after a
    ///   compaction committed but before the unlink);
    /// - past a listed pack's committed size, the records that follow one another and verify
    ///   are kept (the committed size grows over them); only the bytes after the last of them
    ///   (the torn tail of an interrupted batch) are truncated.
    /// Anything else (a listed pack missing, a committed size that is missing or smaller than
    /// what the rows point at, rows in an unlisted pack) is a damaged store: refused, naming
    /// `cairn store repair`.
    private func recover() throws {
        let layout = store.layout
        let names = try Sys.listDirectory(layout.packsPath)
        let files = Set(names.compactMap(PackFormat.id(ofFileName:)))
        let index = try store.readDatabase { db in try RecoveryView(db, files: files) }
        var removed = false
        var highest: Int64 = 0
        var grown: [Int64: Int64] = [:]
        var present = Set<Int64>()
        for name in names {
            guard let id = PackFormat.id(ofFileName: name) else {
                if name.hasSuffix(".tmp") {
                    try Sys.unlink(layout.packsPath + "/" + name)
                    removed = true
                }
                continue
            }
            highest = max(highest, id)
            present.insert(id)
            let path = layout.packPath(id)
            guard let listed = index.packs[id] else {
                guard index.nextPack != nil else {
                    throw BlockStoreError.damagedIndex(layout, "it does not record the next pack id, so \(path) cannot be told apart from a live pack")
                }
                if let end = index.rowsEnd[id] {
                    throw BlockStoreError.damagedIndex(layout, "\(PackFormat.fileName(id)) is not listed but index rows point into it (up to offset \(end))")
                }
                try Sys.unlink(path)
                removed = true
                continue
            }
            guard let size = listed, size >= Int64(PackFormat.headerSize) else {
                throw BlockStoreError.damagedIndex(layout, "the committed size of \(PackFormat.fileName(id)) is \(listed.map(String.init) ?? "NULL")")
            }
            if let end = index.rowsEnd[id], end > size {
                throw BlockStoreError.damagedIndex(layout, "the committed size of \(PackFormat.fileName(id)) is \(size) but its rows reach offset \(end)")
            }
            let fd = try Sys.open(path, O_RDWR)
            defer { Sys.close(fd) }
            let pack = try PackFile(fd: fd, path: path)
            if pack.size < size {
                throw BlockStoreError.damagedIndex(layout, "\(PackFormat.fileName(id)) has \(pack.size) bytes but \(size) are committed")
            }
            guard pack.size > size else { continue }
            let end = try pack.walk(from: size, resync: false) { _, _ in }
            if end < pack.size { try Sys.truncate(fd, to: end, path: path) }
            // The records kept past the committed size are made durable before the index counts them.
            if end < pack.size || end > size { try Sys.fsync(fd, path: path) }
            if end > size { grown[id] = end }
        }
        for id in index.packs.keys where !present.contains(id) {
            throw BlockStoreError.damagedIndex(layout, "\(layout.packPath(id)) is listed but missing")
        }
        if removed { try Sys.syncDirectory(layout.packsPath) }
        if !grown.isEmpty {
            try store.writeDatabase { db in
                for (id, size) in grown {
                    try db.execute(sql: "UPDATE packs SET size = ? WHERE id = ?", arguments: [size, id])
                }
            }
        }
        // The scratch database of a mark the previous writer did not finish.
        try BlockStoreWriter.removeMarkFiles(layout)
        nextPackID = max(index.nextPack ?? 1, highest + 1, (index.packs.keys.max() ?? 0) + 1)
        // Continue the newest pack if it has room and is in the current format.
        guard let newest = index.packs.keys.max(), let committed = grown[newest] ?? index.packs[newest].flatMap({ $0 }),
              committed < packSizeLimit else { return }
        let fd = try Sys.open(layout.packPath(newest), O_RDWR)
        guard try PackFile(fd: fd, path: layout.packPath(newest)).version == PackFormat.currentVersion else {
            Sys.close(fd)
            return
        }
        packFD = fd
        packID = newest
        packEnd = committed
        packCommittedEnd = committed
        stagingOffset = committed
        openDirect()
        if directFD >= 0 {
            // Direct writes start at a block boundary: the committed bytes of the last partial
            // block are staged again, to be written back unchanged with the bytes that follow.
            let start = committed & ~Int64(Self.directAlignment - 1)
            let tail = Int(committed - start)
            let staged = UnsafeMutableRawBufferPointer(rebasing: staging[0..<tail])
            if try Sys.preadFull(fd, staged, at: start, path: layout.packPath(newest)) == tail {
                stagingOffset = start
                stagingUsed = tail
            } else {
                closeDirect()
            }
        }
        flusher.restart(from: committed)
    }

    /// Opens the active pack for direct writes (`directWrites`) when the file system allows it.
    private func openDirect() {
        guard allowsDirectWrites, stagingUsed == 0 else { return }
        directFD = SystemCall.openForDirectWrites(store.layout.packPath(packID)) ?? -1
        directWriteTaken = false
        if directFD >= 0 && directWrites == nil {
            let half = Self.stagingBytes / 2
            staging = UnsafeMutableRawBufferPointer(rebasing: stagingMemory[0..<half])
            directWrites = DirectWrites(spare: UnsafeMutableRawBufferPointer(rebasing: stagingMemory[half...]))
        }
    }

    /// Closes the active pack's direct descriptor, if any, once its write in flight has ended
    /// (the callers have synced the pack, or are giving its bytes up). When a signal is ending
    /// the process, a write still under way is not waited for (a stalled device would hold the
    /// exit): its descriptor stays open and its buffer allocated until the process ends, so that
    /// the write never lands in a reused descriptor or freed memory.
    private func closeDirect() {
        if let directWrites, directWrites.isInFlight, CancellationToken.process.signal != nil {
            leftInFlight = true
            directFD = -1
            return
        }
        directWrites?.wait()
        if directFD >= 0 { Sys.close(directFD) }
        directFD = -1
    }

    // MARK: Putting blocks

    /// `BlockSink`: stores a block the importer just hashed (not re-hashed here).
    public func put(_ cid: CID, _ bytes: BlockBytes) throws {
        _ = try put(cid, segments: bytes)
    }

    /// Stores a block; with `verify`, first checks that its bytes hash to its CID
    /// (`.invalidInput` if not). Returns false if the block was already there (nothing written).
    @discardableResult
    public func put(_ block: Block, verify: Bool = true) throws -> Bool {
        let cid = block.cid
        return try block.bytes.withUnsafeBytes { (buffer) throws -> Bool in
            if verify && cid.multihash.code != .identity {
                switch BlockVerifier.verdict(cid, buffer) {
                case .valid: break
                case .mismatch:
                    throw BlockStoreError(.invalidInput, "the bytes given for \(cid) do not hash to it")
                case .unsupported:
                    throw BlockStoreError(.invalidInput,
                        "cannot store \(cid): hash function \(cid.multihash.code) is not supported, so its blocks could not be verified")
                }
            }
            return try put(cid, segments: BlockBytes(body: buffer))
        }
    }

    private func put(_ cid: CID, segments: BlockBytes) throws -> Bool {
        precondition(isOpen, "BlockStoreWriter used after close()")
        let multihash = cid.multihash
        if multihash.code == .identity {
            blocksPresent += 1
            return false
        }
        guard BlockStore.supports(hashCode: multihash.code) else {
            throw BlockStoreError(.invalidInput,
                "cannot store \(cid): hash function \(multihash.code) is not supported, so its blocks could not be verified")
        }
        guard segments.count <= PackFormat.maxBlockSize else {
            throw BlockStoreError(.invalidInput, "block \(cid) is \(segments.count) bytes; the most a block may have is \(PackFormat.maxBlockSize)")
        }
        if try pendingKeys.contains(multihash) || spilled(multihash) || isCommitted(cid) {
            blocksPresent += 1
            return false
        }
        try appendRecord(cid, segments, movedFrom: nil)
        blocksWritten += 1
        bytesWritten += Int64(segments.count)
        if !commitsOnlyWhenAsked && (pendingBytes >= batchBytes || pending.count >= batchBlocks) {
            try commit()
        }
        return true
    }

    /// Whether the index holds `cid` (committed): through a read transaction held over up to
    /// `presenceLookups` puts (`IndexLookups.HeldSnapshot`), ended before each commit. The
    /// rows it sees can change only through a writer (`gc`, `block rm`, repair), and this one
    /// holds the store's lock.
    private func isCommitted(_ cid: CID) throws -> Bool {
        if presence == nil {
            presence = store.lookups.holdSnapshot()
            presenceUses = 0
        }
        if let held = presence {
            presenceUses += 1
            let answer = held.entry(cid.multihash)
            if answer == nil || presenceUses >= Self.presenceLookups { endPresence() }
            switch answer {
            case .found: return true
            case .absent: return false
            case nil: break
            }
        }
        return try store.has(cid)
    }

    private func endPresence() {
        presence?.end()
        presence = nil
    }

    /// The held snapshot of `isCommitted` and its lookups so far.
    private var presence: IndexLookups.HeldSnapshot?
    private var presenceUses = 0
    /// Lookups per held snapshot (a few ms of puts).
    static let presenceLookups = 4096

    /// Appends a record to the current pack and queues its index row.
    private func appendRecord(_ cid: CID, _ segments: BlockBytes, movedFrom: Int64?) throws {
        if packFD < 0 || packEnd >= packSizeLimit {
            try startNewPack()
        }
        let multihash = cid.multihash
        // Record header (u32le length of CID + block) and the CID, built on the stack.
        let cidLength = cid.encodedLength
        let framing = PackFormat.recordHeaderSize(version: PackFormat.currentVersion)
        let headerLength = framing + cidLength
        let blockOffset = packEnd + Int64(headerLength)
        try withUnsafeTemporaryAllocation(byteCount: headerLength, alignment: 8) { (scratch) throws in
            scratch.storeBytes(of: UInt32(cidLength + segments.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            _ = cid.encode(to: UnsafeMutableRawBufferPointer(rebasing: scratch[framing...]))
            let checksum = PackFormat.headerChecksum(length: UnsafeRawBufferPointer(rebasing: scratch[0..<4]),
                                                     cid: UnsafeRawBufferPointer(rebasing: scratch[framing...]))
            scratch.storeBytes(of: checksum.littleEndian, toByteOffset: 4, as: UInt32.self)
            try append(UnsafeRawBufferPointer(scratch))
        }
        try append(segments.prefix)
        try append(segments.body)
        try append(segments.suffix)
        pending.append(PendingRow(key: multihash.key, codec: cid.codec.rawValue, version: cid.version.rawValue,
                                  offset: blockOffset, length: segments.count, pack: packID, movedFrom: movedFrom))
        if movedFrom == nil { pendingKeys.insert(multihash) }
        pendingBytes += segments.count
        if commitsOnlyWhenAsked && pending.count >= spillRows { try spillPending() }
    }

    /// Moves the pending rows into the temporary table (memory stays bounded for an import of
    /// millions of blocks; nothing is in `blocks` until the commit).
    ///
    /// The table is keyed by multihash alone (`WITHOUT ROWID`: one B-tree, already in the order
    /// the commit inserts) and the rows go in sorted, so one spill walks its pages once. The
    /// temporary database keeps no rollback journal: with one, every spill copied the pages it
    /// touched (most of the table, the keys being random) into a journal file first, 150 ms and
    /// more per spill of a 1 GiB import, and a failed spill ends the import anyway (`abandon`
    /// drops the table). A signal aborts a spill under way, like the commit's transaction.
    private func spillPending() throws {
        let rows = Self.sortedByKey(pending.filter { $0.movedFrom == nil })
        try store.writeDatabaseWithoutTransaction { db in
            if spilledRows == 0 {
                try db.execute(sql: "PRAGMA temp.journal_mode = OFF")
                try db.execute(sql: "PRAGMA temp.cache_size = -\(BlockStore.spillCacheKiB)")
                try db.execute(sql: """
                    CREATE TEMP TABLE IF NOT EXISTS pending_rows(
                        mh BLOB PRIMARY KEY, codec INTEGER, version INTEGER, pack INTEGER, offset INTEGER, length INTEGER
                    ) WITHOUT ROWID
                    """)
            }
            BlockStoreWriter.abortOnSignal(db, true)
            defer { BlockStoreWriter.abortOnSignal(db, false) }
            try db.inTransaction {
                let insert = try db.cachedStatement(sql:
                    "INSERT OR IGNORE INTO temp.pending_rows(mh, codec, version, pack, offset, length) VALUES (?, ?, ?, ?, ?, ?)")
                for row in rows {
                    row.key.withUnsafeBytes { spilledKeys.insert($0) }
                    try Self.insert(row, with: insert)
                }
                return .commit
            }
        }
        spilledRows += pending.count
        pending.removeAll(keepingCapacity: true)
        pendingKeys.removeAll(keepingCapacity: true)
    }

    /// Runs `insert` (`INSERT … (mh, codec, version, pack, offset, length) VALUES (?, …)`) for
    /// `row` through the C API (`SQLiteStep`).
    private static func insert(_ row: PendingRow, with insert: Statement) throws {
        _ = try row.key.withUnsafeBytes { key in
            try SQLiteStep.step(insert) { handle in
                sqlite3_bind_blob(handle, 1, key.baseAddress, Int32(key.count), nil)
                sqlite3_bind_int64(handle, 2, Int64(bitPattern: row.codec))
                sqlite3_bind_int64(handle, 3, Int64(bitPattern: row.version))
                sqlite3_bind_int64(handle, 4, row.pack)
                sqlite3_bind_int64(handle, 5, row.offset)
                sqlite3_bind_int64(handle, 6, Int64(row.length))
            }
        }
    }

    /// `rows` in the order of their keys' bytes: by `BlockStore.sortPrefix`, the rest compared
    /// only on a tie (as `hasMany` sorts). Comparing the `Data` keys whole went
    /// through their generic iterators and took a tenth of a small-block import's CPU.
    private static func sortedByKey(_ rows: [PendingRow]) -> [PendingRow] {
        var order: [(prefix: UInt64, index: Int)] = []
        order.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            order.append((row.key.withUnsafeBytes(BlockStore.sortPrefix), index))
        }
        order.sort { a, b in
            guard a.prefix == b.prefix else { return a.prefix < b.prefix }
            return rows[a.index].key.withUnsafeBytes { x in
                rows[b.index].key.withUnsafeBytes { y in
                    let common = min(x.count, y.count)
                    let sign = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                    return sign != 0 ? sign < 0 : x.count < y.count
                }
            }
        }
        return order.map { rows[$0.index] }
    }

    /// An import (`commitsOnlyWhenAsked`) keeps the index connection's page cache small
    /// (`BlockStore.importCacheKiB`): its one transaction may insert millions of rows, whose
    /// pages SQLite would otherwise hold up to the full cache; dirty pages past it go to the WAL.
    /// It fills in the final commit, once the CAR reader's buffers are freed.
    private func setCache(importing: Bool) {
        let kibibytes = importing ? BlockStore.importCacheKiB : BlockStore.cacheKiB
        _ = try? store.writeDatabaseWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -\(kibibytes)") }
    }

    /// Whether a spilled row already holds this block (the filter first, then the table).
    private func spilled(_ multihash: Multihash) throws -> Bool {
        let key = multihash.key
        guard spilledRows > 0, key.withUnsafeBytes({ spilledKeys.mayContain($0) }) else { return false }
        spillQueries += 1
        return try store.writeDatabaseWithoutTransaction { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM temp.pending_rows WHERE mh = ?", arguments: [key]) ?? false
        }
    }

    /// Empties the temporary table (after a commit moved its rows, or when they are abandoned).
    private func dropSpill() {
        guard spilledRows > 0 else { return }
        spilledRows = 0
        spilledKeys.removeAll()
        // Dropping a large temporary table journals its pages (hundreds of ms for a 1 GiB
        // import); when a signal is ending the process, the connection's end discards it.
        guard CancellationToken.process.signal == nil else { return }
        _ = try? store.writeDatabaseWithoutTransaction { db in try db.execute(sql: "DROP TABLE IF EXISTS temp.pending_rows") }
    }

    /// Compaction: copies a (verified) block into the current pack; the commit moves its row.
    func appendMoved(_ cid: CID, bytes: UnsafeRawBufferPointer, from pack: Int64) throws {
        try appendRecord(cid, BlockBytes(body: bytes), movedFrom: pack)
        if !commitsOnlyWhenAsked && (pendingBytes >= batchBytes || pending.count >= batchBlocks) { try commit() }
    }

    /// Commits, then stops appending to the current pack (the next record starts a new one).
    func closeActivePack() throws {
        try commit()
        closeActive()
    }

    /// Closes the active pack's descriptors (its bytes synced or given up): the staged bytes
    /// kept for its direct writes go with it.
    private func closeActive() {
        closeDirect()
        if packFD >= 0 { Sys.close(packFD) }
        packFD = -1
        stagingUsed = 0
    }

    /// The id the next new pack gets.
    var nextPack: Int64 { nextPackID }

    /// The pack records are being appended to, if any.
    var activePack: Int64? { packFD >= 0 ? packID : nil }

    /// A piece at least this large is written from where it is, not copied into the staging
    /// buffer: one `pwritev` of the staged bytes and the piece (a 256 KiB block costs one
    /// system call and no copy in user space).
    static let directWriteBytes = 64 << 10

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        if directFD >= 0 {
            var from = 0
            while from < bytes.count {
                if stagingUsed == staging.count { try drainStaging() }
                let count = min(bytes.count - from, staging.count - stagingUsed)
                (staging.baseAddress! + stagingUsed).copyMemory(from: bytes.baseAddress! + from, byteCount: count)
                stagingUsed += count
                packEnd += Int64(count)
                from += count
            }
            return
        }
        if bytes.count >= Self.directWriteBytes {
            let staged = UnsafeRawBufferPointer(rebasing: staging[0..<stagingUsed])
            try Sys.pwriteAll(packFD, staged, bytes, at: stagingOffset, path: store.layout.packPath(packID))
            stagingOffset += Int64(stagingUsed + bytes.count)
            stagingUsed = 0
            packEnd += Int64(bytes.count)
            try startWritebackIfDue()
            return
        }
        if stagingUsed + bytes.count > staging.count { try drainStaging() }
        (staging.baseAddress! + stagingUsed).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        stagingUsed += bytes.count
        packEnd += Int64(bytes.count)
    }

    /// Writes the staging buffer to the pack and starts its writeback: into the page cache, or
    /// with direct writes its whole blocks (the last partial block stays staged).
    private func drainStaging() throws {
        guard stagingUsed > 0 else { return }
        if directFD >= 0 { return try writeStagedDirect(all: false) }
        try Sys.pwriteAll(packFD, UnsafeRawBufferPointer(rebasing: staging[0..<stagingUsed]), at: stagingOffset,
                          path: store.layout.packPath(packID))
        stagingOffset += Int64(stagingUsed)
        stagingUsed = 0
        try startWritebackIfDue()
    }

    /// Direct writes: writes the staged whole blocks at `stagingOffset` (a block boundary) and
    /// keeps the bytes of the last partial block staged, at the start of the buffer. With `all`,
    /// that block goes too, padded with zeros, and the file is truncated back to `packEnd` (a
    /// crash in between leaves zeros past the committed size, which recovery truncates like
    /// any torn tail). A file system that refuses the write (`EINVAL`) gets the staged bytes and
    /// every later one through the page cache.
    private func writeStagedDirect(all: Bool) throws {
        let mask = Self.directAlignment - 1
        let whole = stagingUsed & ~mask
        let count = all ? (stagingUsed + mask) & ~mask : whole
        guard let directWrites else { return }
        // A failed write fails this and every later write or sync (its bytes are gone from the
        // buffers, so the pack has a hole): the writer can only be abandoned.
        try directWrites.finish()
        guard count > 0 else { return }
        let path = store.layout.packPath(packID)
        // Where the bytes of the last partial block go on from: the other buffer when this one
        // is handed to the writer's thread, else the start of this one.
        var next = staging
        if !all && directWriteTaken {
            next = directWrites.start(staging, count: whole, to: directFD, at: stagingOffset, path: path)
            directWritesStarted += 1
        } else {
            if count > stagingUsed {
                (staging.baseAddress! + stagingUsed).initializeMemory(as: UInt8.self, repeating: 0, count: count - stagingUsed)
            }
            do {
                try Sys.pwriteAll(directFD, UnsafeRawBufferPointer(rebasing: staging[0..<count]), at: stagingOffset, path: path)
            } catch {
                // Only the first write of a descriptor may be refused for what the file system
                // cannot do; any later failure is the device's.
                guard error.errno == EINVAL, !directWriteTaken else { throw error }
                closeDirect()
                allowsDirectWrites = false
                return try drainStaging()
            }
            directWriteTaken = true
            if count > stagingUsed { try Sys.truncate(packFD, to: packEnd, path: path) }
        }
        // A partial block is under 4 KiB and `whole` at least that when both are there, so the
        // two ranges never overlap.
        let tail = stagingUsed - whole
        if tail > 0 && whole > 0 { next.baseAddress!.copyMemory(from: staging.baseAddress! + whole, byteCount: tail) }
        staging = next
        stagingOffset += Int64(whole)
        stagingUsed = tail
        try startWritebackIfDue()
    }

    /// Starts the writeback of every 8 MiB written and a background flush of every 16 MiB
    /// (`BackgroundFlusher`), so that a commit's `fdatasync` finds little left; a writer
    /// faster than the device waits for the previous flush here, a signal stops that wait.
    private func startWritebackIfDue() throws {
        do {
            // The path is made only when a flush starts (every 16 MiB), not per block.
            try flusher.wrote(upTo: stagingOffset, fd: packFD, path: store.layout.packPath(packID))
        } catch let error as SystemError {
            throw BlockStoreError(error, "cannot sync \(error.path ?? store.layout.packPath(packID))")
        }
    }

    /// Waits for a background flush under way (a signal stops the wait) and throws its failure.
    private func waitForFlush() throws {
        do {
            try flusher.wait(cancellable: true)
        } catch let error as SystemError {
            throw BlockStoreError(error, "cannot sync \(error.path ?? store.layout.packPath(packID))")
        }
    }

    /// Commits what is pending, then opens a fresh pack file (not yet in the index).
    private func startNewPack() throws {
        if packFD >= 0 && commitsOnlyWhenAsked {
            try syncActivePack()
            if packEnd > packCommittedEnd || packIsNew { sealedPacks.append((packID, packEnd)) }
            closeActive()
        } else if packFD >= 0 {
            try commit()
            closeActive()
        }
        let id = nextPackID
        let path = store.layout.packPath(id)
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_EXCL)
        nextPackID += 1
        packFD = fd
        packID = id
        packIsNew = true
        uncommittedNewPacks.append(id)
        packEnd = 0
        packCommittedEnd = 0
        stagingOffset = 0
        openDirect()
        flusher.restart()
        try PackFormat.header.withUnsafeBytes { (h) throws in try append(h) }
    }

    // MARK: Committing

    /// Writes the staged bytes of the active pack and makes them durable (a new pack's
    /// directory entry too).
    private func syncActivePack() throws {
        if directFD >= 0 { try writeStagedDirect(all: true) } else { try drainStaging() }
        try waitForFlush()
        if packIsNew {
            try Sys.fsync(packFD, path: store.layout.packPath(packID))
            try Sys.syncDirectory(store.layout.packsPath)
        } else {
            try Sys.fdatasync(packFD, path: store.layout.packPath(packID))
        }
    }

    /// Makes every pending block durable (see the type's documentation for the order). Runs
    /// `extra` in the same transaction as the index rows (pins that must appear with them).
    /// `package`, not `public`: GRDB's `Database` stays out of the public API (spec/api.md §3).
    package func commit(with extra: ((Database) throws -> Void)? = nil) throws {
        precondition(isOpen, "BlockStoreWriter used after close()")
        endPresence()  // its snapshot would not see the rows committed now
        if packFD >= 0 && packEnd > packCommittedEnd { try syncActivePack() }
        guard !pending.isEmpty || spilledRows > 0 || extra != nil || !sealedPacks.isEmpty
                || (packFD >= 0 && packEnd > packCommittedEnd) else { return }
        let spilled = spilledRows > 0
        let rows = pending
        var packs = sealedPacks
        if packFD >= 0 && (packEnd > packCommittedEnd || packIsNew) { packs.append((packID, packEnd)) }
        let next = nextPackID
        do {
            try commitRows(rows, packs: packs, next: next, spilled: spilled, extra: extra)
        } catch let error as BlockStoreError where error.code == .io || error.code == .database {
            commitOutcomeUnknown = true
            throw error
        }
        dropSpill()
        packCommittedEnd = packEnd
        packIsNew = false
        sealedPacks.removeAll()
        uncommittedNewPacks.removeAll()
        pending.removeAll(keepingCapacity: true)
        pendingKeys.removeAll(keepingCapacity: true)
        pendingBytes = 0
    }

    /// The index transaction of `commit`.
    private func commitRows(_ rows: [PendingRow], packs: [(id: Int64, end: Int64)], next: Int64, spilled: Bool,
                            extra: ((Database) throws -> Void)?) throws {
        try store.writeDatabase { db in
            // A batch of many rows takes SQLite a while (170 ms for 16 000 rows and their pins
            // here): a signal ending the process aborts it (the transaction rolls back, nothing
            // of the batch is committed). Not the COMMIT itself: the handler is gone by then.
            BlockStoreWriter.abortOnSignal(db, true)
            defer { BlockStoreWriter.abortOnSignal(db, false) }
            for (pack, end) in packs {
                try db.execute(sql: "INSERT OR REPLACE INTO packs(id, size) VALUES (?, ?)", arguments: [pack, end])
            }
            if !packs.isEmpty {
                try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('next_pack', ?)", arguments: [String(next)])
            }
            let insert = try db.cachedStatement(sql:
                "INSERT OR IGNORE INTO blocks(mh, codec, version, pack, offset, length) VALUES (?, ?, ?, ?, ?, ?)")
            let move = try db.cachedStatement(sql:
                "UPDATE blocks SET pack = ?, offset = ? WHERE mh = ? AND pack = ?")
            for row in rows {
                if let from = row.movedFrom {
                    try move.execute(arguments: [row.pack, row.offset, row.key, from])
                    continue
                }
                try Self.insert(row, with: insert)
            }
            if spilled {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO blocks(mh, codec, version, pack, offset, length)
                    SELECT mh, codec, version, pack, offset, length FROM temp.pending_rows ORDER BY mh
                    """)
            }
            try extra?(db)
        }
    }

    /// Installs (or removes) a progress handler that makes the connection's statement under way
    /// fail with `SQLITE_INTERRUPT` once a signal is ending the process (checked every 1000
    /// virtual-machine steps); `BlockStore` turns that failure into `CancellationError`.
    private static func abortOnSignal(_ db: Database, _ on: Bool) {
        if on {
            sqlite3_progress_handler(db.sqliteConnection, 1000, { _ in CancellationToken.process.signal != nil ? 1 : 0 }, nil)
        } else {
            sqlite3_progress_handler(db.sqliteConnection, 0, nil, nil)
        }
    }

    /// Commits and releases the write lock.
    public func close() throws {
        guard isOpen else { return }
        do {
            try commit()
        } catch {
            abandon()
            throw error
        }
        isOpen = false
        closeActive()
        commitsOnlyWhenAsked = false
        lock.unlock()
    }

    /// Releases the write lock without committing: pending blocks are lost (their bytes are
    /// past the pack's committed size, unreferenced; packs created since the last commit are
    /// removed now, being listed nowhere).
    public func abandon() {
        guard isOpen else { return }
        isOpen = false
        endPresence()
        // A flush under way is left to end in its child process (or thread) when a signal is
        // ending the process (it holds its own descriptor); otherwise it ends first, its failure moot.
        if CancellationToken.process.signal == nil { try? flusher.wait(cancellable: false) }
        closeDirect()
        stagingUsed = 0
        if commitOutcomeUnknown {
            // Nothing is removed: the index may yet list these bytes (see commitOutcomeUnknown).
            if packFD >= 0 { Sys.close(packFD) }
            uncommittedNewPacks.removeAll()
        } else if packFD >= 0 {
            let path = store.layout.packPath(packID)
            if packIsNew {
                try? Sys.unlink(path)
                // Freeing the pack's pages (and waiting for their writeback) can take longer
                // than a signal allows: handed off when one is ending the process.
                FileDisposal.closeUnlinked([packFD])
            } else {
                if packEnd > packCommittedEnd { try? Sys.truncate(packFD, to: packCommittedEnd, path: path) }
                Sys.close(packFD)
            }
        }
        packFD = -1
        FileDisposal.remove(uncommittedNewPacks.map { store.layout.packPath($0) })
        // Syncing the directory can wait for a journal commit (hundreds of ms under load); when a
        // signal is ending the process it is skipped: a removal lost to a crash leaves packs
        // the index does not list, which the next writer's recovery removes (as after SIGKILL).
        if !uncommittedNewPacks.isEmpty && CancellationToken.process.signal == nil {
            try? Sys.syncDirectory(store.layout.packsPath)
        }
        uncommittedNewPacks.removeAll()
        sealedPacks.removeAll()
        pending.removeAll()
        pendingKeys.removeAll()
        dropSpill()
        commitsOnlyWhenAsked = false
        lock.unlock()
    }

    /// Runs a write transaction on the index under this writer's lock (pins, deletions, GC).
    func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        try commit()
        return try store.writeDatabase(body)
    }
}
