/* kernels_micro: single-thread compute time of the LUT kernels on one (cache-warm) weight, in
 * thread CPU time so that it stays meaningful on a busy machine. For tuning, not for docs/perf.md
 * (that is `lutlm bench-kernels`, weights from DRAM).
 *   usage: kernels_micro [FORMAT [K [M [N [REPS [ONLY]]]]]]   (default i2_s 2560 6912 32 5 all) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "micro.h"


int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "i2_s";
    int64_t k = argc > 2 ? atoll(argv[2]) : 2560, m = argc > 3 ? atoll(argv[3]) : 6912;
    int64_t n = argc > 4 ? atoll(argv[4]) : 32;
    int reps = argc > 5 ? atoi(argv[5]) : 5;
    int only = argc > 6 ? atoi(argv[6]) : -1; /* run just this one: 0 prepare, 1 gemv, 2 vlut, 3 baseline */
    micro_case mc;
    if (!micro_setup(name, k, m, n, &mc)) return 2;
    lt_qweight *w = mc.w;
    float *x = mc.x, *y = mc.y;
    if (!w || !lt_qweight_add_baseline(w)) return fprintf(stderr, "%s\n", lt_error()), 1;
    lt_act *a = lt_act_new();
    double macs = (double)k * (double)m * (double)n;
    const char *names[] = { "prepare", "gemv", "vlut", "baseline" };
    for (int which = 0; which < 4; which++) {
        if (only >= 0 && which != only) continue;
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = cpu_now();
            if (which == 0) lt_act_prepare(a, x, n, k);
            else if (which == 3) lt_qweight_matmul_baseline(w, x, n, y, NULL);
            else {
                lt_act_prepare(a, x, n, k);
                lt_qweight_matmul_path(w, a, y, NULL, which == 1 ? LT_PATH_GEMV : LT_PATH_VLUT);
            }
            double dt = cpu_now() - t0;
            if (dt < best) best = dt;
        }
        printf("%-8s %s K=%lld M=%lld N=%lld: %8.3f ms  %6.1f GMAC/s\n", names[which], name, (long long)k,
               (long long)m, (long long)n, best * 1e3, macs / best / 1e9);
    }
    lt_act_free(a);
    micro_free(&mc);
    return 0;
}
