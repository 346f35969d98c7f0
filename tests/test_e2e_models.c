/* End-to-end checks of the forward pass against reference implementations (../shared/golden).
 * Usage: test_e2e_models CASE   (each case is its own CTest entry, label e2e). */
#include "golden_util.h" /* read_ids, read_floats, session, prompt_logits, greedy, ... */

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
