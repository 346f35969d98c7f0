/* The public API: error handling on bad input, context bookkeeping, and the sampler. */
#include "lutlm.h"
#include "test_util.h"

static void test_load_errors(void) {
    CHECK(lutlm_model_load("/nonexistent/model.gguf", NULL) == NULL);
    CHECK(strstr(lutlm_last_error(), "/nonexistent/model.gguf") != NULL);
    /* a valid GGUF that is not a model (vocab only) */
    CHECK(lutlm_model_load(shared_path("models/llamacpp-vocab/ggml-vocab-gpt-2.gguf"), NULL) == NULL);
    fprintf(stderr, "vocab-only file: %s\n", lutlm_last_error());
}

static void test_context(void) {
    lutlm_model *m = lutlm_model_load(shared_path("models/bitnet-b158-tiny/bitnet-b158-tiny-f32.gguf"), NULL);
    CHECK(m != NULL);
    if (!m) return;
    CHECK(lutlm_model_n_vocab(m) == 512);
    CHECK(lutlm_model_n_layer(m) == 4);
    CHECK(!strcmp(lutlm_model_arch(m), "bitnet-b1.58"));
    CHECK(strstr(lutlm_model_describe(m), "squared ReLU") != NULL);
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = 8;
    cp.n_threads = 2;
    cp.n_batch = 3; /* prompts longer than a batch are split */
    lutlm_context *c = lutlm_context_new(m, &cp);
    CHECK(c != NULL);
    int32_t toks[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    CHECK(lutlm_decode(c, toks, 9, false) == LUTLM_ERR_CONTEXT_FULL);
    CHECK(lutlm_context_n_past(c) == 0);
    int32_t bad = 512;
    CHECK(lutlm_decode(c, &bad, 1, false) == LUTLM_ERR_INVALID_ARGUMENT);
    /* batched (split into chunks of 3) and one-by-one decoding give the same last logits */
    CHECK(lutlm_decode(c, toks, 7, true) == LUTLM_OK);
    CHECK(lutlm_context_n_past(c) == 7);
    float last_batched[512];
    memcpy(last_batched, lutlm_get_logits(c, 6), sizeof last_batched);
    CHECK(lutlm_get_logits(c, 7) == NULL);
    lutlm_context_truncate(c, 0);
    for (int i = 0; i < 7; i++) CHECK(lutlm_decode(c, &toks[i], 1, false) == LUTLM_OK);
    double d = 0;
    for (int i = 0; i < 512; i++) d = fmax(d, fabs(last_batched[i] - lutlm_get_logits(c, -1)[i]));
    CHECKF(d < 1e-4, "batched vs sequential logits differ by %g", d);
    lutlm_context_free(c);
    lutlm_model_free(m);
}

static void test_sampler(void) {
    float logits[6] = { 0.1f, 2.0f, 1.9f, -1.0f, 0.5f, 2.0f };
    lutlm_sampler *s = lutlm_sampler_new(NULL); /* greedy */
    CHECK(lutlm_sampler_sample(s, logits, 6) == 1); /* ties: lowest id */
    lutlm_sampler_free(s);

    lutlm_sampler_params p = lutlm_sampler_default_params();
    p.repeat_penalty = 2.0f;
    s = lutlm_sampler_new(&p);
    lutlm_sampler_accept(s, 1);
    lutlm_sampler_accept(s, 5);
    CHECK(lutlm_sampler_sample(s, logits, 6) == 2); /* 2.0/2 < 1.9 */
    lutlm_sampler_free(s);

    /* the same seed gives the same draws; top-k 1 is greedy */
    p = lutlm_sampler_default_params();
    p.temperature = 1.0f;
    p.seed = 42;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    lutlm_sampler *a = lutlm_sampler_new(&p), *b = lutlm_sampler_new(&p);
    int counts[6] = { 0 };
    for (int i = 0; i < 2000; i++) {
        int x = lutlm_sampler_sample(a, logits, 6);
        CHECK(x == lutlm_sampler_sample(b, logits, 6));
        counts[x]++;
    }
    /* p(1) = p(5) = e^2 / Σ ≈ 0.30; p(3) = e^-1 / Σ ≈ 0.015 */
    CHECKF(counts[1] > 450 && counts[1] < 750, "count[1] = %d", counts[1]);
    CHECKF(counts[3] < 80, "count[3] = %d", counts[3]);
    lutlm_sampler_free(a);
    lutlm_sampler_free(b);
    p.top_k = 1;
    s = lutlm_sampler_new(&p);
    for (int i = 0; i < 20; i++) CHECK(lutlm_sampler_sample(s, logits, 6) == 1);
    lutlm_sampler_free(s);
    /* min-p 0.5 keeps only tokens within half of the top probability: 1, 2, 5 */
    p.top_k = 0;
    p.min_p = 0.5f;
    s = lutlm_sampler_new(&p);
    for (int i = 0; i < 200; i++) {
        int x = lutlm_sampler_sample(s, logits, 6);
        CHECK(x == 1 || x == 2 || x == 5);
    }
    lutlm_sampler_free(s);
}

int main(void) {
    test_load_errors();
    test_context();
    test_sampler();
    return TEST_DONE();
}
