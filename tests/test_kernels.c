/* LUT kernel tests.
 *  - The scalar reference equals dequantize-then-F32 matmul within the activation-quantization
 *    bound: |y_ref - y_f32| <= (0.5 * a) * Σ_k |w_k| (+ float rounding), a = max|x| / 127.
 *  - Every SIMD kernel (GEMV, vector-LUT GEMM, int8 GEMM) and the int8 baseline equal the scalar reference
 *    exactly, for every format, every ISA level the machine has, N in {1,2,3,8,31,64,257} and
 *    awkward shapes (K = 172, 256, 2560, 6912; M = 1, 17, 640, 2560). Per-row ternary weights are
 *    repacked as TERN3 (x86 and NEON), so they check each level's TERN3 GEMV.
 * Built twice: test_kernels (label unit: a small matrix) and test_kernels_isa (KERNELS_FULL: all). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/threadpool.h"
#include "common/util.h"
#include "formats/lut_formats.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h"
#include "test_util.h"


/* Weights for a format: ternary t * s (s per 256-block if block_scales), or smooth floats for INTn. */
static float *make_weights(const lt_format *fmt, int64_t k, int64_t m, bool block_scales) {
    float *w = malloc((size_t)(k * m) * sizeof(float));
    for (int64_t r = 0; r < m; r++)
        for (int64_t i = 0; i < k; i++) {
            if (fmt->ternary) {
                float s = block_scales ? 0.02f * (float)(1 + (r * 7 + i / 256) % 5) : 0.0173f;
                w[r * k + i] = (float)((int)(test_rnd() % 3) - 1) * s;
            } else {
                w[r * k + i] = 0.05f * test_frand() + 0.01f * sinf((float)(r + i));
            }
        }
    return w;
}

static float *make_acts(int64_t k, int64_t n) {
    float *x = malloc((size_t)(k * n) * sizeof(float));
    for (int64_t t = 0; t < n; t++)
        for (int64_t i = 0; i < k; i++) {
            float v = test_frand() * (1.0f + (float)(t % 4));
            if (t % 5 == 3 && i == 7 % k) v = 40.0f; /* an outlier: most q become small */
            if (t == 1) v = 0.0f;                    /* an all-zero token */
            x[t * k + i] = v;
        }
    return x;
}

typedef struct {
    lt_tensor t;
    void *data;
    float *deq; /* [m][k] dequantized by the format itself */
} tensor_fixture;

static bool make_tensor(tensor_fixture *f, const lt_format *fmt, int64_t k, int64_t m, bool block_scales) {
    memset(f, 0, sizeof *f);
    int64_t ne[2] = { k, m };
    uint64_t bytes;
    if (!lt_format_tensor_bytes(fmt, ne, 2, &bytes)) return false;
    float *w = make_weights(fmt, k, m, block_scales);
    f->data = calloc(1, (size_t)bytes + 64);
    bool ok = fmt->quantize(w, k, m, f->data);
    free(w);
    if (!ok) {
        free(f->data);
        return false;
    }
    f->t = (lt_tensor){ .name = "w", .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = f->data, .nbytes = bytes };
    f->deq = malloc((size_t)(k * m) * sizeof(float));
    for (int64_t r = 0; r < m; r++) lt_tensor_dequantize_row(&f->t, r, f->deq + r * k);
    return true;
}

static void free_tensor(tensor_fixture *f) {
    free(f->data);
    free(f->deq);
}

static int bitwise_mismatches(const float *a, const float *b, int64_t count, int64_t *first) {
    int bad = 0;
    for (int64_t i = 0; i < count; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            if (!bad) *first = i;
            bad++;
        }
    return bad;
}

/* Reference vs float math on the dequantized weights, within the documented bound. */
static void check_ref_vs_f32(const char *what, const tensor_fixture *f, const float *x, int64_t n, const float *y) {
    int64_t k = f->t.ne[0], m = f->t.ne[1];
    int bad = 0;
    double worst = 0;
    for (int64_t t = 0; t < n; t++) {
        float amax = 0;
        for (int64_t i = 0; i < k; i++) amax = fmaxf(amax, fabsf(x[t * k + i]));
        double step = amax > 0 ? amax / 127.0 : 0;
        for (int64_t r = 0; r < m; r++) {
            double exact = 0, wabs = 0, mag = 0;
            for (int64_t i = 0; i < k; i++) {
                exact += (double)f->deq[r * k + i] * x[t * k + i];
                wabs += fabs(f->deq[r * k + i]);
                mag += fabs((double)f->deq[r * k + i] * x[t * k + i]);
            }
            double bound = 0.5 * step * wabs * 1.0001 + 1e-5 * (mag + wabs * amax) + 1e-6;
            double err = fabs(y[t * m + r] - exact);
            if (err > bound) bad++;
            if (err / bound > worst) worst = err / bound;
        }
    }
    CHECKF(bad == 0, "%s: %d outputs outside the quantization bound (worst %.2f of the bound)", what, bad, worst);
}

