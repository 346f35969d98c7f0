/* The int8 GEMM path (LT_PATH_GEMM) against the scalar reference, bit for bit: every kernel format
 * (ternary per row and per group, INT1-4 with groups 32/64/128), shapes with K and M not multiples
 * of 32, N = 1..257 (odd token counts, partial token blocks, every pass width of the AVX-512 GEMM),
 * 1 and 2 threads, on every SIMD level the machine has (AVX2 and AVX-512 here, NEON/dotprod under
 * qemu-aarch64). AUTO must agree as well. Both
 * activation rules; some tokens are all -128 and row 0 has maximal codes (int16 limits). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/threadpool.h"
#include "common/util.h"
#include "formats/lut_formats.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h" /* to set int8 activations to -128 (the ggml rule's range) */
#include "test_kernel_util.h"


/* Ternary weights t * s (s per 256-block when block_scales, so TQ/lut_t16 keep per-group scales),
 * or smooth floats for INTn. */
static lt_qweight *make_weight(const lt_format *fmt, int64_t k, int64_t m, bool block_scales) {
    float *w = malloc((size_t)(k * m) * sizeof(float));
    for (int64_t r = 0; r < m; r++)
        for (int64_t i = 0; i < k; i++) {
            if (fmt->ternary) {
                float s = block_scales ? 0.02f * (float)(1 + (r * 3 + i / 256) % 4) : 0.011f;
                w[r * k + i] = (float)((int)(test_rnd() % 3) - 1) * s;
            } else {
                w[r * k + i] = 0.07f * test_frand() + 0.02f * cosf((float)(r * 5 + i));
            }
            /* Row 0: the largest codes everywhere (ternary +1; INTn 2^n - 1 but for each group's
             * minimum at every 32nd weight), for the int16 limits with the ±127 tokens. */
            if (r == 0) w[i] = fmt->ternary ? 0.011f : (i % 32 == 0 ? -0.1f : 0.1f);
        }
    return test_qweight_from_floats(fmt, w, k, m);
}

static lt_pool *pool2;
static int n_isas;
static lt_isa isas[4];

static void check_case(const lt_format *fmt, int64_t k, int64_t m, const int64_t *ns, int nn, bool block_scales) {
    lt_qweight *w = make_weight(fmt, k, m, block_scales);
    if (!w) {
        lt_clear_error(); /* the format cannot hold this shape (TQ*: K % 256) */
        return;
    }
    lt_qweight *w2 = make_weight(fmt, k, m + 37, block_scales); /* another M, same layout shape */
    lt_act *act = lt_act_new();
    for (int in = 0; in < nn; in++) {
        int64_t n = ns[in];
        float *x = test_extreme_acts(k, n);
        size_t ybytes = (size_t)(n * m) * sizeof(float);
        float *yref = malloc(ybytes), *y = malloc(ybytes);
        CHECK(lt_act_prepare_rule(act, x, n, k, n % 2 ? LT_ACT_GGML : LT_ACT_RUNBIT));
        /* -128 everywhere in some tokens: the int16 limits must hold for [-128, 127] */
        for (int64_t t = 6; t < n; t += 13) memset(act->xq + t * act->kx, 0x80, (size_t)k);
        CHECK(lt_isa_set(LT_ISA_SCALAR));
        lt_qweight_matmul_path(w, act, yref, NULL, LT_PATH_GEMV);
        for (int i = 0; i < n_isas; i++) {
            CHECK(lt_isa_set(isas[i]));
            for (int run = 0; run < 3; run++) {
                lt_kernel_path path = run < 2 ? LT_PATH_GEMM : LT_PATH_AUTO;
                memset(y, 0xFF, ybytes);
                lt_qweight_matmul_path(w, act, y, run == 1 ? pool2 : NULL, path);
                int bad = 0;
                int64_t first = 0;
                for (int64_t e = 0; e < n * m; e++)
                    if (memcmp(&y[e], &yref[e], sizeof(float)) != 0 && !bad++) first = e;
                CHECKF(bad == 0, "%s%s K=%lld M=%lld N=%lld isa=%s %s threads=%d: %d mismatches, first [%lld][%lld] %g vs ref %g",
                       fmt->name, block_scales ? " (block scales)" : "", (long long)k, (long long)m, (long long)n,
                       lt_isa_name(isas[i]), run < 2 ? "gemm" : "auto", run == 1 ? 2 : 1, bad, (long long)(first / m),
                       (long long)(first % m), bad ? y[first] : 0, bad ? yref[first] : 0);
            }
        }
        /* lt_qweight_matmul_many: [w, w2, w] in one region (w2 has other rows; a weight of another
         * shape forms its own region) gives each weight's own results */
        if (w2) {
            size_t y2bytes = (size_t)(n * w2->m) * sizeof(float);
            float *y2ref = malloc(y2bytes), *y2 = malloc(y2bytes), *y3 = malloc(ybytes);
            CHECK(lt_isa_set(LT_ISA_SCALAR));
            lt_qweight_matmul_path(w2, act, y2ref, NULL, LT_PATH_GEMV);
            for (int i = 0; i < n_isas; i++) {
                CHECK(lt_isa_set(isas[i]));
                for (int threads = 1; threads <= 2; threads++) {
                    const lt_qweight *ws[3] = { w, w2, w };
                    float *ys[3] = { y, y2, y3 };
                    memset(y, 0xFF, ybytes);
                    memset(y2, 0xFF, y2bytes);
                    memset(y3, 0xFF, ybytes);
                    lt_qweight_matmul_many(ws, 3, act, ys, threads == 2 ? pool2 : NULL);
                    CHECKF(!memcmp(y, yref, ybytes) && !memcmp(y2, y2ref, y2bytes) && !memcmp(y3, yref, ybytes),
                           "%s K=%lld N=%lld isa=%s threads=%d: lt_qweight_matmul_many differs from the reference",
                           fmt->name, (long long)k, (long long)n, lt_isa_name(isas[i]), threads);
                }
            }
            free(y2ref);
            free(y2);
            free(y3);
        }
        free(x);
        free(yref);
        free(y);
    }
    lt_act_free(act);
    lt_qweight_free(w);
    lt_qweight_free(w2);
}

