import Foundation
import GRDB
public import Multiformats
import Blocks

/// A pin: keeps a block (direct) or a whole DAG (recursive) from garbage collection.
/// A CID may carry several pins with different names; `(cid, name)` is unique.
public struct Pin: Hashable, Sendable {
    public var cid: CID
    public var recursive: Bool
    /// nil for an unnamed pin.
    public var name: String?

    public init(cid: CID, recursive: Bool, name: String?) {
        self.cid = cid
        self.recursive = recursive
        self.name = name
    }
}

extension Pin {
    /// A `cid, name, recursive` row of `pins`, checked (`.corrupt` naming the row if damaged);
    /// the stored name `''` (an unnamed pin) becomes nil.
    init(row: Row, layout: StoreLayout) throws {
        try self.init(cid: row[0], name: row[1], recursive: row[2], layout: layout)
    }

    /// The check of a `pins` row over its column values as SQLite returned them (the
    /// `index-row` fuzz target calls it directly).
    init(cid: DatabaseValue, name: DatabaseValue, recursive: DatabaseValue, layout: StoreLayout) throws {
        guard case .blob(let bytes) = cid.storage, let parsed = try? CID(bytes: bytes), case .string(let text) = name.storage,
              case .int64(let flag) = recursive.storage, flag == 0 || flag == 1 else {
            throw BlockStoreError.corruptRow(layout, "pins", [cid, name, recursive].map(IndexEntry.shown).joined(separator: ", "),
                                             "expected a CID, a name and 0 or 1")
        }
        self.init(cid: parsed, recursive: flag == 1, name: text.isEmpty ? nil : text)
    }
}

extension BlockStore {
    /// Every pin, ordered by CID then name.
    public func pins() throws -> [Pin] {
        try readDatabase { db in
            try Row.fetchAll(db, sql: "SELECT cid, name, recursive FROM pins ORDER BY cid, name").map { row in
                try Pin(row: row, layout: layout)
            }
        }
    }

}

extension BlockStoreWriter {
    /// Pins `cid`. A recursive pin requires the whole DAG to be present (and verifies it); a
    /// direct pin requires the block. Pinning again under the same name replaces the kind.
    public func pin(_ cid: CID, recursive: Bool = true, name: String? = nil) throws {
        try commit()
        try withMark(.list([(cid, recursive)]), strict: true) { _, _ in }
        try transaction { db in
            // A direct pin never replaces a recursive one (it would leave the DAG below
            // unpinned, for GC to take): refused, as Kubo's pinner refuses it.
            if !recursive, try Bool.fetchOne(db, sql: "SELECT 1 FROM pins WHERE cid = ? AND recursive = 1 LIMIT 1",
                                             arguments: [Data(cid.bytes)]) == true {
                throw BlockStoreError(.refused, "\(cid) already pinned recursively")
            }
            try db.execute(sql: "INSERT OR REPLACE INTO pins(cid, name, recursive) VALUES (?, ?, ?)",
                           arguments: [Data(cid.bytes), name ?? "", recursive])
        }
    }

    /// Commits pending blocks and the pin in one transaction (the end of `cairn add`): the
    /// root's DAG is durable and pinned at once, or neither. `checkDAG: false` skips re-reading
    /// the DAG when the caller has just put every one of its blocks through this writer.
    public func commit(pinning cid: CID, recursive: Bool = true, name: String? = nil, checkDAG: Bool = true) throws {
        try commit()
        if checkDAG { try withMark(.list([(cid, recursive)]), strict: true) { _, _ in } }
        try commit { db in
            try db.execute(sql: "INSERT OR REPLACE INTO pins(cid, name, recursive) VALUES (?, ?, ?)",
                           arguments: [Data(cid.bytes), name ?? "", recursive])
        }
    }

    /// Commits pending blocks and pins on every one of `cids` in one transaction (the end of
    /// `cairn car import`, whose reader has already checked that each DAG is complete).
    public func commit(pinningAll cids: [CID], recursive: Bool = true, name: String? = nil) throws {
        try commit(pinningEach: cids.forEach, recursive: recursive, name: name)
    }

    /// The same for CIDs that `forEachCID` hands out one at a time (the roots of a CAR header
    /// that may list hundreds of thousands: never held as one array).
    public func commit(pinningEach forEachCID: ((CID) throws -> Void) throws -> Void,
                       recursive: Bool = true, name: String? = nil) throws {
        try withoutActuallyEscaping(forEachCID) { forEachCID in
            try commit { db in
                let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO pins(cid, name, recursive) VALUES (?, ?, ?)")
                try forEachCID { cid in try insert.execute(arguments: [Data(cid.bytes), name ?? "", recursive]) }
            }
        }
    }

