/* TERN3 on the NEON levels (arm/gemv_t3_neon.c, arm/gemm_neon.c's TERN3 decode, both GEMMs): per
 * ISA level (NEON, dotprod) and path (GEMV 1-5 tokens, int8 GEMM 4, 33, 128 tokens, VLUT and AUTO),
 * TERN3 weights give lt_gemv_ref's outputs and the TERNARY weight's bit for bit, at 1 and 2
 * threads; the GEMV called directly (tables in three shares, tiles in two ranges) and its tables
 * against a scalar build of the AVX2 kernel's table bytes. Activations with the int16 extremes
 * (q = ±127, a token of all -128) and weights all +1 / all -1. `test_tern3_neon select` (run with
 * LUTLM_TERN3=1): lt_qweight_from_tensor picks TERN3 for per-row ternary weights on the NEON
 * levels. Elsewhere (x86) there is nothing to test: the test passes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/threadpool.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h"
#include "test_kernel_util.h"

#if defined(LUTLM_HAVE_ARM_KERNELS)
enum { CODES_RANDOM = 2 };

/* A TERN2 tensor of m rows x k, codes `fill` (-1, 0, 1 or CODES_RANDOM) and one scale (BitNet). */
static void *make_tern2(int64_t k, int64_t m, int fill, lt_tensor *t) {
    int8_t *codes = malloc((size_t)(k * m));
    for (int64_t i = 0; i < k * m; i++) codes[i] = (int8_t)(fill == CODES_RANDOM ? (int)(test_rnd() % 3) - 1 : fill);
    void *data = test_tern2_tensor(k, m, codes, t);
    free(codes);
    return data;
}

static lt_pool *pool2;

/* The table bytes of x86/gemv_t3_avx2.c, entry by entry: L[m] = Σ d_i ql_i, H[m] = Σ d_i qh_i. */
static bool tables_match(const lt_act *a, int64_t nslots) {
    for (int64_t t = 0; t < a->n; t++) {
        const int8_t *tab = (const int8_t *)a->gemv_tab[LT_QK_TERN3] + t * nslots * 32, *q = a->xq + t * a->kx;
        for (int64_t g = 0; g < nslots; g++) {
            int64_t b = g / LT_T3_GROUPS, j = g % LT_T3_GROUPS;
            const int8_t *e = tab + b * LT_T3_GROUPS * 32 + ((j % 7) * 4 + (j / 7) * 2) * 16;
            for (int mag = 0; mag < 16; mag++) {
                int l = 0, h = 0, rest = mag;
                for (int i = 0; i < 3; i++) {
                    int d = mag < 14 ? (rest + 1) % 3 - 1 : 0, x = q[3 * g + i], ql = ((x + 8) & 15) - 8;
                    l += d * ql, h += d * ((x - ql) / 16);
                    rest = (rest - d) / 3;
                }
                if (e[mag] != l || e[16 + mag] != h) return false;
            }
        }
    }
    return true;
}

/* One shape: per token count n, the reference on the TERN3 weight, then every path on both weights
 * and both NEON levels. */
