import GRDB
import GRDBSQLite

/// One step of a prepared statement through the SQLite C API, for the per-block statements of
/// the store's hot loops (a mark's inserts and look-ups, the writer's row inserts): GRDB's
/// `execute(arguments:)` and `fetchOne` build an array of `DatabaseValue`s and run their
/// bookkeeping on every call, most of the CPU of a pin's mark over 263 661 small blocks. Only for
/// statements GRDB need not observe: inside a transaction already begun, on a connection with
/// no transaction observers. A failure is the `DatabaseError` GRDB would have thrown (result
/// code, SQLite's message, the statement's SQL), so every caller maps it as before (I/O
/// failures, `SQLITE_INTERRUPT` from a signal).
enum SQLiteStep {
    /// Binds the parameters (`bind`, given the raw statement), steps once and resets: true
    /// when a row came, false when the statement is done. Blobs may be bound without a copy
    /// (`SQLITE_STATIC`) from memory that outlives the call.
    static func step(_ statement: Statement, bind: (OpaquePointer) -> Void) throws -> Bool {
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        bind(handle)
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let db = sqlite3_db_handle(handle)
        throw DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(db)),
                            message: String(cString: sqlite3_errmsg(db)), sql: statement.sql)
    }

    /// `step` with one blob parameter.
    static func step(_ statement: Statement, blob: UnsafeRawBufferPointer) throws -> Bool {
        try step(statement) { handle in
            // A null address would bind NULL: an empty blob is bound as one.
            _ = blob.isEmpty ? sqlite3_bind_zeroblob(handle, 1, 0) : sqlite3_bind_blob(handle, 1, blob.baseAddress, Int32(blob.count), nil)
        }
    }

    /// Rows the last step of `statement` inserted, updated or deleted.
    static func changes(_ statement: Statement) -> Int {
        Int(sqlite3_changes(sqlite3_db_handle(statement.sqliteStatement)))
    }
}
