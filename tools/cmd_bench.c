/* lutlm bench: prompt-processing and generation speed of a model, in the style of llama-bench.
 *
 *   ppN  one batched forward pass over an N-token prompt on an empty KV cache;
 *   tgN  N single-token decode steps after a short prompt;
 *   with -d D ("ppN @ dD", "tgN @ dD", as llama-bench), the same after D tokens already in the cache
 *        (filled once per test, untimed; every run starts again from those D).
 * Each test runs once as a warm-up, then -r times; tokens/s is reported as mean ± sample stddev.
 *
 * Against the memory-bandwidth limit: a decode step must read every linear weight, the output head
 * and one embedding row (bytes/token). bytes/token × tokens/s is the bandwidth the step achieved;
 * it is compared with the read bandwidth of a streaming sum measured in the same run, on the same
 * number of threads. In a ppN pass each weight is read once for all N tokens, so its bytes/token is
 * (weights + head) / N + one embedding row. At a depth D > 0 a decode step also reads the K and
 * V (F16 by default, -ctk / -ctv) of every cached position (on average D + (N + 1) / 2 of them); that is added to tgN's bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "cli.h"
#include "commands.h"
#include "common/threadpool.h"
#include "common/membw.h"
#include "common/util.h"
#include "kernels/kernels.h"
#include "lutlm.h"
#include "model/context.h"
#include "model/model.h"
#include "model/synthetic.h"

enum { MAX_LIST = 16, MAX_LINEARS = 8192, TG_PROMPT = 4, MAX_RESULTS = 1024 };
#define BW_BUFFER_BYTES ((size_t)512 << 20)
#define BW_PASSES 5

typedef struct {
    const char *model_path, *synthetic, *type, *output_type;
    int n_prompt[MAX_LIST], n_pp, n_gen[MAX_LIST], n_tg, threads[MAX_LIST], n_threads, depth[MAX_LIST], n_depth;
    int reps;
    bool json, baseline;
    uint64_t seed;
    lutlm_context_params cache; /* type_k, type_v */
} bench_options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm bench (-m MODEL | --synthetic NAME) [options]\n\n"
            "Prompt-processing (ppN) and generation (tgN) speed, like llama-bench, with the share of the\n"
            "memory-bandwidth limit that generation reaches.\n\n"
            "  -m, --model FILE        GGUF model\n"
            "      --synthetic NAME    random weights of a real shape, no file needed: %s\n"
            "      --type T            synthetic: format of the linear weights (default: tern2 for BitNet\n"
            "                          shapes, lut_int4_g64 for llama shapes; any format of the registry)\n"
            "      --output-type T     synthetic: format of the output head (default lut_int4_g64; f16 on a\n"
            "                          tied shape is the f16 embedding itself, as in the real file)\n"
            "      --seed S            synthetic: random seed (default 1)\n"
            "  -p, --n-prompt LIST     prompt lengths, comma-separated (default 128,512; 0 = no pp test)\n"
            "  -n, --n-gen LIST        generation lengths (default 64; 0 = no tg test)\n"
            "  -d, --n-depth LIST      tokens already in the KV cache before each test (default 0): speed\n"
            "                          at a long context, like llama-bench's -d\n"
            "  -t, --threads LIST      thread counts (default: number of cores)\n"
            "  -r, --repetitions N     measured runs per test, after one warm-up (default 5)\n"
            "  -o, --output FMT        md (default: a table) or json (one array of records)\n"
            CLI_CACHE_TYPE_HELP
            "      --baseline          also run every test on the reference path (LUT kernels off)\n"
            "  -h, --help              this help\n\n"
            "Progress dots go to stderr. Example: lutlm bench --synthetic bitnet-2b4t -p 128 -n 64 -t 1,2\n",
            lt_synthetic_names());
}

