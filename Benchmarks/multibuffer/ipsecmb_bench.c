/*
 * Yardstick for Cairn's multi-buffer SHA-256: Intel's ipsec-mb library (Debian
 * libipsec-mb-dev) hashing TOTAL bytes in SIZE-byte buffers on one core, with each of its
 * architecture managers. ipsec-mb refuses plain SHA-256 messages of 64 KiB and more, so the
 * comparison runs at 16 KiB.
 *
 * usage: ipsecmb_bench SIZE TOTAL     prints "ipsec-mb/<arch> <GB/s>" lines
 */
#include <intel-ipsec-mb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double run(IMB_MGR *mgr, const uint8_t *data, size_t region, size_t size, size_t total) {
    size_t count = total / size;
    uint8_t tag[32];
    double start = now();
    for (size_t i = 0; i < count; i++) {
        IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);
        memset(job, 0, sizeof *job);
        job->cipher_mode = IMB_CIPHER_NULL;
        job->cipher_direction = IMB_DIR_ENCRYPT;
        job->chain_order = IMB_ORDER_HASH_CIPHER;
        job->hash_alg = IMB_AUTH_SHA_256;
        job->src = data + (i * size) % (region - size + 1);
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = size;
        job->auth_tag_output = tag;
        job->auth_tag_output_len_in_bytes = 32;
        job = IMB_SUBMIT_JOB(mgr);
        while (job) {
            if (job->status != IMB_STATUS_COMPLETED) {
                fprintf(stderr, "ipsec-mb job failed: %s\n", imb_get_strerror(imb_get_errno(mgr)));
                exit(1);
            }
            job = IMB_GET_COMPLETED_JOB(mgr);
        }
    }
    while (IMB_FLUSH_JOB(mgr)) {}
    return (double)(count * size) / (now() - start) / 1e9;
}

int main(int argc, char **argv) {
    size_t size = argc > 1 ? strtoull(argv[1], 0, 10) : 16384;
    size_t total = argc > 2 ? strtoull(argv[2], 0, 10) : (size_t)1 << 30;
    size_t region = 64u << 20;
    uint8_t *data = malloc(region);
    uint64_t state = 1;
    for (size_t i = 0; i < region; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        data[i] = (uint8_t)(state >> 56);
    }
    struct { const char *name; uint64_t flags; int arch; } archs[] = {
        {"sse-shani", 0, 0}, {"sse-noshani", IMB_FLAG_SHANI_OFF, 0}, {"avx2", 0, 1}, {"avx512", 0, 2},
    };
    for (unsigned i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        IMB_MGR *mgr = alloc_mb_mgr(archs[i].flags);
        if (!mgr) continue;
        if (archs[i].arch == 0) init_mb_mgr_sse(mgr);
        else if (archs[i].arch == 1) init_mb_mgr_avx2(mgr);
        else init_mb_mgr_avx512(mgr);
        if (imb_get_errno(mgr) != 0) {
            printf("ipsec-mb/%s unavailable\n", archs[i].name);
            free_mb_mgr(mgr);
            continue;
        }
        run(mgr, data, region, size, total / 8); /* warm-up */
        printf("ipsec-mb/%s %.3f\n", archs[i].name, run(mgr, data, region, size, total));
        free_mb_mgr(mgr);
    }
    free(data);
    return 0;
}
