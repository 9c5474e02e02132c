#define _GNU_SOURCE
#include "CCairnSystem.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 64

/* Slots are read by the signal handler, so they are plain atomics, no locks. */
static struct {
    uintptr_t base;   /* 0 = free */
    size_t length;
    int damaged;
} slots[SLOTS];

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction previous;

static void on_sigbus(int signal, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < SLOTS; i++) {
        uintptr_t base = __atomic_load_n(&slots[i].base, __ATOMIC_ACQUIRE);
        size_t length = __atomic_load_n(&slots[i].length, __ATOMIC_ACQUIRE);
        if (base != 0 && address >= base && address < base + length) {
            long page = sysconf(_SC_PAGESIZE);
            uintptr_t start = address & ~((uintptr_t)page - 1);
            void *patched = mmap((void *)start, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (patched != MAP_FAILED) {
                __atomic_store_n(&slots[i].damaged, 1, __ATOMIC_RELEASE);
                return; /* the faulting read is retried on the zero page */
            }
        }
    }
    /* Not ours: behave as if no handler were installed. */
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) {
            previous.sa_sigaction(signal, info, context);
            return;
        }
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(signal);
        return;
    }
    struct sigaction standard;
    memset(&standard, 0, sizeof standard);
    standard.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &standard, 0);
    raise(SIGBUS);
}

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
}

int ccairn_guard_register(const void *base, size_t length) {
    pthread_once(&install_once, install);
    for (int i = 0; i < SLOTS; i++) {
        uintptr_t expected = 0;
        /* Claim the slot with a placeholder so two threads never take the same one. */
        if (__atomic_compare_exchange_n(&slots[i].base, &expected, (uintptr_t)1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_store_n(&slots[i].damaged, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&slots[i].length, length, __ATOMIC_RELEASE);
            __atomic_store_n(&slots[i].base, (uintptr_t)base, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1;
}

int ccairn_guard_damaged(int slot) {
    if (slot < 0 || slot >= SLOTS) return 0;
    return __atomic_load_n(&slots[slot].damaged, __ATOMIC_ACQUIRE);
}

void ccairn_guard_unregister(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    __atomic_store_n(&slots[slot].length, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&slots[slot].base, 0, __ATOMIC_RELEASE);
}
