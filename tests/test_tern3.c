/* The TERN3 layout (kernels_impl.h, lt_qkind): packing a per-row ternary weight and reading it back
 * gives every code, and every path's outputs equal TERNARY's bit for bit (both exact integer dots);
 * the AVX2 GEMV (x86/gemv_t3_avx2.c) equals lt_gemv_ref bit for bit, through the dispatch and
 * called directly (whatever LUTLM_ISA says, where the CPU runs AVX2). */
#include "common/threadpool.h"
#include "formats/formats.h"
#include "kernels/kernels_impl.h"
#include "test_kernel_util.h"

/* Weight codes: random, or all one value (the byte sums' extremes with extreme activations). */
enum { CODES_RANDOM = 2 };

/* A TERN2 tensor of m rows x k with codes `fill` (-1, 0, 1 or CODES_RANDOM) and one scale (BitNet). */
static void *make_tern2_fill(int64_t k, int64_t m, int8_t *codes, lt_tensor *t, int fill) {
    for (int64_t i = 0; i < k * m; i++) codes[i] = fill == CODES_RANDOM ? (int8_t)(test_rnd() % 3) - 1 : (int8_t)fill;
    return test_tern2_tensor(k, m, codes, t);
}

static void *make_tern2(int64_t k, int64_t m, int8_t *codes, lt_tensor *t) {
    return make_tern2_fill(k, m, codes, t, CODES_RANDOM);
}

static void check_shape(int64_t k, int64_t m, int n) {
    int8_t *codes = malloc((size_t)(k * m));
    lt_tensor t;
    void *data = make_tern2(k, m, codes, &t);
    lt_qweight *w2 = lt_qweight_from_tensor(&t), *w3 = lt_qweight_from_tensor_tern3(&t);
    CHECKF(w2 && w3, "k %lld m %lld: %s", (long long)k, (long long)m, lt_error());
    if (w2 && w3) {
        CHECK(w3->kind == LT_QK_TERN3 && w3->kp % LT_T3_BLOCK == 0 && w3->kp >= k && w3->kp - k < LT_T3_BLOCK);
        int bad = 0;
        for (int64_t r = 0; r < m; r++)
            for (int64_t i = 0; i < w3->kp; i++)
                if (lt_qw_code(w3, r, i) != (i < k ? codes[r * k + i] : 0) && bad++ < 3)
                    fprintf(stderr, "k %lld m %lld: code (%lld, %lld) = %d\n", (long long)k, (long long)m, (long long)r,
                            (long long)i, lt_qw_code(w3, r, i));
        CHECKF(bad == 0, "k %lld m %lld: codes read back", (long long)k, (long long)m);
        /* padding to 42 costs more on small K; w2 is TERN3 too when LUTLM_TERN3=1 (tern3.cmake sets 0) */
        CHECK(lt_qweight_bytes(w3) < lt_qweight_bytes(w2) || k < 1000 || w2->kind == LT_QK_TERN3);
        float *x = malloc(sizeof(float) * (size_t)(k * n));
        float *y2 = malloc(sizeof(float) * (size_t)(m * n)), *y3 = malloc(sizeof(float) * (size_t)(m * n));
        for (int64_t i = 0; i < k * n; i++) x[i] = test_frand();
        const lt_kernel_path paths[] = { LT_PATH_AUTO, LT_PATH_GEMV, LT_PATH_VLUT, LT_PATH_GEMM };
        for (int p = 0; p < 4; p++) {
            lt_act *a = lt_act_new();
            CHECK(a && lt_act_prepare(a, x, n, k));
            lt_qweight_matmul_path(w2, a, y2, NULL, LT_PATH_GEMV);
            lt_qweight_matmul_path(w3, a, y3, NULL, paths[p]);
            CHECKF(memcmp(y2, y3, sizeof(float) * (size_t)(m * n)) == 0, "k %lld m %lld n %d path %d: outputs differ",
                   (long long)k, (long long)m, n, p);
            lt_act_free(a);
        }
        /* The baseline layout of a TERN3 weight (codes read back by lt_qw_code) and its kernel. */
        CHECK(lt_qweight_add_baseline(w3));
        lt_qweight_matmul_baseline(w3, x, n, y3, NULL);
        CHECKF(memcmp(y2, y3, sizeof(float) * (size_t)(m * n)) == 0, "k %lld m %lld n %d baseline: outputs differ",
               (long long)k, (long long)m, n);
        free(x); free(y2); free(y3);
    }
    lt_qweight_free(w2);
    lt_qweight_free(w3);
    free(codes);
    free(data);
}

