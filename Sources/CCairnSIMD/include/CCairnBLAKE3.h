#ifndef CCAIRN_BLAKE3_H
#define CCAIRN_BLAKE3_H
/*
 * BLAKE3 (plain hash mode, 32-byte output) with SIMD kernels: whole 1024-byte chunks, and
 * parent nodes, are compressed 4, 8 or 16 at a time (SSE4.1, AVX2, AVX-512), one per
 * 32-bit lane. The streaming hasher keeps a stack of subtree chaining values and feeds the
 * kernels aligned runs of whole chunks.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CCAIRN_BLAKE3_PORTABLE = 0,
    CCAIRN_BLAKE3_SSE41_X4 = 1,
    CCAIRN_BLAKE3_AVX2_X8 = 2,
    CCAIRN_BLAKE3_AVX512_X16 = 3,
    CCAIRN_BLAKE3_KERNEL_COUNT = 4
} ccairn_blake3_kernel;

int ccairn_blake3_kernel_supported(ccairn_blake3_kernel kernel);
const char *ccairn_blake3_kernel_name(ccairn_blake3_kernel kernel);
int ccairn_blake3_kernel_lanes(ccairn_blake3_kernel kernel);

typedef struct {
    uint32_t stack[54][8];   /* chaining values of finished subtrees, largest first */
    uint8_t stack_depth;
    uint64_t chunks_done;    /* chunks already folded into the stack */
    uint32_t chunk_cv[8];    /* state of the chunk under way */
    uint8_t chunk_block[64];
    uint8_t chunk_block_len;
    uint8_t chunk_blocks_done;
    int kernel;
} ccairn_blake3_state;

/* Starts a hash with the given kernel (an unsupported one falls back to portable). */
void ccairn_blake3_init(ccairn_blake3_state *state, ccairn_blake3_kernel kernel);
void ccairn_blake3_update(ccairn_blake3_state *state, const void *input, size_t length);
/* Writes the 32-byte digest; the state is left unchanged (more input may follow). */
void ccairn_blake3_finalize(const ccairn_blake3_state *state, uint8_t out[32]);

/* One-shot convenience. */
void ccairn_blake3_hash(ccairn_blake3_kernel kernel, const void *input, size_t length, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
