import CCairnFaultVFS
import CairnSystem
import GRDB
import GRDBSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fault injection for SQLite's own I/O (spec/blockstore.md §5): when `CAIRN_FAULT` or
/// `CAIRN_FAULT_COUNT` is set, the `cairn-fault` VFS (`CCairnFaultVFS`) is registered as
/// SQLite's default before the first database is opened, and it counts SQLite's opens,
/// writes, truncations and syncs as the `sqlite-open`, `sqlite-write`, `sqlite-truncate` and
/// `sqlite-sync` kinds of `FaultPlan.active`. Without a plan nothing is registered.
enum SQLiteFaults {
    static let installed: Bool = {
        guard FaultPlan.active.isActive else { return false }
        return ccairn_fault_vfs_register { raw in
            let kinds: [FaultPlan.Kind] = [.sqliteOpen, .sqliteWrite, .sqliteTruncate, .sqliteSync]
            guard raw >= 0, Int(raw) < kinds.count else { return 0 }
            return FaultPlan.active.next(kinds[Int(raw)]) ?? 0
        } == SQLITE_OK
    }()

    /// Registers the VFS if a plan is active (once; call before opening a database).
    static func install() { _ = installed }

    /// Whether `error` is a failed I/O call (disk full, open, read, write, sync, truncate).
    static func isIOError(_ error: DatabaseError) -> Bool {
        [.SQLITE_FULL, .SQLITE_CANTOPEN, .SQLITE_IOERR].contains(error.resultCode)
    }

    /// The error a failed SQLite I/O call on the index at `path` becomes: one line naming the
    /// action (write, sync, truncate, open, read) and the reason (the injected errno's text when
    /// the failure was injected, else SQLite's). `nil` for errors that are not I/O failures.
    static func ioError(_ error: DatabaseError, path: String) -> BlockStoreError? {
        let extended = error.extendedResultCode
        let action: String
        var code: Int32 = EIO
        switch error.resultCode {
        case .SQLITE_FULL:
            action = "cannot write"
            code = ENOSPC
        case .SQLITE_CANTOPEN:
            action = "cannot open"
        case .SQLITE_IOERR:
            switch extended {
            case .SQLITE_IOERR_WRITE: action = "cannot write"
            case .SQLITE_IOERR_FSYNC, .SQLITE_IOERR_DIR_FSYNC: action = "cannot sync"
            case .SQLITE_IOERR_TRUNCATE: action = "cannot truncate"
            case .SQLITE_IOERR_READ, .SQLITE_IOERR_SHORT_READ: action = "cannot read"
            default: action = "I/O error on"
            }
        default:
            return nil
        }
        let injected = installed ? ccairn_fault_vfs_take_last_errno() : 0
        if injected != 0 { code = injected }
        let reason = injected != 0 || error.resultCode == .SQLITE_FULL
            ? String(cString: strerror(code))
            : (error.message ?? String(cString: sqlite3_errstr(extended.rawValue)))
        return BlockStoreError(.io, "\(action) the index \(path): \(reason)", errno: code)
    }
}
