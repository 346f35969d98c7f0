/* The many-token paths on TERN3 weights (kernels_impl.h, lt_qkind): the int8 GEMM (LT_PATH_GEMM,
 * the TERN3 decode of gemm_avx2.c / gemm_avx512.c) and the group-of-3 LUT GEMM (AUTO from 32
 * tokens, tlut_avx2.c) give the TERNARY weight's outputs and lt_gemv_ref's bit for bit, for K
 * around the 42-weight blocks and the GEMM's 256-weight K-blocks, M not a multiple of 32, token
 * counts that split into uneven passes of the AVX-512 GEMM (at most 12 tokens each), 1 and 2
 * threads, and several weights in one region (lt_qweight_matmul_many), on the AVX2 and (where the
 * CPU has it) AVX-512 levels. Tokens of all -128 / ±127 check the int16 limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/threadpool.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h"
#include "kernels/tlut.h"
#include "test_kernel_util.h"

/* A TERN2 tensor of m rows x k with random codes and one scale (BitNet); row 0 all +1 and row 1
 * all -1 (but one zero each, so the scale stays 0.75). */
static void *make_tern2(int64_t k, int64_t m, lt_tensor *t) {
    int8_t *codes = malloc((size_t)(k * m));
    for (int64_t r = 0; r < m; r++)
        for (int64_t i = 0; i < k; i++) {
            int c = (int)(test_rnd() % 3) - 1;
            if (r < 2 && m > 2) c = i == 0 ? 0 : r == 0 ? 1 : -1;
            codes[r * k + i] = (int8_t)c;
        }
    void *data = test_tern2_tensor(k, m, codes, t);
    free(codes);
    return data;
}

static lt_pool *pool2;
static int n_isas;
static lt_isa isas[2]; /* the x86 levels this machine has: AVX2 and AVX-512 run different int8 GEMMs */

static bool same(const float *a, const float *b, int64_t count) { return memcmp(a, b, sizeof(float) * (size_t)count) == 0; }

/* One weight pair (TERNARY w2, TERN3 w3) of shape k x m: for every n, the reference on w2, then w3
 * through `path` (1 and 2 threads), then [w3, w3b, w3] through lt_qweight_matmul_many. */
