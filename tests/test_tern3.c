/* The TERN3 layout (kernels_impl.h, lt_qkind): packing a per-row ternary weight and reading it back
 * gives every code, and every path's outputs equal TERNARY's bit for bit (both exact integer dots);
 * the AVX2 and AVX-512 GEMVs (x86/gemv_t3_avx2.c, gemv_t3_avx512.c) equal lt_gemv_ref bit for bit,
 * through the dispatch on each level and called directly (whatever LUTLM_ISA says, where the CPU
 * runs the level). */
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

/* Activations: random in [-1, 1), or the extremes: all +1 (every q = 127), all -1, alternating; or
 * (X_INT8) int8 values written into xq past the quantizer (which gives |q| <= 127): -128, 127 and
 * the nibble split's edges (ql = -8 / 7, qh = -8 / 8). */
enum { X_RANDOM, X_PLUS, X_MINUS, X_ALTERNATE, X_ZERO, X_INT8 };
static void fill_x(float *x, int64_t count, int kind) {
    for (int64_t i = 0; i < count; i++)
        x[i] = kind == X_RANDOM || kind == X_INT8 ? test_frand() : kind == X_PLUS ? 1.0f : kind == X_MINUS ? -1.0f
             : kind == X_ALTERNATE ? (i % 2 ? -1.0f : 1.0f) : 0.0f;
}

static void overwrite_int8(lt_act *a) {
    static const int8_t edge[] = { -128, 127, -128, -128, 127, 127, -8, 7, -113, 120, -121, 119, 8, -9, 0, -1 };
    for (int64_t n = 0; n < a->n; n++)
        for (int64_t i = 0; i < a->k; i++)
            a->xq[n * a->kx + i] = (i + n) % 7 == 6 ? (int8_t)(test_rnd() % 256) : edge[(i / 3 + n) % 16];
}

#if defined(LUTLM_HAVE_X86_KERNELS)
/* The x86 TERN3 GEMV kernels by direct calls, tables and kernel from one ISA level. */
typedef struct {
    const char *name;
    lt_isa isa;
    lt_fill_fn tables;
    lt_lut_kernel gemv;
} t3_kernel;

static const t3_kernel x86_kernels[] = {
    { "avx2", LT_ISA_AVX2, lt_gemv_t3_tables_avx2, lt_gemv_t3_avx2 },
    { "avx512", LT_ISA_AVX512, lt_gemv_t3_tables_avx512, lt_gemv_t3_avx512 },
};

/* Tables in `shares` shares (the dispatch uses 8), then the tiles in the ranges that `cuts` splits
 * them into (descending order: a range never depends on an earlier call). */
static void run_direct(const t3_kernel *kern, const lt_qweight *w, lt_act *a, int shares, const int64_t *cuts, int ncuts,
                       float *y) {
    CHECK(lt_act_reserve_gemv(a, LT_QK_TERN3, w->nslots, kern->tables) >= 0);
    a->gemv_slots[LT_QK_TERN3] = w->nslots;
    for (int share = 0; share < shares; share++) kern->tables(a, LT_QK_TERN3, w->nslots, share, shares);
    for (int c = ncuts; c >= 0; c--) {
        int64_t t0 = c ? cuts[c - 1] : 0, t1 = c < ncuts ? cuts[c] : w->ntiles;
        if (t0 < t1) kern->gemv(w, a, t0, t1, y);
    }
}

/* The AVX-512 tables hold the AVX2 entries (32 bytes per block and group, L then H), two blocks'
 * interleaved per 64-byte slot, a lone last block as the AVX2 layout (gemv_t3_avx512.c). */
static bool avx512_tables_match(lt_act *a, int64_t nslots) {
    int64_t nblk = nslots / LT_T3_GROUPS, bytes = nslots * 32;
    uint8_t *t2 = malloc((size_t)(a->n * bytes)), *t5 = malloc((size_t)(a->n * bytes));
    lt_act_reserve_gemv(a, LT_QK_TERN3, nslots, lt_gemv_t3_tables_avx2);
    lt_gemv_t3_tables_avx2(a, LT_QK_TERN3, nslots, 0, 1);
    memcpy(t2, a->gemv_tab[LT_QK_TERN3], (size_t)(a->n * bytes));
    lt_act_reserve_gemv(a, LT_QK_TERN3, nslots, lt_gemv_t3_tables_avx512);
    lt_gemv_t3_tables_avx512(a, LT_QK_TERN3, nslots, 0, 1);
    memcpy(t5, a->gemv_tab[LT_QK_TERN3], (size_t)(a->n * bytes));
    bool same = true;
    for (int64_t n = 0; n < a->n; n++)
        for (int64_t b = 0; b < nblk; b++)
            for (int o = 0; o < LT_T3_GROUPS; o++) {
                const uint8_t *want = t2 + n * bytes + b * 448 + o * 32;
                bool lone = b == nblk - 1 && nblk % 2;
                const uint8_t *got = t5 + n * bytes + (b / 2) * 896 + (lone ? o * 32 : o * 64 + (b % 2) * 32);
                same = same && !memcmp(want, got, 32);
            }
    free(t2);
    free(t5);
    return same;
}
#endif

