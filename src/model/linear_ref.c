/* The reference linear layer: decode a weight row to floats once, then dot it with every token.
 * Ternary formats take BitNet's int8 activations: y = (Σ_j w_j q_j) / s_act, where w_j = t_j · d is
 * the decoded weight and q = round(x · s_act), s_act = 127 / max|x|. */
#include <string.h>

#include "model/linear.h"
#include "model/ops.h"

typedef struct {
    const lt_linear *l;
    const float *x;      /* n x K: float activations (float formats) */
    const float *xq;     /* n x K: int8-quantized activations stored as floats (ternary formats) */
    const float *act_scale;
    int64_t n;
    float *y;
    uint8_t *scratch;    /* per thread: one decoded row of K floats */
} linear_job;

static void linear_rows(void *arg, int ith, int nth) {
    linear_job *job = arg;
    const lt_linear *l = job->l;
    int64_t k = lt_linear_in(l), m = lt_linear_out(l);
    int64_t r0, r1;
    lt_split_range(m, 4, ith, nth, &r0, &r1);
    float *row = (float *)(job->scratch + (size_t)ith * (size_t)k * sizeof(float));
    bool f32 = l->w.fmt->type_id == LT_TYPE_F32;
    for (int64_t r = r0; r < r1; r++) {
        const float *w = row;
        if (f32)
            w = (const float *)l->w.data + r * k;
        else
            lt_tensor_dequantize_row(&l->w, r, row);
        for (int64_t t = 0; t < job->n; t++) {
            float dot;
            if (job->xq) {
                float s = job->act_scale[t];
                dot = s == 0.0f ? 0.0f : lt_dot_f32(w, job->xq + t * k, k) / s;
            } else {
                dot = lt_dot_f32(w, job->x + t * k, k);
            }
            job->y[t * m + r] = dot * l->scale;
        }
    }
}

size_t lt_linear_scratch_bytes(int64_t k, int64_t n, int n_threads) {
    /* per thread a decoded row; then n*K quantized activations as floats, n scales, n*K int8 */
    return (size_t)n_threads * (size_t)k * sizeof(float) + (size_t)n * (size_t)k * (sizeof(float) + 1) +
           (size_t)n * sizeof(float) + 64;
}

void lt_linear_forward_ref(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch) {
    int64_t k = lt_linear_in(l);
    int nth = lt_pool_threads(pool);
    uint8_t *base = scratch;
    linear_job job = { .l = l, .x = x, .n = n, .y = y, .scratch = base };
    if (l->w.fmt->ternary) {
        float *xq = (float *)(base + (size_t)nth * (size_t)k * sizeof(float));
        float *scales = xq + n * k;
        int8_t *q8 = (int8_t *)(scales + n);
        for (int64_t t = 0; t < n; t++) {
            scales[t] = lt_quantize_act_i8(x + t * k, q8 + t * k, k);
            for (int64_t j = 0; j < k; j++) xq[t * k + j] = (float)q8[t * k + j];
        }
        job.xq = xq;
        job.act_scale = scales;
    }
    lt_pool_run(pool, linear_rows, &job);
}
