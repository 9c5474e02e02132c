#define _GNU_SOURCE
#include "CCairnSystem.h"
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

long ccairn_find_bytes(const void *haystack, size_t length, const void *needle, size_t needle_length) {
    const void *hit = memmem(haystack, length, needle, needle_length);
    return hit ? (long)((const char *)hit - (const char *)haystack) : -1;
}

int ccairn_set_allocation_thresholds(size_t mapped_from, size_t kept_at_top) {
#if defined(__GLIBC__)
    int mapped = mallopt(M_MMAP_THRESHOLD, (int)mapped_from);
    int kept = mallopt(M_TRIM_THRESHOLD, (int)kept_at_top);
    return mapped == 1 && kept == 1 ? 0 : -1;
#else
    (void)mapped_from;
    (void)kept_at_top;
    return -1;
#endif
}