/* The TERN3 GEMV against lt_gemv_ref, bit for bit: through the dispatch (LT_PATH_GEMV, one thread
 * and a pool of two) on every level the CPU runs (the x86 levels share one lt_act: each must
 * rebuild the other's tables), and, on x86, each kernel by direct calls (tables in 1, 3 and 8
 * shares; tiles in one range, two, and ranges of one tile and odd lengths). */
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
        if (x_kind == X_INT8) overwrite_int8(a);
        lt_gemv_ref(w, a, 0, w->ntiles, yref);
        lt_isa active = lt_isa_active();
        for (int isa = LT_ISA_SCALAR; isa <= LT_ISA_NEON_DOTPROD; isa++) {
            if (!lt_isa_set((lt_isa)isa)) continue;
            for (int p = 0; p < 2; p++) {
                memset(y, 0xFF, ybytes);
                lt_qweight_matmul_path(w, a, y, p ? pool : NULL, LT_PATH_GEMV);
                CHECKF(memcmp(y, yref, ybytes) == 0,
                       "dispatch %s k %lld m %lld n %d codes %d x %d pool %d: differs from lt_gemv_ref",
                       lt_isa_name((lt_isa)isa), (long long)k, (long long)m, n, codes_fill, x_kind, p);
            }
        }
        lt_isa_set(active);
#if defined(LUTLM_HAVE_X86_KERNELS)
        int64_t nt = w->ntiles, halves[1] = { nt / 2 };
        int64_t pieces[4] = { LT_MIN(1, nt), LT_MIN(2, nt), LT_MIN(5, nt), LT_MAX(LT_MIN(5, nt), nt - 1) }; /* ascending */
        static const int shares[3] = { 1, 3, 8 };
        for (size_t kk = 0; kk < LT_ARRAY_LEN(x86_kernels); kk++) {
            const t3_kernel *kern = &x86_kernels[kk];
            if (!lt_isa_available(kern->isa)) continue;
            for (int split = 0; split < 3; split++) {
                memset(y, 0xFF, ybytes);
                run_direct(kern, w, a, shares[split], split == 2 ? pieces : halves, split == 0 ? 0 : split == 1 ? 1 : 4, y);
                CHECKF(memcmp(y, yref, ybytes) == 0, "direct %s k %lld m %lld n %d codes %d x %d split %d: differs from lt_gemv_ref",
                       kern->name, (long long)k, (long long)m, n, codes_fill, x_kind, split);
            }
        }
        if (lt_isa_available(LT_ISA_AVX512))
            CHECKF(avx512_tables_match(a, w->nslots), "k %lld n %d: AVX-512 tables differ from the AVX2 entries", (long long)k, n);
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
    /* K: 1 to 3 blocks (odd and even counts: the AVX-512 kernel takes blocks in pairs), K not a
     * multiple of 42 or 84, 61 / 62 / 165 blocks; M: tile counts 1 to 4, odd ones, partial tiles. */
    static const int64_t gk[] = { 42, 64, 84, 100, 126, 2560, 2600, 6912 }, gm[] = { 1, 31, 32, 70, 97 };
    static const int gn[] = { 1, 2, 3, 5 };
    for (size_t i = 0; i < LT_ARRAY_LEN(gk); i++)
        for (size_t j = 0; j < LT_ARRAY_LEN(gm); j++)
            for (size_t q = 0; q < LT_ARRAY_LEN(gn); q++) check_gemv(gk[i], gm[j], gn[q], CODES_RANDOM, X_RANDOM, pool);
    /* The byte and word sums' extremes (|L|, |H| = 24 per group with q = ±127, -128) and a zero
     * token; 6912 and 2600: the int16 word sums over the longest flush with an odd / even block count. */
    static const int fills[] = { 1, -1, 0, CODES_RANDOM };
    static const int xs[] = { X_PLUS, X_MINUS, X_ALTERNATE, X_ZERO, X_INT8 };
    for (size_t f = 0; f < LT_ARRAY_LEN(fills); f++)
        for (size_t x = 0; x < LT_ARRAY_LEN(xs); x++) {
            check_gemv(6912, 33, 2, fills[f], xs[x], pool);
            check_gemv(2600, 70, 1, fills[f], xs[x], pool);
        }
    lt_pool_free(pool);
    return TEST_DONE();
}
