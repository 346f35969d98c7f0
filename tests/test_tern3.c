/* The TERN3 layout (kernels_impl.h, lt_qkind): packing a per-row ternary weight and reading it back
 * gives every code, and every path's outputs equal TERNARY's bit for bit (both exact integer dots). */
#include "formats/formats.h"
#include "kernels/kernels_impl.h"
#include "test_util.h"

/* A TERN2 tensor of m rows x k with random codes and one scale (BitNet). */
static void *make_tern2(int64_t k, int64_t m, int8_t *codes, lt_tensor *t) {
    const lt_format *fmt = lt_format_by_name("tern2");
    float *src = malloc(sizeof(float) * (size_t)(k * m));
    for (int64_t i = 0; i < k * m; i++) {
        codes[i] = (int8_t)(test_rnd() % 3) - 1;
        src[i] = 0.75f * (float)codes[i];
    }
    int64_t ne[2] = { k, m };
    uint64_t bytes = 0;
    CHECK(lt_format_tensor_bytes(fmt, ne, 2, &bytes));
    void *data = malloc(bytes);
    fmt->quantize(src, k, m, data);
    free(src);
    *t = (lt_tensor){ .name = "w", .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
    return data;
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
        CHECK(lt_qweight_bytes(w3) < lt_qweight_bytes(w2) || k < 1000); /* padding to 42 costs more on small K */
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
        free(x); free(y2); free(y3);
    }
    lt_qweight_free(w2);
    lt_qweight_free(w3);
    free(codes);
    free(data);
}

int main(void) {
    test_rng_seed(3);
    static const int64_t ks[] = { 42, 64, 100, 2560 }, ms[] = { 1, 32, 70 };
    static const int ns[] = { 1, 3, 40 };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int q = 0; q < 3; q++) check_shape(ks[i], ms[j], ns[q]);
    return TEST_DONE();
}