/* Activations: random in [-1, 1), or the extremes: all +1 (every q = 127), all -1, alternating. */
enum { X_RANDOM, X_PLUS, X_MINUS, X_ALTERNATE, X_ZERO };
static void fill_x(float *x, int64_t count, int kind) {
    for (int64_t i = 0; i < count; i++)
        x[i] = kind == X_RANDOM ? test_frand() : kind == X_PLUS ? 1.0f : kind == X_MINUS ? -1.0f
             : kind == X_ALTERNATE ? (i % 2 ? -1.0f : 1.0f) : 0.0f;
}

/* The TERN3 GEMV against lt_gemv_ref, bit for bit: through the dispatch (LT_PATH_GEMV, one thread
 * and a pool of two) and, on x86 with AVX2, by direct calls (tables in three shares, tiles in two
 * ranges). */
static void check_gemv(int64_t k, int64_t m, int n, int codes_fill, int x_kind, lt_pool *pool) {
    int8_t *codes = malloc((size_t)(k * m));
    lt_tensor t;
    void *data = make_tern2_fill(k, m, codes, &t, codes_fill);
    lt_qweight *w = lt_qweight_from_tensor_tern3(&t);
    CHECKF(w != NULL, "k %lld m %lld: %s", (long long)k, (long long)m, lt_error());
    float *x = malloc(sizeof(float) * (size_t)(k * n));
    size_t ybytes = sizeof(float) * (size_t)(m * n);
    float *yref = malloc(ybytes), *y = malloc(ybytes);
    lt_act *a = lt_act_new();
    fill_x(x, k * n, x_kind);
    if (w && a && lt_act_prepare(a, x, n, k)) {
        lt_gemv_ref(w, a, 0, w->ntiles, yref);
        for (int p = 0; p < 2; p++) {
            memset(y, 0xFF, ybytes);
            lt_qweight_matmul_path(w, a, y, p ? pool : NULL, LT_PATH_GEMV);
            CHECKF(memcmp(y, yref, ybytes) == 0, "dispatch k %lld m %lld n %d codes %d x %d pool %d: differs from lt_gemv_ref",
                   (long long)k, (long long)m, n, codes_fill, x_kind, p);
        }
#if defined(LUTLM_HAVE_X86_KERNELS)
        if (lt_isa_available(LT_ISA_AVX2)) {
            CHECK(lt_act_reserve_gemv(a, LT_QK_TERN3, w->nslots, lt_gemv_t3_tables_avx2) >= 0);
            a->gemv_slots[LT_QK_TERN3] = w->nslots;
            for (int share = 0; share < 3; share++) lt_gemv_t3_tables_avx2(a, LT_QK_TERN3, w->nslots, share, 3);
            memset(y, 0xFF, ybytes);
            int64_t mid = w->ntiles / 2;
            lt_gemv_t3_avx2(w, a, mid, w->ntiles, y);
            lt_gemv_t3_avx2(w, a, 0, mid, y);
            CHECKF(memcmp(y, yref, ybytes) == 0, "direct k %lld m %lld n %d codes %d x %d: differs from lt_gemv_ref",
                   (long long)k, (long long)m, n, codes_fill, x_kind);
        }
#endif
    } else {
        CHECKF(false, "k %lld m %lld n %d: activations", (long long)k, (long long)m, n);
    }
    lt_act_free(a);
    free(x); free(y); free(yref);
    lt_qweight_free(w);
    free(codes);
    free(data);
}

