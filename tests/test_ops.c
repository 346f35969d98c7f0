/* lt_rmsnorm_rows (eight rows' sums interleaved) gives every row lt_rmsnorm's bits: any row count
 * (whole groups of eight and the rest), with and without a weight, in place and not. */
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

int main(void) {
    const int rows[] = { 1, 7, 8, 9, 16, 19 }, ns[] = { 1, 5, 64, 2560 };
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 4; b++)
            for (int v = 0; v < 4; v++) check_rows(rows[a], ns[b], v & 1, v >> 1);
    return TEST_DONE();
}
