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

int ccairn_set_trim_threshold(size_t bytes) {
#if defined(__GLIBC__)
    return mallopt(M_TRIM_THRESHOLD, (int)bytes) == 1 ? 0 : -1;
#else
    (void)bytes;
    return -1;
#endif
}

int ccairn_set_mmap_threshold(size_t bytes) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1 ? 0 : -1;
#else
    (void)bytes;
    return -1;
#endif
}
