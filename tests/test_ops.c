/* lt_rmsnorm_rows (eight rows' sums interleaved) gives every row lt_rmsnorm's bits: any row count
 * (whole groups of eight and the rest), with and without a weight, in place and not. lt_swiglu (eight
 * at a time on AVX2) gives the bits of its definition with lt_expf. */
#include "common/expf.h"
#include "model/ops.h"
#include "test_util.h"

static void check_rows(int rows, int n, bool weighted, bool in_place) {
    float *x = malloc(sizeof(float) * (size_t)(rows * n)), *w = malloc(sizeof(float) * (size_t)n);
    float *want = malloc(sizeof(float) * (size_t)(rows * n)), *got = malloc(sizeof(float) * (size_t)(rows * n));
    for (int i = 0; i < rows * n; i++) x[i] = 4.0f * test_frand();
    for (int i = 0; i < n; i++) w[i] = test_frand();
    const float *wp = weighted ? w : NULL;
    for (int r = 0; r < rows; r++) lt_rmsnorm(want + r * n, x + r * n, wp, n, 1e-6f);
    if (in_place) {
        memcpy(got, x, sizeof(float) * (size_t)(rows * n));
        lt_rmsnorm_rows(got, got, wp, rows, n, 1e-6f);
    } else {
        lt_rmsnorm_rows(got, x, wp, rows, n, 1e-6f);
    }
    CHECKF(memcmp(got, want, sizeof(float) * (size_t)(rows * n)) == 0, "rows %d n %d weighted %d in place %d", rows, n,
           weighted, in_place);
    free(x); free(w); free(want); free(got);
}

static void check_swiglu(int n) {
    float *g = malloc(sizeof(float) * (size_t)n), *u = malloc(sizeof(float) * (size_t)n);
    float *want = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) {
        g[i] = 30.0f * test_frand() * test_frand(); /* mostly small, some beyond expf's range at x = -g */
        if (i % 11 == 5) g[i] = -120.0f + test_frand();
        u[i] = test_frand();
        float v = g[i];
        v *= 1.0f / (1.0f + lt_expf(-v));
        want[i] = v * u[i];
    }
    lt_swiglu(g, u, n);
    CHECKF(memcmp(g, want, sizeof(float) * (size_t)n) == 0, "swiglu of %d values", n);
    free(g); free(u); free(want);
}

int main(void) {
    const int sizes[] = { 1, 7, 8, 9, 172, 4099 };
    for (int i = 0; i < 6; i++) check_swiglu(sizes[i]);
    const int rows[] = { 1, 7, 8, 9, 16, 19 }, ns[] = { 1, 5, 64, 2560 };
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 4; b++)
            for (int v = 0; v < 4; v++) check_rows(rows[a], ns[b], v & 1, v >> 1);
    return TEST_DONE();
}
