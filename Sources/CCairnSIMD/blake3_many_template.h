/*
 * The body of a BLAKE3 many-function, instantiated once per vector width by blake3_simd.c.
 * It expects: VEC (vector type), LANES, TARGET, NAME, ADD, XOR, ROR16/ROR12/ROR8/ROR7, SET1,
 * LOADU, TRANSPOSE (LANES×LANES words) and STORE_CVS(out, h) as macros, and undefines them.
 * Lane i hashes inputs[i]; all lanes take the same number of blocks.
 */
#ifndef PREFETCH_BLOCKS
#define PREFETCH_BLOCKS 8
#endif

#define G(a, b, c, d, x, y)         \
    a = ADD(ADD(a, b), x);          \
    d = ROR16(XOR(d, a));           \
    c = ADD(c, d);                  \
    b = ROR12(XOR(b, c));           \
    a = ADD(ADD(a, b), y);          \
    d = ROR8(XOR(d, a));            \
    c = ADD(c, d);                  \
    b = ROR7(XOR(b, c));

TARGET void NAME(const uint8_t *const *inputs, size_t blocks, const uint32_t key[8], uint64_t counter,
                 int increment, uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint32_t (*out)[8]) {
    /* Row r: the message word each slot of round r takes (the permutation applied r times). */
    static const uint8_t schedule[7][16] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
        {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
        {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
        {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
        {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
        {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
    };
    uint32_t counter_lo[LANES], counter_hi[LANES];
    for (int l = 0; l < LANES; l++) {
        uint64_t c = counter + (increment ? (uint64_t)l : 0);
        counter_lo[l] = (uint32_t)c;
        counter_hi[l] = (uint32_t)(c >> 32);
    }
    const VEC lo = LOADU(counter_lo), hi = LOADU(counter_hi);
    VEC h[8];
    for (int i = 0; i < 8; i++) h[i] = SET1(key[i]);
    for (size_t b = 0; b < blocks; b++) {
        VEC m[16];
        for (int part = 0; part < 16 / LANES; part++) {
            VEC rows[LANES];
            for (int l = 0; l < LANES; l++) rows[l] = LOADU(inputs[l] + 64 * b + 4 * LANES * part);
            if (part == 0) {
                /* Sixteen interleaved streams are too many for the hardware prefetcher: ask for
                 * each lane's block PREFETCH_BLOCKS ahead; past the end of a chunk, the same
                 * lane's chunk of the next group (runs of chunks are contiguous). A prefetch
                 * never faults, so a guess past the input is harmless. */
                for (int l = 0; l < LANES; l++) {
                    size_t ahead = b + PREFETCH_BLOCKS;
                    if (ahead >= blocks) ahead = ahead - blocks + blocks * LANES;
                    _mm_prefetch((const char *)(inputs[l] + 64 * ahead), _MM_HINT_T0);
                }
            }
            TRANSPOSE(rows);
            for (int k = 0; k < LANES; k++) m[LANES * part + k] = rows[k];
        }
        uint32_t f = flags;
        if (b == 0) f |= flags_start;
        if (b + 1 == blocks) f |= flags_end;
        VEC v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
        VEC v8 = SET1(ccairn_blake3_iv[0]), v9 = SET1(ccairn_blake3_iv[1]);
        VEC v10 = SET1(ccairn_blake3_iv[2]), v11 = SET1(ccairn_blake3_iv[3]);
        VEC v12 = lo, v13 = hi, v14 = SET1(64), v15 = SET1(f);
        _Pragma("clang loop unroll(full)")
        for (int round = 0; round < 7; round++) {
            const uint8_t *s = schedule[round];
            G(v0, v4, v8, v12, m[s[0]], m[s[1]]);
            G(v1, v5, v9, v13, m[s[2]], m[s[3]]);
            G(v2, v6, v10, v14, m[s[4]], m[s[5]]);
            G(v3, v7, v11, v15, m[s[6]], m[s[7]]);
            G(v0, v5, v10, v15, m[s[8]], m[s[9]]);
            G(v1, v6, v11, v12, m[s[10]], m[s[11]]);
            G(v2, v7, v8, v13, m[s[12]], m[s[13]]);
            G(v3, v4, v9, v14, m[s[14]], m[s[15]]);
        }
        h[0] = XOR(v0, v8); h[1] = XOR(v1, v9); h[2] = XOR(v2, v10); h[3] = XOR(v3, v11);
        h[4] = XOR(v4, v12); h[5] = XOR(v5, v13); h[6] = XOR(v6, v14); h[7] = XOR(v7, v15);
    }
    STORE_CVS(out, h);
}
#undef G
#undef VEC
#undef LANES
#undef TARGET
#undef NAME
#undef ADD
#undef XOR
#undef ROR16
#undef ROR8
#undef ROR12
#undef ROR7
#undef SET1
#undef LOADU
#undef TRANSPOSE
#undef STORE_CVS