static void parse_options(int argc, char **argv, bench_options *o) {
    const char *v;
    *o = (bench_options){ .n_prompt = { 128, 512 }, .n_pp = 2, .n_gen = { 64 }, .n_tg = 1, .n_depth = 1, .reps = 5, .seed = 1,
                          .cache = lutlm_context_default_params() };
    o->threads[0] = lt_default_threads();
    o->n_threads = 1;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); exit(0); }
        else if (cli_option(argc, argv, &i, "-m", "--model", &v)) o->model_path = v;
        else if (cli_option(argc, argv, &i, NULL, "--synthetic", &v)) o->synthetic = v;
        else if (cli_option(argc, argv, &i, NULL, "--type", &v)) o->type = v;
        else if (cli_option(argc, argv, &i, NULL, "--output-type", &v)) o->output_type = v;
        else if (cli_option(argc, argv, &i, NULL, "--seed", &v)) o->seed = (uint64_t)cli_int("bench", "--seed", v, 0, INT64_MAX);
        else if (cli_option(argc, argv, &i, "-p", "--n-prompt", &v)) o->n_pp = cli_int_list("bench", "-p", v, o->n_prompt, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-n", "--n-gen", &v)) o->n_tg = cli_int_list("bench", "-n", v, o->n_gen, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-d", "--n-depth", &v)) o->n_depth = cli_int_list("bench", "-d", v, o->depth, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-t", "--threads", &v)) o->n_threads = cli_int_list("bench", "-t", v, o->threads, MAX_LIST);
        else if (cli_option(argc, argv, &i, "-r", "--repetitions", &v)) o->reps = (int)cli_int("bench", "-r", v, 1, 1000);
        else if (cli_option(argc, argv, &i, "-o", "--output", &v)) {
            if (strcmp(v, "md") && strcmp(v, "json")) {
                fprintf(stderr, "lutlm bench: invalid value for -o: '%s' (md or json)\n", v);
                exit(2);
            }
            o->json = !strcmp(v, "json");
        }
        else if (cli_flag(argv, i, NULL, "--baseline")) o->baseline = true;
        else if (cli_cache_type_option("bench", argc, argv, &i, &o->cache)) continue;
        else cli_unknown("bench", argv[i]);
    }
    const char *problem = NULL;
    if (!o->model_path == !o->synthetic) problem = "give a model (-m MODEL) or a synthetic shape (--synthetic NAME), not both";
    else if (o->model_path && (o->type || o->output_type))
        problem = "--type and --output-type apply to --synthetic models (re-encode a file with lutlm quantize)";
    for (int i = 0; i < o->n_threads; i++)
        if (o->threads[i] < 1 || o->threads[i] > 1024) problem = "thread counts must be in 1..1024";
    for (int i = 0; i < o->n_depth; i++)
        if (o->depth[i] < 0 || o->depth[i] > (1 << 20)) problem = "depths must be in 0..1048576";
    if (problem) {
        fprintf(stderr, "lutlm bench: %s\n\n", problem);
        usage(stderr);
        exit(2);
    }
}

/* Best of BW_PASSES streaming sums over the buffer on `threads` threads, in GB/s (1e9 B/s). */
static double read_bandwidth_gbps(void *buffer, size_t bytes, int threads) {
    lt_pool *pool = lt_pool_create(threads);
    if (!pool) return 0;
    double best = lt_read_bandwidth_gbps(pool, buffer, bytes, BW_PASSES);
    lt_pool_free(pool);
    return best;
}

/* ---- what the model reads ---- */

typedef struct {
    char name[128], type[32], head[32];
    uint64_t size_bytes, params;
    uint64_t pass_bytes;       /* every linear weight and the output head, as the forward pass reads them */
    uint64_t embd_row_bytes;
    uint64_t kv_bytes_per_position; /* K and V of one cached position, every layer */
    const char *type_k, *type_v;    /* their storage: "f16" or "f32" */
    bool kernels;              /* some linear weight runs on the LUT kernels */
} model_stats;

static uint64_t linear_bytes(const lt_linear *l) { return l->q ? lt_qweight_bytes(l->q) : l->w.nbytes; }

static bool cache_is_f32(lutlm_cache_type t) { return t == LUTLM_CACHE_F32; }

