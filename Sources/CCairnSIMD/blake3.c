/*
 * BLAKE3 streaming hasher over the many-functions. Input is cut into 1024-byte chunks; a
 * chunk is only closed once a later byte arrives, because the last chunk is finished
 * differently (it may be the root). Aligned runs of whole chunks (2^k chunks starting at a
 * multiple of 2^k) go to the vector kernels, chunks first, then their parents level by
 * level; the run's chaining value joins a stack holding one subtree per set bit of the chunk
 * count, merged eagerly since more input is known to follow.
 */
#include <string.h>
#include "cpu_features.h"
#include "blake3_internal.h"
#include "CCairnBLAKE3.h"


#define MAX_RUN 256 /* chunks in one vector run: 256 KiB of input, 8 KiB of chaining values */

static const struct {
    const char *name;
    int lanes;
    int needs;
    ccairn_blake3_many_fn fn;
} kernels[CCAIRN_BLAKE3_KERNEL_COUNT] = {
    {"portable", 1, 0, ccairn_blake3_many_portable},
#if defined(__x86_64__)
    {"sse41-x4", 4, CCAIRN_CPU_SSE41, ccairn_blake3_many_sse41},
    {"avx2-x8", 8, CCAIRN_CPU_AVX2, ccairn_blake3_many_avx2},
    {"avx512-x16", 16, CCAIRN_CPU_AVX512, ccairn_blake3_many_avx512},
#else
    {"sse41-x4", 4, CCAIRN_CPU_NEVER, 0},
    {"avx2-x8", 8, CCAIRN_CPU_NEVER, 0},
    {"avx512-x16", 16, CCAIRN_CPU_NEVER, 0},
#endif
};

int ccairn_blake3_kernel_supported(ccairn_blake3_kernel kernel) {
    if ((unsigned)kernel >= CCAIRN_BLAKE3_KERNEL_COUNT) return 0;
    return (ccairn_cpu_features() & kernels[kernel].needs) == kernels[kernel].needs;
}

const char *ccairn_blake3_kernel_name(ccairn_blake3_kernel kernel) {
    return (unsigned)kernel < CCAIRN_BLAKE3_KERNEL_COUNT ? kernels[kernel].name : "unknown";
}

int ccairn_blake3_kernel_lanes(ccairn_blake3_kernel kernel) {
    return (unsigned)kernel < CCAIRN_BLAKE3_KERNEL_COUNT ? kernels[kernel].lanes : 0;
}

/* Runs `count` lanes' worth of work with the widest kernels not above `kernel`. A remainder
 * narrower than the kernel goes to the narrowest kernel that holds it, its idle lanes
 * repeating the first input (their results are dropped); a single input runs portable. */
static void run_many(int kernel, const uint8_t *const *inputs, size_t count, size_t blocks, uint64_t counter,
                     int increment, uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint32_t (*out)[8]) {
    size_t lanes = (size_t)kernels[kernel].lanes;
    size_t done = 0;
    while (count - done >= lanes) {
        kernels[kernel].fn(inputs + done, blocks, ccairn_blake3_iv, counter + (increment ? done : 0), increment, flags,
                           flags_start, flags_end, out + done);
        done += lanes;
    }
    size_t left = count - done;
    if (left == 0) return;
    if (left == 1) {
        ccairn_blake3_many_portable(inputs + done, blocks, ccairn_blake3_iv, counter + (increment ? done : 0),
                                    increment, flags, flags_start, flags_end, out + done);
        return;
    }
    int k = 1;
    while (k < kernel && !((size_t)kernels[k].lanes >= left && ccairn_blake3_kernel_supported((ccairn_blake3_kernel)k)))
        k++;
    const uint8_t *padded[16];
    uint32_t results[16][8];
    for (size_t i = 0; i < (size_t)kernels[k].lanes; i++) padded[i] = inputs[done + (i < left ? i : 0)];
    kernels[k].fn(padded, blocks, ccairn_blake3_iv, counter + (increment ? done : 0), increment, flags, flags_start,
                  flags_end, results);
    memcpy(out + done, results, left * 32);
}