static lt_pool *pool2;
static int n_isas;
static lt_isa isas[4];

/* All checks for one format, shape and token count. */
static void check_case(const lt_format *fmt, int64_t k, int64_t m, const int64_t *ns, int nn, bool block_scales) {
    tensor_fixture f;
    if (!make_tensor(&f, fmt, k, m, block_scales)) {
        lt_clear_error(); /* the format cannot hold this shape (e.g. TQ*: K % 256) */
        return;
    }
    /* Repacked on the best level: per-row ternary weights become TERN3 there (unless LUTLM_TERN3=0),
     * so the ISA loop below runs every level's TERN3 GEMV (AVX2, AVX-512, NEON) on them. */
    lt_isa_set(lt_isa_detect());
    lt_qweight *w = lt_qweight_from_tensor(&f.t);
    CHECKF(w != NULL, "%s [%lld, %lld]: %s", fmt->name, (long long)k, (long long)m, lt_error());
    if (!w) {
        free_tensor(&f);
        return;
    }
    if (fmt->ternary && w->per_row && lt_tern3_enabled() && n_isas > 0)
        CHECKF(w->kind == LT_QK_TERN3, "%s [%lld, %lld]: per-row ternary weights not TERN3 on %s", fmt->name, (long long)k,
               (long long)m, lt_isa_name(lt_isa_detect()));
    CHECK(lt_qweight_add_baseline(w) && lt_qweight_add_f32(w));
    for (int in = 0; in < nn; in++) {
        int64_t n = ns[in];
        float *x = make_acts(k, n);
        size_t ybytes = (size_t)(n * m) * sizeof(float);
        float *yref = malloc(ybytes), *y = malloc(ybytes);
        char what[160];
        snprintf(what, sizeof what, "%s%s K=%lld M=%lld N=%lld", fmt->name, block_scales ? " (block scales)" : "",
                 (long long)k, (long long)m, (long long)n);
        lt_isa_set(LT_ISA_SCALAR);
        lt_qweight_matmul(w, x, n, yref, NULL);
        check_ref_vs_f32(what, &f, x, n, yref);
        /* The F32 baseline is the same math as the check above. */
        lt_qweight_matmul_f32(w, x, n, y, NULL);
        check_ref_vs_f32(what, &f, x, n, y);
        /* The scalar baseline (decoding its own 2/4-bit packing) equals the reference too. */
        memset(y, 0xFF, ybytes);
        lt_qweight_matmul_baseline(w, x, n, y, NULL);
        int64_t first0 = 0;
        int bad0 = bitwise_mismatches(yref, y, n * m, &first0);
        CHECKF(bad0 == 0, "%s scalar baseline: %d mismatches, first at %lld", what, bad0, (long long)first0);
        lt_act *act = lt_act_new();
        CHECK(lt_act_prepare(act, x, n, k));
        for (int i = 0; i < n_isas; i++) {
            CHECK(lt_isa_set(isas[i]));
            for (int path = LT_PATH_GEMV; path <= LT_PATH_GEMM; path++)
                for (int threads = 1; threads <= 2; threads++) {
                    memset(y, 0xFF, ybytes);
                    lt_qweight_matmul_path(w, act, y, threads == 2 ? pool2 : NULL, (lt_kernel_path)path);
                    int64_t first = 0;
                    int bad = bitwise_mismatches(yref, y, n * m, &first);
                    CHECKF(bad == 0, "%s isa=%s path=%s threads=%d: %d mismatches, first at %lld: %g vs ref %g", what,
                           lt_isa_name(isas[i]), path == LT_PATH_GEMV ? "gemv" : path == LT_PATH_VLUT ? "vlut" : "gemm", threads, bad,
                           (long long)first, bad ? y[first] : 0, bad ? yref[first] : 0);
                }
            if (isas[i] != LT_ISA_AVX2 && isas[i] != LT_ISA_AVX512) continue; /* no other SIMD baseline */
            memset(y, 0xFF, ybytes);
            lt_qweight_matmul_baseline(w, x, n, y, pool2);
            int64_t first = 0;
            int bad = bitwise_mismatches(yref, y, n * m, &first);
            CHECKF(bad == 0, "%s isa=%s baseline: %d mismatches, first at %lld: %g vs ref %g", what,
                   lt_isa_name(isas[i]), bad, (long long)first, bad ? y[first] : 0, bad ? yref[first] : 0);
            lt_qweight_matmul_f32(w, x, n, y, pool2);
            check_ref_vs_f32(what, &f, x, n, y);
        }
        lt_act_free(act);
        free(x);
        free(yref);
        free(y);
    }
    lt_qweight_free(w);
    free_tensor(&f);
}