int main(void) {
    test_rng_seed(0x2545F4914F6CDD1Dull);
    pool2 = lt_pool_create(2);
    for (int i = LT_ISA_AVX2; i <= LT_ISA_NEON_DOTPROD; i++)
        if (lt_isa_available((lt_isa)i)) isas[n_isas++] = (lt_isa)i;
    if (n_isas == 0) fprintf(stderr, "no SIMD level on this machine: nothing to compare\n");

    uint32_t types[32];
    int ntypes = 0;
    types[ntypes++] = LT_TYPE_TERN2;
    types[ntypes++] = LT_TYPE_I2_S;
    types[ntypes++] = LT_TYPE_TQ2_0;
    types[ntypes++] = LT_TYPE_TQ1_0;
    types[ntypes++] = LT_TYPE_LUT_T16;
    for (int bits = 1; bits <= 4; bits++)
        for (int g = 32; g <= 128; g *= 2) types[ntypes++] = lt_lut_int_type(bits, g);

    /* 4 .. 13 and 25: every pass width of the AVX-512 GEMM (1 .. 12 tokens, passes of near-equal size) */
    static const int64_t all_n[] = { 1, 2, 3, 4, 6, 7, 8, 9, 13, 16, 25, 31, 32, 33, 64, 128, 257 },
                         some_n[] = { 5, 33, 64 }, one_n[] = { 65 };
#if defined(__aarch64__) /* under qemu (10x slower): every N on the smallest shapes only */
    struct { int64_t k, m; const int64_t *ns; int nn; } shapes[] = {
        { 172, 17, all_n, (int)LT_ARRAY_LEN(all_n) }, { 256, 33, some_n, 3 }, { 704, 40, some_n, 3 }, { 2560, 40, one_n, 1 },
    };
#else
    struct { int64_t k, m; const int64_t *ns; int nn; } shapes[] = {
        { 172, 17, all_n, (int)LT_ARRAY_LEN(all_n) }, { 256, 33, all_n, (int)LT_ARRAY_LEN(all_n) }, { 704, 40, some_n, 3 }, { 2560, 70, some_n, 3 },
        { 6912, 33, one_n, 1 },
    };
#endif
    for (int ti = 0; ti < ntypes; ti++) {
        const lt_format *fmt = lt_format_by_type(types[ti]);
        CHECKF(fmt != NULL, "type %u not registered", types[ti]);
        if (!fmt) continue;
        bool blocks = fmt->type_id == LT_TYPE_TQ2_0 || fmt->type_id == LT_TYPE_TQ1_0 || fmt->type_id == LT_TYPE_LUT_T16;
        for (size_t si = 0; si < LT_ARRAY_LEN(shapes); si++) {
            check_case(fmt, shapes[si].k, shapes[si].m, shapes[si].ns, shapes[si].nn, false);
            if (blocks) check_case(fmt, shapes[si].k, shapes[si].m, shapes[si].ns, shapes[si].nn, true);
        }
    }
    lt_isa_set(lt_isa_detect());
    lt_pool_free(pool2);
    return TEST_DONE();
}
