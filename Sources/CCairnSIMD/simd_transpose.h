#ifndef CCAIRN_SIMD_TRANSPOSE_H
#define CCAIRN_SIMD_TRANSPOSE_H
/* Transposes of square matrices of 32-bit words held one row per vector. */
#if defined(__x86_64__)
#include <immintrin.h>

/* 4×4 in 128-bit vectors. */
__attribute__((target("sse4.1"))) static inline void ccairn_transpose4(__m128i r[4]) {
    __m128i t0 = _mm_unpacklo_epi32(r[0], r[1]), t1 = _mm_unpackhi_epi32(r[0], r[1]);
    __m128i t2 = _mm_unpacklo_epi32(r[2], r[3]), t3 = _mm_unpackhi_epi32(r[2], r[3]);
    r[0] = _mm_unpacklo_epi64(t0, t2);
    r[1] = _mm_unpackhi_epi64(t0, t2);
    r[2] = _mm_unpacklo_epi64(t1, t3);
    r[3] = _mm_unpackhi_epi64(t1, t3);
}

/* 8×8 in 256-bit vectors. */
__attribute__((target("avx2"))) static inline void ccairn_transpose8(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int j = 0; j < 2; j++) {
        u[4 * j + 0] = _mm256_unpacklo_epi64(t[4 * j], t[4 * j + 2]);
        u[4 * j + 1] = _mm256_unpackhi_epi64(t[4 * j], t[4 * j + 2]);
        u[4 * j + 2] = _mm256_unpacklo_epi64(t[4 * j + 1], t[4 * j + 3]);
        u[4 * j + 3] = _mm256_unpackhi_epi64(t[4 * j + 1], t[4 * j + 3]);
    }
    /* u[4j+k], 128-bit half q: column 4q+k of rows 4j…4j+3. */
    for (int k = 0; k < 4; k++) {
        r[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
        r[4 + k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
    }
}

/* 16×16 in 512-bit vectors. */
__attribute__((target("avx512f"))) static inline void ccairn_transpose16(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int j = 0; j < 4; j++) {
        u[4 * j + 0] = _mm512_unpacklo_epi64(t[4 * j], t[4 * j + 2]);
        u[4 * j + 1] = _mm512_unpackhi_epi64(t[4 * j], t[4 * j + 2]);
        u[4 * j + 2] = _mm512_unpacklo_epi64(t[4 * j + 1], t[4 * j + 3]);
        u[4 * j + 3] = _mm512_unpackhi_epi64(t[4 * j + 1], t[4 * j + 3]);
    }
    /* u[4j+k], 128-bit lane q: column 4q+k of rows 4j…4j+3. Regroup the lanes. */
    for (int k = 0; k < 4; k++) {
        __m512i x0 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x88);
        __m512i x1 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xDD);
        __m512i x2 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x88);
        __m512i x3 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xDD);
        r[0 + k] = _mm512_shuffle_i32x4(x0, x2, 0x88);
        r[8 + k] = _mm512_shuffle_i32x4(x0, x2, 0xDD);
        r[4 + k] = _mm512_shuffle_i32x4(x1, x3, 0x88);
        r[12 + k] = _mm512_shuffle_i32x4(x1, x3, 0xDD);
    }
}
#endif
#endif
