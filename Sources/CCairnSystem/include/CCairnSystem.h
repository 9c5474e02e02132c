#ifndef CCAIRN_SYSTEM_H
#define CCAIRN_SYSTEM_H
/*
 * Guarded file mappings. Reading a memory-mapped file that another process truncates raises
 * SIGBUS on the pages past the new end, which would kill the process. A guarded mapping is
 * registered here; if SIGBUS hits inside it, the handler maps zero-filled pages over the
 * faulting page, so the read completes (with zeros), and marks the mapping as damaged. The
 * reader checks the mark and reports the file as changed instead of using the bytes.
 * A SIGBUS outside every guarded mapping gets the default action.
 */
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registers [base, base+length); returns a slot number, or -1 if every slot is taken (the
 * caller should then read the file instead of mapping it). Installs the handler on first use. */
int ccairn_guard_register(const void *base, size_t length);

/* 1 if a fault was repaired inside the slot's mapping since it was registered. */
int ccairn_guard_damaged(int slot);

/* Forgets the slot (before the mapping is unmapped). */
void ccairn_guard_unregister(int slot);

/*
 * Cancellation by signal. After ccairn_signals_install(), the first SIGINT, SIGTERM or SIGHUP is
 * recorded (ccairn_signal_received() returns its number; the program checks it and stops
 * cleanly); a second one ends the process at once with status 128 + its number.
 */
void ccairn_signals_install(void);
int ccairn_signal_received(void);
/*
 * From now on a SIGINT or SIGTERM writes "Error: interrupted" on stderr and ends the process
 * at once with status 128 + its number: for a program whose work is done and whose output is
 * written, so that a signal during its exit is not lost.
 */
void ccairn_signals_finishing(void);
/*
 * For a server that shuts down gracefully: from now on the first SIGINT, SIGTERM or SIGHUP only
 * asks for the shutdown (ccairn_shutdown_requested() returns its number; the work in flight
 * goes on), the next one is recorded as ccairn_signal_received() (the work in flight is
 * cancelled) and a third ends the process at once.
 */
void ccairn_signals_defer_first(void);
int ccairn_shutdown_requested(void);

/*
 * Hands the open files fds[0..<count] (already unlinked) to a child process that holds them
 * until this process ends, then exits: the kernel frees the files' pages and waits for their
 * writeback in the child, not in this process's exit. The child (/bin/sh) inherits nothing
 * else (standard streams on /dev/null, every other descriptor closed). Returns 0 once the
 * child holds them (the caller then closes its own descriptors), -1 if it could not start
 * (the caller closes them itself).
 */
int ccairn_hand_off_files(const int *fds, int count);

/*
 * Starts flushing the file open at fd to the device in a child process (`sync --data` on the
 * child's copy of the descriptor), so that an exit of this process never waits for the flush:
 * a thread in fdatasync cannot be stopped, and a process's exit waits for all its threads.
 * The child inherits nothing else (standard streams on /dev/null, its own process group).
 * Returns the child's pid (the caller reaps it; exit status 0 when the flush succeeded), or
 * -1 if it could not start (no such tool, or not Linux): the caller then flushes itself.
 */
pid_t ccairn_spawn_flush(int fd);

/* The processors this process may run on: its CPU affinity mask on Linux, else the online
 * processors. At least 1. */
int ccairn_available_processors(void);

/* Where the `needle_length` bytes of `needle` first occur in the `length` bytes at
 * `haystack`: their offset, or -1. (glibc's memmem, which Swift's Glibc module does not
 * declare: it needs _GNU_SOURCE.) */
long ccairn_find_bytes(const void *haystack, size_t length, const void *needle, size_t needle_length);

/* Fixes the C library's threshold above which an allocation is a mapping of its own, returned
 * to the system when freed (glibc's M_MMAP_THRESHOLD), and how much free memory at the top of
 * a heap arena it keeps before giving it back to the system (M_TRIM_THRESHOLD): 0 if both were
 * set, -1 where the C library has no such settings. */
int ccairn_set_allocation_thresholds(size_t mapped_from, size_t kept_at_top);

/* Opens an existing file for writing with O_DIRECT (and O_CLOEXEC), retrying on EINTR: the
 * descriptor, or -1 with errno set (EINVAL where the file system or the system has no direct
 * I/O, and on tmpfs, where it would be one more copy into the same memory). */
int ccairn_open_direct_write(const char *path);

#ifdef __cplusplus
}
#endif
#endif
