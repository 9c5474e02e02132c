#ifndef CCAIRN_SHA256_H
#define CCAIRN_SHA256_H
/*
 * Multi-buffer SHA-256 kernels for Cairn.
 *
 * A job is one message made of up to three borrowed segments (for example a protobuf
 * prefix, a chunk's bytes and a suffix), hashed as their concatenation. A kernel hashes a
 * list of jobs, several at once: each lane of the kernel takes the next job as soon as its
 * current one is done, so jobs of unequal length keep every lane busy.
 *
 * Nothing here allocates, and no job's bytes are copied except the last partial block of a
 * segment and the padding, which go through a 128-byte buffer per lane.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const uint8_t *segment[3];
    size_t length[3];
    uint8_t *digest; /* 32 bytes written here */
} ccairn_sha256_job;

/* Kernel identifiers, in order of preference. */
typedef enum {
    CCAIRN_SHA256_PORTABLE = 0, /* one lane, plain C: the fallback */
    CCAIRN_SHA256_SHANI_X1 = 1, /* one lane, SHA-NI */
    CCAIRN_SHA256_SHANI_X2 = 2, /* two interleaved SHA-NI streams */
    CCAIRN_SHA256_SHANI_X4 = 3, /* four interleaved SHA-NI streams */
    CCAIRN_SHA256_AVX2_X8 = 4,  /* eight lanes in 256-bit vectors */
    CCAIRN_SHA256_AVX512_X16 = 5, /* sixteen lanes in 512-bit vectors */
    CCAIRN_SHA256_KERNEL_COUNT = 6
} ccairn_sha256_kernel;

/* Whether this CPU can run the kernel (CPUID and OS state checked once). */
int ccairn_sha256_kernel_supported(ccairn_sha256_kernel kernel);

/* The kernel's short name ("shani-x2", …) and its number of lanes. */
const char *ccairn_sha256_kernel_name(ccairn_sha256_kernel kernel);
int ccairn_sha256_kernel_lanes(ccairn_sha256_kernel kernel);

/*
 * Hashes `count` jobs with `kernel`. The kernel must be supported (the call is a no-op
 * returning -1 otherwise); returns 0 on success. The jobs array may be reordered in place
 * (longest first); each digest still goes to its own job's `digest`.
 */
int ccairn_sha256_hash_jobs(ccairn_sha256_kernel kernel, ccairn_sha256_job *jobs, size_t count);

#ifdef __cplusplus
}
#endif
#endif
