/* The lut_int quantizers (src/formats/lut_int.c, src/model/gptq.c) on synthetic matrices:
 *  - lt_lut_int_fit: s, m are f16 values, and its squared error is never above the min/max grid's;
 *  - lt_lut_int_quantize_fitted decodes (through the registry's decoder) to what the fit promised;
 *  - lt_gptq_matrix: with a diagonal H it is the fitted quantizer weighted by diag(H) (no error
 *    feedback), and with correlated inputs its output error (W - Q) H (W - Q)^T beats the fitted one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/formats.h"
#include "formats/lut_formats.h"
#include "formats/lut_int_quant.h"
#include "model/quantize_gptq.h"
#include "test_util.h"

static uint64_t rng = 0x1234567;
static float uniform(void) { /* [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}
/* heavy-ish tails: the cube of a uniform, plus an occasional outlier */
static float weight(void) {
    float u = uniform();
    return 0.1f * u * u * u + (uniform() > 0.97f ? 0.3f * uniform() : 0.0f);
}

static double group_error(const float *w, int count, float s, float m, int bits) {
    double e = 0.0;
    for (int i = 0; i < count; i++) {
        double d = (double)s * lt_lut_int_code(w[i], s, m, bits) + m - w[i];
        e += d * d;
    }
    return e;
}

static void test_fit(void) {
    float w[128];
    for (int bits = 1; bits <= 4; bits++)
        for (int trial = 0; trial < 50; trial++) {
            int count = 5 + trial * 123 % 124;
            for (int i = 0; i < count; i++) w[i] = weight();
            float s, m, lo = w[0], hi = w[0];
            lt_lut_int_fit(w, NULL, count, bits, &s, &m);
            CHECK(s >= 0.0f && lt_fp16_to_fp32(lt_fp32_to_fp16(s)) == s && lt_fp16_to_fp32(lt_fp32_to_fp16(m)) == m);
            for (int i = 1; i < count; i++) lo = fminf(lo, w[i]), hi = fmaxf(hi, w[i]);
            float s0 = lt_fp16_to_fp32(lt_fp32_to_fp16((hi - lo) / (float)((1 << bits) - 1)));
            float m0 = lt_fp16_to_fp32(lt_fp32_to_fp16(lo));
            CHECKF(group_error(w, count, s, m, bits) <= group_error(w, count, s0, m0, bits), "bits %d count %d", bits,
                   count);
        }
    /* degenerate groups: constant, single weight, all zero */
    float c[32];
    for (int i = 0; i < 32; i++) c[i] = 0.25f;
    float s, m;
    lt_lut_int_fit(c, NULL, 32, 4, &s, &m);
    CHECK(group_error(c, 32, s, m, 4) == 0.0);
    lt_lut_int_fit(c, NULL, 1, 2, &s, &m);
    CHECK(group_error(c, 1, s, m, 2) == 0.0);
    memset(c, 0, sizeof c);
    lt_lut_int_fit(c, NULL, 32, 3, &s, &m);
    CHECK(s == 0.0f && m == 0.0f);
}

/* Encode rows x k with the fitted quantizer, decode with the registry and compare to the fit. */
static void test_fitted_tensor(void) {
    enum { K = 172, ROWS = 3 };
    float w[ROWS * K], row[K];
    for (int i = 0; i < ROWS * K; i++) w[i] = weight();
    for (int bits = 1; bits <= 4; bits++)
        for (int g = 32; g <= 128; g *= 2) {
            const lt_format *fmt = lt_format_by_type(lt_lut_int_type(bits, g));
            int64_t ne[2] = { K, ROWS };
            uint64_t bytes;
            CHECK(fmt && lt_format_tensor_bytes(fmt, ne, 2, &bytes));
            uint8_t *data = calloc(1, bytes);
            CHECK(lt_lut_int_quantize_fitted(bits, g, w, K, ROWS, NULL, data));
            lt_tensor t = { .fmt = fmt, .n_dims = 2, .ne = { K, ROWS, 1, 1 }, .data = data, .nbytes = bytes };
            double fitted = 0.0, decoded = 0.0;
            for (int r = 0; r < ROWS; r++) {
                lt_tensor_dequantize_row(&t, r, row);
                for (int k0 = 0; k0 < K; k0 += g) {
                    int count = K - k0 < g ? K - k0 : g;
                    float s, m;
                    lt_lut_int_fit(w + r * K + k0, NULL, count, bits, &s, &m);
                    fitted += group_error(w + r * K + k0, count, s, m, bits);
                }
                for (int i = 0; i < K; i++) {
                    double d = (double)row[i] - w[r * K + i];
                    decoded += d * d;
                }
            }
            CHECKF(fabs(decoded - fitted) <= 1e-9 + 1e-6 * fitted, "%s: %g vs %g", fmt->name, decoded, fitted);
            free(data);
        }
    CHECK(!lt_lut_int_quantize_fitted(5, 32, w, K, ROWS, NULL, NULL));
}

