/* lutlm bench-kernels: the LUT kernels against the int8 baseline and the machine's read bandwidth.
 *
 * For each weight shape (BitNet-b1.58-2B-4T and Llama-3-8B linears), format, token count N and
 * thread count it times y = W x through
 *   lut       lt_qweight_matmul (AUTO: GEMV below LT_GEMM_MIN_N tokens, int8 GEMM from there),
 *   base      lt_qweight_matmul_baseline (decode to int8 + vpmaddubsw dot, same weights, same results),
 *   gemv×N    (N >= 16 only) the GEMV kernel on all N tokens, for the vector-LUT speedup,
 *   gemm/tlut (N >= 16, per-row ternary weights on AVX2) the int8 GEMM (LT_PATH_GEMM) and the
 *             ternary group-of-3 LUT GEMM (tlut.h) on the same prepared activations, GMAC/s per thread.
 * Weights must come from DRAM, not cache: the tool makes enough copies of each matrix to fill
 * --mem-mb (default 256 MiB, about 8x this machine's L3) and every call uses the next copy.
 * Each cell is the best of --reps calls (at least one pass over the copies for GEMV).
 * GB/s = bytes the kernel streams (lt_qweight_bytes / lt_qweight_baseline_bytes) / time. The read
 * bandwidth is a streaming sum over 512 MiB, best of 5, measured by this tool on 1 and 2 threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/threadpool.h"
#include "common/membw.h"
#include "common/util.h"
#include "formats/lut_formats.h"
#include "kernels/kernels.h"
#if defined(LUTLM_HAVE_X86_KERNELS)
#include "kernels/tlut.h"
#endif

enum { MAX_LIST = 16 };

typedef struct { const char *model; int64_t k, m; } shape;
static const shape all_shapes[] = {
    { "bitnet-2b4t", 2560, 2560 }, { "bitnet-2b4t", 2560, 640 }, { "bitnet-2b4t", 2560, 6912 },
    { "bitnet-2b4t", 6912, 2560 }, { "llama3-8b", 4096, 4096 }, { "llama3-8b", 4096, 1024 },
    { "llama3-8b", 4096, 14336 }, { "llama3-8b", 14336, 4096 },
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm bench-kernels [options]\n\n"
            "Times the LUT kernels against the dequantize+int8-dot baseline on the same weights, with\n"
            "weights rotated over copies so that they come from DRAM.\n\n"
            "  -f, --formats LIST   formats (default i2_s,lut_int2_g128,lut_int4_g128; any kernel format)\n"
            "  -n, --n LIST         token counts (default 1,8,32,128,512)\n"
            "  -t, --threads LIST   thread counts (default 1,2)\n"
            "  -s, --shapes LIST    shape indices 0-7 (default all): 0-3 BitNet-2B-4T, 4-7 Llama-3-8B\n"
            "                       (a shape is [K, M]: K inputs, M outputs)\n"
            "  -r, --reps N         timed calls per cell (default 9; GEMV cells also cover every copy)\n"
            "      --mem-mb MB      total size of the weight copies (default 256)\n"
            "      --max-n-formats  run N > 1 for the first format only (default: on; --all-n turns it off)\n"
            "      --all-n          run every N for every format\n"
            "  -h, --help           this help\n");
}

/* ---- read bandwidth: a streaming sum over 512 MiB, best of 5 ---- */

