/* F16 scales (the kernel layout's per-group s and m, kernels_impl.h) as floats, exactly (F16C).
 * For files built with the AVX2 (or AVX-512) flags. */
#ifndef LUTLM_KERNELS_X86_F16_AVX2_H
#define LUTLM_KERNELS_X86_F16_AVX2_H

#include <immintrin.h>
#include <stdint.h>

/* Eight f16 values as floats. */
static inline __m256 load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

#ifdef __AVX512F__
/* Sixteen (files built with the AVX-512 flags). */
static inline __m512 load_f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
#endif

#endif
