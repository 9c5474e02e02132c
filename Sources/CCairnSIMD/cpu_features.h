#ifndef CCAIRN_CPU_FEATURES_H
#define CCAIRN_CPU_FEATURES_H
/* CPU features the kernels need, read once (CPUID leaves 1 and 7, XGETBV for OS state). */
enum {
    CCAIRN_CPU_SSE41 = 1,  /* SSE4.1 and SSSE3 */
    CCAIRN_CPU_SHA = 2,    /* SHA extensions (with SSE4.1 and SSSE3) */
    CCAIRN_CPU_AVX2 = 4,   /* AVX2 with YMM state enabled by the OS */
    CCAIRN_CPU_AVX512 = 8, /* AVX-512 F and BW with ZMM state enabled by the OS */
    CCAIRN_CPU_NEVER = 1 << 30, /* a feature no CPU reports: kernels not built for this architecture */
};
int ccairn_cpu_features(void);
#endif