    /// Removes every pin of `cid` (any name; with `name`, only the pin of that name: a CID may
    /// carry several); returns how many. `.notFound` if there were none. With `recursive` false
    /// only its direct pins go, and a recursive pin of `cid` is refused (`.refused`, as Kubo's
    /// pinner answers `pin rm --recursive=false`).
    @discardableResult
    public func unpin(_ cid: CID, recursive: Bool = true, name: String? = nil) throws -> Int {
        let named = name.map { _ in " AND name = ?" } ?? ""
        var arguments: StatementArguments = [Data(cid.bytes)]
        if let name { arguments += [name] }
        let removed = try transaction { db in
            if !recursive, try Bool.fetchOne(db, sql: "SELECT 1 FROM pins WHERE cid = ? AND recursive = 1\(named) LIMIT 1",
                                             arguments: arguments) == true {
                throw BlockStoreError(.refused, "\(cid) is pinned recursively")
            }
            try db.execute(sql: (recursive ? "DELETE FROM pins WHERE cid = ?" : "DELETE FROM pins WHERE cid = ? AND recursive = 0") + named,
                           arguments: arguments)
            return db.changesCount
        }
        guard removed > 0 else {
            throw BlockStoreError(.notFound, name.map { "\(cid) is not pinned under the name '\($0)'" } ?? "\(cid) is not pinned")
        }
        return removed
    }

    /// Removes every pin named exactly `name`; returns how many. `.notFound` if there were none.
    @discardableResult
    public func unpin(name: String) throws -> Int {
        let removed = try transaction { db in
            try db.execute(sql: "DELETE FROM pins WHERE name = ?", arguments: [name])
            return db.changesCount
        }
        guard removed > 0 else { throw BlockStoreError(.notFound, "no pin is named '\(name)'") }
        return removed
    }

    /// Moves the pins of `old` to `new` (same names and kinds), in one transaction; with
    /// `unpinOld` false, `old` keeps its pins. `new`'s DAG must be present.
    public func updatePin(from old: CID, to new: CID, unpinOld: Bool = true) throws {
        let oldPins = try store.pins().filter { $0.cid == old }
        guard !oldPins.isEmpty else { throw BlockStoreError(.notFound, "\(old) is not pinned") }
        try withMark(.list(oldPins.map { (new, $0.recursive) }), strict: true) { _, _ in }
        try transaction { db in
            for pin in oldPins {
                try db.execute(sql: "INSERT OR REPLACE INTO pins(cid, name, recursive) VALUES (?, ?, ?)",
                               arguments: [Data(new.bytes), pin.name ?? "", pin.recursive])
            }
            if unpinOld && old != new {
                try db.execute(sql: "DELETE FROM pins WHERE cid = ?", arguments: [Data(old.bytes)])
            }
        }
    }

    /// Removes a block's index row (its bytes are reclaimed by GC compaction). Refused with
    /// `.refused` if the block is pinned or under a recursive pin, unless `force`. Returns false
    /// if the block was not there.
    @discardableResult
    public func delete(_ cid: CID, force: Bool = false) throws -> Bool {
        guard cid.multihash.code != .identity else { return false }
        try commit()
        if !force, try withMark(.pins, strict: false, until: cid.multihash, { _, mark in mark.reachedTarget }) {
            throw BlockStoreError(.refused, Self.pinnedReason(cid))
        }
        return try transaction { db in
            try db.execute(sql: "DELETE FROM blocks WHERE mh = ?", arguments: [cid.multihash.key])
            return db.changesCount > 0
        }
    }

    /// Why a pinned block is not removed.
    static func pinnedReason(_ cid: CID) -> String {
        "block \(cid) is pinned (directly or under a recursive pin); unpin it first"
    }

    /// What `delete(_:force:)` did with one block of several.
    public enum Deletion: Hashable, Sendable {
        case removed
        /// The block was not there (or is an identity block, never stored).
        case absent
        /// Pinned, or under a recursive pin, and not `force`d: the reason, in `delete`'s words.
        case pinned(String)
    }

    /// `delete(_:force:)` for several blocks, in order, with one walk of the pins for them all
    /// (one walk for each block took seconds each over a pinned DAG of 100 000 blocks, while
    /// holding the store's lock) and one transaction for the removals. A pinned block is
    /// reported and the others still go, as `ipfs block rm` does.
    public func delete(_ cids: [CID], force: Bool = false) throws -> [Deletion] {
        try commit()
        var pinned = [Bool](repeating: false, count: cids.count)
        if !force && cids.contains(where: { $0.multihash.code != .identity }) {
            pinned = try withMark(.pins, strict: false) { db, _ in
                let statement = try db.makeStatement(sql: "SELECT 1 FROM mark.marked WHERE mh = ?")
                return try cids.map { cid in
                    guard cid.multihash.code != .identity else { return false }
                    return try Bool.fetchOne(statement, arguments: [cid.multihash.key]) ?? false
                }
            }
        }
        return try transaction { db in
            try zip(cids, pinned).map { cid, isPinned -> Deletion in
                if cid.multihash.code == .identity { return .absent }
                if isPinned {
                    return .pinned(Self.pinnedReason(cid))
                }
                try db.execute(sql: "DELETE FROM blocks WHERE mh = ?", arguments: [cid.multihash.key])
                return db.changesCount > 0 ? .removed : .absent
            }
        }
    }
}