static double read_bandwidth_gbps(lt_pool *pool) {
    size_t bytes = (size_t)512 << 20;
    void *buf = lt_aligned_alloc(64, bytes);
    if (!buf) return 0;
    memset(buf, 1, bytes);
    double best = lt_read_bandwidth_gbps(pool, buf, bytes, 5);
    lt_aligned_free(buf);
    return best;
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef enum { RUN_LUT, RUN_BASE, RUN_GEMV, RUN_GEMM, RUN_TLUT } run_kind;

typedef struct {
    lt_qweight **copies;
    int ncopies, next;
    lt_act *act;
} bench_weights;

/* Best (smallest) seconds of `reps` calls, each on the next copy (one untimed warm-up call first).
 * Best, not median: on a shared machine a call that waits for a descheduled pool thread measures
 * the scheduler, not the kernel. */
static double time_calls(bench_weights *bw, run_kind kind, const float *x, int64_t n, float *y, lt_pool *pool, int reps) {
    if (reps < 1) reps = 1;
    double *t = malloc((size_t)reps * sizeof(double));
    if (!t) return 0;
    for (int i = -1; i < reps; i++) {
        lt_qweight *w = bw->copies[bw->next];
        bw->next = (bw->next + 1) % bw->ncopies;
        double t0 = lt_time_now();
        if (kind == RUN_LUT) lt_qweight_matmul(w, x, n, y, pool);
        else if (kind == RUN_BASE) lt_qweight_matmul_baseline(w, x, n, y, pool);
        else {
            lt_act_prepare(bw->act, x, n, lt_qweight_k(w));
#if defined(LUTLM_HAVE_X86_KERNELS)
            if (kind == RUN_TLUT) lt_qweight_matmul_tlut((const lt_qweight *const *)&w, 1, bw->act, &y, pool);
            else
#endif
            lt_qweight_matmul_path(w, bw->act, y, pool, kind == RUN_GEMM ? LT_PATH_GEMM : LT_PATH_GEMV);
        }
        if (i >= 0) t[i] = lt_time_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    double best = t[0];
    free(t);
    return best;
}

static float *random_matrix(int64_t k, int64_t m, bool ternary, uint64_t *seed) {
    float *w = malloc((size_t)k * (size_t)m * sizeof(float));
    if (!w) return NULL;
    for (int64_t i = 0; i < k * m; i++) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t r = (uint32_t)(*seed >> 33);
        w[i] = ternary ? (float)((int)(r % 3) - 1) * 0.02f : ((float)(r & 0xFFFF) / 65536.0f - 0.5f) * 0.1f;
    }
    return w;
}

static bool make_copies(bench_weights *bw, const lt_format *fmt, int64_t k, int64_t m, size_t mem) {
    uint64_t seed = 42, bytes;
    int64_t ne[2] = { k, m };
    if (!lt_format_tensor_bytes(fmt, ne, 2, &bytes)) return false;
    float *src = random_matrix(k, m, fmt->ternary, &seed);
    void *data = malloc(bytes);
    if (!src || !data || !fmt->quantize(src, k, m, data)) {
        free(src);
        free(data);
        return false;
    }
    lt_tensor t = { .name = "bench", .fmt = fmt, .n_dims = 2, .ne = { k, m, 1, 1 }, .data = data, .nbytes = bytes };
    lt_qweight *w = lt_qweight_from_tensor(&t);
    free(src);
    free(data);
    if (!w || !lt_qweight_add_baseline(w)) return false;
    size_t per = lt_qweight_bytes(w) + lt_qweight_baseline_bytes(w);
    bw->ncopies = (int)LT_MAX(2, (mem + per - 1) / per);
    bw->copies = calloc((size_t)bw->ncopies, sizeof *bw->copies);
    bw->copies[0] = w;
    for (int i = 1; i < bw->ncopies; i++)
        if (!(bw->copies[i] = lt_qweight_clone(w))) return false;
    bw->next = 0;
    return true;
}

static void free_copies(bench_weights *bw) {
    for (int i = 0; i < bw->ncopies; i++) lt_qweight_free(bw->copies[i]);
    free(bw->copies);
    bw->copies = NULL;
    bw->ncopies = 0;
}

int cmd_bench_kernels(int argc, char **argv) {
    const char *cmd = argv[0];
    const char *formats = "i2_s,lut_int2_g128,lut_int4_g128";
    int ns[MAX_LIST] = { 1, 8, 32, 128, 512 }, nn = 5, threads[MAX_LIST] = { 1, 2 }, nt = 2;
    int shapes[MAX_LIST] = { 0, 1, 2, 3, 4, 5, 6, 7 }, nshapes = 8, reps = 9;
    long long mem_mb = 256;
    bool all_n = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); return 0; }
        else if (cli_option(argc, argv, &i, "-f", "--formats", &v)) formats = v;
        else if (cli_option(argc, argv, &i, "-n", "--n", &v)) nn = cli_int_list(cmd, "--n", v, ns, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-t", "--threads", &v)) nt = cli_int_list(cmd, "--threads", v, threads, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-s", "--shapes", &v)) nshapes = cli_int_list(cmd, "--shapes", v, shapes, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-r", "--reps", &v)) reps = (int)cli_int(cmd, "--reps", v, 1, 1000);
        else if (cli_option(argc, argv, &i, NULL, "--mem-mb", &v)) mem_mb = cli_int(cmd, "--mem-mb", v, 1, 1 << 20);
        else if (cli_flag(argv, i, NULL, "--all-n")) all_n = true;
        else if (cli_flag(argv, i, NULL, "--max-n-formats")) all_n = false;
        else cli_unknown(cmd, argv[i]);
    }
    for (int i = 0; i < nshapes; i++)
        if (shapes[i] < 0 || shapes[i] >= (int)LT_ARRAY_LEN(all_shapes)) {
            fprintf(stderr, "lutlm %s: shape index %d out of range 0-7\n", cmd, shapes[i]);
            return 2;
        }

    printf("# lutlm bench-kernels\n\nISA: %s (detected %s). Weights rotated over copies totalling >= %lld MiB.\n",
           lt_isa_name(lt_isa_active()), lt_isa_name(lt_isa_detect()), mem_mb);
    printf("Read bandwidth (streaming sum over 512 MiB, best of 5; measured again before each shape, column read GB/s):");
    for (int i = 0; i < nt; i++) {
        lt_pool *pool = lt_pool_create(threads[i]);
        double bw = pool ? read_bandwidth_gbps(pool) : 0;
        lt_pool_free(pool);
        printf(" %d thread%s %.1f GB/s%s", threads[i], threads[i] > 1 ? "s" : "", bw, i + 1 < nt ? "," : "\n\n");
    }
    printf("| shape [K, M] | format | N | thr | lut ms | lut GB/s | read GB/s | of read bw | base ms | base GB/s | lut vs base | gemv×N ms | vlut vs gemv×N | gemm ms | tlut ms | gemm GMAC/s/thr | tlut GMAC/s/thr | tlut vs gemm |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);

    char list[256];
    snprintf(list, sizeof list, "%s", formats);
    int fi = 0;
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save), fi++) {
        const lt_format *fmt = lt_format_by_name(name);
        if (!fmt || !lt_kernels_supports(fmt)) {
            fprintf(stderr, "lutlm %s: no LUT kernel for format '%s'\n", cmd, name);
            return 2;
        }
        for (int si = 0; si < nshapes; si++) {
            const shape *sh = &all_shapes[shapes[si]];
            bench_weights bw = { .act = lt_act_new() };
            if (!make_copies(&bw, fmt, sh->k, sh->m, (size_t)mem_mb << 20)) {
                fprintf(stderr, "lutlm %s: %s [%lld, %lld]: %s\n", cmd, name, (long long)sh->k, (long long)sh->m, lt_error());
                free_copies(&bw);
                lt_act_free(bw.act);
                continue;
            }
            double lut_bytes = (double)lt_qweight_bytes(bw.copies[0]), base_bytes = (double)lt_qweight_baseline_bytes(bw.copies[0]);
            int64_t max_n = 1;
            for (int i = 0; i < nn; i++) max_n = LT_MAX(max_n, ns[i]);
            float *x = malloc((size_t)(max_n * sh->k) * sizeof(float)), *y = malloc((size_t)(max_n * sh->m) * sizeof(float));
            uint64_t seed = 7;
            for (int64_t i = 0; i < max_n * sh->k; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                x[i] = (float)((seed >> 40) & 0xFFFF) / 32768.0f - 1.0f;
            }
            for (int ti = 0; ti < nt; ti++) {
                lt_pool *pool = lt_pool_create(threads[ti]);
                /* The machine is shared: measure the read bandwidth again next to this shape's cells. */
                double read_bw = pool ? read_bandwidth_gbps(pool) : 0;
                for (int i = 0; i < nn; i++) {
                    int64_t n = ns[i];
                    if (n > 1 && fi > 0 && !all_n) continue;
                    /* Small N: cover every copy so each call streams cold weights; large N: compute-bound. */
                    int r = n <= 8 ? LT_MAX(reps, bw.ncopies) : reps;
                    if (n >= 128) r = LT_MIN(r, 3);
                    double t_lut = time_calls(&bw, RUN_LUT, x, n, y, pool, r);
                    double t_base = time_calls(&bw, RUN_BASE, x, n, y, pool, r);
                    double t_gemv = n >= 16 ? time_calls(&bw, RUN_GEMV, x, n, y, pool, LT_MIN(r, 3)) : 0;
                    char gemv[64] = "", ratio[64] = "", tlut[160] = " | | | |";
                    if (t_gemv > 0) {
                        snprintf(gemv, sizeof gemv, "%.3f", t_gemv * 1e3);
                        snprintf(ratio, sizeof ratio, "%.2f×", t_gemv / t_lut);
                    }
#if defined(LUTLM_HAVE_X86_KERNELS)
                    lt_isa isa = lt_isa_active();
                    if (n >= 16 && lt_tlut_supports(bw.copies[0]) && (isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512)) {
                        /* alternated, best of each: the machine is shared */
                        double t_gemm = 1e30, t_tlut = 1e30;
                        for (int rep = 0; rep < 2; rep++) {
                            t_gemm = fmin(t_gemm, time_calls(&bw, RUN_GEMM, x, n, y, pool, r));
                            t_tlut = fmin(t_tlut, time_calls(&bw, RUN_TLUT, x, n, y, pool, r));
                        }
                        double gmac = (double)n * (double)sh->k * (double)sh->m / 1e9 / threads[ti];
                        snprintf(tlut, sizeof tlut, "%.3f | %.3f | %.0f | %.0f | %.2f×", t_gemm * 1e3, t_tlut * 1e3,
                                 gmac / t_gemm, gmac / t_tlut, t_gemm / t_tlut);
                    }
#endif
                    printf("| %s %lld×%lld | %s | %lld | %d | %.3f | %.1f | %.1f | %.0f%% | %.3f | %.1f | %.2f× | %s | %s | %s |\n",
                           sh->model, (long long)sh->k, (long long)sh->m, name, (long long)n, threads[ti], t_lut * 1e3,
                           lut_bytes / t_lut / 1e9, read_bw, 100.0 * lut_bytes / t_lut / 1e9 / read_bw, t_base * 1e3,
                           base_bytes / t_base / 1e9, t_base / t_lut, gemv, ratio, tlut);
                    fflush(stdout);
                }
                lt_pool_free(pool);
            }
            free(x);
            free(y);
            free_copies(&bw);
            lt_act_free(bw.act);
        }
    }
    printf("\nRead bandwidth at the end:");
    for (int i = 0; i < nt; i++) {
        lt_pool *pool = lt_pool_create(threads[i]);
        printf(" %d thread%s %.1f GB/s%s", threads[i], threads[i] > 1 ? "s" : "", pool ? read_bandwidth_gbps(pool) : 0.0,
               i + 1 < nt ? "," : "\n");
        lt_pool_free(pool);
    }
    return 0;
}
