/* The two activation rules of act_quant.h in AVX2 intrinsics, 32 values per step, the same IEEE
 * operations element by element (so the same bits; test_act_quant compares them). The compiler does
 * not vectorize the portable loops (the clamp and the half-way test stay scalar branches that
 * mispredict on random signs: ~5 ns per value, 5% of a 1-thread decode step and serial in a
 * 2-thread one); this runs at ~0.1 ns per value. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#include "kernels/act_quant.h"

/* max |x_i|: maxps(v, m) is v > m ? v : m, as lt_row_absmax (NaN ignored); the order of a max of
 * non-negative numbers does not matter. */
static float absmax_avx2(const float *x, int64_t k) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
    float lanes[8], amax = 0.0f;
    _mm256_storeu_ps(lanes, m);
    for (; i < k; i++) {
        float v = fabsf(x[i]);
        amax = v > amax ? v : amax;
    }
    for (int l = 0; l < 8; l++) amax = lanes[l] > amax ? lanes[l] : amax;
    return amax;
}

/* lt_to_int8 on 8 lanes: r > 127 ? 127 : r < lo ? lo : r == r ? r : 0, then truncated (exact). */
static inline __m256i clamp_int32(__m256 r, __m256 lo) {
    __m256 c = _mm256_blendv_ps(_mm256_setzero_ps(), r, _mm256_cmp_ps(r, r, _CMP_ORD_Q));
    c = _mm256_blendv_ps(c, lo, _mm256_cmp_ps(r, lo, _CMP_LT_OQ));
    c = _mm256_blendv_ps(c, _mm256_set1_ps(127.0f), _mm256_cmp_ps(r, _mm256_set1_ps(127.0f), _CMP_GT_OQ));
    return _mm256_cvttps_epi32(c);
}

/* lt_round_even: (v + 1.5 * 2^23) - 1.5 * 2^23. */
static inline __m256 round_even8(__m256 v) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    return _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
}

/* lt_runbit_q on 8 lanes: half to even, exact halves away from zero. */
static inline __m256i runbit8(const float *x, __m256 inv) {
    const __m256 half = _mm256_set1_ps(0.5f), mhalf = _mm256_set1_ps(-0.5f);
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), inv);
    __m256 r = round_even8(v), d = _mm256_sub_ps(v, r);
    __m256 tie = _mm256_or_ps(_mm256_cmp_ps(d, half, _CMP_EQ_OQ), _mm256_cmp_ps(d, mhalf, _CMP_EQ_OQ));
    __m256 away = _mm256_blendv_ps(_mm256_sub_ps(v, half), _mm256_add_ps(v, half),
                                   _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
    return clamp_int32(_mm256_blendv_ps(r, away, tie), _mm256_set1_ps(-127.0f));
}

/* lt_ggml_q on 8 lanes: half to even of x * s, clamped to [-128, 127]. */
static inline __m256i ggml8(const float *x, __m256 s) {
    return clamp_int32(round_even8(_mm256_mul_ps(_mm256_loadu_ps(x), s)), _mm256_set1_ps(-128.0f));
}

/* Four vectors of 8 int32 in [-128, 127] to 32 bytes in order (the packs work per 128-bit lane). */
static inline void store_int8x32(int8_t *q, __m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    __m256i bytes = _mm256_packs_epi16(ab, cd); /* a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7 */
    _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

float lt_quant_row_avx2(const float *x, int8_t *q, int64_t k, int ggml_rule) {
    float amax = absmax_avx2(x, k);
    int64_t i = 0;
    if (ggml_rule) {
        float s = lt_ggml_scale(amax);
        const __m256 vs = _mm256_set1_ps(s);
        for (; i + 32 <= k; i += 32)
            store_int8x32(q + i, ggml8(x + i, vs), ggml8(x + i + 8, vs), ggml8(x + i + 16, vs), ggml8(x + i + 24, vs));
        for (; i < k; i++) q[i] = lt_ggml_q(x[i], s);
        return (float)(1.0 / (double)s);
    }
    float inv, step = lt_runbit_step(amax, &inv);
    const __m256 vinv = _mm256_set1_ps(inv);
    for (; i + 32 <= k; i += 32)
        store_int8x32(q + i, runbit8(x + i, vinv), runbit8(x + i + 8, vinv), runbit8(x + i + 16, vinv),
                      runbit8(x + i + 24, vinv));
    for (; i < k; i++) q[i] = lt_runbit_q(x[i], inv);
    return step;
}

#endif
