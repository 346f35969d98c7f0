/* GPTQ (Frantar et al. 2022) of one weight matrix into lut_int<n>_g<G>.
 *
 * Objective per row w (rows are independent): minimize (w - q) H (w - q)^T, H = sum_t x_t x_t^T the
 * Gram matrix of the layer's inputs. Columns are quantized left to right; after column j the
 * error it made is spread over the columns not yet quantized, as the least-squares optimum does:
 *   e = (w_j - q_j) / U_jj,   w_k -= e U_jk  (k > j),
 * with U the upper Cholesky factor of H^-1 (H^-1 = U^T U). The group's (s, m) are fitted when
 * the group's first column comes up, to the then updated weights, with the squared errors weighted
 * by diag(H) (the mean square of each input): lt_lut_int_fit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/lut_formats.h"
#include "formats/lut_int_quant.h"
#include "model/quantize_gptq.h"

/* In place: a (n x n, symmetric positive definite) -> its lower Cholesky factor L (a = L L^T);
 * the upper triangle is zeroed. false if a is not positive definite. */
static bool cholesky_lower(double *a, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int64_t k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0.0)) return false;
        d = sqrt(d);
        a[j * n + j] = d;
        for (int64_t i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (int64_t k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = v / d;
        }
        for (int64_t i = 0; i < j; i++) a[i * n + j] = 0.0;
    }
    return true;
}

/* linv = L^-1 (both lower triangular, n x n): column j solves L x = e_j by forward substitution. */
static void invert_lower(const double *l, double *linv, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        for (int64_t i = 0; i < j; i++) linv[i * n + j] = 0.0;
        linv[j * n + j] = 1.0 / l[j * n + j];
        for (int64_t i = j + 1; i < n; i++) {
            double v = 0.0;
            for (int64_t c = j; c < i; c++) v -= l[i * n + c] * linv[c * n + j];
            linv[i * n + j] = v / l[i * n + i];
        }
    }
}

/* The upper factor U of H^-1 = U^T U, in place in h (n x n), via H = L L^T:
 * H^-1 = L^-T L^-1, and U = chol_lower(H^-1)^T. */
static bool inverse_cholesky_upper(double *h, int64_t n) {
    if (!cholesky_lower(h, n)) return lt_set_error("GPTQ: the inputs' Gram matrix is not positive definite");
    double *linv = lt_malloc((size_t)(n * n) * sizeof(double));
    if (!linv) return false;
    invert_lower(h, linv, n);
    /* h = L^-T L^-1: h_ij = sum_k linv_ki linv_kj, k >= max(i, j) */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j <= i; j++) {
            double v = 0.0;
            for (int64_t k = i; k < n; k++) v += linv[k * n + i] * linv[k * n + j];
            h[i * n + j] = h[j * n + i] = v;
        }
    free(linv);
    if (!cholesky_lower(h, n)) return lt_set_error("GPTQ: the inverse Gram matrix is not positive definite");
    for (int64_t i = 0; i < n; i++) /* transpose: upper U */
        for (int64_t j = 0; j < i; j++) {
            h[j * n + i] = h[i * n + j];
            h[i * n + j] = 0.0;
        }
    return true;
}

/* One row: GPTQ with the upper factor u; writes the row's blocks and the decoded weights to w. */
static void gptq_row(float *w, double *work, int64_t k, const double *u, const float *importance, int bits,
                     int group, uint8_t *out) {
    uint8_t q[128];
    float s = 0.0f, m = 0.0f, fitted[128];
    for (int64_t j = 0; j < k; j++) work[j] = w[j];
    for (int64_t j = 0; j < k; j++) {
        int64_t g0 = j - j % group;
        int count = (int)LT_MIN(group, k - g0);
        if (j == g0) {
            for (int i = 0; i < count; i++) fitted[i] = (float)work[g0 + i];
            lt_lut_int_fit(fitted, importance + g0, count, bits, &s, &m);
        }
        int code = lt_lut_int_code((float)work[j], s, m, bits);
        q[j - g0] = (uint8_t)code;
        double decoded = (double)s * code + m, e = (work[j] - decoded) / u[j * k + j];
        w[j] = (float)decoded;
        for (int64_t c = j + 1; c < k; c++) work[c] -= e * u[j * k + c];
        if (j - g0 == count - 1)
            lt_lut_int_pack_block(q, count, bits, group, s, m, out + (g0 / group) * lt_lut_int_block_bytes(bits, group));
    }
}

bool lt_gptq_matrix(float *w, int64_t rows, int64_t k, double *h, int bits, int group, uint8_t *out) {
    /* Inputs that never fire carry no information: their weights may be anything, and H needs a
     * nonzero diagonal there. Then damp by 1% of the mean diagonal (GPTQ's default), which keeps
     * the factorization stable and the error feedback modest. */
    double mean = 0.0;
    for (int64_t j = 0; j < k; j++) {
        if (h[j * k + j] <= 0.0) h[j * k + j] = 1.0;
        mean += h[j * k + j];
    }
    mean /= (double)k;
    float *importance = lt_malloc((size_t)k * sizeof(float));
    double *work = lt_malloc((size_t)k * sizeof(double));
    bool ok = importance && work;
    for (int64_t j = 0; ok && j < k; j++) {
        h[j * k + j] += 0.01 * mean;
        importance[j] = (float)h[j * k + j];
    }
    ok = ok && inverse_cholesky_upper(h, k);
    size_t row_bytes = (size_t)((k + group - 1) / group) * lt_lut_int_block_bytes(bits, group);
    for (int64_t r = 0; ok && r < rows; r++)
        gptq_row(w + r * k, work, k, h, importance, bits, group, out + r * row_bytes);
    free(importance);
    free(work);
    return ok;
}
