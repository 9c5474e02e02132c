/*
 * SHA-256 over sixteen independent messages at once, one message per 32-bit lane of a
 * 512-bit vector. Each block's sixteen message words are loaded as sixteen rows and
 * transposed so that vector t holds word t of every lane.
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include "sha256_internal.h"
#include "simd_transpose.h"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw")))

#define ROR(x, n) _mm512_ror_epi32((x), (n))
#define XOR3(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0x96)

AVX512_TARGET void ccairn_sha256_blocks_avx512_x16(uint32_t (*state)[8], const uint8_t *const *data,
                                                   size_t nblocks) {
    const __m512i bswap = _mm512_broadcast_i32x4(
        _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL));
    /* Load the sixteen states transposed: s[i] holds word i of every lane. */
    __m512i s[8];
    {
        __m512i gather_index = _mm512_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120);
        for (int i = 0; i < 8; i++) s[i] = _mm512_i32gather_epi32(gather_index, &state[0][i], 4);
    }
    const uint8_t *p[16];
    for (int l = 0; l < 16; l++) p[l] = data[l];

    for (size_t blk = 0; blk < nblocks; blk++) {
        __m512i w[16];
        for (int l = 0; l < 16; l++) w[l] = _mm512_loadu_si512((const void *)(p[l] + 64 * blk));
        /* Sixteen streams are more than the hardware prefetcher follows, and it stops at every
         * page edge: ask for each lane's block SHA256_PREFETCH_BLOCKS ahead. A prefetch never
         * faults, so one past a lane's end is harmless. */
        for (int l = 0; l < 16; l++) {
            /* The address may lie past the lane's object: computed as an integer, not a pointer. */
            uintptr_t ahead = (uintptr_t)p[l] + 64 * (blk + SHA256_PREFETCH_BLOCKS);
            _mm_prefetch((const char *)ahead, _MM_HINT_T0);
        }
        ccairn_transpose16(w);
        for (int t = 0; t < 16; t++) w[t] = _mm512_shuffle_epi8(w[t], bswap);

        __m512i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        _Pragma("clang loop unroll(full)")
        for (int t = 0; t < 64; t++) {
            __m512i wt;
            if (t < 16) {
                wt = w[t];
            } else {
                __m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
                __m512i s0 = XOR3(ROR(w15, 7), ROR(w15, 18), _mm512_srli_epi32(w15, 3));
                __m512i s1 = XOR3(ROR(w2, 17), ROR(w2, 19), _mm512_srli_epi32(w2, 10));
                wt = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], s0), _mm512_add_epi32(w[(t - 7) & 15], s1));
                w[t & 15] = wt;
            }
            __m512i t1 = _mm512_add_epi32(h, XOR3(ROR(e, 6), ROR(e, 11), ROR(e, 25)));
            t1 = _mm512_add_epi32(t1, _mm512_ternarylogic_epi32(e, f, g, 0xCA));
            t1 = _mm512_add_epi32(t1, _mm512_add_epi32(wt, _mm512_set1_epi32((int)ccairn_sha256_k[t])));
            __m512i t2 = _mm512_add_epi32(XOR3(ROR(a, 2), ROR(a, 13), ROR(a, 22)),
                                          _mm512_ternarylogic_epi32(a, b, c, 0xE8));
            h = g; g = f; f = e; e = _mm512_add_epi32(d, t1);
            d = c; c = b; b = a; a = _mm512_add_epi32(t1, t2);
        }
        s[0] = _mm512_add_epi32(s[0], a); s[1] = _mm512_add_epi32(s[1], b);
        s[2] = _mm512_add_epi32(s[2], c); s[3] = _mm512_add_epi32(s[3], d);
        s[4] = _mm512_add_epi32(s[4], e); s[5] = _mm512_add_epi32(s[5], f);
        s[6] = _mm512_add_epi32(s[6], g); s[7] = _mm512_add_epi32(s[7], h);
    }
    {
        __m512i scatter_index = _mm512_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120);
        for (int i = 0; i < 8; i++) _mm512_i32scatter_epi32(&state[0][i], scatter_index, s[i], 4);
    }
}
#endif