/* The activation quantization (runbit.c's): a = max|x| / 127, q = round(x / a) half away from zero,
 * y = dot * (s * a); ties are exact when max|x| = 127 (a = 1). */
static void test_activation_semantics(void) {
    tensor_fixture f;
    const lt_format *fmt = lt_format_by_type(LT_TYPE_TERN2);
    CHECK(fmt && make_tensor(&f, fmt, 8, 1, false));
    if (!fmt) return;
    /* weight row e_0 + e_1 + e_2 + e_3 */
    float wrow[8] = { 1, 1, 1, 1, 0, 0, 0, 0 };
    CHECK(fmt->quantize(wrow, 8, 1, f.data));
    lt_qweight *w = lt_qweight_from_tensor(&f.t);
    CHECK(w != NULL);
    float y;
    for (int isa = LT_ISA_SCALAR; isa <= LT_ISA_NEON_DOTPROD; isa++) {
        if (!lt_isa_set((lt_isa)isa)) continue;
        /* q = 127, -64 (-63.5 away from zero), 32 (31.75), 0; y = 95 * (1 * a), a = 1/127 */
        float x1[8] = { 1.0f, -0.5f, 0.25f, 0.0f, 0.0f, 0.0f, 0.999f, -1.0f };
        lt_qweight_matmul(w, x1, 1, &y, NULL);
        CHECKF(y == 95.0f * (float)(1.0 / 127.0), "%s: y = %.9g", lt_isa_name((lt_isa)isa), y);
        /* a = 1: q = 127, 3 (2.5), -3 (-2.5), 4 (3.5): half to even would give 127 + 2 - 2 + 4 */
        float x2[8] = { 127.0f, 2.5f, -2.5f, 3.5f, 0.0f, 0.0f, 0.0f, 0.0f };
        lt_qweight_matmul(w, x2, 1, &y, NULL);
        CHECKF(y == 131.0f, "%s: y = %.9g (ties must round away from zero)", lt_isa_name((lt_isa)isa), y);
        /* all-zero token */
        float x3[8] = { 0 };
        lt_qweight_matmul(w, x3, 1, &y, NULL);
        CHECK(y == 0.0f);
    }
    lt_isa_set(lt_isa_detect());
    lt_qweight_free(w);
    free_tensor(&f);
}

/* The GEMV's limits: AVX2 splits q = 16 qh + ql and adds table bytes of two slot pairs (<= 240)
 * before widening, then int16 sums over chunks of slots. Activations at the extremes of the
 * split (q = -113: ql = 15, qh = -8; q = 127: ql = 15, qh = 7; -128 + 1 = -127: qh = -8) against
 * rows of all +1 / all -1 / all-max codes reach those limits; every ISA must equal the reference. */
