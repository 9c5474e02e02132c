// BlockStore: append-only pack files for block bytes, a SQLite (GRDB, WAL) index, pins, GC.
// See spec/blockstore.md for the on-disk format and the crash-safety argument.
import Foundation
import GRDB
import GRDBSQLite
import Hashing
public import Multiformats
import Synchronization

public import Blocks
import CairnSystem

/// A content-addressed block store on disk.
///
/// Readers (`has`, `get`, `list`, `stat`, `verify`) run concurrently from any number of threads
/// and processes; they see only committed state. Everything that changes the store goes
/// through one `BlockStoreWriter` at a time across processes (an exclusive `flock`), obtained
/// from `writer()` or `write(_:)`.
public final class BlockStore: Sendable {
    public let layout: StoreLayout
    /// How writers wait for the store lock.
    public let lockWait: LockWait
    /// The pool reads go through: read-only connections for a store opened with
    /// `create: false` (they never write, not even to set up WAL mode), else the read-write pool.
    let database: DatabasePool
    /// The read-write pool, opened on the first write of a store opened for reading.
    private let writablePool: Mutex<DatabasePool?>
    /// Read-only descriptors of pack files, opened on first use. A descriptor of a pack that
    /// compaction has since unlinked still reads the old (verified) bytes.
    private let readHandles = Mutex<[Int64: Int32]>([:])
    let packMappings = PackMappings()
    /// Point lookups on plain read-only connections (GRDB's pool is the fallback).
    let lookups: IndexLookups

    /// Opens the store at `layout.root`. With `create`, a missing store is created and the
    /// index is opened for writing; without it, a missing store is `.noStore` and the index is
    /// opened read-only (a writer later opens it for writing).
    public init(layout: StoreLayout, create: Bool = true, lockWait: LockWait = LockWait()) throws {
        self.layout = layout
        self.lockWait = lockWait
        lookups = IndexLookups(path: layout.databasePath)
        let exists = Sys.exists(layout.databasePath)
        if !exists {
            // Packs without an index are a store whose index was lost: never start over.
            guard BlockStore.isBrandNew(layout) else {
                throw BlockStoreError(.corrupt, "the store at \(layout.root) has no index (\(layout.databasePath) is missing); "
                    + "`cairn store repair` rebuilds it from the packs")
            }
            guard create else {
                throw BlockStoreError(.noStore, "no block store at \(layout.root) (add something first, or pass --store)")
            }
            try BlockStore.makeDirectories(layout.root)
            try Sys.mkdirIfNeeded(layout.packsPath)
        }
        try BlockStore.checkFormatFile(layout)
        database = try BlockStore.openPool(layout, readOnly: !create)
        writablePool = Mutex(create ? database : nil)
        let format: String?
        do {
            format = try database.read { db -> String? in
                guard try db.tableExists("meta") else { return nil }
                return try Row.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'")?.text(0)
            }
        } catch let error as DatabaseError where SQLiteFaults.isIOError(error) {
            throw SQLiteFaults.ioError(error, path: layout.databasePath)!
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw BlockStore.readOnlyError(error, layout)
        } catch {
            throw BlockStoreError(.database, "cannot read the index \(layout.databasePath): \(error); "
                + "`cairn store repair` rebuilds it from the packs")
        }
        guard format != nil || BlockStore.isBrandNew(layout) else {
            throw BlockStoreError(.corrupt, "the index \(layout.databasePath) has no format record but the store has packs or a FORMAT file; "
                + "`cairn store repair` rebuilds it from the packs")
        }
        if let format {
            guard Int(format) == blockStoreFormatVersion else {
                throw BlockStoreError(.formatVersion,
                    "store \(layout.root) has format version \(format); this cairn reads version \(blockStoreFormatVersion)")
            }
        } else {
            guard create else {
                throw BlockStoreError(.noStore, "no block store at \(layout.root) (add something first, or pass --store)")
            }
            try initialize()
        }
    }

    /// SQLite's page cache of the writer's connection, in KiB…
    static let cacheKiB = 65536
    /// …of each reader's…
    static let readerCacheKiB = 8192
    /// …and on the writer's connection during an import (`BlockStoreWriter.commitsOnlyWhenAsked`).
    static let importCacheKiB = 16384
    /// The page cache of an import's temporary table of spilled rows (`BlockStoreWriter`).
    static let spillCacheKiB = 8192

