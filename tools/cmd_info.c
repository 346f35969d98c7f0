/* lutlm info: describe a GGUF model from its metadata and tensor table alone (nothing is
 * decoded, so it works on any file the reader accepts, including vocab-only files). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm info [options] MODEL\n\n"
            "Describe a GGUF model: version, architecture, hyper-parameters (every ARCH.* key), tokenizer,\n"
            "the other metadata (arrays abbreviated), a histogram of tensor types, the parameter count,\n"
            "the size and the bits per weight, and which weight types are repacked for the LUT kernels at load.\n\n"
            "  -m, --model FILE   the model (or give it as the argument)\n"
            "      --tensors      also list every tensor: name, type, shape, offset, size\n"
            "  -h, --help         this help\n");
}

/* "1.25 MiB" style. */
static const char *human_bytes(uint64_t n, char *buf, size_t len) {
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double x = (double)n;
    int u = 0;
    while (x >= 1024.0 && u < 4) { x /= 1024.0; u++; }
    if (u == 0) snprintf(buf, len, "%" PRIu64 " B", n);
    else snprintf(buf, len, "%.2f %s", x, units[u]);
    return buf;
}

static uint64_t tensor_elements(const gguf_tensor_info *t) {
    uint64_t n = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) n *= (uint64_t)t->ne[d]; /* the reader checked it fits */
    return n;
}

static const char *shape_string(const gguf_tensor_info *t, char *buf, size_t len) {
    int at = snprintf(buf, len, "[");
    for (uint32_t d = 0; d < t->n_dims && at < (int)len; d++)
        at += snprintf(buf + at, len - (size_t)at, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (at < (int)len) snprintf(buf + at, len - (size_t)at, "]");
    return buf;
}

static bool has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static void print_value_line(const gguf_kv *kv, const char *shown_key) {
    char buf[320];
    gguf_format_value(&kv->value, buf, sizeof buf);
    printf("  %-40s %s\n", shown_key, buf);
}

/* Every ARCH.* key, without the prefix. */
static void print_hparams(const gguf_file *f, const char *arch) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s.", arch);
    printf("\nhyper-parameters (%s*):\n", prefix);
    int n = 0;
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (has_prefix(f->kv[i].key.data, prefix)) {
            print_value_line(&f->kv[i], f->kv[i].key.data + strlen(prefix));
            n++;
        }
    if (!n) printf("  (none)\n");
}

/* Token id `key` and its text, e.g. "1 (\"<s>\")". */
static void print_token(const gguf_file *f, const gguf_value *tokens, const char *label, const char *key) {
    uint32_t id;
    if (!gguf_get_u32(f, key, &id)) return;
    printf(", %s %" PRIu32, label, id);
    if (tokens && id < tokens->v.arr.n) {
        gguf_value piece = { .type = GGUF_TYPE_STRING, .v.str = ((const gguf_string *)tokens->v.arr.data)[id] };
        char buf[96];
        gguf_format_value(&piece, buf, sizeof buf);
        printf(" %s", buf);
    }
}

static void print_tokenizer(const gguf_file *f) {
    const char *model = gguf_get_str(f, "tokenizer.ggml.model");
    const gguf_value *tokens = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    printf("\ntokenizer:\n");
    if (!model && !tokens) {
        printf("  (none)\n");
        return;
    }
    const char *pre = gguf_get_str(f, "tokenizer.ggml.pre");
    printf("  model %s%s%s, vocab %" PRIu64 " tokens", model ? model : "?", pre ? ", pre-tokenizer " : "", pre ? pre : "",
           tokens ? tokens->v.arr.n : 0);
    print_token(f, tokens, "bos", "tokenizer.ggml.bos_token_id");
    print_token(f, tokens, "eos", "tokenizer.ggml.eos_token_id");
    print_token(f, tokens, "unk", "tokenizer.ggml.unknown_token_id");
    const gguf_value *merges = gguf_get_array(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING);
    if (merges) printf(", %" PRIu64 " merges", merges->v.arr.n);
    printf("\n");
}

/* Everything not shown as a hyper-parameter. */
static void print_other_metadata(const gguf_file *f, const char *arch) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s.", arch ? arch : "");
    printf("\nmetadata:\n");
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (!arch || !has_prefix(f->kv[i].key.data, prefix)) print_value_line(&f->kv[i], f->kv[i].key.data);
}

