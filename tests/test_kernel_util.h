/* Helpers shared by the kernel tests (test_gemm, test_tlut, test_tern3*): weights repacked from floats and
 * activations with the extremes that reach the int16 limits. */
#ifndef LUTLM_TESTS_TEST_KERNEL_UTIL_H
#define LUTLM_TESTS_TEST_KERNEL_UTIL_H

#include <stdlib.h>

#include "formats/formats.h"
#include "kernels/kernels.h"
#include "test_util.h"

/* The float matrix w ([m][k]) quantized to fmt and repacked into the kernel layout; frees w.
 * NULL if fmt cannot hold it. */
static inline lt_qweight *test_qweight_from_floats(const lt_format *fmt, float *w, int64_t k, int64_t m) {
    int64_t ne[2] = { k, m };
    uint64_t bytes;
    lt_qweight *q = NULL;
    void *data = NULL;
    if (lt_format_tensor_bytes(fmt, ne, 2, &bytes) && (data = calloc(1, (size_t)bytes + 64)) && fmt->quantize(w, k, m, data)) {
        lt_tensor t = { .name = "w", .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
        q = lt_qweight_from_tensor(&t);
    }
    free(w);
    free(data);
    return q;
}

/* A TERN2 tensor [k, m] of the ternary codes ([m][k]) times 0.75, one scale (BitNet, so the
 * repack gives one scale per row and TERN3 can hold it); returns its data for the caller to free. */
static inline void *test_tern2_tensor(int64_t k, int64_t m, const int8_t *codes, lt_tensor *t) {
    const lt_format *fmt = lt_format_by_name("tern2");
    float *src = malloc(sizeof(float) * (size_t)(k * m));
    for (int64_t i = 0; i < k * m; i++) src[i] = 0.75f * (float)codes[i];
    int64_t ne[2] = { k, m };
    uint64_t bytes = 0;
    CHECK(lt_format_tensor_bytes(fmt, ne, 2, &bytes));
    void *data = malloc(bytes);
    fmt->quantize(src, k, m, data);
    free(src);
    *t = (lt_tensor){ .name = "w", .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
    return data;
}

/* Activations with extremes: full-scale ±127 tokens (int16 limits), an all-zero token, outliers. */
static inline float *test_extreme_acts(int64_t k, int64_t n) {
    float *x = malloc((size_t)(k * n) * sizeof(float));
    for (int64_t t = 0; t < n; t++)
        for (int64_t i = 0; i < k; i++) {
            float v = test_frand() * (1.0f + (float)(t % 3));
            if (t % 7 == 2) v = (i % 3 == 0) ? -1.0f : 1.0f; /* every q = ±127 */
            if (t % 11 == 5) v = 1.0f;                      /* every q = 127 */
            if (t % 5 == 3 && i == 5 % k) v = 50.0f;        /* an outlier */
            if (t == 1) v = 0.0f;                           /* all zero */
            x[t * k + i] = v;
        }
    return x;
}

#endif
