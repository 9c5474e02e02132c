import Blocks
import CairnSystem
import Foundation
import GRDB
public import Multiformats


/// What `BlockStore.repair` did.
public struct RepairReport: Sendable {
    /// Pack files read, and the blocks (distinct, verified) indexed from them.
    public var packs = 0
    public var blocks = 0
    public var blockBytes: Int64 = 0
    /// Records of a block already indexed from an earlier record.
    public var duplicateRecords = 0
    /// Byte ranges of packs that held no verifiable record (damage, or an interrupted batch).
    public var skipped: [String] = []
    /// Files named like packs that do not start with a pack header, renamed to `….damaged`.
    public var notPacks: [String] = []
    /// Packs whose damaged header was rewritten (records that verify follow it); the damaged
    /// bytes are kept in `….header-damaged`.
    public var headersRestored: [String] = []
    /// Where a damaged FORMAT file was moved when a sound one was written in its place.
    public var formatRestored: String?
    /// Where the previous index (and its -wal/-shm) was moved, if there was one.
    public var previousIndex: String?
    /// Pins carried over from the previous index (when it could still be read); nil if it
    /// could not be read (its pins are lost).
    public var pinsKept: Int?
    /// With `pinRoots`: roots pinned recursively, and roots whose DAG is incomplete or does
    /// not decode, pinned directly.
    public var rootsPinned: [CID] = []
    public var rootsPinnedDirectly: [CID] = []
    /// With `pinRoots`: the roots found, and why pinning them stopped (the index was rebuilt
    /// and in place by then; each pin listed above was committed on its own).
    public var rootsFound = 0
    public var pinningStopped: String?
}

