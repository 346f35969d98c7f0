/* lutlm eval: run a token sequence through the model and write the logits of every position
 * (float32, row-major [position][vocab], the layout of the shared golden .f32 files), optionally followed
 * by greedy decoding. For testing against reference implementations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "lutlm.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm eval -m MODEL (--tokens \"1 2 3\" | --tokens-file FILE) [options]\n\n"
            "Evaluate a token sequence in one batched pass and write the logits of every position.\n\n"
            "  -m, --model FILE             GGUF model (required)\n"
            "      --tokens \"IDS\"           token ids separated by spaces or commas\n"
            "      --tokens-file FILE       token ids from a file\n"
            "      --logits-out FILE        write n_tokens x n_vocab float32 logits (row-major)\n"
            "      --greedy N               then generate N tokens greedily (one per step); ids to stdout\n"
            "      --greedy-logits-out FILE write the N rows of logits whose argmax are the greedy ids\n"
            "                               (row 0 = the last prompt position)\n"
            "  -b, --batch-size N           tokens per forward pass (default: all at once, up to 512)\n"
            "  -t, --threads N              threads (default: number of cores)\n"
            "  -c, --ctx-size N             context size (default: prompt + greedy tokens)\n"
            "  -ctk, --cache-type-k T       KV cache storage of K: f32 (default here: the reference\n"
            "                               runners' cache) or f16\n"
            "  -ctv, --cache-type-v T       the same for V\n"
            "      --like-ggml              compute as llama.cpp / bitnet.cpp do: F16 V cache and ggml's\n"
            "                               float order and roundings (docs/ggml-compat.md), to compare\n"
            "                               with their logits\n"
            "  -h, --help                   this help\n");
}

/* Parse ids separated by whitespace or commas. Returns the count, or -1 on garbage. */
static int parse_ids(const char *s, int32_t **out) {
    int cap = 64, n = 0;
    int32_t *ids = lt_malloc((size_t)cap * sizeof *ids);
    if (!ids) return -1;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',') p++;
        if (!*p) break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > INT32_MAX) {
            free(ids);
            return -1;
        }
        if (n == cap) {
            int32_t *bigger = realloc(ids, (size_t)(cap *= 2) * sizeof *ids);
            if (!bigger) { free(ids); return -1; }
            ids = bigger;
        }
        ids[n++] = (int32_t)v;
        p = end;
    }
    *out = ids;
    return n;
}

