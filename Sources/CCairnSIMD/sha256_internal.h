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

/* Writes the padding of FIPS 180-4 section 5.1.1 after the `filled` (< 64) bytes of the final
 * partial block at `block` (128 bytes of room), for a message of `length` bytes in all; returns
 * the number of blocks (1 or 2) to hash. */
static inline size_t ccairn_sha256_pad(uint8_t *block, size_t filled, uint64_t length) {
    size_t blocks = filled + 1 + 8 <= 64 ? 1 : 2;
    block[filled] = 0x80;
    for (size_t i = filled + 1; i < blocks * 64 - 8; i++) block[i] = 0;
    uint64_t bits = length * 8;
    for (int i = 0; i < 8; i++) block[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    return blocks;
}

#endif
