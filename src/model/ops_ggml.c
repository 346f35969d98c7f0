/* ggml's float arithmetic (llama.cpp / bitnet.cpp on x86-64 with AVX2 + FMA + F16C), operation by
 * operation, for contexts created with ggml_compat (lutlm_context_params).
 *
 * Why: BitNet activations are quantized to int8 per token, and a one-ulp difference in a matmul's
 * input can flip one int8 rounding, which moves that matmul's outputs by ~2e-3 relative. F16 roundings
 * (ggml's single-token F16 matmuls) amplify one-ulp differences the same way. Reproducing a peer's
 * outputs step for step therefore needs its summation orders and roundings, not just its formulas.
 * Each function below names the ggml function it follows; docs/ggml-compat.md has the details.
 * fmaf is the fused multiply-add ggml's intrinsics (_mm256_fmadd_ps) compute: one rounding. */
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "kernels/act_quant.h"
#include "kernels/attention.h"
#include "model/ops.h"

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline float f16_round(float x) { return lt_fp16_to_fp32(lt_fp32_to_fp16(x)); }

/* ggml_compute_forward_rms_norm_f32 + ggml_mul: the squares are float products summed in double,
 * mean = (float)(sum / n), scale = 1 / sqrtf(mean + eps) in float, out = (x * scale) * w. */
void lt_rmsnorm_ggml(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    float mean = (float)(sum / n);
    float scale = 1.0f / sqrtf(mean + eps);
    for (int i = 0; i < n; i++) {
        float y = x[i] * scale;
        out[i] = w ? y * w[i] : y;
    }
}

/* ggml_rope_cache_init: theta_scale = base^(-2/d) once, and each pair's angle is the previous one
 * times theta_scale (repeated float multiplication from theta = pos), not a power per pair. */
void lt_rope_angles_ggml(float *cos_out, float *sin_out, int rope_dim, int pos, float base) {
    float theta_scale = powf(base, -2.0f / (float)rope_dim);
    float theta = (float)pos;
    for (int i = 0; i < rope_dim / 2; i++) {
        cos_out[i] = cosf(theta);
        sin_out[i] = sinf(theta);
        theta *= theta_scale;
    }
}

/* ggml_v_expf (AVX2 + FMA), one lane: exp(x) as 2^n · (1 + polynomial(b)) with b = x - n·ln2 in two
 * parts; the slow branch handles |n| > 126 (underflow to 0 for the masked -inf scores). */
static float ggml_v_expf_lane(float x) {
    const float r = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, r);
    float n = z - r;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    uint32_t e = f2u(z) << 23;
    float k = u2f(e + f2u(1.0f));
    float u = b * b;
    float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   0x1.ffffecp-1f * b);
    if (!(fabsf(n) > 126.0f)) return fmaf(j, k, k);
    uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    float s1 = u2f(g + 0x7f000000u);
    float s2 = u2f(e - g);
    if (fabsf(n) > 192.0f) return s1 * s1;
    return fmaf(s2, j, s2) * s1;
}

/* ggml_compute_forward_soft_max_f32 over n scores (already scaled; ggml pads the row with masked
 * -inf scores whose exp is 0, which adds nothing): max, exp in blocks of 8 whose float sum
 * ((v_k + v_{k+4}), then (t0 + t2) + (t1 + t3)) goes into a double, then every value times
 * (float)(1 / sum). */
