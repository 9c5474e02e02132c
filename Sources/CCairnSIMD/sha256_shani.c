/*
 * SHA-256 with the x86 SHA extensions, one, two or four independent messages interleaved.
 * The round instruction has a long latency and a short issue interval, so interleaving
 * independent messages fills the pipeline. Each lane keeps its state as the two vectors the
 * instructions work on: (a, b, e, f) and (c, d, g, h).
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include "sha256_internal.h"

#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

SHANI_TARGET static inline void load_state(const uint32_t s[8], __m128i *abef, __m128i *cdgh) {
    __m128i abcd = _mm_loadu_si128((const __m128i *)s);       /* d c b a (high to low) */
    __m128i efgh = _mm_loadu_si128((const __m128i *)(s + 4)); /* h g f e */
    __m128i cdab = _mm_shuffle_epi32(abcd, 0xB1);              /* c d a b */
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);              /* e f g h */
    *abef = _mm_alignr_epi8(cdab, hgfe, 8);                    /* a b e f */
    *cdgh = _mm_blend_epi16(hgfe, cdab, 0xF0);                 /* c d g h */
}

SHANI_TARGET static inline void store_state(uint32_t s[8], __m128i abef, __m128i cdgh) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    __m128i abcd = _mm_blend_epi16(feba, dchg, 0xF0);
    __m128i efgh = _mm_alignr_epi8(dchg, feba, 8);
    _mm_storeu_si128((__m128i *)s, abcd);
    _mm_storeu_si128((__m128i *)(s + 4), efgh);
}

#define DEFINE_SHANI(LANES, NAME)                                                                  \
    SHANI_TARGET void NAME(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks) {     \
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);        \
        __m128i abef[LANES], cdgh[LANES];                                                          \
        const uint8_t *p[LANES];                                                                   \
        for (int l = 0; l < LANES; l++) {                                                          \
            load_state(state[l], &abef[l], &cdgh[l]);                                              \
            p[l] = data[l];                                                                        \
        }                                                                                          \
        for (size_t blk = 0; blk < nblocks; blk++) {                                               \
            __m128i m[LANES][4], save_abef[LANES], save_cdgh[LANES];                               \
            for (int l = 0; l < LANES; l++) {                                                      \
                save_abef[l] = abef[l];                                                            \
                save_cdgh[l] = cdgh[l];                                                            \
            }                                                                                      \
            for (int g = 0; g < 16; g++) {                                                         \
                const __m128i k = _mm_loadu_si128((const __m128i *)(ccairn_sha256_k + 4 * g));     \
                for (int l = 0; l < LANES; l++) {                                                  \
                    __m128i w;                                                                     \
                    if (g < 4) {                                                                   \
                        w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p[l] + 16 * g)), bswap); \
                    } else {                                                                       \
                        __m128i t = _mm_sha256msg1_epu32(m[l][g & 3], m[l][(g + 1) & 3]);          \
                        t = _mm_add_epi32(t, _mm_alignr_epi8(m[l][(g + 3) & 3], m[l][(g + 2) & 3], 4)); \
                        w = _mm_sha256msg2_epu32(t, m[l][(g + 3) & 3]);                            \
                    }                                                                              \
                    m[l][g & 3] = w;                                                               \
                    __m128i wk = _mm_add_epi32(w, k);                                              \
                    cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk);                         \
                    abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(wk, 0x0E)); \
                }                                                                                  \
            }                                                                                      \
            for (int l = 0; l < LANES; l++) {                                                      \
                abef[l] = _mm_add_epi32(abef[l], save_abef[l]);                                    \
                cdgh[l] = _mm_add_epi32(cdgh[l], save_cdgh[l]);                                    \
                p[l] += 64;                                                                        \
            }                                                                                      \
        }                                                                                          \
        for (int l = 0; l < LANES; l++) store_state(state[l], abef[l], cdgh[l]);                   \
    }

DEFINE_SHANI(1, ccairn_sha256_blocks_shani_x1)
DEFINE_SHANI(2, ccairn_sha256_blocks_shani_x2)
DEFINE_SHANI(4, ccairn_sha256_blocks_shani_x4)

#endif
