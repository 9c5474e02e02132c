#ifndef CCAIRN_KEY128_H
#define CCAIRN_KEY128_H
/*
 * Key128: a fast 128-bit non-cryptographic hash, the dedup key of `cairn bench chunkers`
 * (spec/cli.md). Bytes are read in 64-byte stripes of eight 64-bit words; each word, mixed
 * with a per-stripe key word, is folded into one of eight accumulators by a 32×32→64-bit
 * multiply (NH, as in UMAC and XXH3), the raw word added to its neighbour; every 16 stripes
 * the accumulators are scrambled (xorshift, key, odd multiply), so stripe order matters. The
 * last partial stripe is zero-padded and the length enters the final mix, which folds the
 * accumulators into two 64-bit halves with 64×64→128-bit multiplies. The portable and AVX2
 * kernels give the same value.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The 128-bit key of `length` bytes at `input`: out[0], out[1]. `simd` 0 forces the portable kernel. */
void ccairn_key128(const void *input, size_t length, int simd, uint64_t out[2]);
/* Whether the AVX2 kernel runs on this CPU. */
int ccairn_key128_simd_supported(void);

#ifdef __cplusplus
}
#endif
#endif