static void check_extreme(const lt_format *fmt, int64_t k, int64_t m) {
    float *w = malloc((size_t)(k * m) * sizeof(float));
    for (int64_t r = 0; r < m; r++)
        for (int64_t i = 0; i < k; i++) {
            /* rows: all +1, all -1, alternating, a fixed mix (no test_rnd(): the other cases keep their draws) */
            float v = r % 4 == 0 ? 1.0f : r % 4 == 1 ? -1.0f : r % 4 == 2 ? (i % 2 ? 1.0f : -1.0f)
                                                                          : (float)((int)((r * 7 + i * 5) % 3) - 1);
            /* INTn: codes all 2^n - 1 except the first of every 32 (group min) */
            if (!fmt->ternary) v = r % 4 == 1 ? (i % 32 ? 0.0f : 1.0f) : (i % 32 ? 1.0f : -1.0f);
            w[r * k + i] = v;
        }
    int64_t ne[2] = { k, m };
    uint64_t bytes;
    CHECK(lt_format_tensor_bytes(fmt, ne, 2, &bytes));
    void *data = calloc(1, (size_t)bytes + 64);
    CHECK(fmt->quantize(w, k, m, data));
    lt_tensor t = { .name = "w", .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
    lt_qweight *qw = lt_qweight_from_tensor(&t);
    CHECKF(qw != NULL, "%s: %s", fmt->name, lt_error());
    enum { N = 4 };
    static const float fill[N] = { -113.0f, 127.0f, -127.0f, 112.0f };
    float *x = malloc((size_t)(k * N) * sizeof(float));
    for (int n = 0; n < N; n++)
        for (int64_t i = 0; i < k; i++) x[n * k + i] = i == 0 ? 127.0f : fill[n]; /* a = 1: q = x exactly */
    float *yref = malloc((size_t)(m * N) * sizeof(float)), *y = malloc((size_t)(m * N) * sizeof(float));
    lt_act *act = lt_act_new();
    CHECK(qw && lt_act_prepare(act, x, N, k));
    for (int i = 0; qw && i < n_isas; i++) {
        lt_isa_set(LT_ISA_SCALAR);
        lt_qweight_matmul_path(qw, act, yref, NULL, LT_PATH_GEMV);
        CHECK(lt_isa_set(isas[i]));
        memset(y, 0xFF, (size_t)(m * N) * sizeof(float));
        lt_qweight_matmul_path(qw, act, y, pool2, LT_PATH_GEMV);
        int64_t first = 0;
        int bad = bitwise_mismatches(yref, y, m * N, &first);
        CHECKF(bad == 0, "%s K=%lld extreme activations isa=%s: %d mismatches, first at %lld: %g vs ref %g", fmt->name,
               (long long)k, lt_isa_name(isas[i]), bad, (long long)first, bad ? y[first] : 0, bad ? yref[first] : 0);
    }
    lt_isa_set(lt_isa_detect());
    lt_act_free(act);
    lt_qweight_free(qw);
    free(w); free(x); free(y); free(yref); free(data);
}

static void test_isa_api(void) {
    lt_isa det = lt_isa_detect();
    CHECK(lt_isa_available(LT_ISA_SCALAR));
    CHECK(lt_isa_available(det));
    CHECK(strcmp(lt_isa_name(LT_ISA_AVX2), "avx2") == 0);
    CHECK(!lt_isa_set(LT_ISA_NEON) || det == LT_ISA_NEON || det == LT_ISA_NEON_DOTPROD);
    CHECK(lt_isa_set(LT_ISA_SCALAR) && lt_isa_active() == LT_ISA_SCALAR);
    CHECK(lt_isa_set(det) && lt_isa_active() == det);
    CHECK(!lt_kernels_supports(lt_format_by_type(LT_TYPE_F32)));
    CHECK(lt_kernels_supports(lt_format_by_type(LT_TYPE_I2_S)));
    lt_tensor t = { .fmt = lt_format_by_type(LT_TYPE_F32), .ne = { 4, 4, 1, 1 }, .data = "" };
    CHECK(lt_qweight_from_tensor(&t) == NULL && strlen(lt_error()) > 0);
}

/* lut formats: ternary round trip is exact, INTn within half a step. */
static void test_lut_formats(void) {
    const lt_format *t16 = lt_format_by_type(LT_TYPE_LUT_T16);
    CHECK(t16 && strcmp(t16->name, "lut_t16") == 0);
    tensor_fixture f;
    CHECK(make_tensor(&f, t16, 700, 3, false));
    float *w = make_weights(t16, 1, 1, false); /* advance nothing; just exercise */
    free(w);
    for (int64_t i = 0; i < 700 * 3; i++) {
        float v = f.deq[i];
        CHECK(v == 0.0f || fabsf(fabsf(v) - 0.0173f) < 0.0173f * 1e-3f);
    }
    free_tensor(&f);
    for (int bits = 1; bits <= 4; bits++)
        for (int g = 32; g <= 128; g *= 2) {
            const lt_format *fmt = lt_format_by_type(lt_lut_int_type(bits, g));
            CHECK(fmt && lt_lut_int_bits(fmt->type_id) == bits && lt_lut_int_group(fmt->type_id) == g);
            if (!fmt) continue;
            int64_t k = 172, m = 5;
            float *src = make_weights(fmt, k, m, false);
            int64_t ne[2] = { k, m };
            uint64_t bytes;
            CHECK(lt_format_tensor_bytes(fmt, ne, 2, &bytes));
            CHECK(bytes == (uint64_t)m * (uint64_t)((k + g - 1) / g) * (4u + (uint64_t)bits * (uint64_t)g / 8));
            void *data = calloc(1, bytes);
            CHECK(fmt->quantize(src, k, m, data));
            lt_tensor t = { .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
            float row[172];
            int bad = 0;
            for (int64_t r = 0; r < m; r++) {
                lt_tensor_dequantize_row(&t, r, row);
                for (int64_t i = 0; i < k; i++) {
                    /* step = (max - min) / (2^bits - 1) <= 0.12 / (2^bits - 1), plus f16 rounding */
                    double tol = 0.5 * 0.125 / ((1 << bits) - 1) + 2e-3;
                    if (fabs(row[i] - src[r * k + i]) > tol) bad++;
                }
            }
            CHECKF(bad == 0, "%s: %d weights off by more than half a step", fmt->name, bad);
            free(data);
            free(src);
        }
}

int main(void) {
    test_isa_api();
    pool2 = lt_pool_create(2);
    for (int i = LT_ISA_AVX2; i <= LT_ISA_NEON_DOTPROD; i++)
        if (lt_isa_available((lt_isa)i)) isas[n_isas++] = (lt_isa)i;
    test_activation_semantics();
    check_extreme(lt_format_by_type(LT_TYPE_TERN2), 6912, 64);
    check_extreme(lt_format_by_type(LT_TYPE_TQ2_0), 2560, 32);
    check_extreme(lt_format_by_type(lt_lut_int_type(4, 128)), 2560, 32);
    check_extreme(lt_format_by_type(lt_lut_int_type(3, 32)), 512, 32);
    test_lut_formats();

    const uint32_t types[] = { LT_TYPE_TERN2, LT_TYPE_I2_S, LT_TYPE_TQ2_0, LT_TYPE_TQ1_0, LT_TYPE_LUT_T16,
                               lt_lut_int_type(1, 32), lt_lut_int_type(2, 64), lt_lut_int_type(3, 128),
                               lt_lut_int_type(4, 32), lt_lut_int_type(4, 128), lt_lut_int_type(2, 128),
                               lt_lut_int_type(1, 128), lt_lut_int_type(3, 32), lt_lut_int_type(2, 32),
                               lt_lut_int_type(4, 64), lt_lut_int_type(1, 64), lt_lut_int_type(3, 64) };
#ifdef KERNELS_FULL
    const int ntypes = (int)LT_ARRAY_LEN(types);
    static const int64_t all_n[] = { 1, 2, 3, 8, 31, 64, 257 }, few_n[] = { 1, 3, 31 }, one_n[] = { 1, 8 };
#if defined(__x86_64__) || defined(__i386__)
    struct { int64_t k, m; const int64_t *ns; int nn; } shapes[] = {
        { 172, 17, all_n, 7 }, { 256, 1, all_n, 7 }, { 256, 33, all_n, 7 }, { 2560, 640, few_n, 3 },
        { 6912, 17, all_n, 7 }, { 2560, 2560, one_n, 2 }, { 6912, 64, few_n, 3 },
    };
#else /* under qemu (10x slower): every N on the small shapes, a few on the large ones */
    struct { int64_t k, m; const int64_t *ns; int nn; } shapes[] = {
        { 172, 17, all_n, 7 }, { 256, 1, all_n, 7 }, { 256, 33, all_n, 7 }, { 2560, 640, one_n, 1 },
        { 6912, 17, few_n, 3 }, { 6912, 64, one_n, 1 },
    };
#endif
#else
    const int ntypes = 10;
    static const int64_t some_n[] = { 1, 3, 17 }, one_n[] = { 1 };
    struct { int64_t k, m; const int64_t *ns; int nn; } shapes[] = {
        { 172, 17, some_n, 3 }, { 256, 33, some_n, 3 }, { 2560, 40, one_n, 1 },
    };
#endif
    for (int ti = 0; ti < ntypes; ti++) {
        const lt_format *fmt = lt_format_by_type(types[ti]);
        CHECKF(fmt != NULL, "type %u not registered", types[ti]);
        if (!fmt) continue;
        for (size_t si = 0; si < LT_ARRAY_LEN(shapes); si++) {
            check_case(fmt, shapes[si].k, shapes[si].m, shapes[si].ns, shapes[si].nn, false);
            if (fmt->type_id == LT_TYPE_TQ2_0 || fmt->type_id == LT_TYPE_TQ1_0 || fmt->type_id == LT_TYPE_LUT_T16)
                check_case(fmt, shapes[si].k, shapes[si].m, shapes[si].ns, shapes[si].nn, true);
        }
    }
    lt_pool_free(pool2);
    return TEST_DONE();
}
