import Foundation
import GRDB
import Multiformats
import Blocks
import CairnSystem

/// What a mark starts from.
enum MarkRoots {
    /// Every pin in the index (read page by page, never all at once).
    case pins
    /// The given roots.
    case list([(cid: CID, recursive: Bool)])
}

/// What one mark did (a test hook: the on-disk mark table and the frontier kept in memory).
struct MarkStatistics: Sendable, Hashable {
    /// Rows of the on-disk `marked` table (distinct multihashes found reachable).
    var markedRows = 0
    /// Rows of the on-disk `walked` table (distinct dag-pb and dag-cbor CIDs whose links were followed).
    var walkedRows = 0
    /// The largest number of CIDs the frontier held in memory at once.
    var peakFrontierInMemory = 0
    /// How many CIDs were spilled to the on-disk stack table.
    var spilledFrontier = 0
    /// With a target: whether it was found reachable (the walk stops there).
    var reachedTarget = false
}

extension StoreLayout {
    /// Scratch database of a mark in progress (attached to the writer's connection as `mark`).
    var markPath: String { root + "/gc-mark.sqlite" }
}

extension BlockStoreWriter {
    /// Marks everything reachable from `roots` into a scratch SQLite database on disk
    /// (`StoreLayout.markPath`, attached to the writer's connection as `mark`): a recursive
    /// root through dag-pb and dag-cbor links (raw, identity and other codecs end the walk), a direct root
    /// alone. Memory stays bounded whatever the store's size: the set of walked CIDs and of
    /// marked multihashes are tables, and the DFS stack keeps at most `markFrontierLimit` CIDs
    /// in memory, the rest in a table. Every block read is verified. With `strict`, a missing
    /// block throws `.notFound`; otherwise it is skipped. With `target`, the walk stops as soon
    /// as that multihash is marked.
    ///
    /// `body` runs with the scratch database still attached (`mark.marked(mh)` holds the
    /// marked multihashes) on the writer's connection, outside any transaction; it must use
    /// that `Database` only (not `transaction`/`commit`). The scratch file is removed afterwards
    /// (and by the next writer, should the process die first).
    func withMark<T>(_ roots: MarkRoots, strict: Bool, until target: Multihash? = nil,
                     _ body: (Database, MarkStatistics) throws -> T) throws -> T {
        try commit()
        let store = self.store
        let path = store.layout.markPath
        try BlockStoreWriter.removeMarkFiles(store.layout)
        let limit = max(1, markFrontierLimit)
        var statistics = MarkStatistics()
        defer { lastMark = statistics }
        return try store.writeDatabaseWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS mark", arguments: [path])
            defer {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                try? db.execute(sql: "DETACH DATABASE mark")
                try? BlockStoreWriter.removeMarkFiles(store.layout)
            }
            // Scratch data: no journal, no syncs; a crash just leaves a file to delete.
            try db.execute(sql: "PRAGMA mark.journal_mode = OFF")
            try db.execute(sql: "PRAGMA mark.synchronous = OFF")
            try db.execute(sql: "PRAGMA mark.cache_size = -16384")
            try db.execute(sql: "CREATE TABLE mark.walked(cid BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID")
            try db.execute(sql: "CREATE TABLE mark.marked(mh BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID")
            try db.execute(sql: "CREATE TABLE mark.stack(id INTEGER PRIMARY KEY, cid BLOB NOT NULL)")
            do {
                var marker = try Marker(db: db, store: store, strict: strict, target: target?.key, limit: limit)
                try marker.run(roots)
                statistics = marker.statistics
            }
            statistics.markedRows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mark.marked") ?? 0
            statistics.walkedRows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mark.walked") ?? 0
            return try body(db, statistics)
        }
    }

    static func removeMarkFiles(_ layout: StoreLayout) throws {
        for suffix in ["", "-journal", "-wal", "-shm"] where Sys.exists(layout.markPath + suffix) {
            try Sys.unlink(layout.markPath + suffix)
        }
    }
}

/// The walk behind `withMark`. Its prepared statements die with it (before the DETACH).
private struct Marker {
    let db: Database
    let store: BlockStore
    let strict: Bool
    let target: Data?
    let limit: Int
    var statistics = MarkStatistics()

    private let insertWalked: Statement
    private let insertMarked: Statement
    private let present: Statement
    private let push: Statement
    private let deleteFrom: Statement
    /// The top of the DFS stack (the bottom part, if any, is in `mark.stack`).
    private var frontier: [CID] = []
    private var spilled = 0
    /// Blocks handled in the current scratch transaction.
    private var sinceCommit = 0

    init(db: Database, store: BlockStore, strict: Bool, target: Data?, limit: Int) throws {
        self.db = db
        self.store = store
        self.strict = strict
        self.target = target
        self.limit = limit
        insertWalked = try db.makeStatement(sql: "INSERT OR IGNORE INTO mark.walked(cid) VALUES (?)")
        insertMarked = try db.makeStatement(sql: "INSERT OR IGNORE INTO mark.marked(mh) VALUES (?)")
        present = try db.makeStatement(sql: "SELECT 1 FROM main.blocks WHERE mh = ?")
        push = try db.makeStatement(sql: "INSERT INTO mark.stack(id, cid) VALUES (?, ?)")
        deleteFrom = try db.makeStatement(sql: "DELETE FROM mark.stack WHERE id >= ?")
        frontier.reserveCapacity(limit + 1)
    }