extension BlockStore {
    /// Rebuilds the index from the packs alone (spec/blockstore.md §11), under the writer lock:
    /// every record of every pack is read and its block re-hashed; verified blocks get index
    /// rows, every pack keeps all its bytes (its committed size is its file size). The new
    /// index is built beside the old one and renamed into place, so an interrupted repair
    /// changes nothing; the old index is kept as `index.sqlite.replaced-TIME`. Pins come from
    /// the old index if it can still be read; with `pinRoots`, every root (a dag-pb or
    /// dag-cbor block no other stored block links to) is pinned as well.
    public static func repair(layout: StoreLayout, pinRoots: Bool, lockWait: LockWait = LockWait()) throws -> RepairReport {
        guard Sys.exists(layout.packsPath) || Sys.exists(layout.databasePath) else {
            throw BlockStoreError(.noStore, "no block store at \(layout.root) (no packs directory)")
        }
        let lock = try FileLock(path: layout.lockPath, wait: lockWait)
        defer { lock.unlock() }
        var report = RepairReport()
        // A FORMAT file naming another version is a store this cairn does not know how to read:
        // it is not rebuilt as version 1 (a later version may hold what this code cannot see).
        let format = readFormatFile(layout)
        if case .version(let version) = format, version != blockStoreFormatVersion {
            throw BlockStoreError(.formatVersion, "store \(layout.root) has format version \(version) (\(layout.formatPath)); "
                + "this cairn reads and repairs version \(blockStoreFormatVersion) only: nothing was changed")
        }
        let rebuild = layout.databasePath + ".rebuild"
        for suffix in ["", "-journal", "-wal", "-shm"] { try Sys.unlink(rebuild + suffix) }
        let oldPins = Sys.exists(layout.databasePath) ? try? readPins(layout.databasePath) : nil
        report.pinsKept = oldPins?.count
        var roots: [CID] = []
        // A failed repair leaves no `.rebuild` behind (a rerun would remove it anyway).
        let removeRebuild = { for suffix in ["", "-journal", "-wal", "-shm"] { try? Sys.unlink(rebuild + suffix) } }
        do {
            do {
                SQLiteFaults.install()
                let queue = try DatabaseQueue(path: rebuild)
                try queue.write { db in
                    for statement in IndexSchema.statements { try db.execute(sql: statement) }
                    try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('format', ?)", arguments: [String(blockStoreFormatVersion)])
                    try db.execute(sql: "CREATE TEMP TABLE linked(mh BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID")
                    let highest = try indexPacks(layout, db, &report)
                    try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('next_pack', ?)", arguments: [String(highest + 1)])
                    for pin in oldPins ?? [] {
                        try db.execute(sql: "INSERT OR REPLACE INTO pins(cid, name, recursive) VALUES (?, ?, ?)",
                                       arguments: [pin.cid, pin.name, pin.recursive])
                    }
                    if pinRoots { roots = try findRoots(db) }
                    try db.execute(sql: "DROP TABLE temp.linked")
                }
                try queue.close()
                // A damaged FORMAT file is restored only when the rest is a cairn store.
                if format == .damaged && report.packs == 0 && oldPins == nil {
                    throw BlockStoreError(.formatVersion, "\(layout.formatPath) is not a cairn block store format file, and "
                        + "\(layout.root) holds no pack and no readable index: nothing here is recognisable as a cairn store; "
                        + "nothing was changed")
                }
            } catch let error as BlockStoreError {
                throw error
            } catch let error as DatabaseError where SQLiteFaults.isIOError(error) {
                throw SQLiteFaults.ioError(error, path: rebuild)!
            } catch {
                throw BlockStoreError(.database, "cannot build the new index \(rebuild): \(error)")
            }
            let fd = try Sys.open(rebuild, O_RDONLY)
            defer { Sys.close(fd) }
            try Sys.fsync(fd, path: rebuild)
        } catch {
            removeRebuild()
            throw error
        }
        // The old index steps aside (kept, never deleted), then the new one takes its place; if
        // that fails, the old index is moved back, so its pins are not lost to a rerun.
        var movedAside: [(from: String, to: String)] = []
        do {
            if Sys.exists(layout.databasePath) {
                let aside = layout.databasePath + ".replaced-\(Int(Date().timeIntervalSince1970))"
                for suffix in ["-wal", "-shm", ""] where Sys.exists(layout.databasePath + suffix) {
                    try Sys.rename(layout.databasePath + suffix, to: aside + suffix)
                    movedAside.append((layout.databasePath + suffix, aside + suffix))
                }
                report.previousIndex = aside
            }
            try Sys.rename(rebuild, to: layout.databasePath)
        } catch {
            for move in movedAside.reversed() { try? Sys.rename(move.to, to: move.from) }
            removeRebuild()
            throw error
        }
        try Sys.syncDirectory(layout.root)
        switch format {
        case .missing:
            if !Sys.exists(layout.formatPath) { try writeFormatFile(layout) }
        case .damaged:
            let aside = layout.formatPath + ".replaced-\(Int(Date().timeIntervalSince1970))"
            try Sys.rename(layout.formatPath, to: aside)
            try writeFormatFile(layout)
            report.formatRestored = aside
        case .version:
            break
        }
        // The repair is committed: from here on nothing throws, what happened is reported.
        if ProcessInfo.processInfo.environment["CAIRN_TEST_SIGNAL_AFTER_REPAIR_COMMIT"] != nil {
            // (Tests.) A SIGINT to the process, as a user's ^C, and its arrival awaited: this
            // thread may block signals, another takes it.
            kill(getpid(), SIGINT)
            for _ in 0..<5000 where !CancellationToken.process.isCancelled { usleep(1000) }
        }
        lock.unlock()
        guard !roots.isEmpty else { return report }
        report.rootsFound = roots.count
        do {
            let store = try BlockStore(layout: layout, create: false, lockWait: lockWait)
            try store.write { writer in
                for root in roots {
                    do {
                        try writer.pin(root, recursive: true, name: "repair")
                        report.rootsPinned.append(root)
                    } catch let error as BlockStoreError where error.code == .notFound || error.code == .corrupt {
                        try writer.pin(root, recursive: false, name: "repair")
                        report.rootsPinnedDirectly.append(root)
                    }
                }
            }
        } catch is CancellationError {
            report.pinningStopped = "interrupted"
        } catch let error as BlockStoreError {
            report.pinningStopped = error.message
        } catch {
            report.pinningStopped = "\(error)"
        }
        return report
    }

