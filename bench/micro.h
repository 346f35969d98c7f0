/* Shared set-up of the micro benchmarks (kernels_micro, gemm_micro): one weight of a format with
 * deterministic pseudo-random values, repacked for the kernels, and n tokens of activations. */
#ifndef LUTLM_BENCH_MICRO_H
#define LUTLM_BENCH_MICRO_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "formats/formats.h"
#include "kernels/kernels.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    lt_qweight *w;
    float *x, *y; /* x [n][k] activations, y [n][m] outputs */
} micro_case;

/* The case for format `name`, shape [k, m] and n tokens; false (message printed) if impossible. */
static bool micro_setup(const char *name, int64_t k, int64_t m, int64_t n, micro_case *c) {
    const lt_format *fmt = lt_format_by_name(name);
    int64_t ne[2] = { k, m };
    uint64_t bytes;
    if (!fmt || n < 1 || !lt_format_tensor_bytes(fmt, ne, 2, &bytes)) return fprintf(stderr, "bad format/shape\n"), false;
    float *src = malloc((size_t)(k * m) * sizeof(float));
    void *data = malloc(bytes);
    c->x = malloc((size_t)(k * n) * sizeof(float));
    c->y = malloc((size_t)(m * n) * sizeof(float));
    uint64_t s = 1;
    for (int64_t i = 0; i < k * m; i++) {
        s = s * 6364136223846793005ull + 1;
        src[i] = fmt->ternary ? (float)((int)((s >> 33) % 3) - 1) : (float)((s >> 40) & 0xFF) / 256.0f - 0.5f;
    }
    for (int64_t i = 0; i < k * n; i++) {
        s = s * 6364136223846793005ull + 1;
        c->x[i] = (float)((s >> 40) & 0xFFFF) / 32768.0f - 1.0f;
    }
    fmt->quantize(src, k, m, data);
    lt_tensor t = { .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
    c->w = lt_qweight_from_tensor(&t); /* the repacked copy does not need the source any more */
    free(src);
    free(data);
    if (!c->w) fprintf(stderr, "%s\n", lt_error());
    return c->w != NULL;
}

static void micro_free(micro_case *c) {
    lt_qweight_free(c->w);
    free(c->x);
    free(c->y);
}

#endif
