/* Signals that cancel, and the processors available to the process (see CCairnSystem.h). */
#define _GNU_SOURCE
#include "CCairnSystem.h"
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int received;

static void on_signal(int signal) {
    int expected = 0;
    /* Only async-signal-safe calls here: an atomic store, or _exit on the second signal. */
    if (!atomic_compare_exchange_strong(&received, &expected, signal)) _exit(128 + signal);
}

void ccairn_signals_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
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
