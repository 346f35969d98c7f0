/* Dispatch of linear layers to the LUT kernels (weights repacked at load) or the reference path. */
#include "common/util.h"
#include "kernels/kernels.h"
#include "model/linear.h"

static void apply_scale(const lt_linear *l, float *y, int64_t n) {
    if (l->scale == 1.0f) return;
    int64_t count = n * lt_linear_out(l);
    for (int64_t i = 0; i < count; i++) y[i] *= l->scale;
}

void lt_linear_forward(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch,
                       struct lt_act *act, bool ggml) {
    const lt_linear *one[1] = { l };
    lt_linear_forward_many(one, 1, x, n, &y, pool, scratch, act, ggml);
}

void lt_linear_forward_many(const lt_linear *const *ls, int count, const float *x, int64_t n, float *const *ys,
                            lt_pool *pool, void *scratch, struct lt_act *act, bool ggml) {
    if (n <= 0) return;
    /* With kernels, the activations are quantized (and tabulated) once for all the layers. */
    bool kernels = true;
    for (int i = 0; i < count; i++) kernels = kernels && ls[i]->q && lt_linear_in(ls[i]) == lt_linear_in(ls[0]);
    lt_act_rule rule = ggml ? LT_ACT_GGML : LT_ACT_RUNBIT;
    if (kernels && act && lt_act_prepare_pool(act, x, n, lt_linear_in(ls[0]), rule, pool)) {
        const lt_qweight *ws[8];
        for (int i0 = 0; i0 < count; i0 += 8) {
            int m = LT_MIN(8, count - i0);
            for (int i = 0; i < m; i++) ws[i] = ls[i0 + i]->q;
            lt_qweight_matmul_many(ws, m, act, ys + i0, pool);
        }
        for (int i = 0; i < count; i++) apply_scale(ls[i], ys[i], n);
        return;
    }
    for (int i = 0; i < count; i++) {
        if (ls[i]->q && !ggml) {
            lt_qweight_matmul(ls[i]->q, x, n, ys[i], pool);
            apply_scale(ls[i], ys[i], n);
        } else {
            lt_linear_forward_ref(ls[i], x, n, ys[i], pool, scratch, ggml);
        }
    }
}
