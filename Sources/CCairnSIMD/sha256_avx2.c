/*
 * SHA-256 over eight independent messages at once, one message per 32-bit lane of a
 * 256-bit vector (AVX2 has no vector rotate, so rotations are two shifts and an or).
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include "sha256_internal.h"
#include "simd_transpose.h"

#define AVX2_TARGET __attribute__((target("avx2")))

#define ROR(x, n) _mm256_or_si256(_mm256_srli_epi32((x), (n)), _mm256_slli_epi32((x), 32 - (n)))
#define XOR3(a, b, c) _mm256_xor_si256(_mm256_xor_si256((a), (b)), (c))

AVX2_TARGET void ccairn_sha256_blocks_avx2_x8(uint32_t (*state)[8], const uint8_t *const *data, size_t nblocks) {
    const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                           3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    __m256i s[8];
    for (int i = 0; i < 8; i++) s[i] = _mm256_loadu_si256((const __m256i *)state[i]);
    ccairn_transpose8(s); /* s[i] = word i of every lane */
    const uint8_t *p[8];
    for (int l = 0; l < 8; l++) p[l] = data[l];

    for (size_t blk = 0; blk < nblocks; blk++) {
        __m256i w[16], lo[8], hi[8];
        for (int l = 0; l < 8; l++) {
            lo[l] = _mm256_loadu_si256((const __m256i *)(p[l] + 64 * blk));
            hi[l] = _mm256_loadu_si256((const __m256i *)(p[l] + 64 * blk + 32));
        }
        ccairn_transpose8(lo);
        ccairn_transpose8(hi);
        for (int t = 0; t < 8; t++) {
            w[t] = _mm256_shuffle_epi8(lo[t], bswap);
            w[8 + t] = _mm256_shuffle_epi8(hi[t], bswap);
        }
        __m256i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        _Pragma("clang loop unroll(full)")
        for (int t = 0; t < 64; t++) {
            __m256i wt;
            if (t < 16) {
                wt = w[t];
            } else {
                __m256i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
                __m256i s0 = XOR3(ROR(w15, 7), ROR(w15, 18), _mm256_srli_epi32(w15, 3));
                __m256i s1 = XOR3(ROR(w2, 17), ROR(w2, 19), _mm256_srli_epi32(w2, 10));
                wt = _mm256_add_epi32(_mm256_add_epi32(w[t & 15], s0), _mm256_add_epi32(w[(t - 7) & 15], s1));
                w[t & 15] = wt;
            }
            __m256i ch = _mm256_xor_si256(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
            __m256i t1 = _mm256_add_epi32(h, XOR3(ROR(e, 6), ROR(e, 11), ROR(e, 25)));
            t1 = _mm256_add_epi32(t1, ch);
            t1 = _mm256_add_epi32(t1, _mm256_add_epi32(wt, _mm256_set1_epi32((int)ccairn_sha256_k[t])));
            __m256i maj = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(c, _mm256_or_si256(a, b)));
            __m256i t2 = _mm256_add_epi32(XOR3(ROR(a, 2), ROR(a, 13), ROR(a, 22)), maj);
            h = g; g = f; f = e; e = _mm256_add_epi32(d, t1);
            d = c; c = b; b = a; a = _mm256_add_epi32(t1, t2);
        }
        s[0] = _mm256_add_epi32(s[0], a); s[1] = _mm256_add_epi32(s[1], b);
        s[2] = _mm256_add_epi32(s[2], c); s[3] = _mm256_add_epi32(s[3], d);
        s[4] = _mm256_add_epi32(s[4], e); s[5] = _mm256_add_epi32(s[5], f);
        s[6] = _mm256_add_epi32(s[6], g); s[7] = _mm256_add_epi32(s[7], h);
    }
    ccairn_transpose8(s); /* back to s[l] = lane l's eight words */
    for (int l = 0; l < 8; l++) _mm256_storeu_si256((__m256i *)state[l], s[l]);
}
#endif
