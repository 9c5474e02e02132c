/* Throughput of libsodium's BLAKE2b (crypto_generichash) called directly from C, as the
 * reference for Cairn's BLAKE2b-256. Hashes one buffer repeatedly on one thread, like
 * `openssl speed`, and prints the best of several rounds in decimal MB/s.
 *
 * usage: sodium_bench [size=262144] [seconds-per-round=1] [rounds=3] [outlen=32]
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    size_t size = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 262144;
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    size_t outlen = argc > 4 ? (size_t)strtoull(argv[4], NULL, 10) : 32;
    if (sodium_init() < 0) return 1;

    unsigned char *buffer = malloc(size);
    if (buffer == NULL) return 1;
    for (size_t i = 0; i < size; i++) buffer[i] = (unsigned char)(i * 131u + 7u);
    unsigned char out[64];
    unsigned sink = 0;
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        double start = now(), elapsed;
        unsigned long long bytes = 0;
        do {
            for (int k = 0; k < 8; k++) {
                crypto_generichash(out, outlen, buffer, size, NULL, 0);
                sink += out[0];
            }
            bytes += 8ull * size;
            elapsed = now() - start;
        } while (elapsed < seconds);
        double rate = (double)bytes / elapsed / 1e6;
        if (rate > best) best = rate;
    }
    printf("blake2b-%zu %.1f\n", outlen * 8, best);
    free(buffer);
    return sink == 0xFFFFFFFFu ? 2 : 0;
}
