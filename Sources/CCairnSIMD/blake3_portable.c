/* BLAKE3's compression function, one block at a time (the BLAKE3 specification, section 2.2). */
#include <string.h>
#include "blake3_internal.h"

const uint32_t ccairn_blake3_iv[8] = {
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

/* Applied to the message words between rounds (the BLAKE3 specification, section 2.2). */
static const uint8_t permutation[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};

static inline uint32_t ror32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static inline void g(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y) {
    v[a] = v[a] + v[b] + x;
    v[d] = ror32(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = ror32(v[b] ^ v[c], 12);
    v[a] = v[a] + v[b] + y;
    v[d] = ror32(v[d] ^ v[a], 8);
    v[c] = v[c] + v[d];
    v[b] = ror32(v[b] ^ v[c], 7);
}

void ccairn_blake3_compress(uint32_t cv[8], const uint8_t block[64], uint8_t block_len, uint64_t counter,
                            uint8_t flags) {
    uint32_t m[16], v[16];
    for (int i = 0; i < 16; i++) {
        const uint8_t *p = block + 4 * i;
        m[i] = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    }
    for (int i = 0; i < 8; i++) v[i] = cv[i];
    for (int i = 0; i < 4; i++) v[8 + i] = ccairn_blake3_iv[i];
    v[12] = (uint32_t)counter;
    v[13] = (uint32_t)(counter >> 32);
    v[14] = block_len;
    v[15] = flags;
    for (int round = 0; round < 7; round++) {
        g(v, 0, 4, 8, 12, m[0], m[1]);
        g(v, 1, 5, 9, 13, m[2], m[3]);
        g(v, 2, 6, 10, 14, m[4], m[5]);
        g(v, 3, 7, 11, 15, m[6], m[7]);
        g(v, 0, 5, 10, 15, m[8], m[9]);
        g(v, 1, 6, 11, 12, m[10], m[11]);
        g(v, 2, 7, 8, 13, m[12], m[13]);
        g(v, 3, 4, 9, 14, m[14], m[15]);
        uint32_t next[16];
        for (int i = 0; i < 16; i++) next[i] = m[permutation[i]];
        memcpy(m, next, sizeof m);
    }
    for (int i = 0; i < 8; i++) cv[i] = v[i] ^ v[8 + i];
}

void ccairn_blake3_many_portable(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8],
                                 uint64_t counter, int increment, uint8_t flags, uint8_t flags_start,
                                 uint8_t flags_end, uint32_t (*out)[8]) {
    uint32_t cv[8];
    memcpy(cv, key, sizeof cv);
    for (size_t b = 0; b < blocks; b++) {
        uint8_t f = flags;
        if (b == 0) f |= flags_start;
        if (b + 1 == blocks) f |= flags_end;
        ccairn_blake3_compress(cv, inputs[0] + 64 * b, 64, counter, f);
    }
    (void)increment;
    memcpy(out[0], cv, sizeof cv);
}
