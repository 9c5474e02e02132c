/* Writes the SplitMix64 stream of shared/vectors/README.md: splitmix SEED SIZE OUT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: splitmix SEED SIZE OUT\n"); return 2; }
    uint64_t state = strtoull(argv[1], 0, 10);
    long long size = strtoll(argv[2], 0, 10);
    FILE *out = fopen(argv[3], "wb");
    if (!out) { perror(argv[3]); return 1; }
    static uint64_t buffer[1 << 16];
    while (size > 0) {
        for (int i = 0; i < (1 << 16); i++) {
            uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            buffer[i] = z ^ (z >> 31); /* little-endian host */
        }
        long long n = size < (long long)sizeof buffer ? size : (long long)sizeof buffer;
        if (fwrite(buffer, 1, (size_t)n, out) != (size_t)n) { perror("write"); return 1; }
        size -= n;
    }
    return fclose(out) != 0;
}