/* lt_qweight_from_tensor's choice: TERN3 for per-row ternary weights where LUTLM_TERN3=1 and the
 * active ISA is the AVX2 or a NEON level, TERNARY otherwise (and for ternary weights with block scales). */
static void check_selection(void) {
    const char *env = getenv("LUTLM_TERN3");
    lt_isa isa = lt_isa_active();
    bool on = env && env[0] == '1' &&
              (isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512 || isa == LT_ISA_NEON || isa == LT_ISA_NEON_DOTPROD);
    CHECK(lt_tern3_enabled() == (env && env[0] == '1'));
    int8_t *codes = malloc(2560 * 64);
    lt_tensor t;
    void *data = make_tern2(2560, 64, codes, &t);
    lt_qweight *w = lt_qweight_from_tensor(&t), *w3 = lt_qweight_from_tensor_tern3(&t);
    CHECKF(w && w3 && w->kind == (on ? LT_QK_TERN3 : LT_QK_TERNARY), "per-row ternary: kind %d (TERN3 expected: %d)",
           w ? (int)w->kind : -1, on);
    if (w && w3) CHECK(on ? lt_qweight_bytes(w) == lt_qweight_bytes(w3) : lt_qweight_bytes(w) > lt_qweight_bytes(w3));
    lt_qweight_free(w);
    lt_qweight_free(w3);
    free(data);
    /* TQ2_0 with two block scales per row: not per-row, so TERNARY (and no TERN3 at all). */
    const lt_format *tq2 = lt_format_by_name("tq2_0");
    float *src = malloc(sizeof(float) * 512 * 32);
    for (int64_t i = 0; i < 512 * 32; i++) src[i] = (i % 512 < 256 ? 0.75f : 0.5f) * (float)((int)(test_rnd() % 3) - 1);
    int64_t ne[2] = { 512, 32 };
    uint64_t bytes = 0;
    CHECK(tq2 && lt_format_tensor_bytes(tq2, ne, 2, &bytes));
    data = malloc(bytes);
    CHECK(tq2->quantize(src, 512, 32, data));
    t = (lt_tensor){ .name = "w", .fmt = tq2, .n_dims = 2, .ne = { 512, 32, 1, 1 }, .data = data, .nbytes = bytes };
    w = lt_qweight_from_tensor(&t);
    CHECKF(w && w->kind == LT_QK_TERNARY && !w->per_row, "block-scaled ternary: %s", w ? "not TERNARY" : lt_error());
    CHECK(lt_qweight_from_tensor_tern3(&t) == NULL);
    lt_qweight_free(w);
    free(data);
    free(src);
    free(codes);
}

/* `test_tern3 select`: the layout choice only (run with LUTLM_TERN3=1 by tern3.cmake). */
int main(int argc, char **argv) {
    test_rng_seed(3);
    check_selection();
    if (argc > 1 && !strcmp(argv[1], "select")) return TEST_DONE();
    static const int64_t ks[] = { 42, 64, 100, 2560 }, ms[] = { 1, 32, 70 };
    static const int ns[] = { 1, 3, 40 };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int q = 0; q < 3; q++) check_shape(ks[i], ms[j], ns[q]);
    lt_pool *pool = lt_pool_create(2);
    static const int64_t gk[] = { 42, 64, 100, 2560, 6912 }, gm[] = { 1, 31, 32, 70 };
    static const int gn[] = { 1, 2, 3, 5 };
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            for (int q = 0; q < 4; q++) check_gemv(gk[i], gm[j], gn[q], CODES_RANDOM, X_RANDOM, pool);
    /* The byte and word sums' extremes (|L|, |H| = 24 per group with q = ±127) and a zero token. */
    static const int fills[] = { 1, -1, 0, CODES_RANDOM };
    static const int xs[] = { X_PLUS, X_MINUS, X_ALTERNATE, X_ZERO };
    for (int f = 0; f < 4; f++)
        for (int x = 0; x < 4; x++) check_gemv(6912, 33, 2, fills[f], xs[x], pool);
    lt_pool_free(pool);
    return TEST_DONE();
}
