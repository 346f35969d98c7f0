/* The ternary group-of-3 LUT GEMM (tlut.h) against lt_gemv_ref, bit for bit (float bit patterns):
 * per-row ternary weights (TERN3 and ternary pairs) with K not a multiple of 3, 8, 12 or 48 (and K < 3), M not a multiple of
 * 32, N around the 32-token blocks and the 128-token regions, both activation rules, tokens of
 * all ±127 and all -128 (the int16 limits), a row of all +1 and one of all -1 weights, 1 and 2
 * threads, several weights in one call (q/k/v) and through lt_qweight_matmul_many (AUTO), with
 * the AVX2 pieces and, where the CPU has AVX-512, the AVX-512 ones (tlut_avx512.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/threadpool.h"
#include "common/util.h"
#include "formats/lut_formats.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h" /* int8 activations set to -128 (the ggml rule's range) */
#include "kernels/tlut.h"
#include "test_kernel_util.h"

#if defined(LUTLM_HAVE_X86_KERNELS)

/* Ternary TERN2 weights t * 0.013 (one scale: per row); row 0 all +1, row 1 all -1, row 2 zero. */
static lt_qweight *make_weight(int64_t k, int64_t m) {
    const lt_format *fmt = lt_format_by_type(LT_TYPE_TERN2);
    if (!fmt) return NULL;
    float *w = malloc((size_t)(k * m) * sizeof(float));
    for (int64_t r = 0; r < m; r++)
        for (int64_t i = 0; i < k; i++) {
            int t = (int)(test_rnd() % 3) - 1;
            if (r == 0) t = 1;
            if (r == 1) t = -1;
            if (r == 2) t = 0;
            if (r == 0 && i == 0 && k > 1) t = 0; /* keep one zero so the scale is still per row */
            w[r * k + i] = (float)t * 0.013f;
        }
    return test_qweight_from_floats(fmt, w, k, m);
}

static int mismatches(const float *y, const float *yref, int64_t count, int64_t *first) {
    int bad = 0;
    for (int64_t e = 0; e < count; e++)
        if (memcmp(&y[e], &yref[e], sizeof(float)) != 0 && !bad++) *first = e;
    return bad;
}

static lt_pool *pool2;

/* Three weights of the same K (the second with other rows), all tokens counts in ns; in the
 * ternary-pair layout (TERNARY: repacked while the scalar level is active) or TERN3. */
static void check_shape(int64_t k, int64_t m, const int64_t *ns, int nn, bool pairs) {
    if (pairs) lt_isa_set(LT_ISA_SCALAR);
    lt_qweight *w[3] = { make_weight(k, m), make_weight(k, m + 37), make_weight(k, LT_MAX(1, m - 5)) };
    lt_isa_set(lt_isa_detect());
    CHECKF(w[0] && w[1] && w[2], "K=%lld M=%lld: %s", (long long)k, (long long)m, lt_error());
    CHECKF(!w[0] || (w[0]->kind == LT_QK_TERNARY) == (pairs || !lt_tern3_enabled()), "K=%lld: layout %d", (long long)k, w[0] ? (int)w[0]->kind : -1);
    if (!w[0] || !w[1] || !w[2]) return;
    for (int i = 0; i < 3; i++) CHECKF(lt_tlut_supports(w[i]), "K=%lld: not per-row ternary", (long long)k);
    lt_act *act = lt_act_new();
    for (int in = 0; in < nn; in++) {
        int64_t n = ns[in];
        float *x = test_extreme_acts(k, n), *yref[3], *y[3];
        for (int i = 0; i < 3; i++) {
            yref[i] = malloc((size_t)(n * w[i]->m) * sizeof(float));
            y[i] = malloc((size_t)(n * w[i]->m) * sizeof(float));
        }
        for (int rule = 0; rule < 2; rule++) {
            CHECK(lt_act_prepare_rule(act, x, n, k, rule ? LT_ACT_GGML : LT_ACT_RUNBIT));
            /* -128 everywhere in some tokens: the int16 limits must hold for [-128, 127] */
            if (rule) for (int64_t t = 6; t < n; t += 13) memset(act->xq + t * act->kx, 0x80, (size_t)k);
            CHECK(lt_isa_set(LT_ISA_SCALAR));
            for (int i = 0; i < 3; i++) lt_qweight_matmul_path(w[i], act, yref[i], NULL, LT_PATH_GEMV);
            for (int level = 0; level < 2; level++) { /* the AVX2 and (where the CPU has it) the AVX-512 pieces */
                lt_isa isa = level ? LT_ISA_AVX512 : LT_ISA_AVX2;
                if (!lt_isa_available(isa)) continue;
                CHECK(lt_isa_set(isa));
                for (int run = 0; run < 4; run++) { /* 1, 2 threads; one weight, three in one call; AUTO */
                    lt_pool *pool = run & 1 ? pool2 : NULL;
                    for (int i = 0; i < 3; i++) memset(y[i], 0xFF, (size_t)(n * w[i]->m) * sizeof(float));
                    if (run < 2) {
                        for (int i = 0; i < 3; i++) lt_qweight_matmul_tlut((const lt_qweight *const *)&w[i], 1, act, &y[i], pool);
                    } else if (run == 2) {
                        lt_qweight_matmul_tlut((const lt_qweight *const *)w, 3, act, y, pool);
                    } else {
                        lt_qweight_matmul_many((const lt_qweight *const *)w, 3, act, y, pool);
                    }
                    for (int i = 0; i < 3; i++) {
                        int64_t first = 0;
                        int bad = mismatches(y[i], yref[i], n * w[i]->m, &first);
                        CHECKF(bad == 0, "%s K=%lld M=%lld N=%lld rule=%s run=%d weight %d: %d mismatches, first [%lld][%lld] %g vs ref %g",
                               lt_isa_name(isa), (long long)k, (long long)w[i]->m, (long long)n, rule ? "ggml" : "runbit", run, i, bad,
                               (long long)(first / w[i]->m), (long long)(first % w[i]->m), bad ? y[i][first] : 0,
                               bad ? yref[i][first] : 0);
                    }
                }
            }
        }
        for (int i = 0; i < 3; i++) {
            free(yref[i]);
            free(y[i]);
        }
        free(x);
    }
    lt_act_free(act);
    for (int i = 0; i < 3; i++) lt_qweight_free(w[i]);
}

