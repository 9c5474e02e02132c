/* Key128 (include/CCairnKey128.h): portable and AVX2 kernels of one function. */
#include "CCairnKey128.h"
#include "cpu_features.h"
#include <string.h>

#define LANES 8
#define STRIPE 64
#define STRIPES_PER_BLOCK 16
#define BLOCK (STRIPE * STRIPES_PER_BLOCK)

/* Key words: stripe s of a block uses words s … s+7; the scramble uses words 24 … 31. */
static const uint64_t key[32] = {
    0xbe4ba423396cfeb8ULL, 0x1cad21f72c81017cULL, 0xdb979083e96dd4deULL, 0x1f67b3b7a4a44072ULL,
    0x78e5c0cc4ee679cbULL, 0x2172ffcc7dd05a82ULL, 0x8e2443f7744608b8ULL, 0x4c263a81e69035e0ULL,
    0xcb00c391bb52283cULL, 0xa32e531b8b65d088ULL, 0x4ef90da297486471ULL, 0xd8acdea946ef1938ULL,
    0x3f349ce33f76faa8ULL, 0x1d4f0bc7c7bbdcf9ULL, 0x3159b4cd4be0518aULL, 0x647378d9c97e9fc8ULL,
    0xc3ebd33483acc5eaULL, 0xeb6313faffa081c5ULL, 0x49daf0b751dd0d17ULL, 0x9e68d429265516d3ULL,
    0xfca1477d58be162bULL, 0xce31d07ad1b8f88fULL, 0x280416958f3acb45ULL, 0x7e404bbbcafbd7afULL,
    0x2f5a3b6c1d8e9f07ULL, 0x91c3e5a7b2d4f608ULL, 0x5d7e9f1a3c2b4d6eULL, 0xa8b6c4d2e0f1a3b5ULL,
    0x13579bdf2468ace0ULL, 0xfdb97531eca86420ULL, 0x6a5b4c3d2e1f0a9bULL, 0xc0ffee1234567891ULL,
};

#define PRIME32 0x9E3779B1ULL
#define PRIME64_1 0x9E3779B185EBCA87ULL
#define PRIME64_2 0xC2B2AE3D27D4EB4FULL

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* little-endian hosts only (x86-64, arm64) */
}

static inline void stripe_portable(uint64_t acc[LANES], const uint8_t *p, const uint64_t *k) {
    for (int i = 0; i < LANES; i++) {
        uint64_t d = load64(p + 8 * i);
        uint64_t m = d ^ k[i];
        acc[i ^ 1] += d;
        acc[i] += (m & 0xffffffffULL) * (m >> 32);
    }
}

static inline void scramble_portable(uint64_t acc[LANES]) {
    for (int i = 0; i < LANES; i++) {
        uint64_t a = acc[i];
        a ^= a >> 47;
        a ^= key[24 + i];
        acc[i] = a * PRIME32;
    }
}

