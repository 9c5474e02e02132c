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

DEFINE_SHANI(4, ccairn_sha256_blocks_shani_x4)

/*
 * One and two lanes written out with named message registers instead of the generic loop
 * above: clang keeps every vector in a register then, and these run about a fifth faster
 * than the generic ones (one lane: as fast as OpenSSL's SHA-NI code). W[16..63] of each
 * group of four rounds comes from the four previous groups (msg1, the alignr add, msg2).
 */
#define SHANI_LOAD(S, ABEF, CDGH) load_state((S), &(ABEF), &(CDGH))
#define SHANI_WORDS(M0, M1, M2, M3, P)                                                      \
    __m128i M0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((P) + 0)), bswap);      \
    __m128i M1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((P) + 16)), bswap);     \
    __m128i M2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((P) + 32)), bswap);     \
    __m128i M3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((P) + 48)), bswap);
#define SHANI_SCHEDULE(A, B, C, D) \
    A = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(A, B), _mm_alignr_epi8(D, C, 4)), D)
#define SHANI_ROUNDS(ABEF, CDGH, W, K)                                                       \
    do {                                                                                    \
        __m128i wk = _mm_add_epi32((W), (K));                                               \
        CDGH = _mm_sha256rnds2_epu32(CDGH, ABEF, wk);                                       \
        ABEF = _mm_sha256rnds2_epu32(ABEF, CDGH, _mm_shuffle_epi32(wk, 0x0E));              \
    } while (0)
#define SHANI_K(G) _mm_loadu_si128((const __m128i *)(ccairn_sha256_k + 4 * (G)))

SHANI_TARGET void ccairn_sha256_blocks_shani_x1(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef, cdgh;
    SHANI_LOAD(state[0], abef, cdgh);
    const uint8_t *p = data[0];
    for (size_t blk = 0; blk < nblocks; blk++, p += 64) {
        const __m128i save_abef = abef, save_cdgh = cdgh;
        SHANI_WORDS(m0, m1, m2, m3, p)
        SHANI_ROUNDS(abef, cdgh, m0, SHANI_K(0));
        SHANI_ROUNDS(abef, cdgh, m1, SHANI_K(1));
        SHANI_ROUNDS(abef, cdgh, m2, SHANI_K(2));
        SHANI_ROUNDS(abef, cdgh, m3, SHANI_K(3));
        for (int g = 4; g < 16; g += 4) {
            SHANI_SCHEDULE(m0, m1, m2, m3);
            SHANI_ROUNDS(abef, cdgh, m0, SHANI_K(g));
            SHANI_SCHEDULE(m1, m2, m3, m0);
            SHANI_ROUNDS(abef, cdgh, m1, SHANI_K(g + 1));
            SHANI_SCHEDULE(m2, m3, m0, m1);
            SHANI_ROUNDS(abef, cdgh, m2, SHANI_K(g + 2));
            SHANI_SCHEDULE(m3, m0, m1, m2);
            SHANI_ROUNDS(abef, cdgh, m3, SHANI_K(g + 3));
        }
        abef = _mm_add_epi32(abef, save_abef);
        cdgh = _mm_add_epi32(cdgh, save_cdgh);
    }
    store_state(state[0], abef, cdgh);
}

SHANI_TARGET void ccairn_sha256_blocks_shani_x2(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef0, cdgh0, abef1, cdgh1;
    SHANI_LOAD(state[0], abef0, cdgh0);
    SHANI_LOAD(state[1], abef1, cdgh1);
    const uint8_t *p = data[0], *q = data[1];
    for (size_t blk = 0; blk < nblocks; blk++, p += 64, q += 64) {
        const __m128i save_abef0 = abef0, save_cdgh0 = cdgh0, save_abef1 = abef1, save_cdgh1 = cdgh1;
        SHANI_WORDS(m0, m1, m2, m3, p)
        SHANI_WORDS(n0, n1, n2, n3, q)
        __m128i k = SHANI_K(0);
        SHANI_ROUNDS(abef0, cdgh0, m0, k);
        SHANI_ROUNDS(abef1, cdgh1, n0, k);
        k = SHANI_K(1);
        SHANI_ROUNDS(abef0, cdgh0, m1, k);
        SHANI_ROUNDS(abef1, cdgh1, n1, k);
        k = SHANI_K(2);
        SHANI_ROUNDS(abef0, cdgh0, m2, k);
        SHANI_ROUNDS(abef1, cdgh1, n2, k);
        k = SHANI_K(3);
        SHANI_ROUNDS(abef0, cdgh0, m3, k);
        SHANI_ROUNDS(abef1, cdgh1, n3, k);
        for (int g = 4; g < 16; g += 4) {
            SHANI_SCHEDULE(m0, m1, m2, m3);
            SHANI_SCHEDULE(n0, n1, n2, n3);
            k = SHANI_K(g);
            SHANI_ROUNDS(abef0, cdgh0, m0, k);
            SHANI_ROUNDS(abef1, cdgh1, n0, k);
            SHANI_SCHEDULE(m1, m2, m3, m0);
            SHANI_SCHEDULE(n1, n2, n3, n0);
            k = SHANI_K(g + 1);
            SHANI_ROUNDS(abef0, cdgh0, m1, k);
            SHANI_ROUNDS(abef1, cdgh1, n1, k);
            SHANI_SCHEDULE(m2, m3, m0, m1);
            SHANI_SCHEDULE(n2, n3, n0, n1);
            k = SHANI_K(g + 2);
            SHANI_ROUNDS(abef0, cdgh0, m2, k);
            SHANI_ROUNDS(abef1, cdgh1, n2, k);
            SHANI_SCHEDULE(m3, m0, m1, m2);
            SHANI_SCHEDULE(n3, n0, n1, n2);
            k = SHANI_K(g + 3);
            SHANI_ROUNDS(abef0, cdgh0, m3, k);
            SHANI_ROUNDS(abef1, cdgh1, n3, k);
        }
        abef0 = _mm_add_epi32(abef0, save_abef0);
        cdgh0 = _mm_add_epi32(cdgh0, save_cdgh0);
        abef1 = _mm_add_epi32(abef1, save_abef1);
        cdgh1 = _mm_add_epi32(cdgh1, save_cdgh1);
    }
    store_state(state[0], abef0, cdgh0);
    store_state(state[1], abef1, cdgh1);
}

#endif
