/*
 * The lane scheduler: every lane of a kernel works on one job; each step runs the kernel for
 * as many blocks as every busy lane has ready in place, then each lane moves on. A lane
 * whose job is done takes the next one. When no jobs are left to hand out and lanes fall
 * idle, the busy lanes move to a narrower kernel so that idle lanes cost nothing.
 */
#include <stdlib.h>
#include <string.h>
#include "cpu_features.h"
#include "sha256_internal.h"
#include "CCairnSHA256.h"


#define MAX_LANES 16

typedef struct {
    ccairn_sha256_job *job;
    int segment;          /* segment holding the next unread byte */
    size_t offset;        /* within that segment */
    uint64_t consumed;    /* message bytes already taken into blocks */
    const uint8_t *ready; /* the blocks this lane offers for the next step */
    size_t ready_blocks;
    int staged;           /* ready points into staging */
    int last;             /* the staged blocks end the message */
    uint8_t staging[128];
} lane_t;

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void lane_start(lane_t *lane, uint32_t state[8], ccairn_sha256_job *job) {
    lane->job = job;
    lane->segment = 0;
    lane->offset = 0;
    lane->consumed = 0;
    lane->ready_blocks = 0;
    lane->staged = 0;
    lane->last = 0;
    memcpy(state, ccairn_sha256_iv, 32);
}

/* Makes the lane's next blocks ready: in place when a segment has a whole block left, else
 * staged (a block straddling segments, or the final block(s) with the padding). */
static void lane_prepare(lane_t *lane) {
    if (lane->ready_blocks > 0) return;
    ccairn_sha256_job *job = lane->job;
    while (lane->segment < 3 && lane->offset == job->length[lane->segment]) {
        lane->segment++;
        lane->offset = 0;
    }
    if (lane->segment < 3) {
        size_t left = job->length[lane->segment] - lane->offset;
        if (left >= 64) {
            lane->ready = job->segment[lane->segment] + lane->offset;
            lane->ready_blocks = left / 64;
            lane->staged = 0;
            return;
        }
    }
    /* Stage up to one block from the segments that remain. */
    size_t filled = 0;
    while (filled < 64 && lane->segment < 3) {
        size_t left = job->length[lane->segment] - lane->offset;
        size_t take = left < 64 - filled ? left : 64 - filled;
        if (take > 0) memcpy(lane->staging + filled, job->segment[lane->segment] + lane->offset, take);
        filled += take;
        lane->offset += take;
        if (lane->offset == job->length[lane->segment]) {
            lane->segment++;
            lane->offset = 0;
        }
    }
    lane->consumed += filled;
    lane->ready = lane->staging;
    lane->staged = 1;
    if (filled == 64) {
        /* Was this block the very end of the message? Then padding follows in a later step. */
        lane->ready_blocks = 1;
        return;
    }
    /* The message ends here: append the padding (FIPS 180-4 section 5.1.1). */
    lane->ready_blocks = ccairn_sha256_pad(lane->staging, filled, lane->consumed);
    lane->last = 1;
}

/* Takes `n` ready blocks; returns 1 when the lane's job is finished. */
static int lane_advance(lane_t *lane, uint32_t state[8], size_t n) {
    lane->ready_blocks -= n;
    lane->ready += 64 * n;
    if (!lane->staged) {
        lane->offset += 64 * n;
        lane->consumed += 64 * n;
        return 0;
    }
    if (lane->ready_blocks == 0 && lane->last) {
        for (int i = 0; i < 8; i++) store_be32(lane->job->digest + 4 * i, state[i]);
        return 1;
    }
    return 0;
}

/* ---- Kernel table ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    int lanes;
    int needs;
    ccairn_sha256_blocks_fn fn;
} kernels[CCAIRN_SHA256_KERNEL_COUNT] = {
    {"portable", 1, 0, ccairn_sha256_blocks_portable},
#if defined(__x86_64__)
    {"shani-x1", 1, CCAIRN_CPU_SHA, ccairn_sha256_blocks_shani_x1},
    {"shani-x2", 2, CCAIRN_CPU_SHA, ccairn_sha256_blocks_shani_x2},
    {"shani-x4", 4, CCAIRN_CPU_SHA, ccairn_sha256_blocks_shani_x4},
    {"avx2-x8", 8, CCAIRN_CPU_AVX2, ccairn_sha256_blocks_avx2_x8},
    {"avx512-x16", 16, CCAIRN_CPU_AVX512, ccairn_sha256_blocks_avx512_x16},
#else
    {"shani-x1", 1, CCAIRN_CPU_NEVER, 0},
    {"shani-x2", 2, CCAIRN_CPU_NEVER, 0},
    {"shani-x4", 4, CCAIRN_CPU_NEVER, 0},
    {"avx2-x8", 8, CCAIRN_CPU_NEVER, 0},
    {"avx512-x16", 16, CCAIRN_CPU_NEVER, 0},
#endif
};

int ccairn_sha256_kernel_supported(ccairn_sha256_kernel kernel) {
    if ((unsigned)kernel >= CCAIRN_SHA256_KERNEL_COUNT) return 0;
    return (ccairn_cpu_features() & kernels[kernel].needs) == kernels[kernel].needs;
}

const char *ccairn_sha256_kernel_name(ccairn_sha256_kernel kernel) {
    if ((unsigned)kernel >= CCAIRN_SHA256_KERNEL_COUNT) return "unknown";
    return kernels[kernel].name;
}

int ccairn_sha256_kernel_lanes(ccairn_sha256_kernel kernel) {
    if ((unsigned)kernel >= CCAIRN_SHA256_KERNEL_COUNT) return 0;
    return kernels[kernel].lanes;
}

/* The narrowest supported kernel of the same family-or-better with at least `busy` lanes,
 * never wider than `current`. SHA-NI kernels are preferred for narrow widths when present. */