void lt_softmax_ggml(float *x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i0 = 0; i0 < n; i0 += 8) {
        float v[8] = { 0 };
        for (int l = 0; l < 8 && i0 + l < n; l++) x[i0 + l] = v[l] = ggml_v_expf_lane(x[i0 + l] - max);
        float t[4];
        for (int k = 0; k < 4; k++) t[k] = v[k + 4] + v[k];
        sum += (double)((t[0] + t[2]) + (t[1] + t[3]));
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* GGML_F32x8_REDUCE of four 8-lane accumulators: acc0 + acc2, acc1 + acc3, then their sum; then
 * lanes k + (k+4), then (t0 + t1) + (t2 + t3). */
static float reduce_4x8(float acc[4][8]) {
    float t[4];
    for (int l = 0; l < 8; l++) {
        acc[0][l] += acc[2][l];
        acc[1][l] += acc[3][l];
        acc[0][l] += acc[1][l];
    }
    for (int k = 0; k < 4; k++) t[k] = acc[0][k] + acc[0][k + 4];
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/* ggml_vec_dot_f32 (AVX2): element e goes to accumulator (e / 8) % 4, lane e % 8, by FMA in order;
 * the 4x8 reduce; the elements past the last multiple of 32 added in float. a has stride a_stride. */
float lt_dot_f32_ggml(const float *a, int64_t a_stride, const float *b, int64_t n) {
    float acc[4][8] = { { 0 } };
    int64_t np = n & ~(int64_t)31, i = 0;
    for (; i < np; i++) acc[(i / 8) % 4][i % 8] = fmaf(a[i * a_stride], b[i], acc[(i / 8) % 4][i % 8]);
    float sum = reduce_4x8(acc);
    for (; i < n; i++) sum += a[i * a_stride] * b[i];
    return sum;
}

/* ggml_vec_dot_f16 (AVX2 + F16C) on two F16-valued float vectors: the same 4x8 FMA order (the
 * products of two F16 values are exact), the reduce widened to double, the rest added in double. */
float lt_dot_f16_ggml(const float *a, const float *b, int64_t n) {
    float acc[4][8] = { { 0 } };
    int64_t np = n & ~(int64_t)31, i = 0;
    for (; i < np; i++) acc[(i / 8) % 4][i % 8] = fmaf(a[i], b[i], acc[(i / 8) % 4][i % 8]);
    double sum = (double)reduce_4x8(acc);
    for (; i < n; i++) sum += (double)(a[i] * b[i]);
    return (float)sum;
}

/* llamafile's tinyBLAS (AVX2) for one output: one 8-lane FMA accumulator (lane l takes elements
 * l, l + 8, ...), then lanes k + (k+4), then (t0 + t2) + (t1 + t3). n must be a multiple of 8. */
float lt_dot_tinyblas_ggml(const float *a, const float *b, int64_t n) {
    float acc[8] = { 0 };
    for (int64_t i = 0; i < n; i++) acc[i % 8] = fmaf(a[i], b[i], acc[i % 8]);
    float t[4];
    for (int k = 0; k < 4; k++) t[k] = acc[k + 4] + acc[k];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

/* One attention output row: out[d] = Σ_j p[j] v_j[d] over positions 0..n-1 (V in a kv head's
 * blocks of v_rows positions, kernels/attention.h; F16 values). A single token (ggml's 1-row matmul) first rounds p to F16 and uses
 * ggml_vec_dot_f16's order; a batch (tinyBLAS) keeps p in F32. ggml pads the positions to a multiple
 * of 32 with p = 0, which adds nothing. */
void lt_attention_values_ggml(float *out, float *p, const float *v, int64_t v_rows, int n, int dim, bool single) {
    if (single)
        for (int j = 0; j < n; j++) p[j] = f16_round(p[j]);
    for (int d = 0; d < dim; d++) {
        if (single) {
            float acc[4][8] = { { 0 } };
            for (int j = 0; j < n; j++) acc[(j / 8) % 4][j % 8] = fmaf(v[lt_kv_v_index(v_rows, j, d)], p[j], acc[(j / 8) % 4][j % 8]);
            out[d] = (float)(double)reduce_4x8(acc);
        } else {
            float acc[8] = { 0 };
            for (int j = 0; j < n; j++) acc[j % 8] = fmaf(v[lt_kv_v_index(v_rows, j, d)], p[j], acc[j % 8]);
            float t[4];
            for (int k = 0; k < 4; k++) t[k] = acc[k + 4] + acc[k];
            out[d] = (t[0] + t[2]) + (t[1] + t[3]);
        }
    }
}

/* quantize_row_i8_s (bitnet.cpp): see kernels/act_quant.h. Returns s = 127 / max|x|; the matmul
 * output is ((float)Σ t q) / s * weight_scale. */
float lt_quantize_act_i8_ggml(const float *x, int8_t *q, int64_t n) { return lt_quant_row_ggml(x, q, n); }