    /// Opens the index. A read-write pool makes every commit durable: GRDB sets
    /// `synchronous = NORMAL` on the writer connection when it enables WAL mode (after
    /// `prepareDatabase`), so FULL is set again once the pool is open, on that one connection
    /// every write goes through (spec §5). Its WAL and shared-memory files persist after the
    /// last connection closes, so that read-only openers never have to create them.
    private static func openPool(_ layout: StoreLayout, readOnly: Bool) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.readonly = readOnly
        configuration.prepareDatabase { db in
            // No memory map: each connection mapped the index whole as it read it, and a
            // mapping's pages count in the resident size once per connection (the 28 MB index
            // of 263 661 blocks stood at 81 MB in a server). Pages come through SQLite's own
            // cache, bounded per connection: the writer's (commits of large batches), and a
            // smaller one for each reader.
            try db.execute(sql: "PRAGMA mmap_size = 0")
            try db.execute(sql: "PRAGMA cache_size = -\(db.configuration.readonly ? readerCacheKiB : cacheKiB)")
            if !readOnly {
                var persist: Int32 = 1
                sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
            }
        }
        SQLiteFaults.install()
        do {
            let pool = try DatabasePool(path: layout.databasePath, configuration: configuration)
            if !readOnly {
                // WAL commits are durable only with synchronous=FULL: a committed batch
                // survives power loss, not just a process crash.
                try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            }
            return pool
        } catch let error as DatabaseError where SQLiteFaults.isIOError(error) {
            // Disk full, or an I/O call failed: the index is not damaged, repair would not help.
            throw SQLiteFaults.ioError(error, path: layout.databasePath)!
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw readOnlyError(error, layout)
        } catch {
            throw BlockStoreError(.database, "cannot open the index \(layout.databasePath): \(error); "
                + "`cairn store repair` rebuilds it from the packs")
        }
    }

    /// SQLite refused to write the index (`SQLITE_READONLY`): the store, or its index, is not
    /// writable by this user (permissions, a read-only mount). Nothing is damaged, so no repair
    /// advice: one line saying it is read-only.
    static func readOnlyError(_ error: DatabaseError, _ layout: StoreLayout) -> BlockStoreError {
        if !Sys.exists(layout.databasePath + "-shm"), access(layout.root, W_OK) != 0 {
            // Reading a WAL-mode database needs its -shm file, which only a writer can create.
            return BlockStoreError(.io, "the store at \(layout.root) is read-only and its index \(layout.databasePath) has no "
                + "-wal/-shm files, which SQLite needs to read it (a command that writes, such as `cairn gc`, run once with write access creates them)",
                errno: EROFS)
        }
        return BlockStoreError(.io, "the store at \(layout.root) is read-only: cannot write its index \(layout.databasePath) "
            + "(\(error.message ?? "attempt to write a readonly database"))", errno: EROFS)
    }

    /// The read-write pool (opened now if this store was opened for reading).
    private func writableDatabase() throws -> DatabasePool {
        try writablePool.withLock { pool in
            if let pool { return pool }
            let opened = try BlockStore.openPool(layout, readOnly: false)
            pool = opened
            return opened
        }
    }

    /// Convenience: `BlockStore(layout: StoreLayout(root: path))`.
    public convenience init(path: String, create: Bool = true, lockWait: LockWait = LockWait()) throws {
        try self.init(layout: StoreLayout(root: path), create: create, lockWait: lockWait)
    }

    deinit {
        readHandles.withLock { handles in
            for fd in handles.values { Sys.close(fd) }
        }
    }

    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try Sys.mkdirIfNeeded(prefix)
        }
    }

    /// A store that never held anything: no FORMAT file and no pack files.
    static func isBrandNew(_ layout: StoreLayout) -> Bool {
        guard !Sys.exists(layout.formatPath) else { return false }
        let names = (try? Sys.listDirectory(layout.packsPath)) ?? []
        return !names.contains { PackFormat.id(ofFileName: $0) != nil }
    }

    /// What the `FORMAT` file says.
    enum FormatFile: Equatable {
        /// No file (or one that cannot be read: the index's own format record still decides).
        case missing
        /// `cairn-blockstore N`.
        case version(Int)
        /// Anything else: not a format file.
        case damaged
    }

    static func readFormatFile(_ layout: StoreLayout) -> FormatFile {
        guard let data = FileManager.default.contents(atPath: layout.formatPath) else { return .missing }
        guard let text = String(data: data, encoding: .utf8) else { return .damaged }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, fields[0] == "cairn-blockstore", let version = Int(fields[1]) else { return .damaged }
        return .version(version)
    }

    private static func checkFormatFile(_ layout: StoreLayout) throws {
        switch readFormatFile(layout) {
        case .missing:
            return
        case .damaged:
            throw BlockStoreError(.formatVersion, "\(layout.formatPath) is not a cairn block store format file; "
                + "`cairn store repair` restores it")
        case .version(let version):
            guard version == blockStoreFormatVersion else {
                throw BlockStoreError(.formatVersion,
                    "store \(layout.root) has format version \(version); this cairn reads version \(blockStoreFormatVersion)")
            }
        }
    }

    /// Creates the schema under the writer lock (two processes may race to create a store).
    private func initialize() throws {
        let lock = try FileLock(path: layout.lockPath, wait: lockWait)
        defer { lock.unlock() }
        try writeDatabase { db in
            for statement in IndexSchema.statements { try db.execute(sql: statement) }
            try db.execute(sql: "INSERT OR IGNORE INTO meta(key, value) VALUES ('format', ?)",
                           arguments: [String(blockStoreFormatVersion)])
            try db.execute(sql: "INSERT OR IGNORE INTO meta(key, value) VALUES ('next_pack', '1')")
        }
        try BlockStore.writeFormatFile(layout)
    }

    /// Writes `FORMAT` atomically (temporary file, fsync, rename, directory fsync).
    static func writeFormatFile(_ layout: StoreLayout) throws {
        let text = "cairn-blockstore \(blockStoreFormatVersion)\n"
        let temporary = layout.formatPath + ".tmp"
        let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        defer { Sys.close(fd) }
        try Array(text.utf8).withUnsafeBytes { (bytes) throws in
            try Sys.pwriteAll(fd, bytes, at: 0, path: temporary)
        }
        try Sys.fsync(fd, path: temporary)
        try Sys.rename(temporary, to: layout.formatPath)
        try Sys.syncDirectory(layout.root)
    }

    // MARK: Database access with errors mapped

    func readDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try mappingDatabaseErrors { try database.read(body) }
    }

    func writeDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try mappingDatabaseErrors { try writableDatabase().write(body) }
    }

    /// The writer connection outside a transaction (the caller opens its own, for instance
    /// around a scratch database it attaches).
    func writeDatabaseWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try mappingDatabaseErrors { try writableDatabase().writeWithoutTransaction(body) }
    }

    /// Runs `body`; a store error passes through, any other (GRDB's) becomes a `.database` one.
    private func mappingDatabaseErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BlockStoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT && CancellationToken.process.signal != nil {
            throw CancellationError()  // a statement aborted for a signal (BlockStoreWriter.abortOnSignal): rolled back
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw BlockStore.readOnlyError(error, layout)
        } catch let error as DatabaseError {
            throw SQLiteFaults.ioError(error, path: layout.databasePath)
                ?? BlockStoreError(.database, "index \(layout.databasePath): \(error)")
        } catch {
            throw BlockStoreError(.database, "index \(layout.databasePath): \(error)")
        }
    }

    // MARK: Lookups

    static let entrySQL = "SELECT \(IndexEntry.columns) FROM blocks WHERE mh = ?"

    func entry(_ multihash: Multihash) throws -> IndexEntry? {
        switch lookups.entry(multihash) {
        case .found(let entry): return entry
        case .absent: return nil
        case nil: return try readDatabase { db in try BlockStore.entry(multihash, in: db) }
        }
    }

    static func entry(_ multihash: Multihash, in db: Database) throws -> IndexEntry? {
        let statement = try db.cachedStatement(sql: entrySQL)
        return try Row.fetchOne(statement, arguments: [multihash.key]).map { try IndexEntry(row: $0, multihash: multihash) }
    }

    /// Whether the block is in the store (identity CIDs always are: they are their own bytes).
    public func has(_ cid: CID) throws -> Bool {
        if cid.multihash.code == .identity { return true }
        switch lookups.entry(cid.multihash) {
        case .found: return true
        case .absent: return false
        case nil: break
        }
        return try readDatabase { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM blocks WHERE mh = ?"),
                              arguments: [cid.multihash.key]) ?? false
        }
    }

    /// `has` for many CIDs at once, in one read transaction: `result[i]` answers `cids[i]`.
    /// Lookups run in key order (neighbouring B-tree pages stay hot).
    public func hasMany(_ cids: [CID]) throws -> [Bool] {
        try hasMany(multihashes: cids.map(\.multihash))
    }

    /// The first 8 bytes of an index key as a big-endian number (zeros past its end): sorting
    /// by it, then by the bytes on a tie, is the keys' byte order (`hasMany`, the writer's spill).
    static func sortPrefix(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var prefix: UInt64 = 0
        for i in 0..<8 { prefix = prefix << 8 | UInt64(i < key.count ? key[i] : 0) }
        return prefix
    }

    /// `hasMany` by multihash, through `probeInKeyOrder` (identity multihashes count as held).
    public func hasMany(multihashes: [Multihash]) throws -> [Bool] {
        var result = multihashes.map { $0.code == .identity }
        try probeInKeyOrder(multihashes, sql: "SELECT 1 FROM blocks WHERE mh = ?") { index, _ in result[index] = true }
        return result
    }

    /// Runs `sql` (one `?`, the index key) for each non-identity multihash of `multihashes`,
    /// in the keys' byte order (neighbouring B-tree pages stay hot), through one prepared
    /// statement driven with the SQLite C API directly (no per-row allocation), inside one
    /// read transaction; `row` gets the multihash's place and the statement on its row, before
    /// the statement is reset. Used by `hasMany` and `locations(of:)`.
    func probeInKeyOrder(_ multihashes: [Multihash], sql: String, _ row: (Int, OpaquePointer) throws -> Void) throws {
        var keys: [[UInt8]] = []
        var order: [(prefix: UInt64, index: Int)] = []
        keys.reserveCapacity(multihashes.count)
        order.reserveCapacity(multihashes.count)
        for (index, multihash) in multihashes.enumerated() {
            let key = multihash.bytes
            keys.append(key)
            if multihash.code == .identity { continue }
            order.append((key.withUnsafeBytes(BlockStore.sortPrefix), index))
        }
        order.sort { a, b in
            a.prefix != b.prefix ? a.prefix < b.prefix : keys[a.index].lexicographicallyPrecedes(keys[b.index])
        }
        try readDatabase { db in
            let statement = try db.makeStatement(sql: sql)
            let handle = statement.sqliteStatement
            var checked = 0
            for (_, index) in order {
                checked += 1
                if checked & 0x3FF == 0 { try CancellationToken.process.check() }  // ~1 ms of lookups
                defer { sqlite3_reset(handle) }
                let step: Int32 = keys[index].withUnsafeBytes { key in
                    sqlite3_bind_blob(handle, 1, key.baseAddress, Int32(key.count), nil)
                    return sqlite3_step(handle)
                }
                switch step {
                case SQLITE_ROW: try row(index, handle)
                case SQLITE_DONE: break
                default:
                    throw BlockStoreError(.database, "index \(layout.databasePath): lookup failed with SQLite code \(step)")
                }
            }
        }
    }

    /// Where the block's bytes are, nil when absent (or identity: those are never stored).
    public func location(of cid: CID) throws -> BlockLocation? {
        if cid.multihash.code == .identity { return nil }
        return try entry(cid.multihash)?.location
    }

    /// The block's size in bytes, nil when absent.
    public func size(of cid: CID) throws -> Int? {
        if cid.multihash.code == .identity { return cid.multihash.length }
        return try entry(cid.multihash)?.location.length
    }

    /// The block's bytes, nil when absent. Unless `verify` is false, the bytes are hashed and
    /// compared with the CID; a mismatch throws `.corrupt` naming the CID and the location.
    public func getIfPresent(_ cid: CID, verify: Bool = true) throws -> [UInt8]? {
        if cid.multihash.code == .identity { return cid.multihash.digest }
        // A concurrent compaction may move the block and unlink its old pack between the index
        // lookup and the open: look it up again then (it is in its new pack by then).
        for attempt in 0..<3 {
            guard let entry = try entry(cid.multihash) else { return nil }
            let bytes: [UInt8]
            do {
                bytes = try read(entry.location, cid: cid)
            } catch let error as BlockStoreError where error.errno == ENOENT && attempt < 2 {
                continue
            }
            if verify { try BlockStore.check(bytes, cid: cid, location: entry.location) }
            return bytes
        }
        return nil
    }

    /// `getIfPresent` into memory the caller provides, with no copy: `receive(length, read)`
    /// gets the block's length and calls `read` once with a buffer of exactly that many bytes,
    /// which `read` fills from the pack and (unless `verify` is false) checks against the CID,
    /// throwing `.corrupt` as `getIfPresent` does. False when the block is absent (identity
    /// CIDs included: their bytes are the CID's). The gateway reads raw blocks straight into
    /// the buffer it sends (spec/gateway.md §5.1).
    public func readIfPresent(
        _ cid: CID, verify: Bool = true,
        _ receive: (_ length: Int, _ read: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Bool {
        guard let location = try location(of: cid) else { return false }
        // The one body of a read into the caller's memory is `read(_:at:into:verify:)`
        // (BatchReads.swift), which follows a block compaction moved; one removed meanwhile
        // is absent here, as if the lookup had come a moment later.
        var removed = false
        do {
            try receive(location.length) { buffer in
                precondition(buffer.count == location.length, "readIfPresent: the buffer must hold the block exactly")
                do {
                    try self.read(cid, at: location, into: buffer, verify: verify)
                } catch let error as BlockStoreError where error.code == .notFound {
                    removed = true
                    throw error
                }
            }
        } catch where removed {
            return false
        }
        return true
    }

    /// The block's bytes (verified unless `verify` is false); `.notFound` when absent.
    public func get(_ cid: CID, verify: Bool = true) throws -> [UInt8] {
        guard let bytes = try getIfPresent(cid, verify: verify) else {
            throw BlockStoreError(.notFound, "block \(cid) not found in \(layout.root)")
        }
        return bytes
    }

    // MARK: Pack reads

    func readHandle(_ pack: Int64) throws -> Int32 {
        if let fd = readHandles.withLock({ $0[pack] }) { return fd }
        let fd = try Sys.open(layout.packPath(pack), O_RDONLY)
        return readHandles.withLock { handles in
            if let existing = handles[pack] {
                Sys.close(fd)
                return existing
            }
            handles[pack] = fd
            return fd
        }
    }

    /// Forgets cached descriptors (after compaction removed packs in this process).
    func dropReadHandles(_ packs: some Sequence<Int64>) {
        readHandles.withLock { handles in
            for pack in packs { if let fd = handles.removeValue(forKey: pack) { Sys.close(fd) } }
        }
    }

    func read(_ location: BlockLocation, cid: CID) throws -> [UInt8] {
        let fd = try readHandle(location.pack)
        let path = layout.packPath(location.pack)
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: location.length) { buffer, initialized in
            do {
                initialized = try Sys.preadFull(fd, UnsafeMutableRawBufferPointer(buffer), at: location.offset, path: path)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        guard bytes.count == location.length else {
            throw BlockStoreError(.corrupt,
                "block \(cid) is corrupt: \(location) extends past the end of the pack (only \(bytes.count) bytes there)")
        }
        return bytes
    }

    /// Throws `.corrupt` unless `bytes` hash to `cid`'s multihash (`BlockVerifier`).
    static func check(_ bytes: [UInt8], cid: CID, location: BlockLocation) throws {
        try bytes.withUnsafeBytes { try check($0, cid: cid, location: location) }
    }

    static func check(_ bytes: UnsafeRawBufferPointer, cid: CID, location: BlockLocation) throws {
        switch BlockVerifier.verdict(cid, bytes) {
        case .valid: return
        case .mismatch:
            throw BlockStoreError(.corrupt, "block \(cid) is corrupt: its bytes at \(location) do not hash to its CID")
        case .unsupported:
            throw BlockStoreError(.corrupt, "block \(cid) at \(location) cannot be verified: unsupported hash function \(cid.multihash.code)")
        }
    }

    /// Whether this store can verify blocks hashed with `code` (and so accepts them).
    public static func supports(hashCode code: Multicodec) -> Bool {
        HashAlgorithm(multihashCode: code.rawValue) != nil
    }

    // MARK: Listing and statistics

    /// Calls `body` with every stored block's CID and size, in index order.
    public func list(_ body: (CID, Int) throws -> Void) throws {
        try readDatabase { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT \(IndexEntry.columns), mh FROM blocks")
            var count = 0
            while let row = try rows.next() {
                count += 1
                if count & 0x3FF == 0 { try CancellationToken.process.check() }  // `body` may be slow
                let multihash = try IndexEntry.multihash(row, column: 5)
                let entry = try IndexEntry(row: row, multihash: multihash)
                try body(entry.cid(multihash), entry.location.length)
            }
        }
    }

    /// What `stat()` reports.
    public struct Statistics: Sendable, Hashable {
        /// Blocks in the index.
        public var blocks: Int
        /// Their total size.
        public var blockBytes: Int64
        /// Pack files.
        public var packs: Int
        /// Committed bytes in all packs (headers and record framing included).
        public var packBytes: Int64
        /// Pins.
        public var pins: Int
        /// `blockBytes / packBytes` (1 for an empty store): how much of the packs is live.
        public var liveRatio: Double {
            packBytes <= Int64(PackFormat.headerSize) * Int64(packs) ? 1 : Double(blockBytes) / Double(packBytes)
        }
    }

    public func stat() throws -> Statistics {
        try readDatabase { db in
            func totals(_ sql: String, _ table: String) throws -> (Int, Int64) {
                guard let row = try Row.fetchOne(db, sql: sql), let count = row.integer(0), let sum = row.integer(1) else {
                    throw BlockStoreError.corruptRow(layout, table, "all rows", "the sizes do not add up to an integer")
                }
                return (Int(count), sum)
            }
            let blocks = try totals("SELECT COUNT(*), COALESCE(SUM(length), 0) FROM blocks", "blocks")
            let packs = try totals("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM packs", "packs")
            let pins = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pins") ?? 0
            return Statistics(blocks: blocks.0, blockBytes: blocks.1, packs: packs.0, packBytes: packs.1, pins: pins)
        }
    }

    // MARK: Writing

    /// A writer: waits for the store's exclusive write lock (across processes) and holds it
    /// until `close()`.
    public func writer() throws -> BlockStoreWriter {
        try BlockStoreWriter(store: self)
    }

    /// A writer that writes packs directly or not (`BlockStoreWriter.directWrites`), from the
    /// pack it continues on (tests of both paths).
    func writer(directWrites: Bool) throws -> BlockStoreWriter {
        try BlockStoreWriter(store: self, directWrites: directWrites)
    }

    /// Runs `body` with a writer and commits what it wrote. If `body` throws, its uncommitted
    /// blocks are abandoned (bytes past the committed end of a pack, reclaimed later).
    public func write<R>(_ body: (BlockStoreWriter) throws -> R) throws -> R {
        let writer = try self.writer()
        do {
            let result = try body(writer)
            try writer.close()
            return result
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Stores one block, verified against its CID first unless `verify` is false: the caller
    /// then promises that it computed the CID from these very bytes (`cairn block put` hashes
    /// each block once). Returns false if it was already there.
    @discardableResult
    public func put(_ block: Block, verify: Bool = true) throws -> Bool {
        try write { writer in try writer.put(block, verify: verify) }
    }

    /// Stores many blocks in one durable batch (each verified against its CID); returns how
    /// many were new. Blocks already present cost a lookup.
    @discardableResult
    public func putMany(_ blocks: some Sequence<Block>) throws -> Int {
        try write { writer in
            var added = 0
            for block in blocks where try writer.put(block, verify: true) { added += 1 }
            return added
        }
    }
}
