import Foundation
import GRDB
public import Multiformats
public import UnixFS

import CairnSystem

/// The one writer of a store (across processes, through an exclusive `flock`).
///
/// Blocks are appended to the current pack file through a staging buffer and collected as
/// pending index rows. `commit()` makes them durable in this order: pack bytes written and
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
        /// For a block compaction copies: the pack it moves out of (the row is updated).
        var movedFrom: Int64? = nil
    }

    // The pack being appended to (opened on the first record).
    private var packID: Int64 = -1
    private var packFD: Int32 = -1
    private var packIsNew = false
    /// Logical end of the pack: committed bytes + written or staged bytes of this batch.
    private var packEnd: Int64 = 0
    private var packCommittedEnd: Int64 = 0
    private var nextPackID: Int64 = 1
    private var lastWritebackStart: Int64 = 0

    private let staging: UnsafeMutableRawBufferPointer
    private var stagingUsed = 0
    /// The pack offset where `staging[0]` goes.
    private var stagingOffset: Int64 = 0

    private var pending: [PendingRow] = []
    private var pendingKeys = Set<Multihash>()
    private var pendingBytes = 0

    init(store: BlockStore) throws {
        self.store = store
        lock = try FileLock(path: store.layout.lockPath)
        staging = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 4096)
        do {
            try recover()
        } catch {
            staging.deallocate()
            lock.unlock()
            throw error
        }
    }

    deinit {
        if isOpen { abandon() }
        staging.deallocate()
    }

    public var wantsBytes: Bool { true }

    // MARK: Recovery

    /// Brings the packs directory in line with the index: pack files the index does not list
    /// (a crash before their first commit, or after compaction committed but before the unlink)
    /// are removed; bytes past a listed pack's committed size (a crash mid-batch) are truncated.
    private func recover() throws {
        let layout = store.layout
        let (listed, next) = try store.readDatabase { db -> ([Int64: Int64], Int64) in
            var listed: [Int64: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, size FROM packs") { listed[row[0]] = row[1] }
            let next = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'next_pack'") ?? 1
            return (listed, next)
        }
        var removed = false
        var highest: Int64 = 0
        for name in try Sys.listDirectory(layout.packsPath) {
            let id = PackFormat.id(ofFileName: name)
            if let id { highest = max(highest, id) }
            if let id, let size = listed[id] {
                let fd = try Sys.open(layout.packPath(id), O_RDWR)
                defer { Sys.close(fd) }
                let actual = try Sys.fileSize(fd, path: layout.packPath(id))
                if actual > size {
                    try Sys.truncate(fd, to: size, path: layout.packPath(id))
                    try Sys.fsync(fd, path: layout.packPath(id))
                }
            } else if id != nil || name.hasSuffix(".tmp") {
                try Sys.unlink(layout.packsPath + "/" + name)
                removed = true
            }
        }
        if removed { try Sys.syncDirectory(layout.packsPath) }
        // The scratch database of a mark the previous writer did not finish.
        try BlockStoreWriter.removeMarkFiles(layout)
        nextPackID = max(next, highest + 1, (listed.keys.max() ?? 0) + 1)
        // Continue the newest pack if it has room.
        if let (id, size) = listed.max(by: { $0.key < $1.key }), size < PackFormat.targetPackSize {
            packFD = try Sys.open(layout.packPath(id), O_RDWR)
            packID = id
            packEnd = size
            packCommittedEnd = size
            stagingOffset = size
            lastWritebackStart = size
        }
    }

    // MARK: Putting blocks

    /// `BlockSink`: stores a block the importer just hashed (not re-hashed here).
    public func put(_ cid: CID, _ bytes: BlockBytes) throws {
        _ = try put(cid, segments: bytes)
    }

    /// Stores a block; with `verify`, first checks that `bytes` hash to `cid` (`.invalidInput`
    /// if not). Returns false if the block was already there (nothing written).
    @discardableResult
    public func put(_ cid: CID, bytes: [UInt8], verify: Bool = true) throws -> Bool {
        try bytes.withUnsafeBytes { (buffer) throws -> Bool in
            if verify && cid.multihash.code != .identity {
                switch BlockStore.matches(buffer, cid.multihash) {
                case .match: break
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
        if try pendingKeys.contains(multihash) || store.has(cid) {
            blocksPresent += 1
            return false
        }
        try appendRecord(cid, segments, movedFrom: nil)
        blocksWritten += 1
        bytesWritten += Int64(segments.count)
        if pendingBytes >= batchBytes || pending.count >= batchBlocks {
            try commit()
        }
        return true
    }

    /// Appends a record to the current pack and queues its index row.
    private func appendRecord(_ cid: CID, _ segments: BlockBytes, movedFrom: Int64?) throws {
        if packFD < 0 || packEnd >= PackFormat.targetPackSize {
            try startNewPack()
        }
        let multihash = cid.multihash
        // Record header (u32le length of CID + block) and the CID, built on the stack.
        let cidLength = cid.encodedLength
        let headerLength = PackFormat.recordHeaderSize + cidLength
        let blockOffset = packEnd + Int64(headerLength)
        try withUnsafeTemporaryAllocation(byteCount: headerLength, alignment: 8) { (scratch) throws in
            scratch.storeBytes(of: UInt32(cidLength + segments.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            _ = cid.encode(to: UnsafeMutableRawBufferPointer(rebasing: scratch[PackFormat.recordHeaderSize...]))
            try append(UnsafeRawBufferPointer(scratch))
        }
        try append(segments.prefix)
        try append(segments.body)
        try append(segments.suffix)
        pending.append(PendingRow(key: multihash.key, codec: cid.codec.rawValue, version: cid.version.rawValue,
                                  offset: blockOffset, length: segments.count, movedFrom: movedFrom))
        if movedFrom == nil { pendingKeys.insert(multihash) }
        pendingBytes += segments.count
    }

    /// Compaction: copies a (verified) block into the current pack; the commit moves its row.
    func appendMoved(_ cid: CID, bytes: UnsafeRawBufferPointer, from pack: Int64) throws {
        try appendRecord(cid, BlockBytes(body: bytes), movedFrom: pack)
        if pendingBytes >= batchBytes || pending.count >= batchBlocks { try commit() }
    }

    /// Commits, then stops appending to the current pack (the next record starts a new one).
    func closeActivePack() throws {
        try commit()
        if packFD >= 0 { Sys.close(packFD) }
        packFD = -1
    }

    /// The id the next new pack gets.
    var nextPack: Int64 { nextPackID }

    /// The pack records are being appended to, if any.
    var activePack: Int64? { packFD >= 0 ? packID : nil }

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        if stagingUsed + bytes.count > staging.count { try drainStaging() }
        if bytes.count > staging.count {
            try Sys.pwriteAll(packFD, bytes, at: stagingOffset, path: store.layout.packPath(packID))
            stagingOffset += Int64(bytes.count)
        } else {
            (staging.baseAddress! + stagingUsed).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            stagingUsed += bytes.count
        }
        packEnd += Int64(bytes.count)
    }

    /// Writes the staging buffer to the pack (into the page cache) and starts its writeback.
    private func drainStaging() throws {
        guard stagingUsed > 0 else { return }
        try Sys.pwriteAll(packFD, UnsafeRawBufferPointer(rebasing: staging[0..<stagingUsed]), at: stagingOffset,
                          path: store.layout.packPath(packID))
        stagingOffset += Int64(stagingUsed)
        stagingUsed = 0
        if stagingOffset - lastWritebackStart >= 8 << 20 {
            Sys.startWriteback(packFD, offset: lastWritebackStart, count: Int(stagingOffset - lastWritebackStart))
            lastWritebackStart = stagingOffset
        }
    }

    /// Commits what is pending, then opens a fresh pack file (not yet in the index).
    private func startNewPack() throws {
        if packFD >= 0 {
            try commit()
            Sys.close(packFD)
            packFD = -1
        }
        let id = nextPackID
        let path = store.layout.packPath(id)
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_EXCL)
        nextPackID += 1
        packFD = fd
        packID = id
        packIsNew = true
        packEnd = 0
        packCommittedEnd = 0
        stagingOffset = 0
        lastWritebackStart = 0
        try PackFormat.header.withUnsafeBytes { (h) throws in try append(h) }
    }

    // MARK: Committing

    /// Makes every pending block durable (see the type's documentation for the order). Runs
    /// `extra` in the same transaction as the index rows (pins that must appear with them).
    /// `package`, not `public`: GRDB's `Database` stays out of the public API (spec/api.md §3).
    package func commit(with extra: ((Database) throws -> Void)? = nil) throws {
        precondition(isOpen, "BlockStoreWriter used after close()")
        if packFD >= 0 && packEnd > packCommittedEnd {
            try drainStaging()
            if packIsNew {
                try Sys.fsync(packFD, path: store.layout.packPath(packID))
                try Sys.syncDirectory(store.layout.packsPath)
            } else {
                try Sys.fdatasync(packFD, path: store.layout.packPath(packID))
            }
        }
        guard !pending.isEmpty || extra != nil || (packFD >= 0 && packEnd > packCommittedEnd) else { return }
        let rows = pending
        let pack = packID, end = packEnd, next = nextPackID
        let registerPack = packFD >= 0 && (packEnd > packCommittedEnd || packIsNew)
        try store.writeDatabase { db in
            if registerPack {
                try db.execute(sql: "INSERT OR REPLACE INTO packs(id, size) VALUES (?, ?)", arguments: [pack, end])
                try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('next_pack', ?)", arguments: [String(next)])
            }
            let insert = try db.cachedStatement(sql:
                "INSERT OR IGNORE INTO blocks(mh, codec, version, pack, offset, length) VALUES (?, ?, ?, ?, ?, ?)")
            let move = try db.cachedStatement(sql:
                "UPDATE blocks SET pack = ?, offset = ? WHERE mh = ? AND pack = ?")
            for row in rows {
                if let from = row.movedFrom {
                    try move.execute(arguments: [pack, row.offset, row.key, from])
                    continue
                }
                try insert.execute(arguments: [row.key, Int64(bitPattern: row.codec), Int64(bitPattern: row.version),
                                               pack, row.offset, row.length])
            }
            try extra?(db)
        }
        packCommittedEnd = packEnd
        packIsNew = false
        pending.removeAll(keepingCapacity: true)
        pendingKeys.removeAll(keepingCapacity: true)
        pendingBytes = 0
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
        if packFD >= 0 { Sys.close(packFD) }
        packFD = -1
        lock.unlock()
    }

    /// Releases the write lock without committing: pending blocks are lost. Their bytes are
    /// removed now (a pack the index does not list yet is unlinked, a listed one truncated to
    /// its committed size), so an interrupted command leaves exactly what it committed; if
    /// that fails, the next writer's recovery does it.
    public func abandon() {
        guard isOpen else { return }
        isOpen = false
        if packFD >= 0 {
            let path = store.layout.packPath(packID)
            if packIsNew {
                try? Sys.unlink(path)
            } else if packEnd > packCommittedEnd {
                try? Sys.truncate(packFD, to: packCommittedEnd, path: path)
            }
            Sys.close(packFD)
        }
        packFD = -1
        pending.removeAll()
        pendingKeys.removeAll()
        lock.unlock()
    }

    /// Runs a write transaction on the index under this writer's lock (pins, deletions, GC).
    func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        try commit()
        return try store.writeDatabase(body)
    }
}