static ccairn_sha256_kernel narrower(ccairn_sha256_kernel current, int busy) {
    ccairn_sha256_kernel best = current;
    int f = ccairn_cpu_features();
    int sha = (f & CCAIRN_CPU_SHA) != 0;
    ccairn_sha256_kernel candidates[6];
    int n = 0;
    if (sha) {
        candidates[n++] = CCAIRN_SHA256_SHANI_X1;
        candidates[n++] = CCAIRN_SHA256_SHANI_X2;
        candidates[n++] = CCAIRN_SHA256_SHANI_X4;
    } else {
        candidates[n++] = CCAIRN_SHA256_PORTABLE;
    }
    /* Not from AVX-512 down to AVX2: eight 32-bit lanes in 256-bit vectors do about a third of
     * what sixteen do per step, so with five to eight lanes busy the wide kernel, idle lanes and
     * all, still gets more done (and SHA-NI takes over from four). */
    if (current != CCAIRN_SHA256_AVX512_X16) candidates[n++] = CCAIRN_SHA256_AVX2_X8;
    candidates[n++] = CCAIRN_SHA256_AVX512_X16;
    for (int i = 0; i < n; i++) {
        ccairn_sha256_kernel k = candidates[i];
        if (!ccairn_sha256_kernel_supported(k)) continue;
        if (kernels[k].lanes >= busy && kernels[k].lanes < kernels[best].lanes) {
            best = k;
            break;
        }
    }
    return best;
}

static size_t job_length(const ccairn_sha256_job *job) {
    return job->length[0] + job->length[1] + job->length[2];
}

static int longer_first(const void *a, const void *b) {
    size_t la = job_length((const ccairn_sha256_job *)a), lb = job_length((const ccairn_sha256_job *)b);
    return la > lb ? -1 : (la < lb ? 1 : 0);
}

int ccairn_sha256_hash_jobs(ccairn_sha256_kernel kernel, ccairn_sha256_job *jobs, size_t count) {
    if (!ccairn_sha256_kernel_supported(kernel)) return -1;
    /* Longest jobs first: lanes then run out of work nearly together, so the tail where only a
     * few lanes are busy (and a narrower kernel runs) is as short as it can be. Jobs already in
     * that order (all of one length, as with fixed-size chunks) are not sorted at all; otherwise
     * the sort is not stable. Results go through each job's digest pointer, so order is free. */
    for (size_t i = 1; i < count; i++) {
        if (job_length(&jobs[i]) > job_length(&jobs[i - 1])) {
            qsort(jobs, count, sizeof *jobs, longer_first);
            break;
        }
    }
    lane_t lanes[MAX_LANES];
    uint32_t state[MAX_LANES][8];
    const uint8_t *ptr[MAX_LANES];
    int width = kernels[kernel].lanes;
    int busy = 0;
    int narrowed_for = -1; /* the busy count the kernel was last narrowed for */
    size_t next = 0;
    while (busy < width && next < count) {
        lane_start(&lanes[busy], state[busy], &jobs[next++]);
        busy++;
    }
    while (busy > 0) {
        if (next >= count && busy < width && busy != narrowed_for) {
            narrowed_for = busy;
            /* Nothing left to hand out: drop to a kernel no wider than needed. */
            ccairn_sha256_kernel k = narrower(kernel, busy);
            if (k != kernel) {
                kernel = k;
                width = kernels[k].lanes;
            }
        }
        size_t step = (size_t)-1;
        for (int l = 0; l < busy; l++) {
            lane_prepare(&lanes[l]);
            if (lanes[l].ready_blocks < step) step = lanes[l].ready_blocks;
            ptr[l] = lanes[l].ready;
        }
        for (int l = busy; l < width; l++) ptr[l] = ptr[0]; /* idle lanes re-read lane 0's bytes */
        kernels[kernel].fn(state, ptr, step);
        for (int l = 0; l < busy;) {
            if (lane_advance(&lanes[l], state[l], step)) {
                if (next < count) {
                    lane_start(&lanes[l], state[l], &jobs[next++]);
                    l++;
                } else {
                    /* Move the last busy lane into this slot. */
                    busy--;
                    if (l != busy) {
                        lanes[l] = lanes[busy];
                        if (lanes[l].staged) {
                            lanes[l].ready = lanes[l].staging + (lanes[busy].ready - lanes[busy].staging);
                        }
                        memcpy(state[l], state[busy], 32);
                    }
                }
            } else {
                l++;
            }
        }
    }
    return 0;
}
