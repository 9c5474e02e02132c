#include "cpu_features.h"
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static int detect(void) {
    int flags = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int sse41 = (c >> 19) & 1, ssse3 = (c >> 9) & 1, osxsave = (c >> 27) & 1;
    if (sse41 && ssse3) flags |= CCAIRN_CPU_SSE41;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return flags;
    if (((b >> 29) & 1) && sse41 && ssse3) flags |= CCAIRN_CPU_SHA;
    if (((b >> 5) & 1) && (xcr0 & 0x6) == 0x6) flags |= CCAIRN_CPU_AVX2;
    if (((b >> 16) & 1) && ((b >> 30) & 1) && (xcr0 & 0xE6) == 0xE6) flags |= CCAIRN_CPU_AVX512;
#endif
    return flags;
}

static int cached = -1;

int ccairn_cpu_features(void) {
    int f = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (f < 0) {
        f = detect();
        __atomic_store_n(&cached, f, __ATOMIC_RELAXED);
    }
    return f;
}