static void check_shape(int64_t k, int64_t m, const int64_t *ns, int nn, lt_kernel_path path) {
    lt_tensor t, tb;
    void *data = make_tern2(k, m, &t), *datab = make_tern2(k, m + 9, &tb);
    lt_qweight *w2 = lt_qweight_from_tensor(&t), *w3 = lt_qweight_from_tensor_tern3(&t);
    lt_qweight *w2b = lt_qweight_from_tensor(&tb), *w3b = lt_qweight_from_tensor_tern3(&tb);
    CHECKF(w2 && w3 && w2b && w3b, "k %lld m %lld: %s", (long long)k, (long long)m, lt_error());
    if (!w2 || !w3 || !w2b || !w3b) goto done;
    CHECK(w3->kind == LT_QK_TERN3 && w2->kind == LT_QK_TERNARY);
    lt_act *a = lt_act_new();
    for (int in = 0; in < nn; in++) {
        int64_t n = ns[in];
        float *x = test_extreme_acts(k, n);
        size_t yb = sizeof(float) * (size_t)(n * m), ybb = sizeof(float) * (size_t)(n * (m + 9));
        float *yref = malloc(yb), *y = malloc(yb), *y2 = malloc(yb), *ybref = malloc(ybb), *yb3 = malloc(ybb), *yc = malloc(yb);
        CHECK(lt_act_prepare_rule(a, x, n, k, n % 2 ? LT_ACT_GGML : LT_ACT_RUNBIT));
        for (int64_t tk = 3; tk < n; tk += 13) memset(a->xq + tk * a->kx, 0x80, (size_t)k); /* all -128 */
        lt_isa_set(LT_ISA_SCALAR);
        lt_qweight_matmul_path(w2, a, yref, NULL, LT_PATH_GEMV);
        lt_qweight_matmul_path(w2b, a, ybref, NULL, LT_PATH_GEMV);
        for (int i = 0; i < n_isas; i++) {
            lt_isa_set(isas[i]);
            lt_qweight_matmul_path(w2, a, y2, NULL, path); /* the TERNARY weight on the same path */
            CHECKF(same(y2, yref, n * m), "k %lld m %lld n %lld path %d isa %s: TERNARY differs from the reference",
                   (long long)k, (long long)m, (long long)n, (int)path, lt_isa_name(isas[i]));
            for (int threads = 1; threads <= 2; threads++) {
                memset(y, 0xFF, yb);
                lt_qweight_matmul_path(w3, a, y, threads == 2 ? pool2 : NULL, path);
                int64_t e = 0;
                while (e < n * m && !memcmp(&y[e], &yref[e], sizeof(float))) e++;
                CHECKF(e == n * m, "k %lld m %lld n %lld path %d isa %s threads %d: TERN3 differs at [%lld][%lld]: %g vs %g",
                       (long long)k, (long long)m, (long long)n, (int)path, lt_isa_name(isas[i]), threads,
                       (long long)(e / m), (long long)(e % m), e < n * m ? y[e] : 0, e < n * m ? yref[e] : 0);
            }
        }
#if defined(LUTLM_HAVE_X86_KERNELS)
        if (path == LT_PATH_AUTO && lt_isa_set(LT_ISA_AVX2)) /* n = 100: 96 by tlut, 4 by the int8 GEMM */
            CHECKF(lt_tlut_auto(w3, n / 32 * 32), "k %lld n %lld: AUTO does not take tlut on AVX2", (long long)k, (long long)n);
        if (path == LT_PATH_AUTO && lt_isa_set(LT_ISA_AVX512)) /* the VNNI int8 GEMM is faster there */
            CHECKF(!lt_tlut_auto(w3, n / 32 * 32), "k %lld n %lld: AUTO takes tlut on AVX-512", (long long)k, (long long)n);
#endif
        for (int i = 0; i < n_isas && path == LT_PATH_AUTO; i++) { /* several weights in one region (tlut or the int8 GEMM by n) */
            lt_isa_set(isas[i]);
            const lt_qweight *ws[3] = { w3, w3b, w3 };
            float *ys[3] = { y, yb3, yc };
            memset(y, 0xFF, yb);
            memset(yc, 0xFF, yb);
            memset(yb3, 0xFF, ybb);
            lt_qweight_matmul_many(ws, 3, a, ys, pool2);
            CHECKF(same(y, yref, n * m) && same(yc, yref, n * m) && same(yb3, ybref, n * (m + 9)),
                   "k %lld m %lld n %lld isa %s: lt_qweight_matmul_many on TERN3 differs", (long long)k, (long long)m,
                   (long long)n, lt_isa_name(isas[i]));
        }
        free(x); free(yref); free(y); free(y2); free(ybref); free(yb3); free(yc);
    }
    lt_act_free(a);
done:
    lt_qweight_free(w2); lt_qweight_free(w3); lt_qweight_free(w2b); lt_qweight_free(w3b);
    free(data);
    free(datab);
}

int main(void) {
    test_rng_seed(42);
    if (!lt_isa_available(LT_ISA_AVX2)) {
        fprintf(stderr, "no AVX2: TERN3 is read by the reference only\n");
        return TEST_DONE();
    }
    pool2 = lt_pool_create(2);
    isas[n_isas++] = LT_ISA_AVX2;
    if (lt_isa_available(LT_ISA_AVX512)) isas[n_isas++] = LT_ISA_AVX512;
    static const int64_t ks[] = { 42, 100, 2560, 6912 }, ms[] = { 1, 32, 70 };
    static const int64_t gemm_n[] = { 4, 5, 7, 13, 31, 33, 128, 200 }, auto_n[] = { 32, 64, 100, 128 };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) {
            check_shape(ks[i], ms[j], gemm_n, (int)LT_ARRAY_LEN(gemm_n), LT_PATH_GEMM);
            check_shape(ks[i], ms[j], auto_n, (int)LT_ARRAY_LEN(auto_n), LT_PATH_AUTO);
        }
    lt_pool_free(pool2);
    return TEST_DONE();
}