static void collect_stats(lutlm_model *m, const char *label, const lutlm_context_params *cache, model_stats *s) {
    const lt_hparams *hp = &m->hp;
    lt_linear *all[MAX_LINEARS];
    int n = lt_model_linears(m, all, MAX_LINEARS);
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", label);
    snprintf(s->type, sizeof s->type, "%s", all[0]->w.fmt->name);
    snprintf(s->head, sizeof s->head, "%s", m->output.w.fmt->name);
    for (int i = 0; i < n; i++) {
        if (i + 1 < n && all[i]->w.fmt != all[0]->w.fmt) snprintf(s->type, sizeof s->type, "mixed");
        s->pass_bytes += linear_bytes(all[i]);
        s->kernels = s->kernels || all[i]->q;
        s->params += (uint64_t)(lt_linear_in(all[i]) * lt_linear_out(all[i]));
    }
    s->size_bytes = s->pass_bytes;
    if (m->output.w.data != m->tok_embd.data) {
        s->size_bytes += m->tok_embd.nbytes;
        s->params += (uint64_t)(m->tok_embd.ne[0] * m->tok_embd.ne[1]);
    }
    /* norms: F32 vectors (the sub-norms of BitNet are as wide as the attention and the FFN) */
    uint64_t norm_floats = (uint64_t)hp->n_embd * (2 * (uint64_t)hp->n_layer + 1);
    if (hp->sub_norms) norm_floats += (uint64_t)hp->n_layer * ((uint64_t)hp->n_head * hp->head_dim + (uint64_t)hp->n_ff);
    s->size_bytes += norm_floats * sizeof(float);
    s->params += norm_floats;
    s->embd_row_bytes = lt_format_row_bytes(m->tok_embd.fmt, m->tok_embd.ne[0]);
    bool k32 = cache_is_f32(cache->type_k), v32 = cache_is_f32(cache->type_v);
    s->type_k = k32 ? "f32" : "f16";
    s->type_v = v32 ? "f32" : "f16";
    s->kv_bytes_per_position = (uint64_t)hp->n_layer * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim *
                               ((k32 ? 4u : 2u) + (v32 ? 4u : 2u));
}

/* Turn the LUT kernels off (every linear on the reference path) and back on, for --baseline. */
static void swap_kernels(lutlm_model *m, struct lt_qweight **saved, bool off) {
    lt_linear *all[MAX_LINEARS];
    int n = lt_model_linears(m, all, MAX_LINEARS);
    for (int i = 0; i < n; i++) {
        if (off) { saved[i] = all[i]->q; all[i]->q = NULL; }
        else all[i]->q = saved[i];
    }
}

static bool any_kernels(lutlm_model *m) {
    lt_linear *all[MAX_LINEARS];
    int n = lt_model_linears(m, all, MAX_LINEARS);
    for (int i = 0; i < n; i++)
        if (all[i]->q) return true;
    return false;
}

/* ---- timing ---- */

typedef struct {
    int threads, n_tokens, depth;
    bool generation, reference;
    double mean, stddev, bytes_per_token, bw_gbps, limit_gbps;
    double speedup;            /* kernels vs reference (filled on the kernel row when --baseline) */
} bench_result;

static bool decode_ok(lutlm_context *c, const int32_t *tokens, int n) {
    if (lutlm_decode(c, tokens, n, false) == LUTLM_OK) return true;
    fprintf(stderr, "\nlutlm bench: decode failed: %s\n", lutlm_last_error());
    return false;
}

/* The cache as a test starts: `depth` tokens in it (batches of at most n_batch), or none. */
static bool fill_depth(lutlm_context *c, const int32_t *tokens, int depth, int n_batch) {
    lutlm_context_truncate(c, 0);
    for (int done = 0; done < depth; done += n_batch)
        if (!decode_ok(c, tokens + done, LT_MIN(n_batch, depth - done))) return false;
    return true;
}

/* Seconds of one run after the cache is cut back to `depth` tokens: a batched pass over n prompt
 * tokens, or n generation steps (after TG_PROMPT prompt tokens on an empty cache). Negative on
 * failure. */
static double run_once(lutlm_context *c, const int32_t *tokens, int n, bool generation, int depth) {
    lutlm_context_truncate(c, depth);
    if (!generation) {
        double t0 = lt_time_now();
        if (!decode_ok(c, tokens + depth, n)) return -1;
        return lt_time_now() - t0;
    }
    int start = depth;
    if (depth == 0) {
        if (!decode_ok(c, tokens, TG_PROMPT)) return -1;
        start = TG_PROMPT;
    }
    double t0 = lt_time_now();
    for (int i = 0; i < n; i++)
        if (!decode_ok(c, tokens + start + i, 1)) return -1;
    return lt_time_now() - t0;
}