int main(void) {
    test_rng_seed(0x7E57C0DE5EEDull);
    if (!lt_isa_available(LT_ISA_AVX2)) {
        fprintf(stderr, "no AVX2 on this machine: nothing to compare\n");
        return TEST_DONE();
    }
    pool2 = lt_pool_create(2);
    static const int64_t all_n[] = { 1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 128, 130 }, some_n[] = { 16, 47, 130 }, one_n[] = { 33 };
    struct { int64_t k, m; const int64_t *ns; int nn; } shapes[] = {
        { 1, 5, all_n, 12 },   { 2, 33, some_n, 3 },  { 5, 40, some_n, 3 },  { 100, 17, all_n, 12 },
        { 257, 70, all_n, 12 }, { 769, 33, some_n, 3 }, { 2569, 300, one_n, 1 }, { 6912, 40, one_n, 1 },
    };
    for (int pairs = 0; pairs < 2; pairs++)
        for (size_t si = 0; si < LT_ARRAY_LEN(shapes); si++) check_shape(shapes[si].k, shapes[si].m, shapes[si].ns, shapes[si].nn, pairs);
    /* a weight of another K: an error and zero outputs, no crash */
    lt_qweight *w1 = make_weight(100, 40), *w2 = make_weight(101, 40);
    lt_act *act = lt_act_new();
    float *x = test_extreme_acts(100, 4), y1[4 * 40], y2[4 * 40];
    CHECK(w1 && w2 && act && lt_act_prepare(act, x, 4, 100));
    const lt_qweight *pair[2] = { w1, w2 };
    float *ys[2] = { y1, y2 };
    memset(y1, 0xFF, sizeof y1);
    lt_clear_error();
    lt_qweight_matmul_tlut(pair, 2, act, ys, NULL);
    CHECK(lt_error()[0] != 0 && y1[0] == 0.0f && y1[4 * 40 - 1] == 0.0f);
    free(x);
    lt_act_free(act);
    lt_qweight_free(w1);
    lt_qweight_free(w2);
    /* K past LT_TLUT_MAX_K: the int16 high parts of the dots could overflow, not supported (AUTO
     * takes the int8 GEMM) */
    lt_qweight *wmax = make_weight(LT_TLUT_MAX_K, 1), *wbig = make_weight(LT_TLUT_MAX_K + 1, 1);
    CHECK(wmax && wbig && lt_tlut_supports(wmax) && !lt_tlut_supports(wbig) && !lt_tlut_auto(wbig, 128));
    lt_qweight_free(wmax);
    lt_qweight_free(wbig);
    lt_isa_set(lt_isa_detect());
    lt_pool_free(pool2);
    return TEST_DONE();
}

#else
int main(void) {
    fprintf(stderr, "no x86 kernels in this build: nothing to compare\n");
    return TEST_DONE();
}
#endif
