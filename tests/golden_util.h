/* Helpers for end-to-end tests that compare a model's outputs with the golden files in ../shared:
 * reading ids and logits, a model + context "session", prompt logits, greedy decoding, and counting
 * how many greedy tokens keep the generated text a prefix of a reference text.
 * Used by test_e2e_models.c and test_lowbit.c (header-only: each test is one program). */
#ifndef LUTLM_TESTS_GOLDEN_UTIL_H
#define LUTLM_TESTS_GOLDEN_UTIL_H

#include <stdint.h>

#include "lutlm.h"
#include "test_util.h"

#define MAX_IDS 1024

static inline int read_ids(const char *path, int32_t *ids, int max) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
    int n = 0;
    long v;
    while (n < max && fscanf(f, "%ld", &v) == 1) ids[n++] = (int32_t)v;
    fclose(f);
    return n;
}

/* n little-endian float32 values (malloc'd), or NULL if the file is missing or short. */
static inline float *read_floats(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return NULL; }
    float *x = malloc(n * sizeof(float));
    size_t got = fread(x, sizeof(float), n, f);
    fclose(f);
    if (got != n) { fprintf(stderr, "%s: expected %zu floats, got %zu\n", path, n, got); free(x); return NULL; }
    return x;
}

static inline int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

typedef struct {
    lutlm_model *model;
    lutlm_context *ctx;
    int n_vocab;
} session;

/* Load `path` (a real path, not relative to ../shared) with or without the LUT kernels, 1 thread;
 * an F32 KV cache (the reference runners'); like_ggml: compute as llama.cpp / bitnet.cpp do (their
 * F16 V cache and ggml's arithmetic: lutlm_context_params.type_v and ggml_compat). */
static inline bool open_session_path(session *s, const char *path, int n_ctx, bool use_kernels, bool like_ggml) {
    lutlm_model_params mp = lutlm_model_default_params();
    mp.use_kernels = use_kernels;
    s->ctx = NULL;
    s->model = lutlm_model_load(path, &mp);
    if (!s->model) { fprintf(stderr, "load %s: %s\n", path, lutlm_last_error()); return false; }
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1; /* ctest runs tests in parallel on 2 cores: one thread each */
    cp.type_k = LUTLM_CACHE_F32;
    cp.type_v = like_ggml ? LUTLM_CACHE_F16 : LUTLM_CACHE_F32;
    cp.ggml_compat = like_ggml;
    s->ctx = lutlm_context_new(s->model, &cp);
    if (!s->ctx) { fprintf(stderr, "context: %s\n", lutlm_last_error()); return false; }
    s->n_vocab = lutlm_model_n_vocab(s->model);
    return true;
}

/* A model under ../shared (rel_path), default parameters (LUT kernels unless LUTLM_KERNELS=0). */
static inline bool open_session(session *s, const char *rel_path, int n_ctx) {
    return open_session_path(s, shared_path(rel_path), n_ctx, lutlm_model_default_params().use_kernels, false);
}

static inline void close_session(session *s) {
    lutlm_context_free(s->ctx);
    lutlm_model_free(s->model);
    s->ctx = NULL;
    s->model = NULL;
}

/* Logits of every position of ids[0..n), from one batch (malloc'd, n x n_vocab). */
static inline float *prompt_logits(session *s, const int32_t *ids, int n) {
    lutlm_context_truncate(s->ctx, 0);
    if (lutlm_decode(s->ctx, ids, n, true) != LUTLM_OK) { fprintf(stderr, "decode: %s\n", lutlm_last_error()); return NULL; }
    float *out = malloc((size_t)n * s->n_vocab * sizeof(float));
    memcpy(out, lutlm_get_logits(s->ctx, 0), (size_t)n * s->n_vocab * sizeof(float));
    return out;
}

/* Greedy continuation of ids[0..n) for `steps` tokens, one token per decode step. Returns how many
 * tokens were produced (steps unless a decode failed). */
static inline int greedy(session *s, const int32_t *ids, int n, int steps, int32_t *out, float *out_logits) {
    lutlm_context_truncate(s->ctx, 0);
    if (lutlm_decode(s->ctx, ids, n, false) != LUTLM_OK) { fprintf(stderr, "decode: %s\n", lutlm_last_error()); return 0; }
    for (int g = 0; g < steps; g++) {
        const float *l = lutlm_get_logits(s->ctx, -1);
        if (out_logits) memcpy(out_logits + (size_t)g * s->n_vocab, l, (size_t)s->n_vocab * sizeof(float));
        out[g] = argmax(l, s->n_vocab);
        if (g + 1 < steps && lutlm_decode(s->ctx, &out[g], 1, false) != LUTLM_OK) {
            fprintf(stderr, "decode: %s\n", lutlm_last_error());
            return g + 1;
        }
    }
    return steps;
}

static inline double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static inline int count_argmax_agree(const float *a, const float *b, int rows, int n_vocab) {
    int agree = 0;
    for (int r = 0; r < rows; r++) agree += argmax(a + (size_t)r * n_vocab, n_vocab) == argmax(b + (size_t)r * n_vocab, n_vocab);
    return agree;
}

/* Length of the common prefix of two id sequences. */
static inline int common_prefix(const int32_t *a, const int32_t *b, int n) {
    int same = 0;
    while (same < n && a[same] == b[same]) same++;
    return same;
}

/* How many of the generated tokens gen[0..n_gen) keep the detokenized text (prompt without BOS,
 * then gen) a prefix of `golden` (a NUL-terminated text; trailing newlines should be dropped). */
static inline int tokens_matching_text(lutlm_model *m, const int32_t *prompt, int n_prompt, const int32_t *gen,
                                       int n_gen, const char *golden) {
    size_t cap = 65536, len = 0, golden_len = strlen(golden);
    char *text = malloc(cap);
    int matched = 0;
    text[0] = 0;
    for (int i = 1; i < n_prompt + n_gen; i++) {
        int32_t tok = i < n_prompt ? prompt[i] : gen[i - n_prompt];
        int n = lutlm_token_to_piece(m, tok, text + len, (int)(cap - len - 1), false);
        if (n < 0 || len + (size_t)n >= cap - 1) break;
        len += (size_t)n;
        text[len] = 0;
        const char *t = text;
        while (*t == ' ') t++; /* SentencePiece's leading space of the first word */
        size_t tl = strlen(t);
        if (strncmp(t, golden, tl < golden_len ? tl : golden_len) != 0) break;
        if (i >= n_prompt) matched++;
        if (tl >= golden_len) break;
    }
    free(text);
    return matched;
}

#endif