static bool run_test(lutlm_context *c, const int32_t *tokens, int n_batch, int reps, bench_result *r) {
    int n = r->n_tokens;
    double *tps = lt_calloc((size_t)reps, sizeof(double));
    if (!tps) return false;
    bool ok = fill_depth(c, tokens, r->depth, n_batch) && run_once(c, tokens, n, r->generation, r->depth) >= 0; /* warm-up */
    fputc('.', stderr);
    double sum = 0;
    for (int i = 0; ok && i < reps; i++) {
        double dt = run_once(c, tokens, n, r->generation, r->depth);
        ok = dt >= 0;
        tps[i] = dt > 0 ? n / dt : 0;
        sum += tps[i];
        fputc('.', stderr);
    }
    r->mean = sum / reps;
    double var = 0;
    for (int i = 0; i < reps; i++) var += (tps[i] - r->mean) * (tps[i] - r->mean);
    r->stddev = reps > 1 ? sqrt(var / (reps - 1)) : 0;
    free(tps);
    return ok;
}

static void fill_bandwidth(bench_result *r, const model_stats *s) {
    double per_pass = (double)s->pass_bytes;
    r->bytes_per_token = (r->generation ? per_pass : per_pass / r->n_tokens) + (double)s->embd_row_bytes;
    if (r->generation && r->depth > 0) /* positions read per step, on average */
        r->bytes_per_token += (double)s->kv_bytes_per_position * (r->depth + (r->n_tokens + 1) / 2.0);
    r->bw_gbps = r->bytes_per_token * r->mean / 1e9;
}

/* ---- output ---- */

static void test_name(const bench_result *r, char *buf, size_t n) {
    char depth[32] = "";
    if (r->depth > 0) snprintf(depth, sizeof depth, " @ d%d", r->depth);
    snprintf(buf, n, "%s%d%s%s", r->generation ? "tg" : "pp", r->n_tokens, depth, r->reference ? " (ref)" : "");
}

static void print_cpu(FILE *out) {
    char line[512], model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5))) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    }
    if (f) fclose(f);
    fprintf(out, "CPU: %s, %d cores available, kernels ISA: %s\n", model, lt_default_threads(), lt_isa_name(lt_isa_active()));
    fprintf(out, "ternary weights run as: %s tables (size, bpw and bytes/token are the repacked ones)\n",
            lt_kernels_ternary_layout());
}

/* "1.17 GiB" / "12.3 MiB" and "2.41 B" / "3.4 M": llama-bench's units, readable for tiny models too. */
static void format_size(uint64_t bytes, char *buf, size_t n) {
    if (bytes >= (UINT64_C(1) << 30)) snprintf(buf, n, "%.2f GiB", bytes / 1073741824.0);
    else snprintf(buf, n, "%.2f MiB", bytes / 1048576.0);
}

static void format_count(uint64_t count, char *buf, size_t n) {
    if (count >= 1000000000) snprintf(buf, n, "%.2f B", count / 1e9);
    else snprintf(buf, n, "%.2f M", count / 1e6);
}

static void print_markdown(const bench_options *o, const model_stats *s, const bench_result *res, int n,
                           const double *limits) {
    print_cpu(stdout);
    printf("read bandwidth (streaming sum over %zu MiB, best of %d):", BW_BUFFER_BYTES >> 20, BW_PASSES);
    for (int i = 0; i < o->n_threads; i++) printf("%s %d thread%s %.1f GB/s", i ? "," : "", o->threads[i], o->threads[i] > 1 ? "s" : "", limits[i]);
    printf("\nKV cache: K %s, V %s", s->type_k, s->type_v);
    printf("\n\n| model | type | head | size | params | bpw | threads | test | t/s | bytes/token | bw GB/s | of limit |%s\n",
           o->baseline ? " vs ref |" : "");
    printf("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |%s\n", o->baseline ? " ---: |" : "");
    char size[32], params[32];
    format_size(s->size_bytes, size, sizeof size);
    format_count(s->params, params, sizeof params);
    for (int i = 0; i < n; i++) {
        const bench_result *r = &res[i];
        char test[64], speedup[32] = "";
        test_name(r, test, sizeof test);
        if (o->baseline) snprintf(speedup, sizeof speedup, r->speedup > 0 ? " %.2fx |" : " |", r->speedup);
        printf("| %s | %s | %s | %s | %s | %.2f | %d | %s | %.2f ± %.2f | %.2f MB | %.2f | %.0f%% |%s\n", s->name,
               s->type, s->head, size, params, 8.0 * s->size_bytes / s->params, r->threads,
               test, r->mean, r->stddev, r->bytes_per_token / 1e6, r->bw_gbps,
               r->limit_gbps > 0 ? 100.0 * r->bw_gbps / r->limit_gbps : 0.0, speedup);
    }
}