/* Whole stripes: `stripes` of them from `p`, the first at index `first` of its block. */
static void stripes_portable(uint64_t acc[LANES], const uint8_t *p, size_t blocks) {
    for (size_t b = 0; b < blocks; b++) {
        for (int s = 0; s < STRIPES_PER_BLOCK; s++) stripe_portable(acc, p + s * STRIPE, key + s);
        scramble_portable(acc);
        p += BLOCK;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2_TARGET __attribute__((target("avx2")))

AVX2_TARGET static void stripes_avx2(uint64_t acc[LANES], const uint8_t *p, size_t blocks) {
    __m256i a0 = _mm256_loadu_si256((const __m256i *)acc);
    __m256i a1 = _mm256_loadu_si256((const __m256i *)(acc + 4));
    const __m256i prime = _mm256_set1_epi32((int)PRIME32);
    const __m256i scr0 = _mm256_loadu_si256((const __m256i *)(key + 24));
    const __m256i scr1 = _mm256_loadu_si256((const __m256i *)(key + 28));
    for (size_t b = 0; b < blocks; b++) {
        for (int s = 0; s < STRIPES_PER_BLOCK; s++) {
            const uint8_t *q = p + s * STRIPE;
            __m256i d0 = _mm256_loadu_si256((const __m256i *)q);
            __m256i d1 = _mm256_loadu_si256((const __m256i *)(q + 32));
            __m256i m0 = _mm256_xor_si256(d0, _mm256_loadu_si256((const __m256i *)(key + s)));
            __m256i m1 = _mm256_xor_si256(d1, _mm256_loadu_si256((const __m256i *)(key + s + 4)));
            __m256i p0 = _mm256_mul_epu32(m0, _mm256_srli_epi64(m0, 32));
            __m256i p1 = _mm256_mul_epu32(m1, _mm256_srli_epi64(m1, 32));
            /* acc[i ^ 1] += d: swap the 64-bit words of each 128-bit half. */
            a0 = _mm256_add_epi64(a0, _mm256_add_epi64(p0, _mm256_shuffle_epi32(d0, 0x4E)));
            a1 = _mm256_add_epi64(a1, _mm256_add_epi64(p1, _mm256_shuffle_epi32(d1, 0x4E)));
        }
        /* a = (a ^ a >> 47 ^ k) * PRIME32, a 64×32-bit multiply from two 32×32 ones. */
        a0 = _mm256_xor_si256(_mm256_xor_si256(a0, _mm256_srli_epi64(a0, 47)), scr0);
        a1 = _mm256_xor_si256(_mm256_xor_si256(a1, _mm256_srli_epi64(a1, 47)), scr1);
        a0 = _mm256_add_epi64(_mm256_mul_epu32(a0, prime), _mm256_slli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a0, 32), prime), 32));
        a1 = _mm256_add_epi64(_mm256_mul_epu32(a1, prime), _mm256_slli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a1, 32), prime), 32));
        p += BLOCK;
    }
    _mm256_storeu_si256((__m256i *)acc, a0);
    _mm256_storeu_si256((__m256i *)(acc + 4), a1);
}
#endif

int ccairn_key128_simd_supported(void) {
    return (ccairn_cpu_features() & CCAIRN_CPU_AVX2) != 0;
}

static inline uint64_t fold(uint64_t a, uint64_t b) {
    __uint128_t product = (__uint128_t)a * b;
    return (uint64_t)product ^ (uint64_t)(product >> 64);
}

static inline uint64_t avalanche(uint64_t h) {
    h ^= h >> 37;
    h *= 0x165667919E3779F9ULL;
    return h ^ (h >> 32);
}

void ccairn_key128(const void *input, size_t length, int simd, uint64_t out[2]) {
    const uint8_t *p = (const uint8_t *)input;
    uint64_t acc[LANES] = {PRIME32, PRIME64_1, PRIME64_2, 0x165667B19E3779F9ULL,
                           0x85EBCA77C2B2AE63ULL, 0x27D4EB2F165667C5ULL, PRIME64_2 ^ PRIME64_1, PRIME32 << 17};
    size_t blocks = length / BLOCK;
#if defined(__x86_64__)
    if (simd && ccairn_key128_simd_supported()) stripes_avx2(acc, p, blocks);
    else stripes_portable(acc, p, blocks);
#else
    (void)simd;
    stripes_portable(acc, p, blocks);
#endif
    p += blocks * BLOCK;
    size_t rest = length - blocks * BLOCK;
    int s = 0;
    for (; rest >= STRIPE; s++, rest -= STRIPE, p += STRIPE) stripe_portable(acc, p, key + s);
    if (rest > 0) {
        uint8_t last[STRIPE] = {0};
        memcpy(last, p, rest);
        stripe_portable(acc, last, key + s);
    }
    scramble_portable(acc);
    uint64_t low = (uint64_t)length * PRIME64_1, high = ~(uint64_t)length * PRIME64_2;
    for (int i = 0; i < LANES; i += 2) {
        low += fold(acc[i] ^ key[i], acc[i + 1] ^ key[i + 1]);
        high += fold(acc[i] ^ key[16 + i], acc[i + 1] ^ key[17 + i]);
    }
    out[0] = avalanche(low);
    out[1] = avalanche(high ^ low);
}
