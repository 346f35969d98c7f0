/* The reference linear layer: decode a weight row once, then apply it to every token.
 *
 * Float formats: y = Σ_j w_j x_j in float.
 * Ternary formats follow BitNet (bitllama2.c's runbit.c): each token's activations become int8,
 * q = round(x / a) with a = max|x| / 127, the weights are t_j · d_b with t ∈ {-1, 0, 1} and one scale
 * d_b per block, and  y = (float)(Σ_j t_j q_j) · (d · a)  — an exact integer dot product, then one
 * float scaling. When a row's blocks have different scales the blocks are summed in float. */
#include <math.h>
#include <string.h>

#include "model/linear.h"
#include "common/util.h"
#include "model/ops.h"

typedef struct {
    const lt_linear *l;
    const float *x;        /* n x K float activations (float formats) */
    const int8_t *q8;      /* n x K int8 activations (ternary formats) */
    const float *act_unit; /* n: the value of one int8 unit per token */
    int64_t n;
    float *y;
    uint8_t *scratch;      /* per thread: a decoded row (K floats), F16-rounded x (K floats), signs (K int8) */
    bool ggml;             /* ggml's roundings (see linear.h) */
} linear_job;

/* y[t] for one ternary row: w holds t_j * d_b (exact), blocks of `block` weights. */
static void ternary_row(const linear_job *job, const float *w, int8_t *sign, int64_t k, int64_t block, int64_t r) {
    const lt_linear *l = job->l;
    int64_t m = lt_linear_out(l);
    int64_t n_blocks = (k + block - 1) / block;
    float d_row = 0.0f;
    bool uniform = true;
    for (int64_t j = 0; j < k; j++) sign[j] = w[j] > 0.0f ? 1 : w[j] < 0.0f ? -1 : 0;
    for (int64_t b = 0; b < n_blocks; b++)
        for (int64_t j = b * block; j < k && j < (b + 1) * block; j++) {
            float d = fabsf(w[j]);
            if (d == 0.0f) continue;
            if (d_row == 0.0f) d_row = d;
            else if (d != d_row) uniform = false;
        }
    for (int64_t t = 0; t < job->n; t++) {
        const int8_t *q = job->q8 + t * k;
        float a = job->act_unit[t];
        float y;
        if (uniform) {
            int32_t dot = 0;
            for (int64_t j = 0; j < k; j++) dot += sign[j] * q[j];
            y = job->ggml ? (float)dot / a * d_row : (float)dot * (d_row * a); /* ggml: a is 127 / max|x| */
        } else {
            y = 0.0f;
            for (int64_t b = 0; b < n_blocks; b++) {
                int32_t dot = 0;
                float d = 0.0f;
                for (int64_t j = b * block; j < k && j < (b + 1) * block; j++) {
                    dot += sign[j] * q[j];
                    if (w[j] != 0.0f) d = fabsf(w[j]);
                }
                y += job->ggml ? (float)dot / a * d : (float)dot * (d * a);
            }
        }
        job->y[t * m + r] = y * l->scale;
    }
}

static void linear_rows(void *arg, int ith, int nth) {
    linear_job *job = arg;
    const lt_linear *l = job->l;
    int64_t k = lt_linear_in(l), m = lt_linear_out(l);
    int64_t r0, r1;
    lt_split_range(m, 4, ith, nth, &r0, &r1);
    float *row = (float *)(job->scratch + (size_t)ith * (size_t)k * (2 * sizeof(float) + 1));
    float *x16 = row + k;
    int8_t *sign = (int8_t *)(x16 + k);
    bool f32 = l->w.fmt->type_id == LT_TYPE_F32;
    /* ggml rounds a single token's activations to F16 for an F16 weight and sums in its own order;
     * a batch keeps them in F32 (tinyBLAS, K a multiple of 8). */
    bool ggml_f16 = job->ggml && !job->q8 && l->w.fmt->type_id == LT_TYPE_F16 && (job->n == 1 || k % 8 == 0);
    if (ggml_f16 && job->n == 1)
        for (int64_t j = 0; j < k; j++) x16[j] = lt_fp16_to_fp32(lt_fp32_to_fp16(job->x[j]));
    for (int64_t r = r0; r < r1; r++) {
        const float *w = row;
        if (f32)
            w = (const float *)l->w.data + r * k;
        else
            lt_tensor_dequantize_row(&l->w, r, row);
        if (job->q8) {
            ternary_row(job, w, sign, k, l->w.fmt->block_size > 0 ? l->w.fmt->block_size : k, r);
            continue;
        }
        for (int64_t t = 0; t < job->n; t++) {
            float dot = !ggml_f16       ? lt_dot_f32(w, job->x + t * k, k)
                        : job->n == 1  ? lt_dot_f16_ggml(w, x16, k)
                                       : lt_dot_tinyblas_ggml(w, job->x + t * k, k);
            job->y[t * m + r] = dot * l->scale;
        }
    }
}

size_t lt_linear_scratch_bytes(int64_t k, int64_t n, int n_threads) {
    /* per thread a decoded row, F16-rounded activations and signs; then n*K int8 activations and n units */
    return (size_t)n_threads * (size_t)k * (2 * sizeof(float) + 1) + (size_t)n * (size_t)k + (size_t)n * sizeof(float) + 64;
}

void lt_linear_forward_ref(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch, bool ggml) {
    int64_t k = lt_linear_in(l);
    int nth = lt_pool_threads(pool);
    uint8_t *base = scratch;
    linear_job job = { .l = l, .x = x, .n = n, .y = y, .scratch = base, .ggml = ggml };
    if (l->w.fmt->ternary) {
        float *units = (float *)(base + (size_t)nth * (size_t)k * (2 * sizeof(float) + 1));
        units = (float *)(((uintptr_t)units + 7) & ~(uintptr_t)7);
        int8_t *q8 = (int8_t *)(units + n);
        for (int64_t t = 0; t < n; t++)
            units[t] = (ggml ? lt_quantize_act_i8_ggml : lt_quantize_act_i8)(x + t * k, q8 + t * k, k);
        job.q8 = q8;
        job.act_unit = units;
    }
    lt_pool_run(pool, linear_rows, &job);
}