static bool write_rows(const char *path, const float *rows, size_t n_floats) {
    FILE *f = fopen(path, "wb");
    if (!f) return lt_set_error("%s: cannot create", path);
    bool ok = fwrite(rows, sizeof(float), n_floats, f) == n_floats;
    ok = (fclose(f) == 0) && ok;
    return ok || lt_set_error("%s: write failed", path);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *ids_text = NULL, *ids_file = NULL, *logits_out = NULL, *greedy_out = NULL, *v;
    int greedy = 0, batch = 0, threads = 0, ctx_size = 0;
    bool like_ggml = false;
    lutlm_context_params cp = lutlm_context_default_params();
    cp.type_k = cp.type_v = LUTLM_CACHE_DEFAULT; /* unset: F32 here unless chosen (see below) */
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); return 0; }
        else if (cli_flag(argv, i, NULL, "--like-ggml")) like_ggml = true;
        else if (cli_cache_type_option("eval", argc, argv, &i, &cp)) continue;
        else if (cli_option(argc, argv, &i, "-m", "--model", &v)) model_path = v;
        else if (cli_option(argc, argv, &i, NULL, "--tokens", &v)) ids_text = v;
        else if (cli_option(argc, argv, &i, NULL, "--tokens-file", &v)) ids_file = v;
        else if (cli_option(argc, argv, &i, NULL, "--logits-out", &v)) logits_out = v;
        else if (cli_option(argc, argv, &i, NULL, "--greedy-logits-out", &v)) greedy_out = v;
        else if (cli_option(argc, argv, &i, NULL, "--greedy", &v)) greedy = (int)cli_int("eval", "--greedy", v, 0, 1 << 20);
        else if (cli_option(argc, argv, &i, "-b", "--batch-size", &v)) batch = (int)cli_int("eval", "-b", v, 1, 1 << 16);
        else if (cli_option(argc, argv, &i, "-t", "--threads", &v)) threads = (int)cli_int("eval", "-t", v, 1, 1024);
        else if (cli_option(argc, argv, &i, "-c", "--ctx-size", &v)) ctx_size = (int)cli_int("eval", "-c", v, 1, 1 << 24);
        else cli_unknown("eval", argv[i]);
    }
    if (!model_path || (!ids_text == !ids_file)) {
        fprintf(stderr, "lutlm eval: need -m MODEL and exactly one of --tokens / --tokens-file\n\n");
        usage(stderr);
        return 2;
    }
    char *file_text = NULL;
    if (ids_file && !(file_text = lt_read_file(ids_file, NULL))) {
        fprintf(stderr, "lutlm eval: %s\n", lt_error());
        return 1;
    }
    int32_t *ids = NULL;
    int n = parse_ids(file_text ? file_text : ids_text, &ids);
    free(file_text);
    if (n <= 0) {
        fprintf(stderr, "lutlm eval: no valid token ids given\n");
        return 2;
    }
    int rc = 1;
    lutlm_context *ctx = NULL;
    float *greedy_rows = NULL;
    lutlm_model *model = lutlm_model_load(model_path, NULL);
    if (!model) goto done;
    int n_vocab = lutlm_model_n_vocab(model);
    cp.n_ctx = ctx_size ? ctx_size : n + greedy + 1;
    cp.n_threads = threads;
    cp.ggml_compat = like_ggml;
    if (cp.type_k == LUTLM_CACHE_DEFAULT) cp.type_k = LUTLM_CACHE_F32;
    if (cp.type_v == LUTLM_CACHE_DEFAULT) cp.type_v = like_ggml ? LUTLM_CACHE_F16 : LUTLM_CACHE_F32;
    cp.n_batch = batch ? batch : LT_MIN(n, 512);
    if (!(ctx = lutlm_context_new(model, &cp))) goto done;
    if (lutlm_decode(ctx, ids, n, true) != LUTLM_OK) goto done;
    if (logits_out) {
        /* lutlm_get_logits rows are contiguous for one decode call */
        if (!write_rows(logits_out, lutlm_get_logits(ctx, 0), (size_t)n * (size_t)n_vocab)) goto done;
    }
    if (greedy > 0) {
        greedy_rows = lt_malloc((size_t)greedy * (size_t)n_vocab * sizeof(float));
        if (!greedy_rows) goto done;
        memcpy(greedy_rows, lutlm_get_logits(ctx, n - 1), (size_t)n_vocab * sizeof(float));
        for (int g = 0; g < greedy; g++) {
            int32_t next = argmax(greedy_rows + (size_t)g * n_vocab, n_vocab);
            printf(g ? " %d" : "%d", next);
            if (g + 1 == greedy) break;
            if (lutlm_decode(ctx, &next, 1, false) != LUTLM_OK) goto done;
            memcpy(greedy_rows + (size_t)(g + 1) * n_vocab, lutlm_get_logits(ctx, -1), (size_t)n_vocab * sizeof(float));
        }
        printf("\n");
        if (greedy_out && !write_rows(greedy_out, greedy_rows, (size_t)greedy * (size_t)n_vocab)) goto done;
    }
    rc = 0;
done:
    if (rc) fprintf(stderr, "lutlm eval: %s\n", lutlm_last_error());
    free(greedy_rows);
    free(ids);
    lutlm_context_free(ctx);
    lutlm_model_free(model);
    return rc;
}