    mutating func run(_ roots: MarkRoots) throws {
        try db.execute(sql: "BEGIN")
        switch roots {
        case .list(let list):
            for (cid, recursive) in list where !statistics.reachedTarget { try mark(cid, recursive: recursive) }
        case .pins:
            // Page through the pins by key, so a store with millions of pins needs no list.
            var after: (cid: Data, name: String)? = nil
            while !statistics.reachedTarget {
                let page: [Row]
                if let after {
                    page = try Row.fetchAll(db, sql: """
                        SELECT cid, name, recursive FROM main.pins WHERE cid > ? OR (cid = ? AND name > ?)
                        ORDER BY cid, name LIMIT 1024
                        """, arguments: [after.cid, after.cid, after.name])
                } else {
                    page = try Row.fetchAll(db, sql: "SELECT cid, name, recursive FROM main.pins ORDER BY cid, name LIMIT 1024")
                }
                let pins = try page.map { try Pin(row: $0, layout: store.layout) }
                guard let last = pins.last else { break }
                after = (Data(last.cid.bytes), last.name ?? "")
                for pin in pins where !statistics.reachedTarget {
                    try mark(pin.cid, recursive: pin.recursive)
                }
            }
        }
        try db.execute(sql: "COMMIT")
    }

    private mutating func tick() throws {
        sinceCommit += 1
        // Each mark reads a block: 512 take a few ms, 8192 (a commit) could take 100.
        if sinceCommit & 511 == 0 { try CancellationToken.process.check() }
        if sinceCommit >= 8192 {
            sinceCommit = 0
            try db.execute(sql: "COMMIT")
            try db.execute(sql: "BEGIN")
        }
    }

    /// Records `multihash` as reachable.
    private mutating func markBlock(_ multihash: Multihash) throws {
        let reached = try multihash.withEncoded { key in
            _ = try SQLiteStep.step(insertMarked, blob: key)
            return target?.elementsEqual(key) ?? false
        }
        if reached { statistics.reachedTarget = true }
    }

    private func isPresent(_ cid: CID) throws -> Bool {
        if cid.multihash.code == .identity { return true }
        return try cid.multihash.withEncoded { key in try SQLiteStep.step(present, blob: key) }
    }

    private mutating func mark(_ root: CID, recursive: Bool) throws {
        guard recursive else {
            try tick()
            if root.multihash.code != .identity {
                if strict, try !isPresent(root) {
                    throw BlockStoreError(.notFound, "pinned block \(root) is missing from \(store.layout.root)")
                }
                try markBlock(root.multihash)
            }
            return
        }
        try pushCID(root)
        while let cid = try pop() {
            try tick()
            guard cid.codec == .dagPB || cid.codec == .dagCBOR else {
                // A block without links (raw, or a codec the walk does not follow): marked and,
                // when strict, looked for; not recorded as walked (nothing under it to walk: a
                // repeat only marks it again, as cheap as the walked row it would have checked).
                if cid.multihash.code != .identity {
                    try markBlock(cid.multihash)
                    if statistics.reachedTarget { return }
                }
                if strict, try !isPresent(cid) {
                    throw BlockStoreError(.notFound, "block \(cid) of the DAG pinned at \(root) is missing from \(store.layout.root)")
                }
                continue
            }
            try cid.toV1().withEncoded { _ = try SQLiteStep.step(insertWalked, blob: $0) }
            guard SQLiteStep.changes(insertWalked) > 0 else { continue }  // walked already
            if cid.multihash.code != .identity {
                try markBlock(cid.multihash)
                if statistics.reachedTarget { return }
            }
            let bytes: [UInt8]
            if cid.multihash.code == .identity {
                bytes = cid.multihash.digest
            } else if let entry = try BlockStore.entry(cid.multihash, in: db) {
                bytes = try store.read(entry.location, cid: cid)
                try BlockStore.check(bytes, cid: cid, location: entry.location)
            } else {
                if strict {
                    throw BlockStoreError(.notFound, "block \(cid) of the DAG pinned at \(root) is missing from \(store.layout.root)")
                }
                continue
            }
            let links: [CID]
            do {
                links = try Blocks.links(of: cid, bytes)
            } catch {
                throw BlockStoreError(.corrupt, "\(error.message) (in the DAG pinned at \(root))")
            }
            for link in links.reversed() { try pushCID(link) }
        }
    }

    /// Pushes onto the DFS stack; when the in-memory part outgrows `limit`, it moves to the
    /// table (in stack order, above what is there already).
    private mutating func pushCID(_ cid: CID) throws {
        frontier.append(cid)
        statistics.peakFrontierInMemory = max(statistics.peakFrontierInMemory, frontier.count)
        guard frontier.count > limit else { return }
        for cid in frontier {
            spilled += 1
            try push.execute(arguments: [spilled, Data(cid.bytes)])
        }
        statistics.spilledFrontier += frontier.count
        frontier.removeAll(keepingCapacity: true)
    }

    /// Pops the DFS stack, refilling the in-memory part from the table when it runs dry.
    private mutating func pop() throws -> CID? {
        if let cid = frontier.popLast() { return cid }
        guard spilled > 0 else { return nil }
        let take = max(1, limit / 2)
        let first = max(1, spilled - take + 1)
        let rows = try Row.fetchAll(db, sql: "SELECT cid FROM mark.stack WHERE id >= ? ORDER BY id", arguments: [first])
        for row in rows {
            let bytes: Data = row[0]
            frontier.append(try CID(bytes: bytes))
        }
        try deleteFrom.execute(arguments: [first])
        spilled = first - 1
        return frontier.popLast()
    }
}
