import Foundation
import GRDB
import GRDBSQLite
import Multiformats
import Synchronization

/// Point lookups of the index (`has`, `size(of:)`, `location(of:)`, every block read) on plain
/// read-only SQLite connections, one per concurrent caller, without GRDB's reader queues and
/// explicit read transactions (spec/blockstore.md §4.1).
///
/// A lookup is one `SELECT … WHERE mh = ?` on the primary key, which SQLite runs in its own
/// implicit read transaction (WAL: it sees the last commit, never part of one); GRDB's pool
/// adds a dispatch hop and BEGIN/COMMIT around it, several times the query's own cost. The
/// connections wait in a free list; a caller takes one (or opens one), runs the prepared
/// statement and gives it back, so the calling thread does the work. Anything unusual (the
/// index cannot be opened this way, a busy or failing step, a row whose fields are not
/// integers in range) answers `nil` from here and the caller takes GRDB's path, which reports
/// it exactly as before.
final class IndexLookups: Sendable {
    private final class Connection: @unchecked Sendable {
        let db: OpaquePointer
        let statement: OpaquePointer

        init?(path: String) {
            var handle: OpaquePointer?
            let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
                if let handle { sqlite3_close_v2(handle) }
                return nil
            }
            sqlite3_busy_timeout(handle, 0)
            // Read through SQLite's page cache (2 MiB: the B-tree's upper levels), not a memory
            // map: each of these connections mapped the index as it read it, and every
            // mapping's pages count in the process's resident size.
            _ = sqlite3_exec(handle, "PRAGMA mmap_size = 0", nil, nil, nil)
            _ = sqlite3_exec(handle, "PRAGMA cache_size = -2048", nil, nil, nil)
            var prepared: OpaquePointer?
            let sql = "SELECT \(IndexEntry.columns) FROM blocks WHERE mh = ?"
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil) == SQLITE_OK,
                  let prepared else {
                sqlite3_close_v2(handle)
                return nil
            }
            db = handle
            statement = prepared
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(db)
        }
    }

    /// What a lookup found.
    enum Answer {
        case found(IndexEntry)
        case absent
    }

    private let path: String
    /// Idle connections, under `idleLock`: a pthread mutex (NSLock), which ThreadSanitizer
    /// sees, where the Synchronization module's `Mutex` is built uninstrumented and every
    /// hand-over of a connection read to it as a race.
    nonisolated(unsafe) private var idle: [Connection] = []
    private let idleLock = NSLock()
    /// Set once opening failed: every lookup goes through GRDB then.
    private let disabled = Atomic<Bool>(false)
    /// Idle connections kept (more callers at once open more, closed when given back).
    static let keep = 32

    init(path: String) {
        self.path = path
    }

    /// The row of `multihash`; nil when this path cannot answer (the caller asks GRDB).
    func entry(_ multihash: Multihash) -> Answer? {
        guard !disabled.load(ordering: .relaxed) else { return nil }
        guard let connection = idleLock.withLock({ idle.popLast() }) ?? open() else { return nil }
        let answer = Self.lookup(multihash, on: connection)
        idleLock.withLock { if idle.count < Self.keep { idle.append(connection) } }
        return answer
    }

    /// A connection taken out of the free list for a `HeldSnapshot`; nil when this path
    /// cannot answer.
    private func take() -> Connection? {
        guard !disabled.load(ordering: .relaxed) else { return nil }
        return idleLock.withLock({ idle.popLast() }) ?? open()
    }

    private func giveBack(_ connection: Connection) {
        idleLock.withLock { if idle.count < Self.keep { idle.append(connection) } }
    }

    /// A read transaction held across many lookups, for the writer's "already stored?" check
    /// of every put (spec/blockstore.md §4.1): each lone lookup is a read transaction of its
    /// own, whose WAL read locks are half a dozen `fcntl` calls, a tenth of the CPU of an
    /// import of small blocks. The caller ends it before its own commits (whose rows it would
    /// not see) and every so many lookups (a reader holds the WAL back from checkpoints).
    final class HeldSnapshot {
        private let owner: IndexLookups
        private var connection: Connection?
        private var begun = false

        fileprivate init?(_ owner: IndexLookups) {
            guard let connection = owner.take() else { return nil }
            self.owner = owner
            self.connection = connection
        }

        /// The row of `multihash` as of the snapshot; nil when this path cannot answer (the
        /// snapshot is then ended; the caller asks elsewhere).
        func entry(_ multihash: Multihash) -> Answer? {
            guard let connection else { return nil }
            if !begun {
                guard sqlite3_exec(connection.db, "BEGIN", nil, nil, nil) == SQLITE_OK else {
                    end()
                    return nil
                }
                begun = true
            }
            guard let answer = IndexLookups.lookup(multihash, on: connection) else {
                end()
                return nil
            }
            return answer
        }

        /// Ends the transaction and gives the connection back (a connection whose transaction
        /// would not end is closed instead).
        func end() {
            guard let connection else { return }
            self.connection = nil
            if begun {
                begun = false
                guard sqlite3_exec(connection.db, "COMMIT", nil, nil, nil) == SQLITE_OK
                        || sqlite3_exec(connection.db, "ROLLBACK", nil, nil, nil) == SQLITE_OK else { return }
            }
            owner.giveBack(connection)
        }

        deinit { end() }
    }

    /// A `HeldSnapshot`, or nil when this path cannot answer.
    func holdSnapshot() -> HeldSnapshot? { HeldSnapshot(self) }

    private func open() -> Connection? {
        guard let connection = Connection(path: path) else {
            disabled.store(true, ordering: .relaxed)
            return nil
        }
        return connection
    }

    private static func lookup(_ multihash: Multihash, on connection: Connection) -> Answer? {
        let statement = connection.statement
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let bound = multihash.bytes.withUnsafeBytes { key in
            sqlite3_bind_blob(statement, 1, key.baseAddress, Int32(key.count), SQLITE_TRANSIENT_FAST)
        }
        guard bound == SQLITE_OK else { return nil }
        switch sqlite3_step(statement) {
        case SQLITE_DONE: return .absent
        case SQLITE_ROW: break
        default: return nil
        }
        // Integers as they are, anything else as NULL: the one row check
        // (`IndexEntry(codec:version:pack:offset:length:multihash:)`) decides; a row it refuses
        // goes to GRDB's path, which names the damage with the real values.
        func value(_ column: Int32) -> DatabaseValue {
            sqlite3_column_type(statement, column) == SQLITE_INTEGER ? sqlite3_column_int64(statement, column).databaseValue : .null
        }
        guard let entry = try? IndexEntry(codec: value(0), version: value(1), pack: value(2), offset: value(3), length: value(4),
                                          multihash: multihash) else { return nil }
        return .found(entry)
    }
}

/// SQLITE_TRANSIENT (SQLite copies the key before `bind` returns).
private let SQLITE_TRANSIENT_FAST = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
