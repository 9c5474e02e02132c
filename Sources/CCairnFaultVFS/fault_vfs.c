/* A SQLite VFS that forwards to the default one and injects failures (see the header). */
#include "CCairnFaultVFS.h"
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

typedef struct {
    sqlite3_file base; /* pMethods = &fault_methods once the real file is open */
    sqlite3_file *real; /* the wrapped VFS's file, right after this struct */
} FaultFile;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static int (*fault_decide)(int kind);
static int last_injected; /* read and written with __atomic builtins */

/* The errno to fail this call with, 0 to make it. */
static int inject(int kind) {
    if (!fault_decide) return 0;
    int code;
    while ((code = fault_decide(kind)) == EINTR) {}
    if (code) __atomic_store_n(&last_injected, code, __ATOMIC_SEQ_CST);
    return code;
}

int ccairn_fault_vfs_take_last_errno(void) {
    return __atomic_exchange_n(&last_injected, 0, __ATOMIC_SEQ_CST);
}

#define REAL(file) (((FaultFile *)(file))->real)

static int f_close(sqlite3_file *file) {
    sqlite3_file *real = REAL(file);
    return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}
static int f_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    return REAL(file)->pMethods->xRead(REAL(file), buffer, amount, offset);
}
static int f_write(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    int code = inject(CCAIRN_FAULT_SQLITE_WRITE);
    if (code) return code == ENOSPC || code == EDQUOT ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    return REAL(file)->pMethods->xWrite(REAL(file), buffer, amount, offset);
}
static int f_truncate(sqlite3_file *file, sqlite3_int64 size) {
    if (inject(CCAIRN_FAULT_SQLITE_TRUNCATE)) return SQLITE_IOERR_TRUNCATE;
    return REAL(file)->pMethods->xTruncate(REAL(file), size);
}
static int f_sync(sqlite3_file *file, int flags) {
    if (inject(CCAIRN_FAULT_SQLITE_SYNC)) return SQLITE_IOERR_FSYNC;
    return REAL(file)->pMethods->xSync(REAL(file), flags);
}
static int f_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}
static int f_lock(sqlite3_file *file, int level) { return REAL(file)->pMethods->xLock(REAL(file), level); }
static int f_unlock(sqlite3_file *file, int level) { return REAL(file)->pMethods->xUnlock(REAL(file), level); }
static int f_check_reserved_lock(sqlite3_file *file, int *out) {
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}
static int f_file_control(sqlite3_file *file, int op, void *argument) {
    return REAL(file)->pMethods->xFileControl(REAL(file), op, argument);
}
static int f_sector_size(sqlite3_file *file) { return REAL(file)->pMethods->xSectorSize(REAL(file)); }
static int f_device_characteristics(sqlite3_file *file) {
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}
static int f_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out) {
    sqlite3_file *real = REAL(file);
    if (real->pMethods->iVersion < 2 || !real->pMethods->xShmMap) return SQLITE_IOERR_SHMMAP;
    return real->pMethods->xShmMap(real, region, size, extend, out);
}
static int f_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    sqlite3_file *real = REAL(file);
    if (real->pMethods->iVersion < 2 || !real->pMethods->xShmLock) return SQLITE_IOERR_SHMLOCK;
    return real->pMethods->xShmLock(real, offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *file) {
    sqlite3_file *real = REAL(file);
    if (real->pMethods->iVersion >= 2 && real->pMethods->xShmBarrier) real->pMethods->xShmBarrier(real);
}
static int f_shm_unmap(sqlite3_file *file, int delete_flag) {
    sqlite3_file *real = REAL(file);
    if (real->pMethods->iVersion < 2 || !real->pMethods->xShmUnmap) return SQLITE_OK;
    return real->pMethods->xShmUnmap(real, delete_flag);
}
static int f_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    sqlite3_file *real = REAL(file);
    if (real->pMethods->iVersion < 3 || !real->pMethods->xFetch) { *out = NULL; return SQLITE_OK; }
    return real->pMethods->xFetch(real, offset, amount, out);
}
static int f_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *pointer) {
    sqlite3_file *real = REAL(file);
    if (real->pMethods->iVersion < 3 || !real->pMethods->xUnfetch) return SQLITE_OK;
    return real->pMethods->xUnfetch(real, offset, pointer);
}

static const sqlite3_io_methods fault_methods = {
    3, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock,
    f_check_reserved_lock, f_file_control, f_sector_size, f_device_characteristics,
    f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch, f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    FaultFile *fault = (FaultFile *)file;
    fault->base.pMethods = NULL;
    fault->real = (sqlite3_file *)(fault + 1);
    fault->real->pMethods = NULL;
    if (inject(CCAIRN_FAULT_SQLITE_OPEN)) return SQLITE_CANTOPEN;
    int result = real_vfs->xOpen(real_vfs, name, fault->real, flags, out_flags);
    /* SQLite closes a file whose pMethods is set even when xOpen failed. */
    if (fault->real->pMethods) fault->base.pMethods = &fault_methods;
    return result;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_directory) {
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_directory);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, size, out);
}
static void *v_dl_open(sqlite3_vfs *vfs, const char *name) { (void)vfs; return real_vfs->xDlOpen(real_vfs, name); }
static void v_dl_error(sqlite3_vfs *vfs, int size, char *out) { (void)vfs; real_vfs->xDlError(real_vfs, size, out); }
static void (*v_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}
static void v_dl_close(sqlite3_vfs *vfs, void *handle) { (void)vfs; real_vfs->xDlClose(real_vfs, handle); }
static int v_randomness(sqlite3_vfs *vfs, int size, char *out) { (void)vfs; return real_vfs->xRandomness(real_vfs, size, out); }
static int v_sleep(sqlite3_vfs *vfs, int microseconds) { (void)vfs; return real_vfs->xSleep(real_vfs, microseconds); }
static int v_current_time(sqlite3_vfs *vfs, double *out) { (void)vfs; return real_vfs->xCurrentTime(real_vfs, out); }
static int v_get_last_error(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, size, out);
}
static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    if (real_vfs->iVersion >= 2 && real_vfs->xCurrentTimeInt64) return real_vfs->xCurrentTimeInt64(real_vfs, out);
    double days;
    int result = real_vfs->xCurrentTime(real_vfs, &days);
    *out = (sqlite3_int64)(days * 86400000.0);
    return result;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_result = SQLITE_ERROR;

static void register_once(void) {
    if (sqlite3_initialize() != SQLITE_OK) return;
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs) return;
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = (int)sizeof(FaultFile) + real_vfs->szOsFile;
    fault_vfs.mxPathname = real_vfs->mxPathname;
    fault_vfs.zName = "cairn-fault";
    fault_vfs.xOpen = v_open;
    fault_vfs.xDelete = v_delete;
    fault_vfs.xAccess = v_access;
    fault_vfs.xFullPathname = v_full_pathname;
    fault_vfs.xDlOpen = v_dl_open;
    fault_vfs.xDlError = v_dl_error;
    fault_vfs.xDlSym = v_dl_sym;
    fault_vfs.xDlClose = v_dl_close;
    fault_vfs.xRandomness = v_randomness;
    fault_vfs.xSleep = v_sleep;
    fault_vfs.xCurrentTime = v_current_time;
    fault_vfs.xGetLastError = v_get_last_error;
    fault_vfs.xCurrentTimeInt64 = v_current_time_int64;
    register_result = sqlite3_vfs_register(&fault_vfs, 1);
}

int ccairn_fault_vfs_register(int (*decide)(int kind)) {
    fault_decide = decide;
    pthread_once(&once, register_once);
    return register_result;
}
