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
#include "micro.h"


int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "tern2";
    int64_t k = argc > 2 ? atoll(argv[2]) : 2560, m = argc > 3 ? atoll(argv[3]) : 6912;
    int64_t n = argc > 4 ? atoll(argv[4]) : 128;
    int reps = argc > 5 ? atoi(argv[5]) : 5;
    char paths[128];
    snprintf(paths, sizeof paths, "%s", argc > 6 ? argv[6] : "gemm");
    micro_case mc;
    if (!micro_setup(name, k, m, n, &mc)) return 2;
    lt_qweight *w = mc.w;
    float *x = mc.x, *y = mc.y;
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
    micro_free(&mc);
    return 0;
}
