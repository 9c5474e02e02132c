#ifndef CCAIRN_SHA256_INTERNAL_H
#define CCAIRN_SHA256_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

/*
 * A block function advances `lanes` independent SHA-256 states by `nblocks` 64-byte blocks
 * each. state[l] is lane l's state in the standard order (a … h); data[l] points at lane l's
 * nblocks * 64 bytes.
 */
typedef void (*ccairn_sha256_blocks_fn)(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);

/* How many blocks ahead of the current one the multi-lane kernels prefetch each lane. */
#ifndef SHA256_PREFETCH_BLOCKS
#define SHA256_PREFETCH_BLOCKS 8
#endif

extern const uint32_t ccairn_sha256_k[64];
extern const uint32_t ccairn_sha256_iv[8];

void ccairn_sha256_blocks_portable(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);
void ccairn_sha256_blocks_shani_x1(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);
void ccairn_sha256_blocks_shani_x2(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);
void ccairn_sha256_blocks_shani_x4(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);
void ccairn_sha256_blocks_avx2_x8(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);
void ccairn_sha256_blocks_avx512_x16(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks);

#endif
