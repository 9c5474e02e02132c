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


/*
 * Two messages streamed side by side on one thread (for example a blob's digest and the
 * digest of its decompressed bytes): the blocks both have go through the two-lane SHA-NI
 * kernel together, the rest through the one-lane kernel (the portable code without SHA-NI).
 * Each message is fed in pieces of any length; nothing is allocated.
 */
typedef struct {
    uint32_t state[8];
    uint64_t length;      /* message bytes so far */
    uint8_t buffer[64];   /* the bytes of a block not yet complete */
    size_t buffered;
} ccairn_sha256_stream;

/* Whether the two-lane kernel runs on this CPU (else two messages cost what two do alone). */
int ccairn_sha256_pair_accelerated(void);
void ccairn_sha256_stream_init(ccairn_sha256_stream *stream);
/* Appends `na` bytes to `a` and `nb` bytes to `b` (either count may be 0). */
void ccairn_sha256_stream_update2(ccairn_sha256_stream *a, const uint8_t *pa, size_t na,
                                  ccairn_sha256_stream *b, const uint8_t *pb, size_t nb);
/* The digest of the message so far (the stream is unchanged). */
void ccairn_sha256_stream_digest(const ccairn_sha256_stream *stream, uint8_t digest[32]);

#ifdef __cplusplus
}
#endif
#endif
