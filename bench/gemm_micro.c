/* gemm_micro: single-thread compute time of one matmul path on a cache-warm weight, activations
 * prepared once (not timed), in thread CPU time so that it stays meaningful on a busy machine.
 * For tuning the int8 GEMM against the GEMV and vector-LUT paths.
 *   usage: gemm_micro [FORMAT [K [M [N [REPS [PATHS]]]]]]   (default tern2 2560 6912 128 5 gemm)
 *   PATHS: comma list of gemv, vlut, gemm, auto */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "formats/formats.h"
#include "kernels/kernels.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "tern2";
    int64_t k = argc > 2 ? atoll(argv[2]) : 2560, m = argc > 3 ? atoll(argv[3]) : 6912;
    int64_t n = argc > 4 ? atoll(argv[4]) : 128;
    int reps = argc > 5 ? atoi(argv[5]) : 5;
    char paths[128];
    snprintf(paths, sizeof paths, "%s", argc > 6 ? argv[6] : "gemm");
    const lt_format *fmt = lt_format_by_name(name);
    int64_t ne[2] = { k, m };
    uint64_t bytes;
    if (!fmt || n < 1 || !lt_format_tensor_bytes(fmt, ne, 2, &bytes)) return fprintf(stderr, "bad format/shape\n"), 2;
    float *src = malloc((size_t)(k * m) * sizeof(float)), *x = malloc((size_t)(k * n) * sizeof(float));
    float *y = malloc((size_t)(m * n) * sizeof(float));
    uint64_t s = 1;
    for (int64_t i = 0; i < k * m; i++) {
        s = s * 6364136223846793005ull + 1;
        src[i] = fmt->ternary ? (float)((int)((s >> 33) % 3) - 1) : (float)((s >> 40) & 0xFF) / 256.0f - 0.5f;
    }
    for (int64_t i = 0; i < k * n; i++) {
        s = s * 6364136223846793005ull + 1;
        x[i] = (float)((s >> 40) & 0xFFFF) / 32768.0f - 1.0f;
    }
    void *data = malloc(bytes);
    fmt->quantize(src, k, m, data);
    lt_tensor t = { .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
    lt_qweight *w = lt_qweight_from_tensor(&t);
    lt_act *a = lt_act_new();
    if (!w || !a || !lt_act_prepare(a, x, n, k)) return fprintf(stderr, "%s\n", lt_error()), 1;
    double macs = (double)k * (double)m * (double)n;
    for (char *save = NULL, *p = strtok_r(paths, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        lt_kernel_path path = !strcmp(p, "gemv") ? LT_PATH_GEMV : !strcmp(p, "vlut") ? LT_PATH_VLUT
                            : !strcmp(p, "gemm") ? LT_PATH_GEMM : LT_PATH_AUTO;
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            lt_act_prepare(a, x, n, k); /* drop the tables built by the previous call */
            double t0 = cpu_now();
            lt_qweight_matmul_path(w, a, y, NULL, path);
            double dt = cpu_now() - t0;
            if (dt < best) best = dt;
        }
        printf("%-5s %s K=%lld M=%lld N=%lld: %8.3f ms  %6.1f GMAC/s\n", p, name, (long long)k, (long long)m,
               (long long)n, best * 1e3, macs / best / 1e9);
    }
    lt_act_free(a);
    lt_qweight_free(w);
    free(src);
    free(x);
    free(y);
    free(data);
    return 0;
}
