import Foundation
import GRDB

/// Rows read from the index are untrusted input (spec/blockstore.md §4): a damaged database can
/// hold NULLs, text where numbers belong, negative or huge numbers. These accessors never trap;
/// callers turn a nil into an error naming the row.
extension Row {
    /// The integer in column `index`, nil for NULL or any other type.
    func integer(_ index: Int) -> Int64? {
        if case .int64(let value) = (self[index] as DatabaseValue).storage { return value }
        return nil
    }

    /// The blob in column `index`, nil for NULL or any other type.
    func blob(_ index: Int) -> Data? {
        if case .blob(let value) = (self[index] as DatabaseValue).storage { return value }
        return nil
    }

    /// The text in column `index`, nil for NULL or any other type.
    func text(_ index: Int) -> String? {
        if case .string(let value) = (self[index] as DatabaseValue).storage { return value }
        return nil
    }
}

extension BlockStoreError {
    /// The index does not describe the packs consistently: writers refuse to touch the store.
    static func damagedIndex(_ layout: StoreLayout, _ detail: String) -> BlockStoreError {
        BlockStoreError(.corrupt, "the index of the store at \(layout.root) is damaged: \(detail); "
            + "`cairn store repair` rebuilds it from the packs")
    }

    /// A row of the index that cannot be what it says.
    static func corruptRow(_ layout: StoreLayout, _ table: String, _ key: String, _ detail: String) -> BlockStoreError {
        BlockStoreError(.corrupt, "corrupt index row in \(table) (\(key)) of \(layout.databasePath): \(detail)")
    }
}

/// What a writer's recovery needs from the index, read in one transaction.
struct RecoveryView {
    /// Listed packs and their committed sizes (nil: the size column is damaged).
    var packs: [Int64: Int64?] = [:]
    /// `meta.next_pack`, nil when missing, unreadable or out of `IndexEntry.packRange`.
    var nextPack: Int64?
    /// For every pack listed or given: where its last index row ends (absent: no row).
    var rowsEnd: [Int64: Int64] = [:]

    init(_ db: Database, files: Set<Int64>) throws {
        for row in try Row.fetchAll(db, sql: "SELECT id, size FROM packs") {
            // An id out of the range rows may name lists no pack file (`PackFormat.id`).
            guard let id = row.integer(0), IndexEntry.packRange.contains(id) else { continue }
            packs[id] = .some(row.integer(1))
        }
        nextPack = try Row.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'next_pack'")?.text(0)
            .flatMap { Int64($0) }.flatMap { IndexEntry.packRange.contains($0) ? $0 : nil }
        let last = try db.makeStatement(sql: "SELECT offset + length FROM blocks WHERE pack = ? ORDER BY offset DESC LIMIT 1")
        for id in files.union(packs.keys) {
            if let row = try Row.fetchOne(last, arguments: [id]) { rowsEnd[id] = row.integer(0) ?? Int64.max }
        }
    }
}