    /// Indexes every pack file of the store into `db`; returns the highest pack id seen.
    private static func indexPacks(_ layout: StoreLayout, _ db: Database, _ report: inout RepairReport) throws -> Int64 {
        let ids = try Sys.listDirectory(layout.packsPath).compactMap(PackFormat.id(ofFileName:)).sorted()
        let insert = try db.makeStatement(sql:
            "INSERT OR IGNORE INTO blocks(mh, codec, version, pack, offset, length) VALUES (?, ?, ?, ?, ?, ?)")
        let link = try db.makeStatement(sql: "INSERT OR IGNORE INTO temp.linked(mh) VALUES (?)")
        for id in ids {
            try CancellationToken.process.check()
            let path = layout.packPath(id)
            let fd = try Sys.open(path, O_RDONLY)
            defer { Sys.close(fd) }
            var pack = try PackFile(fd: fd, path: path)
            if pack.version == nil {
                // A damaged header costs no block: if records that check against their CIDs
                // follow it, a sound header is written in its place (the damaged bytes are kept
                // beside the pack) and the pack is read as any other. Else it is set aside.
                guard let version = try PackFile.guessVersion(fd: fd, path: path) else {
                    _ = try syscall("cannot rename \(path)") { rename(path, path + ".damaged") }
                    report.notPacks.append(PackFormat.fileName(id))
                    continue
                }
                try restoreHeader(path: path, in: layout.packsPath, fd: fd, version: version)
                report.headersRestored.append(PackFormat.fileName(id))
                pack = try PackFile(fd: fd, path: path)
            }
            report.packs += 1
            try pack.walk(from: Int64(PackFormat.headerSize), resync: true, { record, bytes in
                let cid = record.cid
                try insert.execute(arguments: [cid.multihash.key, Int64(bitPattern: cid.codec.rawValue),
                                               Int64(bitPattern: cid.version.rawValue), id, record.blockOffset, record.length])
                guard db.changesCount > 0 else {
                    report.duplicateRecords += 1
                    return
                }
                report.blocks += 1
                report.blockBytes += Int64(record.length)
                // A block that does not decode links nowhere (and cannot be a complete root).
                for child in (try? Blocks.expandingIdentity(Blocks.links(of: cid, bytes))) ?? [] where child.multihash.code != .identity {
                    try link.execute(arguments: [child.multihash.key])
                }
            }, skipped: { range in
                report.skipped.append("\(PackFormat.fileName(id)): bytes \(range.lowerBound)..<\(range.upperBound) hold no verifiable record")
            })
            try db.execute(sql: "INSERT INTO packs(id, size) VALUES (?, ?)", arguments: [id, pack.size])
        }
        return ids.last ?? 0
    }

    /// Writes the pack header of `version` over a damaged one; the damaged bytes are saved first
    /// in `PACK.header-damaged` (never deleted) beside it, in `directory`.
    private static func restoreHeader(path: String, in directory: String, fd: Int32, version: UInt8) throws {
        var damaged = [UInt8](repeating: 0, count: PackFormat.headerSize)
        let got = try damaged.withUnsafeMutableBytes { try Sys.preadFull(fd, $0, at: 0, path: path) }
        let saved = path + ".header-damaged"
        let savedFD = try Sys.open(saved, O_WRONLY | O_CREAT | O_TRUNC)
        defer { Sys.close(savedFD) }
        try damaged[0..<got].withUnsafeBytes { try Sys.pwriteAll(savedFD, $0, at: 0, path: saved) }
        try Sys.fsync(savedFD, path: saved)
        // The saved copy's directory entry is durable before the header it keeps is overwritten.
        try Sys.syncDirectory(directory)
        var header = PackFormat.header
        header[PackFormat.magicPrefix.count] = version
        let writeFD = try Sys.open(path, O_WRONLY)
        defer { Sys.close(writeFD) }
        try header.withUnsafeBytes { try Sys.pwriteAll(writeFD, $0, at: 0, path: path) }
        try Sys.fdatasync(writeFD, path: path)
    }

    /// The roots: dag-pb and dag-cbor blocks that no other stored block links to.
    private static func findRoots(_ db: Database) throws -> [CID] {
        try Row.fetchAll(db, sql: """
            SELECT mh, codec, version FROM blocks
            WHERE codec IN (?, ?) AND NOT EXISTS (SELECT 1 FROM temp.linked l WHERE l.mh = blocks.mh)
            ORDER BY mh
            """, arguments: [Int64(Multicodec.dagPB.rawValue), Int64(Multicodec.dagCBOR.rawValue)]).compactMap { row in
            guard let key = row.blob(0), let codec = row.integer(1), let version = row.integer(2),
                  let multihash = try? Multihash(bytes: key) else { return nil }
            return IndexEntry(codec: UInt64(codec), version: UInt64(version),
                              location: BlockLocation(pack: 0, offset: 0, length: 0)).cid(multihash)
        }
    }

    /// The pins of an index that may be damaged (only rows that read back cleanly).
    private static func readPins(_ path: String) throws -> [(cid: Data, name: String, recursive: Bool)] {
        var configuration = Configuration()
        configuration.readonly = true
        SQLiteFaults.install()
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT cid, name, recursive FROM pins").compactMap { row in
                guard let cid = row.blob(0), (try? CID(bytes: cid)) != nil, let recursive = row.integer(2) else { return nil }
                return (cid, row.text(1) ?? "", recursive != 0)
            }
        }
    }
}
