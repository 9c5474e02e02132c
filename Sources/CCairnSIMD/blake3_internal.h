#ifndef CCAIRN_BLAKE3_INTERNAL_H
#define CCAIRN_BLAKE3_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

enum {
    B3_CHUNK_START = 1, B3_CHUNK_END = 2, B3_PARENT = 4, B3_ROOT = 8,
};
#define B3_BLOCK_LEN 64
#define B3_CHUNK_LEN 1024

extern const uint32_t ccairn_blake3_iv[8];

/*
 * A many-function compresses `lanes` inputs side by side, each `blocks` 64-byte blocks long,
 * from the key as chaining value. Lane i's counter is counter + i when increment is set,
 * else counter. Every block gets `flags`; the first also `flags_start`, the last also
 * `flags_end`. Lane i's 8-word chaining value goes to out[i].
 */
typedef void (*ccairn_blake3_many_fn)(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                                      uint64_t counter, int increment, uint8_t flags, uint8_t flags_start,
                                      uint8_t flags_end, uint32_t (*out)[8]);

void ccairn_blake3_compress(uint32_t cv[8], const uint8_t block[64], uint8_t block_len, uint64_t counter,
                            uint8_t flags);
void ccairn_blake3_many_portable(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                                 uint64_t counter, int increment, uint8_t flags, uint8_t flags_start,
                                 uint8_t flags_end, uint32_t (*out)[8]);
void ccairn_blake3_many_sse41(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                              uint64_t counter, int increment, uint8_t flags, uint8_t flags_start,
                              uint8_t flags_end, uint32_t (*out)[8]);
void ccairn_blake3_many_avx2(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                             uint64_t counter, int increment, uint8_t flags, uint8_t flags_start,
                             uint8_t flags_end, uint32_t (*out)[8]);
void ccairn_blake3_many_avx512(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                               uint64_t counter, int increment, uint8_t flags, uint8_t flags_start,
                               uint8_t flags_end, uint32_t (*out)[8]);
#endif
