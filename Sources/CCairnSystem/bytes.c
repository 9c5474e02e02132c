#define _GNU_SOURCE
#include "CCairnSystem.h"
#include <string.h>

long ccairn_find_bytes(const void *haystack, size_t length, const void *needle, size_t needle_length) {
    const void *hit = memmem(haystack, length, needle, needle_length);
    return hit ? (long)((const char *)hit - (const char *)haystack) : -1;
}