static void json_string(const char *key, const char *v) {
    printf("\"%s\": \"", key);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    printf("\", ");
}

static void print_json(const model_stats *s, const bench_result *res, int n) {
    printf("[\n");
    for (int i = 0; i < n; i++) {
        const bench_result *r = &res[i];
        char test[32];
        snprintf(test, sizeof test, "%s%d", r->generation ? "tg" : "pp", r->n_tokens);
        printf("  {");
        json_string("model", s->name);
        json_string("type", s->type);
        json_string("output_type", s->head);
        json_string("test", test);
        json_string("path", r->reference || !s->kernels ? "reference" : "kernels");
        json_string("type_k", s->type_k);
        json_string("type_v", s->type_v);
        printf("\"size_bytes\": %llu, \"params\": %llu, \"bpw\": %.4f, \"threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, "
               "\"n_depth\": %d, \"tokens_per_s\": %.4f, \"stddev\": %.4f, \"bytes_per_token\": %.0f, \"bw_gbps\": %.4f, "
               "\"bw_limit_gbps\": %.4f, \"bw_limit_ratio\": %.4f}%s\n",
               (unsigned long long)s->size_bytes, (unsigned long long)s->params, 8.0 * s->size_bytes / s->params,
               r->threads, r->generation ? (r->depth ? 0 : TG_PROMPT) : r->n_tokens, r->generation ? r->n_tokens : 0, r->depth,
               r->mean, r->stddev,
               r->bytes_per_token, r->bw_gbps, r->limit_gbps, r->limit_gbps > 0 ? r->bw_gbps / r->limit_gbps : 0.0,
               i + 1 < n ? "," : "");
    }
    printf("]\n");
}

/* ---- the run ---- */

static lutlm_model *open_model(const bench_options *o, char *label, size_t label_len) {
    if (o->synthetic) {
        snprintf(label, label_len, "%s", o->synthetic);
        double t0 = lt_time_now();
        /* the reference path must stream distinct weights for every layer, as the kernels do */
        lt_synthetic_options so = { .distinct_sources = o->baseline };
        lutlm_model *m = lt_model_synthetic_ex(o->synthetic, o->type, o->output_type, o->seed, &so);
        if (m) fprintf(stderr, "lutlm bench: built synthetic %s in %.1f s\n", o->synthetic, lt_time_now() - t0);
        return m;
    }
    const char *base = strrchr(o->model_path, '/');
    snprintf(label, label_len, "%s", base ? base + 1 : o->model_path);
    char *dot = strstr(label, ".gguf");
    if (dot && dot[5] == 0) *dot = 0;
    return lutlm_model_load(o->model_path, NULL);
}

static int max_of(const int *v, int n) {
    int m = 0;
    for (int i = 0; i < n; i++) m = LT_MAX(m, v[i]);
    return m;
}