/* Chaining value of 2^level whole chunks starting at chunk `counter`. */
static void subtree_cv(int kernel, const uint8_t *input, unsigned level, uint64_t counter, uint32_t cv[8]) {
    uint32_t cvs[MAX_RUN][8];
    const uint8_t *inputs[MAX_RUN];
    size_t count = (size_t)1 << level;
    for (size_t i = 0; i < count; i++) inputs[i] = input + B3_CHUNK_LEN * i;
    run_many(kernel, inputs, count, B3_CHUNK_LEN / B3_BLOCK_LEN, counter, 1, 0, B3_CHUNK_START, B3_CHUNK_END, cvs);
    while (count > 1) {
        count /= 2;
        for (size_t i = 0; i < count; i++) inputs[i] = (const uint8_t *)cvs[2 * i];
        /* Every kernel reads all its inputs before it writes, so the parents may land in place. */
        run_many(kernel, inputs, count, 1, 0, 0, B3_PARENT, 0, 0, cvs);
    }
    memcpy(cv, cvs[0], 32);
}

/* The digest: the chaining value's words, little-endian. */
static void store_cv(const uint32_t cv[8], uint8_t out[32]) {
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)cv[i];
        out[4 * i + 1] = (uint8_t)(cv[i] >> 8);
        out[4 * i + 2] = (uint8_t)(cv[i] >> 16);
        out[4 * i + 3] = (uint8_t)(cv[i] >> 24);
    }
}

static void parent_cv(const uint32_t left[8], const uint32_t right[8], uint8_t flags, uint32_t out[8]) {
    uint8_t block[64];
    memcpy(block, left, 32);
    memcpy(block + 32, right, 32);
    memcpy(out, ccairn_blake3_iv, 32);
    ccairn_blake3_compress(out, block, 64, 0, B3_PARENT | flags);
}

/* Folds a finished subtree of 2^level chunks into the stack. */
static void push_subtree(ccairn_blake3_state *s, uint32_t cv[8], unsigned level) {
    uint64_t total = s->chunks_done + ((uint64_t)1 << level);
    uint64_t count = total >> level;
    while ((count & 1) == 0 && s->stack_depth > 0) {
        s->stack_depth--;
        parent_cv(s->stack[s->stack_depth], cv, 0, cv);
        level++;
        count >>= 1;
    }
    memcpy(s->stack[s->stack_depth], cv, 32);
    s->stack_depth++;
    s->chunks_done = total;
}

void ccairn_blake3_init(ccairn_blake3_state *s, ccairn_blake3_kernel kernel) {
    memset(s, 0, sizeof *s);
    memcpy(s->chunk_cv, ccairn_blake3_iv, 32);
    s->kernel = ccairn_blake3_kernel_supported(kernel) ? (int)kernel : 0;
}

static size_t chunk_bytes(const ccairn_blake3_state *s) {
    return (size_t)s->chunk_blocks_done * B3_BLOCK_LEN + s->chunk_block_len;
}

void ccairn_blake3_update(ccairn_blake3_state *s, const void *data, size_t length) {
    const uint8_t *input = data;
    while (length > 0) {
        if (chunk_bytes(s) == B3_CHUNK_LEN) {
            /* More input follows, so the full chunk under way can be closed. */
            ccairn_blake3_compress(s->chunk_cv, s->chunk_block, 64, s->chunks_done,
                                   B3_CHUNK_END | (s->chunk_blocks_done == 0 ? B3_CHUNK_START : 0));
            uint32_t cv[8];
            memcpy(cv, s->chunk_cv, 32);
            push_subtree(s, cv, 0);
            memcpy(s->chunk_cv, ccairn_blake3_iv, 32);
            s->chunk_blocks_done = 0;
            s->chunk_block_len = 0;
        }
        if (chunk_bytes(s) == 0 && length > B3_CHUNK_LEN) {
            /* Whole chunks that cannot be the last one: an aligned run for the kernels. */
            uint64_t whole = (length - 1) / B3_CHUNK_LEN;
            unsigned level = 0;
            while (level < 8 && ((uint64_t)2 << level) <= whole && (s->chunks_done & (((uint64_t)2 << level) - 1)) == 0)
                level++;
            uint32_t cv[8];
            if (level == 0) {
                run_many(0, &input, 1, B3_CHUNK_LEN / B3_BLOCK_LEN, s->chunks_done, 1, 0, B3_CHUNK_START,
                         B3_CHUNK_END, (uint32_t(*)[8])cv);
            } else {
                subtree_cv(s->kernel, input, level, s->chunks_done, cv);
            }
            push_subtree(s, cv, level);
            input += (size_t)B3_CHUNK_LEN << level;
            length -= (size_t)B3_CHUNK_LEN << level;
            continue;
        }
        /* Feed the chunk under way, a block at a time; a full block waits for more input. */
        if (s->chunk_block_len == B3_BLOCK_LEN) {
            ccairn_blake3_compress(s->chunk_cv, s->chunk_block, 64, s->chunks_done,
                                   s->chunk_blocks_done == 0 ? B3_CHUNK_START : 0);
            s->chunk_blocks_done++;
            s->chunk_block_len = 0;
        }
        size_t room = B3_BLOCK_LEN - s->chunk_block_len;
        size_t take = length < room ? length : room;
        memcpy(s->chunk_block + s->chunk_block_len, input, take);
        s->chunk_block_len += (uint8_t)take;
        input += take;
        length -= take;
    }
}

