/*
 * Two SHA-256 messages streamed side by side (CCairnSHA256.h). Each call splits each
 * message's new bytes into runs of whole blocks: the block completed in the stream's buffer
 * (if any), then the whole blocks in place. The two run lists advance together through the
 * two-lane kernel while both have blocks; what is left of one goes through the one-lane
 * kernel; the incomplete tail of each is kept in its buffer.
 */
#include <string.h>
#include "cpu_features.h"
#include "sha256_internal.h"
#include "CCairnSHA256.h"

int ccairn_sha256_pair_accelerated(void) {
    return ccairn_sha256_kernel_supported(CCAIRN_SHA256_SHANI_X2);
}

static ccairn_sha256_blocks_fn one_lane(void) {
#if defined(__x86_64__)
    if (ccairn_sha256_kernel_supported(CCAIRN_SHA256_SHANI_X1)) return ccairn_sha256_blocks_shani_x1;
#endif
    return ccairn_sha256_blocks_portable;
}

void ccairn_sha256_stream_init(ccairn_sha256_stream *stream) {
    memcpy(stream->state, ccairn_sha256_iv, 32);
    stream->length = 0;
    stream->buffered = 0;
}

typedef struct {
    const uint8_t *p[2]; /* up to two runs: the completed buffer, then the blocks in place */
    size_t blocks[2];
    int index;
    int used_buffer;     /* the buffer is one of the runs: the tail goes in after hashing */
    const uint8_t *tail;
    size_t tail_length;
} runs_t;

static void split(ccairn_sha256_stream *s, const uint8_t *p, size_t n, runs_t *r) {
    s->length += n;
    r->index = 0;
    r->used_buffer = 0;
    r->blocks[0] = r->blocks[1] = 0;
    r->p[0] = r->p[1] = p;
    if (s->buffered > 0) {
        size_t take = 64 - s->buffered < n ? 64 - s->buffered : n;
        memcpy(s->buffer + s->buffered, p, take);
        s->buffered += take;
        p += take;
        n -= take;
        if (s->buffered == 64) {
            r->p[0] = s->buffer;
            r->blocks[0] = 1;
            r->used_buffer = 1;
        }
    }
    r->p[1] = p;
    r->blocks[1] = n / 64;
    r->tail = p + 64 * (n / 64);
    r->tail_length = n % 64;
    while (r->index < 2 && r->blocks[r->index] == 0) r->index++;
}

static void take(runs_t *r, size_t blocks) {
    r->p[r->index] += 64 * blocks;
    r->blocks[r->index] -= blocks;
    while (r->index < 2 && r->blocks[r->index] == 0) r->index++;
}

static void keep_tail(ccairn_sha256_stream *s, const runs_t *r) {
    if (r->used_buffer) s->buffered = 0;
    if (r->tail_length > 0) {
        /* A tail exists only when the buffer was emptied or completed first. */
        memcpy(s->buffer + s->buffered, r->tail, r->tail_length);
        s->buffered += r->tail_length;
    }
}

void ccairn_sha256_stream_update2(ccairn_sha256_stream *a, const uint8_t *pa, size_t na,
                                  ccairn_sha256_stream *b, const uint8_t *pb, size_t nb) {
    runs_t ra, rb;
    split(a, pa, na, &ra);
    split(b, pb, nb, &rb);
    uint32_t state[2][8];
    memcpy(state[0], a->state, 32);
    memcpy(state[1], b->state, 32);
#if defined(__x86_64__)
    if (ccairn_sha256_pair_accelerated()) {
        while (ra.index < 2 && rb.index < 2) {
            size_t n = ra.blocks[ra.index] < rb.blocks[rb.index] ? ra.blocks[ra.index] : rb.blocks[rb.index];
            const uint8_t *data[2] = {ra.p[ra.index], rb.p[rb.index]};
            ccairn_sha256_blocks_shani_x2(state, data, n);
            take(&ra, n);
            take(&rb, n);
        }
    }
#endif
    ccairn_sha256_blocks_fn one = one_lane();
    for (int l = 0; l < 2; l++) {
        runs_t *r = l == 0 ? &ra : &rb;
        while (r->index < 2) {
            const uint8_t *data[1] = {r->p[r->index]};
            size_t n = r->blocks[r->index];
            one(&state[l], data, n);
            take(r, n);
        }
    }
    memcpy(a->state, state[0], 32);
    memcpy(b->state, state[1], 32);
    keep_tail(a, &ra);
    keep_tail(b, &rb);
}

void ccairn_sha256_stream_digest(const ccairn_sha256_stream *stream, uint8_t digest[32]) {
    /* The buffered bytes, then the padding. */
    uint8_t last[128];
    size_t filled = stream->buffered;
    memcpy(last, stream->buffer, filled);
    size_t blocks = ccairn_sha256_pad(last, filled, stream->length);
    uint32_t state[1][8];
    memcpy(state[0], stream->state, 32);
    const uint8_t *data[1] = {last};
    one_lane()(state, data, blocks);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(state[0][i] >> 24);
        digest[4 * i + 1] = (uint8_t)(state[0][i] >> 16);
        digest[4 * i + 2] = (uint8_t)(state[0][i] >> 8);
        digest[4 * i + 3] = (uint8_t)state[0][i];
    }
}
