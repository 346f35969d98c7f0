/* Per-token int8 quantization of activations, the two rules of kernels.h (lt_act_rule), written so
 * they read as the specification: act.c runs them where no SIMD build applies and x86/act_avx2.c
 * (checked by test_act_quant) must give the same bits. Every operation is element-wise IEEE float
 * (ISO C: no FMA contraction) and max is order-independent. */
#ifndef LUTLM_KERNELS_ACT_QUANT_H
#define LUTLM_KERNELS_ACT_QUANT_H

#include <math.h>
#include <stdint.h>

/* max |x_i| (0 for k = 0); 8 independent maxima so that the loop vectorizes. NaN is ignored. */
static inline float lt_row_absmax(const float *x, int64_t k) {
    float m[8] = { 0 };
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        for (int l = 0; l < 8; l++) {
            float v = fabsf(x[i + l]);
            m[l] = v > m[l] ? v : m[l];
        }
    for (; i < k; i++) {
        float v = fabsf(x[i]);
        m[0] = v > m[0] ? v : m[0];
    }
    float amax = 0.0f;
    for (int l = 0; l < 8; l++) amax = m[l] > amax ? m[l] : amax;
    return amax;
}

/* Round half to even for |v| < 2^22: push the fraction bits out with 1.5 * 2^23. */
static inline float lt_round_even(float v) {
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

/* Clamp to [lo, 127] as an int8; NaN becomes 0. */
static inline int8_t lt_to_int8(float r, float lo) {
    float c = r > 127.0f ? 127.0f : r < lo ? lo : r == r ? r : 0.0f;
    return (int8_t)(int)c;
}

/* runbit.c's rule: a = max|x| / 127 (double, rounded to float), q = round half away from zero of
 * x * (1/a), |q| <= 127. lt_runbit_step gives a and 1/a (0 for an all-zero row, whose q are 0). */
static inline float lt_runbit_step(float amax, float *inv) {
    float step = (float)(amax / 127.0);
    *inv = amax > 0.0f ? (float)(1.0 / step) : 0.0f;
    return step;
}

static inline int8_t lt_runbit_q(float x, float inv) {
    float v = x * inv;    /* |v| <= 127 (plus rounding), or NaN */
    float r = lt_round_even(v);
    float d = v - r;      /* exact (Sterbenz); +-0.5 only on exact halves */
    float away = v > 0.0f ? v + 0.5f : v - 0.5f;
    return lt_to_int8((d == 0.5f || d == -0.5f) ? away : r, -127.0f);
}

/* The rule on one row; returns a. */
static inline float lt_quant_row_runbit(const float *x, int8_t *q, int64_t k) {
    float inv, step = lt_runbit_step(lt_row_absmax(x, k), &inv);
    for (int64_t i = 0; i < k; i++) q[i] = lt_runbit_q(x[i], inv);
    return step;
}

/* bitnet.cpp's quantize_row_i8_s: s = 127 / max(max|x|, 1e-5) (double, rounded to float),
 * q = round half to even of the float x * s, in [-128, 127]; the step is a = 1 / s. */
static inline float lt_ggml_scale(float amax) {
    double max = (double)amax;
    if (!(max > 0.00001)) max = 0.00001;
    return (float)(127.0 / max);
}

static inline int8_t lt_ggml_q(float x, float s) { return lt_to_int8(lt_round_even(x * s), -128.0f); }

/* The rule on one row; returns s (bitnet.cpp's act_scale). */
static inline float lt_quant_row_ggml(const float *x, int8_t *q, int64_t k) {
    float s = lt_ggml_scale(lt_row_absmax(x, k));
    for (int64_t i = 0; i < k; i++) q[i] = lt_ggml_q(x[i], s);
    return s;
}

/* The AVX2 build of both rules (x86/act_avx2.c): same bits; returns a (ggml: (float)(1 / s)). */
float lt_quant_row_avx2(const float *x, int8_t *q, int64_t k, int ggml_rule);

#endif