void ccairn_blake3_finalize(const ccairn_blake3_state *s, uint8_t out[32]) {
    uint8_t block[64] = {0};
    memcpy(block, s->chunk_block, s->chunk_block_len);
    uint32_t cv[8];
    memcpy(cv, s->chunk_cv, 32);
    uint8_t flags = B3_CHUNK_END | (s->chunk_blocks_done == 0 ? B3_CHUNK_START : 0);
    if (s->stack_depth == 0) {
        ccairn_blake3_compress(cv, block, s->chunk_block_len, s->chunks_done, flags | B3_ROOT);
    } else {
        ccairn_blake3_compress(cv, block, s->chunk_block_len, s->chunks_done, flags);
        for (int i = s->stack_depth - 1; i >= 0; i--) parent_cv(s->stack[i], cv, i == 0 ? B3_ROOT : 0, cv);
    }
    store_cv(cv, out);
}

/* The whole input at once, up to ONESHOT_CHUNKS chunks: every chunk, the last one too, and
 * every level of parents go through the kernels; only the root is compressed alone. Pairing
 * neighbours level by level, an odd last node carried up, gives BLAKE3's tree, whose left
 * subtree always holds the largest power of two of chunks that leaves some for the right. */
#define ONESHOT_CHUNKS 1024
static void hash_whole(int kernel, const uint8_t *input, size_t length, uint8_t out[32]) {
    uint32_t cvs[ONESHOT_CHUNKS][8];
    const uint8_t *inputs[ONESHOT_CHUNKS];
    size_t count = (length + B3_CHUNK_LEN - 1) / B3_CHUNK_LEN;
    size_t whole = length / B3_CHUNK_LEN;
    for (size_t i = 0; i < whole; i++) inputs[i] = input + B3_CHUNK_LEN * i;
    run_many(kernel, inputs, whole, B3_CHUNK_LEN / B3_BLOCK_LEN, 0, 1, 0, B3_CHUNK_START, B3_CHUNK_END, cvs);
    if (whole < count) {
        /* The last chunk is partial: its blocks one by one, the final one zero-padded. */
        size_t rest = length - whole * B3_CHUNK_LEN;
        const uint8_t *p = input + whole * B3_CHUNK_LEN;
        uint32_t *cv = cvs[whole];
        memcpy(cv, ccairn_blake3_iv, 32);
        size_t blocks = (rest + B3_BLOCK_LEN - 1) / B3_BLOCK_LEN;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t block[64] = {0};
            size_t n = b + 1 == blocks ? rest - 64 * b : 64;
            memcpy(block, p + 64 * b, n);
            uint8_t flags = (b == 0 ? B3_CHUNK_START : 0) | (b + 1 == blocks ? B3_CHUNK_END : 0);
            ccairn_blake3_compress(cv, block, (uint8_t)n, whole, flags);
        }
    }
    while (count > 2) {
        size_t pairs = count / 2;
        for (size_t i = 0; i < pairs; i++) inputs[i] = (const uint8_t *)cvs[2 * i];
        run_many(kernel, inputs, pairs, 1, 0, 0, B3_PARENT, 0, 0, cvs);
        if (count & 1) memcpy(cvs[pairs], cvs[count - 1], 32);
        count = pairs + (count & 1);
    }
    uint32_t root[8];
    parent_cv(cvs[0], cvs[1], B3_ROOT, root);
    store_cv(root, out);
}

void ccairn_blake3_hash(ccairn_blake3_kernel kernel, const void *input, size_t length, uint8_t out[32]) {
    int k = ccairn_blake3_kernel_supported(kernel) ? (int)kernel : 0;
    if (length > B3_CHUNK_LEN && length <= (size_t)ONESHOT_CHUNKS * B3_CHUNK_LEN) {
        hash_whole(k, input, length, out);
        return;
    }
    ccairn_blake3_state s;
    ccairn_blake3_init(&s, kernel);
    ccairn_blake3_update(&s, input, length);
    ccairn_blake3_finalize(&s, out);
}
