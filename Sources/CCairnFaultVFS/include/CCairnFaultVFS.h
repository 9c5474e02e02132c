#ifndef CCAIRN_FAULT_VFS_H
#define CCAIRN_FAULT_VFS_H
/*
 * Fault injection for SQLite's own I/O (tests only; spec/blockstore.md §5, spec/system.md §5).
 * ccairn_fault_vfs_register() registers a SQLite VFS named "cairn-fault", as the default, that
 * wraps the default VFS found at that moment and forwards every call to it. Before xOpen, and
 * before a file's xWrite, xTruncate and xSync, it asks `decide(kind)` (one of the
 * CCAIRN_FAULT_SQLITE_* kinds) for an errno to fail that call with (0: make the call). An
 * injected EINTR is retried (asked again, as SQLite's unix VFS retries a real one).
 * Injected ENOSPC or EDQUOT on a write is SQLITE_FULL, any other errno SQLITE_IOERR_WRITE;
 * xTruncate fails with SQLITE_IOERR_TRUNCATE, xSync with SQLITE_IOERR_FSYNC, xOpen with
 * SQLITE_CANTOPEN: the codes the unix VFS returns for the same real failures.
 */
#ifdef __cplusplus
extern "C" {
#endif

enum {
    CCAIRN_FAULT_SQLITE_OPEN = 0,
    CCAIRN_FAULT_SQLITE_WRITE = 1,
    CCAIRN_FAULT_SQLITE_TRUNCATE = 2,
    CCAIRN_FAULT_SQLITE_SYNC = 3,
};

/* Registers the VFS once (later calls return the first result); SQLITE_OK (0) or an SQLite
 * error code. Must run before the first database is opened to affect every connection. */
int ccairn_fault_vfs_register(int (*decide)(int kind));

/* The errno of the last injected failure in the process (0 if none), cleared by reading. */
int ccairn_fault_vfs_take_last_errno(void);

#ifdef __cplusplus
}
#endif
#endif
