/* lt_expf (common/expf.h) of eight floats with AVX2 + FMA: the same double operations four lanes
 * at a time, so the same bits. For files built with -mavx2 -mfma (the x86 *_avx2.c files) or functions with
 * target("avx2,fma"). */
#ifndef LUTLM_KERNELS_X86_EXPF_AVX2_H
#define LUTLM_KERNELS_X86_EXPF_AVX2_H

#include <immintrin.h>
#include <math.h>

#include "common/expf.h"

#define LT_EXPF_AVX2 __attribute__((target("avx2,fma")))

/* lt_expf of four values widened to double: the same operations (fused where lt_expf fuses), so
 * the same bits. Out-of-range lanes compute garbage here; lt_expf8 replaces them. */
LT_EXPF_AVX2 static inline __m256d lt_exp4_pd(__m256d x) {
    const __m256d invln2n = _mm256_set1_pd(LT_EXPF_INVLN2_N), shift = _mm256_set1_pd(LT_EXPF_SHIFT);
    __m256d kd = _mm256_fmadd_pd(x, invln2n, shift);
    __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_fmsub_pd(invln2n, x, kd);
    __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x((1 << LT_EXPF_TABLE_BITS) - 1));
    __m256i t = _mm256_i64gather_epi64((const long long *)lt_expf_tab, idx, 8);
    __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(t, _mm256_slli_epi64(ki, 52 - LT_EXPF_TABLE_BITS)));
    __m256d p = _mm256_fmadd_pd(r, _mm256_set1_pd(LT_EXPF_C0), _mm256_set1_pd(LT_EXPF_C1));
    __m256d q = _mm256_fmadd_pd(r, _mm256_set1_pd(LT_EXPF_C2), _mm256_set1_pd(1.0));
    return _mm256_mul_pd(_mm256_fmadd_pd(p, _mm256_mul_pd(r, r), q), s);
}

/* lt_expf of eight floats. */
LT_EXPF_AVX2 static inline __m256 lt_expf8(__m256 x) {
    __m128 lo = _mm256_cvtpd_ps(lt_exp4_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x))));
    __m128 hi = _mm256_cvtpd_ps(lt_exp4_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))));
    __m256 y = _mm256_set_m128(hi, lo);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(0x1p-149f), _mm256_cmp_ps(x, _mm256_set1_ps(LT_EXPF_MAY_UNDERFLOW), _CMP_LT_OQ));
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(LT_EXPF_UNDERFLOW), _CMP_LT_OQ));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(LT_EXPF_OVERFLOW), _CMP_GT_OQ));
    return _mm256_blendv_ps(y, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

#endif