static void check_shape(int64_t k, int64_t m, int fill) {
    static const int64_t ns[] = { 1, 2, 3, 4, 5, 33, 128 };
    lt_tensor t;
    void *data = make_tern2(k, m, fill, &t);
    lt_qweight *w2 = lt_qweight_from_tensor(&t), *w3 = lt_qweight_from_tensor_tern3(&t);
    CHECKF(w2 && w3 && w2->kind == LT_QK_TERNARY && w3->kind == LT_QK_TERN3, "k %lld m %lld: %s", (long long)k,
           (long long)m, lt_error());
    lt_act *a = lt_act_new();
    for (int in = 0; w2 && w3 && in < 7; in++) {
        int64_t n = ns[in];
        if (n > 5 && k == 100 && fill != CODES_RANDOM) continue; /* keep the extremes short */
        float *x = test_extreme_acts(k, n);
        size_t yb = sizeof(float) * (size_t)(n * m);
        float *yref = malloc(yb), *y = malloc(yb);
        CHECK(lt_act_prepare_rule(a, x, n, k, n % 2 ? LT_ACT_GGML : LT_ACT_RUNBIT));
        if (n > 3) memset(a->xq + 3 * a->kx, 0x80, (size_t)k); /* token 3: all -128 */
        lt_gemv_ref(w3, a, 0, w3->ntiles, yref);
        static const lt_isa isas[] = { LT_ISA_NEON, LT_ISA_NEON_DOTPROD };
        for (int li = 0; li < 2; li++) {
            if (!lt_isa_set(isas[li])) continue;
            const lt_kernel_path paths[] = { LT_PATH_GEMV, LT_PATH_GEMM, LT_PATH_VLUT, LT_PATH_AUTO };
            for (int p = 0; p < 4; p++) {
                bool run = paths[p] == LT_PATH_GEMV ? n <= 5 : paths[p] == LT_PATH_GEMM ? n >= 4 : n == 33 || n == 3;
                if (!run) continue;
                for (int wi = 0; wi < 2; wi++)
                    for (int threads = 1; threads <= 2; threads++) {
                        memset(y, 0xFF, yb);
                        lt_qweight_matmul_path(wi ? w3 : w2, a, y, threads == 2 ? pool2 : NULL, paths[p]);
                        int64_t e = 0;
                        while (e < n * m && !memcmp(&y[e], &yref[e], sizeof(float))) e++;
                        CHECKF(e == n * m, "%s k %lld m %lld fill %d n %lld path %d threads %d %s: differs at [%lld][%lld]: %g vs %g",
                               lt_isa_name(isas[li]), (long long)k, (long long)m, fill, (long long)n, (int)paths[p], threads,
                               wi ? "TERN3" : "TERNARY", (long long)(e / m), (long long)(e % m), e < n * m ? y[e] : 0,
                               e < n * m ? yref[e] : 0);
                    }
            }
        }
        lt_isa_set(lt_isa_detect());
        if (n <= 5) { /* the GEMV by direct calls: tables in three shares, tiles in two ranges */
            CHECK(lt_act_reserve_gemv(a, LT_QK_TERN3, w3->nslots, lt_gemv_t3_tables_neon) >= 0);
            a->gemv_slots[LT_QK_TERN3] = w3->nslots;
            for (int share = 0; share < 3; share++) lt_gemv_t3_tables_neon(a, LT_QK_TERN3, w3->nslots, share, 3);
            CHECKF(tables_match(a, w3->nslots), "k %lld n %lld: tables differ from the AVX2 kernel's", (long long)k, (long long)n);
            memset(y, 0xFF, yb);
            int64_t mid = w3->ntiles / 2;
            lt_gemv_t3_neon(w3, a, mid, w3->ntiles, y);
            lt_gemv_t3_neon(w3, a, 0, mid, y);
            CHECKF(!memcmp(y, yref, yb), "direct k %lld m %lld n %lld: differs from lt_gemv_ref", (long long)k, (long long)m,
                   (long long)n);
        }
        free(x); free(y); free(yref);
    }
    lt_act_free(a);
    lt_qweight_free(w2);
    lt_qweight_free(w3);
    free(data);
}

/* lt_qweight_from_tensor's choice with LUTLM_TERN3=1: TERN3 for per-row ternary weights on both NEON
 * levels. */
static void check_selection(void) {
    lt_tensor t;
    void *data = make_tern2(2560, 64, CODES_RANDOM, &t);
    static const lt_isa isas[] = { LT_ISA_NEON, LT_ISA_NEON_DOTPROD };
    for (int li = 0; li < 2; li++) {
        if (!lt_isa_set(isas[li])) continue;
        lt_qweight *w = lt_qweight_from_tensor(&t);
        CHECKF(w && w->kind == LT_QK_TERN3, "%s: per-row ternary weights get kind %d, not TERN3", lt_isa_name(isas[li]),
               w ? (int)w->kind : -1);
        lt_qweight_free(w);
    }
    lt_isa_set(lt_isa_detect());
    free(data);
}
#endif

int main(int argc, char **argv) {
#if defined(LUTLM_HAVE_ARM_KERNELS)
    test_rng_seed(7);
    if (argc > 1 && !strcmp(argv[1], "select")) {
        check_selection();
        return TEST_DONE();
    }
    pool2 = lt_pool_create(2);
    static const int64_t ks[] = { 42, 100, 2560 }, ms[] = { 1, 32, 70 };
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) check_shape(ks[i], ms[j], CODES_RANDOM);
    static const int fills[] = { 1, -1 }; /* every group ±13: the byte sums' extremes */
    for (int f = 0; f < 2; f++) {
        check_shape(2560, 33, fills[f]);
        check_shape(100, 32, fills[f]);
    }
    lt_pool_free(pool2);
#else
    (void)argc, (void)argv;
    fprintf(stderr, "not an aarch64 build: nothing to test\n");
#endif
    return TEST_DONE();
}
