/* Activation quantization: lt_act_prepare_rule (the SIMD quantizer on this machine) equals the
 * portable rules of act_quant.h bit for bit (int8 values and step), for both rules, on random rows
 * of many lengths (vector bodies and tails), exact halves (ties), zero rows, -0, NaN and inf. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/act_quant.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h"
#include "test_util.h"

enum { ROW_RANDOM, ROW_TIES, ROW_ZERO, ROW_SPECIAL, ROW_KINDS };

/* A row of k values of the given kind. Ties: max 127 (a = 1), so x.5 values are exact halves. */
static void make_row(float *x, int64_t k, int kind) {
    for (int64_t i = 0; i < k; i++) {
        float v = test_frand() * (test_rnd() % 4 == 0 ? 30.0f : 1.0f);
        if (kind == ROW_TIES) v = (float)((int)(test_rnd() % 255) - 127) + (test_rnd() % 2 ? 0.5f : 0.0f);
        if (kind == ROW_ZERO) v = test_rnd() % 2 ? 0.0f : -0.0f;
        if (kind == ROW_SPECIAL && test_rnd() % 7 == 0) v = test_rnd() % 2 ? NAN : -0.0f;
        x[i] = v;
    }
    if (kind == ROW_TIES) x[test_rnd() % k] = 127.0f;
    if (kind == ROW_SPECIAL && k > 3 && test_rnd() % 2) x[test_rnd() % k] = -INFINITY;
}

static void check_row(lt_act *act, const float *x, int64_t k, lt_act_rule rule, int8_t *want) {
    float step;
    if (rule == LT_ACT_GGML) step = (float)(1.0 / (double)lt_quant_row_ggml(x, want, k));
    else step = lt_quant_row_runbit(x, want, k);
    CHECK(lt_act_prepare_rule(act, x, 1, k, rule));
    CHECKF(memcmp(act->xq, want, (size_t)k) == 0, "k=%lld rule=%d: int8 values differ", (long long)k, (int)rule);
    CHECKF(memcmp(&act->scale[0], &step, sizeof step) == 0, "k=%lld rule=%d: step %g vs %g", (long long)k, (int)rule,
           (double)act->scale[0], (double)step);
}

int main(void) {
    enum { KMAX = 6912 };
    float *x = malloc(KMAX * sizeof(float));
    int8_t *want = malloc(KMAX);
    lt_act *act = lt_act_new();
    CHECK(x && want && act);
    const int64_t long_k[] = { 256, 2560, 2561, 6912 };
    for (int rule = 0; rule < 2; rule++)
        for (int kind = 0; kind < ROW_KINDS; kind++) {
            for (int64_t k = 1; k <= 100; k++) {
                make_row(x, k, kind);
                check_row(act, x, k, (lt_act_rule)rule, want);
            }
            for (int i = 0; i < 4; i++)
                for (int rep = 0; rep < 8; rep++) {
                    make_row(x, long_k[i], kind);
                    check_row(act, x, long_k[i], (lt_act_rule)rule, want);
                }
        }
    lt_act_free(act);
    free(x);
    free(want);
    return TEST_DONE();
}
