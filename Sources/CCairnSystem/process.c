/* Signals that cancel, and the processors available to the process (see CCairnSystem.h). */
#define _GNU_SOURCE
#include "CCairnSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/vfs.h>
#endif

static atomic_int received;
static atomic_int finishing;
static atomic_int deferring;
static atomic_int requested;

static void on_signal(int signal) {
    int expected = 0;
    /* Only async-signal-safe calls here: an atomic store, or write and _exit on the second
     * signal or once the program is finishing (ccairn_signals_finishing). */
    if (atomic_load(&finishing)) {
        static const char line[] = "Error: interrupted\n";
        ssize_t written = write(2, line, sizeof line - 1);
        (void)written;
        _exit(128 + signal);
    }
    if (atomic_load(&deferring) && atomic_compare_exchange_strong(&requested, &expected, signal)) return;
    expected = 0;
    if (!atomic_compare_exchange_strong(&received, &expected, signal)) _exit(128 + signal);
}

void ccairn_signals_defer_first(void) {
    atomic_store(&deferring, 1);
}

int ccairn_shutdown_requested(void) {
    return atomic_load_explicit(&requested, memory_order_relaxed);
}

void ccairn_signals_finishing(void) {
    atomic_store(&finishing, 1);
}

void ccairn_signals_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    /* A closed terminal (SIGHUP) stops a command as cleanly as ^C: no partial output or pack left. */
    sigaction(SIGHUP, &action, NULL);
}

int ccairn_signal_received(void) {
    return atomic_load_explicit(&received, memory_order_relaxed);
}

int ccairn_available_processors(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

extern char **environ;

#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
/* Spawns `tool` with `actions` (destroyed here) in a process group of its own, with an empty
 * signal mask and SIGINT, SIGTERM and SIGPIPE at their defaults: a terminal's next ^C goes to
 * this process, not the child, which ends by itself. 0, or posix_spawn's error. */
static int spawn_detached(pid_t *child, const char *tool, posix_spawn_file_actions_t *actions,
                          char *const argv[], char *const env[]) {
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attributes, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    int failed = posix_spawn(child, tool, actions, &attributes, argv, env);
    posix_spawn_file_actions_destroy(actions);
    posix_spawnattr_destroy(&attributes);
    return failed;
}
#endif

int ccairn_hand_off_files(const int *fds, int count) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (count <= 0 || count > 64) return -1;
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) return -1;
    /* The child waits for end of file on its standard input: the write end stays open here
     * (close-on-exec, never closed) until this process ends. */
    int high = ends[0] > ends[1] ? ends[0] : ends[1];
    for (int i = 0; i < count; i++) if (fds[i] > high) high = fds[i];
    if (high < 3 + count) high = 3 + count;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    /* Park the files above every source, then bring them down to 3, 4, ...: no action
     * overwrites a descriptor a later one reads. */
    for (int i = 0; i < count; i++) posix_spawn_file_actions_adddup2(&actions, fds[i], high + 1 + i);
    posix_spawn_file_actions_adddup2(&actions, ends[0], 0);
    for (int i = 0; i < count; i++) posix_spawn_file_actions_adddup2(&actions, high + 1 + i, 3 + i);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3 + count);
    char *argv[] = { "sh", "-c", "read _ || :", NULL };
    pid_t child;
    int failed = spawn_detached(&child, "/bin/sh", &actions, argv, environ);
    close(ends[0]);
    if (failed) {
        close(ends[1]);
        return -1;
    }
    return 0;
#else
    (void)fds; (void)count;
    return -1;
#endif
}

pid_t ccairn_spawn_flush(int fd) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    static const char *const tools[] = { "/usr/bin/sync", "/bin/sync" };
    const char *tool = NULL;
    for (unsigned i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        if (access(tools[i], X_OK) == 0) { tool = tools[i]; break; }
    }
    if (tool == NULL || fd < 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    /* The file becomes descriptor 3 of the child (dup2 clears close-on-exec, also when fd is
     * already 3), which names it /proc/self/fd/3: a name the file keeps even when it is
     * renamed or removed here meanwhile. */
    posix_spawn_file_actions_adddup2(&actions, fd, 3);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    char *argv[] = { "sync", "--data", "/proc/self/fd/3", NULL };
    char *env[] = { "LC_ALL=C", NULL };
    pid_t child;
    int failed = spawn_detached(&child, tool, &actions, argv, env);
    return failed ? -1 : child;
#else
    (void)fd;
    return -1;
#endif
}

int ccairn_open_direct_write(const char *path) {
#if defined(O_DIRECT)
    int fd;
    struct statfs fs;
    do {
        fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    /* tmpfs keeps its files in the page cache whatever the flag: a direct write there is the
     * same copy, after the copy into the aligned buffer. */
    if (fd >= 0 && fstatfs(fd, &fs) == 0 && fs.f_type == 0x01021994 /* TMPFS_MAGIC */) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
#else
    (void)path;
    errno = EINVAL;
    return -1;
#endif
}