/* sum over rows of d H d^T, d = row of (a - b) */
static double output_error(const float *a, const float *b, const double *h, int rows, int k) {
    double e = 0.0;
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                e += ((double)a[r * k + i] - b[r * k + i]) * h[i * k + j] * ((double)a[r * k + j] - b[r * k + j]);
    return e;
}

static void test_gptq(void) {
    enum { K = 96, ROWS = 8, N = 400, BITS = 3, G = 32 };
    static float w[ROWS * K], q[ROWS * K], x[N * K], fitted[ROWS * K], importance[K];
    static double h[K * K], hc[K * K];
    size_t bytes = (size_t)ROWS * (K / G) * lt_lut_int_block_bytes(BITS, G);
    uint8_t *data = malloc(bytes), *ref = malloc(bytes);
    for (int i = 0; i < ROWS * K; i++) w[i] = weight();
    /* diagonal H: no error feedback, so GPTQ = the fit weighted by the damped diagonal */
    memset(h, 0, sizeof h);
    for (int i = 0; i < K; i++) h[i * K + i] = 1.0 + (i % 7), importance[i] = 0.0f;
    double mean = 0.0;
    for (int i = 0; i < K; i++) mean += h[i * K + i] / K;
    for (int i = 0; i < K; i++) importance[i] = (float)(h[i * K + i] + 0.01 * mean);
    memcpy(q, w, sizeof w);
    CHECK(lt_gptq_matrix(q, ROWS, K, h, BITS, G, data));
    CHECK(lt_lut_int_quantize_fitted(BITS, G, w, K, ROWS, importance, ref));
    CHECK(memcmp(data, ref, bytes) == 0);
    /* correlated inputs: x_t = a smooth random walk, so neighbouring inputs move together */
    for (int t = 0; t < N; t++)
        for (int i = 0; i < K; i++) x[t * K + i] = (i ? x[t * K + i - 1] * 0.9f : 0.0f) + uniform();
    memset(h, 0, sizeof h);
    for (int t = 0; t < N; t++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) h[i * K + j] += (double)x[t * K + i] * x[t * K + j];
    memcpy(hc, h, sizeof h);
    memcpy(q, w, sizeof w);
    CHECK(lt_gptq_matrix(q, ROWS, K, hc, BITS, G, data));
    const lt_format *fmt = lt_format_by_type(lt_lut_int_type(BITS, G));
    lt_tensor t = { .fmt = fmt, .n_dims = 2, .ne = { K, ROWS, 1, 1 }, .data = data, .nbytes = bytes };
    float row[K];
    int same = 1;
    for (int r = 0; r < ROWS; r++) { /* the decoded weights it returns are those of its blocks */
        lt_tensor_dequantize_row(&t, r, row);
        same &= memcmp(row, q + r * K, sizeof row) == 0;
    }
    CHECK(same);
    CHECK(lt_lut_int_quantize_fitted(BITS, G, w, K, ROWS, NULL, ref));
    t.data = ref;
    for (int r = 0; r < ROWS; r++) lt_tensor_dequantize_row(&t, r, fitted + r * K);
    double e_gptq = output_error(w, q, h, ROWS, K), e_fit = output_error(w, fitted, h, ROWS, K);
    CHECKF(e_gptq < 0.8 * e_fit, "GPTQ output error %g, fitted %g", e_gptq, e_fit);
    /* an input that never fires (zero row/column of H) is allowed */
    memcpy(hc, h, sizeof h);
    for (int i = 0; i < K; i++) hc[5 * K + i] = hc[i * K + 5] = 0.0;
    memcpy(q, w, sizeof w);
    CHECK(lt_gptq_matrix(q, ROWS, K, hc, BITS, G, data));
    free(data);
    free(ref);
}

int main(void) {
    test_fit();
    test_fitted_tensor();
    test_gptq();
    return TEST_DONE();
}