/* Every test at one thread count, on the current path (kernels or reference). */
static bool run_thread_count(lutlm_model *m, const bench_options *o, int threads, bool reference, const int32_t *tokens,
                             const model_stats *stats, double limit, bench_result *res, int *n_res) {
    int max_pp = max_of(o->n_prompt, o->n_pp), max_tg = max_of(o->n_gen, o->n_tg), max_depth = max_of(o->depth, o->n_depth);
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_threads = threads;
    cp.type_k = o->cache.type_k;
    cp.type_v = o->cache.type_v;
    cp.n_ctx = max_depth + LT_MAX(max_pp, TG_PROMPT + max_tg);
    cp.n_batch = LT_MAX(LT_MAX(max_pp, TG_PROMPT), LT_MIN(max_depth, 512));
    lutlm_context *c = lutlm_context_new(m, &cp);
    if (!c) {
        fprintf(stderr, "lutlm bench: %s\n", lutlm_last_error());
        return false;
    }
    bool ok = true;
    for (int d = 0; ok && d < o->n_depth; d++)
        for (int kind = 0; ok && kind < 2; kind++) {
            const int *lens = kind ? o->n_gen : o->n_prompt;
            for (int i = 0; ok && i < (kind ? o->n_tg : o->n_pp); i++) {
                if (lens[i] == 0 || *n_res == MAX_RESULTS) continue;
                bench_result *r = &res[(*n_res)++];
                *r = (bench_result){ .threads = threads, .n_tokens = lens[i], .depth = o->depth[d], .generation = kind == 1,
                                     .reference = reference, .limit_gbps = limit };
                ok = run_test(c, tokens, cp.n_batch, o->reps, r);
                fill_bandwidth(r, stats);
                fputc('\n', stderr);
            }
        }
    lutlm_context_free(c);
    return ok;
}

int cmd_bench(int argc, char **argv) {
    bench_options o;
    parse_options(argc, argv, &o);
    char label[128];
    lutlm_model *m = open_model(&o, label, sizeof label);
    if (!m) {
        fprintf(stderr, "lutlm bench: %s\n", lutlm_last_error());
        return 1;
    }
    bool baseline = o.baseline && any_kernels(m);
    if (o.baseline && !baseline)
        fprintf(stderr, "lutlm bench: --baseline: no weight of this model runs on the LUT kernels, nothing to compare\n");

    double limits[MAX_LIST] = { 0 };
    void *buffer = lt_aligned_alloc(64, BW_BUFFER_BYTES);
    if (buffer) {
        memset(buffer, 1, BW_BUFFER_BYTES); /* touch every page before timing */
        for (int i = 0; i < o.n_threads; i++) limits[i] = read_bandwidth_gbps(buffer, BW_BUFFER_BYTES, o.threads[i]);
        lt_aligned_free(buffer);
    } else {
        fprintf(stderr, "lutlm bench: no memory for the bandwidth probe: %s\n", lutlm_last_error());
    }

    /* random token ids: the weights are what is measured, not the text */
    int n_tokens = max_of(o.depth, o.n_depth) + LT_MAX(max_of(o.n_prompt, o.n_pp), TG_PROMPT + max_of(o.n_gen, o.n_tg));
    int32_t *tokens = lt_malloc((size_t)n_tokens * sizeof(int32_t));
    bench_result *res = lt_calloc(MAX_RESULTS, sizeof(bench_result));
    struct lt_qweight **saved = lt_calloc(MAX_LINEARS, sizeof(*saved));
    int n_res = 0, rc = 1;
    bool ok = false;
    if (!tokens || !res || !saved) goto done;
    uint64_t state = o.seed * 2654435761u + 1;
    for (int i = 0; i < n_tokens; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        tokens[i] = (int32_t)((state >> 33) % (uint64_t)lutlm_model_n_vocab(m));
    }
    model_stats stats, ref_stats;
    collect_stats(m, label, &o.cache, &stats);
    if (baseline) {
        swap_kernels(m, saved, true);
        collect_stats(m, label, &o.cache, &ref_stats);
        swap_kernels(m, saved, false);
    }
    ok = true;
    for (int t = 0; ok && t < o.n_threads; t++) {
        int first = n_res;
        ok = run_thread_count(m, &o, o.threads[t], false, tokens, &stats, limits[t], res, &n_res);
        if (ok && baseline) {
            int ref_first = n_res;
            swap_kernels(m, saved, true);
            ok = run_thread_count(m, &o, o.threads[t], true, tokens, &ref_stats, limits[t], res, &n_res);
            swap_kernels(m, saved, false);
            for (int i = 0; ok && i < ref_first - first; i++)
                if (res[ref_first + i].mean > 0) res[first + i].speedup = res[first + i].mean / res[ref_first + i].mean;
        }
    }
    if (ok) {
        if (o.json) print_json(&stats, res, n_res);
        else print_markdown(&o, &stats, res, n_res, limits);
        rc = 0;
    }
done:
    if (rc) fprintf(stderr, "lutlm bench: failed\n");
    free(saved);
    free(res);
    free(tokens);
    lutlm_model_free(m);
    return rc;
}
