/* BLAKE3 many-functions for SSE4.1 (4 lanes), AVX2 (8 lanes) and AVX-512 (16 lanes). */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "blake3_internal.h"
#include "simd_transpose.h"

/* ---- SSE4.1, 4 lanes ---- */
#define VEC __m128i
#define LANES 4
#define TARGET __attribute__((target("sse4.1,ssse3")))
#define NAME ccairn_blake3_many_sse41
#define ADD(a, b) _mm_add_epi32(a, b)
#define XOR(a, b) _mm_xor_si128(a, b)
#define ROR16(x) _mm_shuffle_epi8(x, _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13))
#define ROR8(x) _mm_shuffle_epi8(x, _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12))
#define ROR12(x) _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20))
#define ROR7(x) _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25))
#define SET1(x) _mm_set1_epi32((int)(x))
#define LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define TRANSPOSE(r) ccairn_transpose4(r)
#define STORE_CVS(out, h)                                                      \
    do {                                                                       \
        VEC a[4] = {h[0], h[1], h[2], h[3]}, b[4] = {h[4], h[5], h[6], h[7]};  \
        ccairn_transpose4(a);                                                  \
        ccairn_transpose4(b);                                                  \
        for (int l = 0; l < 4; l++) {                                          \
            _mm_storeu_si128((__m128i *)(void *)out[l], a[l]);                 \
            _mm_storeu_si128((__m128i *)(void *)(out[l] + 4), b[l]);           \
        }                                                                      \
    } while (0)
#include "blake3_many_template.h"

/* ---- AVX2, 8 lanes ---- */
#define VEC __m256i
#define LANES 8
#define TARGET __attribute__((target("avx2")))
#define NAME ccairn_blake3_many_avx2
#define ADD(a, b) _mm256_add_epi32(a, b)
#define XOR(a, b) _mm256_xor_si256(a, b)
#define ROR16(x) _mm256_shuffle_epi8(x, _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, \
                                                         2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13))
#define ROR8(x) _mm256_shuffle_epi8(x, _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, \
                                                        1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12))
#define ROR12(x) _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20))
#define ROR7(x) _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25))
#define SET1(x) _mm256_set1_epi32((int)(x))
#define LOADU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define TRANSPOSE(r) ccairn_transpose8(r)
#define STORE_CVS(out, h)                                                   \
    do {                                                                    \
        VEC t[8];                                                           \
        for (int i = 0; i < 8; i++) t[i] = h[i];                            \
        ccairn_transpose8(t);                                               \
        for (int l = 0; l < 8; l++) _mm256_storeu_si256((__m256i *)(void *)out[l], t[l]); \
    } while (0)
#include "blake3_many_template.h"

/* ---- AVX-512, 16 lanes ---- */
#define VEC __m512i
#define LANES 16
#define TARGET __attribute__((target("avx512f")))
#define NAME ccairn_blake3_many_avx512
#define ADD(a, b) _mm512_add_epi32(a, b)
#define XOR(a, b) _mm512_xor_si512(a, b)
#define ROR16(x) _mm512_ror_epi32(x, 16)
#define ROR8(x) _mm512_ror_epi32(x, 8)
#define ROR12(x) _mm512_ror_epi32(x, 12)
#define ROR7(x) _mm512_ror_epi32(x, 7)
#define SET1(x) _mm512_set1_epi32((int)(x))
#define LOADU(p) _mm512_loadu_si512((const void *)(p))
#define TRANSPOSE(r) ccairn_transpose16(r)
#define STORE_CVS(out, h)                                                                      \
    do {                                                                                       \
        const __m512i index = _mm512_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, \
                                                96, 104, 112, 120);                            \
        for (int i = 0; i < 8; i++) _mm512_i32scatter_epi32(&out[0][i], index, h[i], 4);      \
    } while (0)
#include "blake3_many_template.h"
#endif
