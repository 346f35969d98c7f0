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
#include "model/ops.h"

typedef struct {
    const lt_linear *l;
    const float *x;        /* n x K float activations (float formats) */
    const int8_t *q8;      /* n x K int8 activations (ternary formats) */
    const float *act_unit; /* n: the value of one int8 unit per token */
    int64_t n;
    float *y;
    uint8_t *scratch;      /* per thread: a decoded row (K floats) + its signs (K int8) */
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
            y = (float)dot * (d_row * a);
        } else {
            y = 0.0f;
            for (int64_t b = 0; b < n_blocks; b++) {
                int32_t dot = 0;
                float d = 0.0f;
                for (int64_t j = b * block; j < k && j < (b + 1) * block; j++) {
                    dot += sign[j] * q[j];
                    if (w[j] != 0.0f) d = fabsf(w[j]);
                }
                y += (float)dot * (d * a);
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
    float *row = (float *)(job->scratch + (size_t)ith * (size_t)k * (sizeof(float) + 1));
    int8_t *sign = (int8_t *)(row + k);
    bool f32 = l->w.fmt->type_id == LT_TYPE_F32;
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
        for (int64_t t = 0; t < job->n; t++) job->y[t * m + r] = lt_dot_f32(w, job->x + t * k, k) * l->scale;
    }
}

size_t lt_linear_scratch_bytes(int64_t k, int64_t n, int n_threads) {
    /* per thread a decoded row and its signs; then n*K int8 activations and n units */
    return (size_t)n_threads * (size_t)k * (sizeof(float) + 1) + (size_t)n * (size_t)k + (size_t)n * sizeof(float) + 64;
}

void lt_linear_forward_ref(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch) {
    int64_t k = lt_linear_in(l);
    int nth = lt_pool_threads(pool);
    uint8_t *base = scratch;
    linear_job job = { .l = l, .x = x, .n = n, .y = y, .scratch = base };
    if (l->w.fmt->ternary) {
        float *units = (float *)(base + (size_t)nth * (size_t)k * (sizeof(float) + 1));
        units = (float *)(((uintptr_t)units + 7) & ~(uintptr_t)7);
        int8_t *q8 = (int8_t *)(units + n);
        for (int64_t t = 0; t < n; t++) units[t] = lt_quantize_act_i8(x + t * k, q8 + t * k, k);
        job.q8 = q8;
        job.act_unit = units;
    }
    lt_pool_run(pool, linear_rows, &job);
}
