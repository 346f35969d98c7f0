/* Dispatch of linear layers to the LUT kernels (weights repacked at load) or the reference path. */
#include "kernels/kernels.h"
#include "model/linear.h"

static void apply_scale(const lt_linear *l, float *y, int64_t n) {
    if (l->scale == 1.0f) return;
    int64_t count = n * lt_linear_out(l);
    for (int64_t i = 0; i < count; i++) y[i] *= l->scale;
}

void lt_linear_forward(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch) {
    if (n <= 0) return;
    if (l->q) {
        lt_qweight_matmul(l->q, x, n, y, pool);
        apply_scale(l, y, n);
    } else {
        lt_linear_forward_ref(l, x, n, y, pool, scratch);
    }
}

void lt_linear_forward_many(const lt_linear *const *ls, int count, const float *x, int64_t n, float *const *ys,
                            lt_pool *pool, void *scratch, struct lt_act *act) {
    if (n <= 0) return;
    bool shared = act != NULL;
    for (int i = 0; i < count && shared; i++) shared = ls[i]->q && lt_linear_in(ls[i]) == lt_linear_in(ls[0]);
    if (!shared || !lt_act_prepare(act, x, n, lt_linear_in(ls[0]))) {
        for (int i = 0; i < count; i++) lt_linear_forward(ls[i], x, n, ys[i], pool, scratch);
        return;
    }
    for (int i = 0; i < count; i++) {
        lt_qweight_matmul_act(ls[i]->q, act, ys[i], pool);
        apply_scale(ls[i], ys[i], n);
    }
}
