#include "model/ops.h"

#include "common/expf.h"
#include "kernels/act_quant.h"
#include "kernels/kernels.h"

#include <math.h>

/* The arithmetic below follows llama2.c's run.c (and bitllama2.c's runbit.c) operation by operation,
 * in float and in the same order: int8 activation quantization amplifies a one-ulp difference into a
 * different integer, so reproducing those reference runners token for token needs the same roundings. */

/* out = w * (x / sqrt(ss / n + eps)) for ss = Σ x², summed by the caller. */
static void rms_scale(float *out, const float *x, const float *w, int n, float ss, float eps) {
    ss /= n;
    ss += eps;
    ss = 1.0f / sqrtf(ss);
    if (w)
        for (int i = 0; i < n; i++) out[i] = w[i] * (ss * x[i]);
    else
        for (int i = 0; i < n; i++) out[i] = ss * x[i];
}

void lt_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float ss = 0.0f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    rms_scale(out, x, w, n, ss, eps);
}

void lt_rmsnorm_rows(float *out, const float *x, const float *w, int rows, int n, float eps) {
    enum { R = 8 };
    int r0 = 0;
    for (; r0 + R <= rows; r0 += R) {
        const float *xr = x + (int64_t)r0 * n;
        float ss[R] = { 0.0f };
        for (int i = 0; i < n; i++) /* R independent chains, each lt_rmsnorm's sum of its row */
            for (int r = 0; r < R; r++) ss[r] += xr[(int64_t)r * n + i] * xr[(int64_t)r * n + i];
        for (int r = 0; r < R; r++) rms_scale(out + (int64_t)(r0 + r) * n, xr + (int64_t)r * n, w, n, ss[r], eps);
    }
    for (; r0 < rows; r0++) lt_rmsnorm(out + (int64_t)r0 * n, x + (int64_t)r0 * n, w, n, eps);
}

void lt_rope_angles(float *cos_out, float *sin_out, int rope_dim, int pos, float base) {
    for (int i = 0; i < rope_dim / 2; i++) {
        float freq = 1.0f / powf(base, (float)(2 * i) / (float)rope_dim);
        float theta = (float)pos * freq;
        cos_out[i] = cosf(theta);
        sin_out[i] = sinf(theta);
    }
}

void lt_rope_apply(float *v, const float *cos_in, const float *sin_in, int rope_dim, bool neox) {
    int half = rope_dim / 2;
    for (int i = 0; i < half; i++) {
        float c = cos_in[i], s = sin_in[i];
        int a = neox ? i : 2 * i;
        int b = neox ? i + half : 2 * i + 1;
        float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
    }
}

float lt_dot_f32_seq(const float *a, const float *b, int64_t n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

float lt_dot_f32(const float *a, const float *b, int64_t n) {
    float acc[8] = { 0 };
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static void swiglu_portable(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = g[i];
        v *= 1.0f / (1.0f + lt_expf(-v));
        g[i] = v * u[i];
    }
}

static void relu2_glu_portable(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float r = g[i] > 0.0f ? g[i] : 0.0f;
        g[i] = r * r * u[i];
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "kernels/x86/expf_avx2.h"
/* The portable loop 8 values at a time, the same float operations per value: r = g > 0 ? g : 0
 * (NaN and -0 give +0), then (r * r) * u. GCC keeps the portable select a scalar branch under
 * -ftrapping-math, and it mispredicts on random signs: ~25 µs per bitnet-2b4t layer, serial in a
 * decode step. */
__attribute__((target("avx2"))) static void relu2_glu_avx2(float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(g + i);
        __m256 r = _mm256_and_ps(v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_mul_ps(r, r), _mm256_loadu_ps(u + i)));
    }
    relu2_glu_portable(g + i, u + i, n - i);
}

/* The portable loop 8 values at a time (lt_expf8 has lt_expf's bits): a Llama-3-8B FFN row of
 * 14336 values in 20 µs instead of 65 with libm's expf one value at a time. */
LT_EXPF_AVX2 static void swiglu_avx2(float *g, const float *u, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(g + i);
        __m256 e = lt_expf8(_mm256_sub_ps(_mm256_setzero_ps(), v));
        v = _mm256_mul_ps(v, _mm256_div_ps(one, _mm256_add_ps(one, e)));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(v, _mm256_loadu_ps(u + i)));
    }
    swiglu_portable(g + i, u + i, n - i);
}

static bool simd_avx2(void) {
    lt_isa isa = lt_isa_active();
    return isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512;
}
#endif

void lt_swiglu(float *g, const float *u, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (simd_avx2()) {
        swiglu_avx2(g, u, n);
        return;
    }
#endif
    swiglu_portable(g, u, n);
}

void lt_relu2_glu(float *g, const float *u, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (simd_avx2()) {
        relu2_glu_avx2(g, u, n);
        return;
    }
#endif
    relu2_glu_portable(g, u, n);
}

float lt_quantize_act_i8(const float *x, int8_t *q, int64_t n) { return lt_quant_row_runbit(x, q, n); }
