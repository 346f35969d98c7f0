/* End-to-end checks of the forward pass against reference implementations (../shared/golden).
 * Usage: test_e2e_models CASE   (each case is its own CTest entry, label e2e). */
#include <stdint.h>

#include "lutlm.h"
#include "test_util.h"

#define MAX_IDS 1024

static int read_ids(const char *path, int32_t *ids, int max) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
    int n = 0;
    long v;
    while (n < max && fscanf(f, "%ld", &v) == 1) ids[n++] = (int32_t)v;
    fclose(f);
    return n;
}

static float *read_floats(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return NULL; }
    float *x = malloc(n * sizeof(float));
    size_t got = fread(x, sizeof(float), n, f);
    fclose(f);
    if (got != n) { fprintf(stderr, "%s: expected %zu floats, got %zu\n", path, n, got); free(x); return NULL; }
    return x;
}

static int argmax(const float *x, int n) {
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

static bool open_session(session *s, const char *rel_path, int n_ctx) {
    s->model = lutlm_model_load(shared_path(rel_path), NULL);
    if (!s->model) { fprintf(stderr, "load %s: %s\n", rel_path, lutlm_last_error()); return false; }
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 2;
    s->ctx = lutlm_context_new(s->model, &cp);
    if (!s->ctx) { fprintf(stderr, "context: %s\n", lutlm_last_error()); return false; }
    s->n_vocab = lutlm_model_n_vocab(s->model);
    return true;
}

static void close_session(session *s) {
    lutlm_context_free(s->ctx);
    lutlm_model_free(s->model);
}

/* Logits of every prompt position (malloc'd, n x n_vocab). */
static float *prompt_logits(session *s, const int32_t *ids, int n) {
    lutlm_context_truncate(s->ctx, 0);
    if (lutlm_decode(s->ctx, ids, n, true) != LUTLM_OK) { fprintf(stderr, "decode: %s\n", lutlm_last_error()); return NULL; }
    float *out = malloc((size_t)n * s->n_vocab * sizeof(float));
    memcpy(out, lutlm_get_logits(s->ctx, 0), (size_t)n * s->n_vocab * sizeof(float));
    return out;
}

/* Greedy continuation of ids[0..n) for `steps` tokens, one token per decode step. */
static void greedy(session *s, const int32_t *ids, int n, int steps, int32_t *out, float *out_logits) {
    lutlm_context_truncate(s->ctx, 0);
    lutlm_decode(s->ctx, ids, n, false);
    for (int g = 0; g < steps; g++) {
        const float *l = lutlm_get_logits(s->ctx, -1);
        if (out_logits) memcpy(out_logits + (size_t)g * s->n_vocab, l, (size_t)s->n_vocab * sizeof(float));
        out[g] = argmax(l, s->n_vocab);
        if (g + 1 < steps) lutlm_decode(s->ctx, &out[g], 1, false);
    }
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static int count_argmax_agree(const float *a, const float *b, int rows, int n_vocab) {
    int agree = 0;
    for (int r = 0; r < rows; r++) agree += argmax(a + (size_t)r * n_vocab, n_vocab) == argmax(b + (size_t)r * n_vocab, n_vocab);
    return agree;
}

/* Acceptance 5 of the foundation: the BitNet-2B-4T architecture (squared ReLU) in F32. */
static void case_tiny_f32(void) {
    session s;
    CHECK(open_session(&s, "models/bitnet-b158-tiny/bitnet-b158-tiny-f32.gguf", 256));
    if (!s.ctx) return;
    int32_t prompt[MAX_IDS], want[MAX_IDS], got[64];
    int n = read_ids(shared_path("golden/bitnet-b158-tiny/prompt_tokens.txt"), prompt, MAX_IDS);
    CHECK(n == 16);
    float *ref = read_floats(shared_path("golden/bitnet-b158-tiny/numpy-f64.prompt_logits.f32"), (size_t)n * s.n_vocab);
    float *ours = prompt_logits(&s, prompt, n);
    CHECK(ref && ours);
    if (ref && ours) {
        double d = max_abs_diff(ref, ours, (size_t)n * s.n_vocab);
        fprintf(stderr, "tiny f32: prompt logits max |diff| vs numpy-f64 = %.3g\n", d);
        CHECKF(d <= 1e-3, "max diff %g", d);
    }
    int n_want = read_ids(shared_path("golden/bitnet-b158-tiny/numpy-f64.greedy.txt"), want, MAX_IDS);
    CHECK(n_want == 64);
    float *greedy_ref = read_floats(shared_path("golden/bitnet-b158-tiny/numpy-f64.greedy_logits.f32"), 64 * (size_t)s.n_vocab);
    float *greedy_ours = malloc(64 * (size_t)s.n_vocab * sizeof(float));
    greedy(&s, prompt, n, 64, got, greedy_ours);
    int same = 0;
    while (same < 64 && got[same] == want[same]) same++;
    fprintf(stderr, "tiny f32: greedy ids equal for %d of 64\n", same);
    CHECK(same == 64);
    if (greedy_ref) {
        double d = max_abs_diff(greedy_ref, greedy_ours, 64 * (size_t)s.n_vocab);
        fprintf(stderr, "tiny f32: greedy-step logits max |diff| = %.3g\n", d);
        CHECKF(d <= 1e-3, "max diff %g", d);
    }
    free(greedy_ref);
    free(greedy_ours);
    free(ref);
    free(ours);
    close_session(&s);
}

/* The 3M ternary model as llama.cpp's GGUFs: F32 logits within 1e-3; Q8_0/Q4_0 argmax agreement. */
static void case_bitllama_3m_logits(const char *file, const char *golden, double tol, int min_agree) {
    session s;
    char rel[256];
    snprintf(rel, sizeof rel, "models/bitllama2c-ternary/%s", file);
    CHECK(open_session(&s, rel, 256));
    if (!s.ctx) return;
    int32_t prompt[MAX_IDS];
    int n = read_ids(shared_path("golden/bitllama2c-3M/llamacpp-3M.prompt_tokens.txt"), prompt, MAX_IDS);
    CHECK(n == 16);
    snprintf(rel, sizeof rel, "golden/bitllama2c-3M/%s", golden);
    float *ref = read_floats(shared_path(rel), (size_t)n * s.n_vocab);
    float *ours = prompt_logits(&s, prompt, n);
    if (ref && ours) {
        double d = max_abs_diff(ref, ours, (size_t)n * s.n_vocab);
        int agree = count_argmax_agree(ref, ours, n, s.n_vocab);
        fprintf(stderr, "%s: prompt logits max |diff| = %.3g, argmax %d/%d\n", file, d, agree, n);
        if (tol > 0) CHECKF(d <= tol, "max diff %g > %g", d, tol);
        CHECKF(agree >= min_agree, "argmax agrees at %d of %d positions", agree, n);
    } else {
        CHECK(!"logits missing");
    }
    free(ref);
    free(ours);
    close_session(&s);
}

/* llama.cpp's TQ2_0/TQ1_0 files: greedy continuation of "Once upon a time" agrees with the F32 file. */
static void case_bitllama_3m_ternary(const char *file) {
    static const int32_t prompt[] = { 1, 403, 407, 261, 378 };
    enum { STEPS = 110 };
    session f32, tq;
    char rel[256];
    snprintf(rel, sizeof rel, "models/bitllama2c-ternary/%s", file);
    CHECK(open_session(&f32, "models/bitllama2c-ternary/bitllama2c-3M-f32.gguf", 256));
    CHECK(open_session(&tq, rel, 256));
    if (!f32.ctx || !tq.ctx) return;
    int32_t a[STEPS], b[STEPS];
    greedy(&f32, prompt, 5, STEPS, a, NULL);
    greedy(&tq, prompt, 5, STEPS, b, NULL);
    int same = 0;
    while (same < STEPS && a[same] == b[same]) same++;
    fprintf(stderr, "%s: greedy tokens equal to the F32 file's for %d of %d\n", file, same, STEPS);
    CHECKF(same >= 100, "only %d tokens agree", same);
    close_session(&f32);
    close_session(&tq);
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "tiny_f32")) case_tiny_f32();
    else if (!strcmp(c, "bitllama3m_f32")) case_bitllama_3m_logits("bitllama2c-3M-f32.gguf", "llamacpp-3M-f32.prompt_logits.f32", 1e-3, 16);
    else if (!strcmp(c, "bitllama3m_q8_0")) case_bitllama_3m_logits("bitllama2c-3M-q8_0.gguf", "llamacpp-3M-q8_0.prompt_logits.f32", 0, 16);
    else if (!strcmp(c, "bitllama3m_q4_0")) case_bitllama_3m_logits("bitllama2c-3M-q4_0.gguf", "llamacpp-3M-q4_0.prompt_logits.f32", 0, 15);
    else if (!strcmp(c, "bitllama3m_tq2_0")) case_bitllama_3m_ternary("bitllama2c-3M-tq2_0.gguf");
    else if (!strcmp(c, "bitllama3m_tq1_0")) case_bitllama_3m_ternary("bitllama2c-3M-tq1_0.gguf");
    else { fprintf(stderr, "unknown case '%s'\n", c); return 2; }
    return TEST_DONE();
}