/* Count and bytes per tensor type, in order of first appearance; then totals. */
static void print_tensor_summary(const gguf_file *f) {
    typedef struct { uint32_t type; uint64_t count, bytes, elements; } type_row;
    type_row rows[64];
    int n_rows = 0;
    uint64_t params = 0, bytes = 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor_info *t = &f->tensors[i];
        int r = 0;
        while (r < n_rows && rows[r].type != t->type) r++;
        if (r == n_rows && n_rows < (int)LT_ARRAY_LEN(rows)) rows[n_rows++] = (type_row){ t->type, 0, 0, 0 };
        if (r < n_rows) {
            rows[r].count++;
            rows[r].bytes += t->nbytes;
            rows[r].elements += tensor_elements(t);
        }
        params += tensor_elements(t);
        bytes += t->nbytes;
    }
    char hb[32];
    printf("\ntensor types:\n");
    if (!n_rows) printf("  (no tensors)\n");
    for (int r = 0; r < n_rows; r++) {
        const lt_format *fmt = lt_format_by_type(rows[r].type);
        printf("  %-12s %5" PRIu64 " tensors %12" PRIu64 " bytes (%s), %.3f bits per weight\n", fmt ? fmt->name : "?",
               rows[r].count, rows[r].bytes, human_bytes(rows[r].bytes, hb, sizeof hb),
               rows[r].elements ? 8.0 * (double)rows[r].bytes / (double)rows[r].elements : 0.0);
    }
    printf("\nparameters:   %" PRIu64 " (%.3f M)\n", params, (double)params / 1e6);
    printf("tensor data:  %" PRIu64 " bytes (%s)", bytes, human_bytes(bytes, hb, sizeof hb));
    if (params) printf(", %.3f bits per weight", 8.0 * (double)bytes / (double)params);
    printf("\nfile size:    %" PRIu64 " bytes (%s)\n", f->size, human_bytes(f->size, hb, sizeof hb));
}

/* What the loader does with each weight type: the formats the LUT kernels take are repacked into a
 * kernel layout at load (model_load.c), everything else is used in place by the reference path. */
static void print_repacking(const gguf_file *f) {
    uint32_t seen[64];
    int n_seen = 0;
    const char *env = getenv("LUTLM_KERNELS");
    bool off = env && !strcmp(env, "0");
    printf("\nat load (%s):\n", off ? "LUTLM_KERNELS=0: every matmul takes the reference path" : "LUT kernels on");
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const lt_format *fmt = lt_format_by_type(f->tensors[i].type);
        int s = 0;
        while (s < n_seen && seen[s] != f->tensors[i].type) s++;
        if (!fmt || s < n_seen || n_seen == (int)LT_ARRAY_LEN(seen)) continue;
        seen[n_seen++] = f->tensors[i].type;
        if (lt_kernels_supports(fmt) && !off)
            printf("  %-12s linear weights repacked for the LUT kernels (%s tables)\n", fmt->name,
                   fmt->ternary ? lt_kernels_ternary_layout() : "INT-n bit-plane");
        else
            printf("  %-12s used in place (%s)\n", fmt->name, fmt->dequantize_row ? "reference path" : "no decoder: not runnable");
    }
}

static void print_tensor_list(const gguf_file *f) {
    printf("\ntensors (offset = byte in the file):\n");
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor_info *t = &f->tensors[i];
        const lt_format *fmt = lt_format_by_type(t->type);
        char shape[96];
        printf("  %4" PRIu64 "  %-32s %-10s %-22s offset %10" PRIu64 "  %10" PRIu64 " bytes\n", i, t->name.data,
               fmt ? fmt->name : "?", shape_string(t, shape, sizeof shape), f->data_offset + t->offset, t->nbytes);
    }
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL, *v;
    bool list_tensors = false;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); return 0; }
        else if (cli_flag(argv, i, NULL, "--tensors")) list_tensors = true;
        else if (cli_option(argc, argv, &i, "-m", "--model", &v)) path = v;
        else if (argv[i][0] == '-' && argv[i][1]) cli_unknown("info", argv[i]);
        else if (!path) path = argv[i];
        else { fprintf(stderr, "lutlm info: one model at a time (got '%s' and '%s')\n", path, argv[i]); return 2; }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    gguf_file *f = gguf_open(path);
    if (!f) {
        fprintf(stderr, "lutlm info: %s\n", lt_error());
        return 1;
    }
    const char *arch = gguf_get_str(f, "general.architecture");
    const char *name = gguf_get_str(f, "general.name");
    printf("file:         %s\n", path);
    printf("GGUF version: %" PRIu32 " (%" PRIu64 " keys, %" PRIu64 " tensors, alignment %" PRIu64 ", data at byte %" PRIu64 ")\n",
           f->version, f->n_kv, f->n_tensors, f->alignment, f->data_offset);
    printf("architecture: %s\n", arch ? arch : "(not set)");
    if (name) printf("name:         %s\n", name);
    if (arch) print_hparams(f, arch);
    print_tokenizer(f);
    print_other_metadata(f, arch);
    print_tensor_summary(f);
    print_repacking(f);
    if (list_tensors) print_tensor_list(f);
    gguf_close(f);
    return 0;
}
