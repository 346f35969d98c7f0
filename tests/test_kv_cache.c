/* The KV cache and attention through the public API, on the synthetic tiny model (GQA: 4 query heads,
 * 2 kv heads, head_dim 64):
 *  - the logits of a token are the same bits whether it comes one step at a time (the decode path,
 *    which over a long cache splits attention into score / softmax / value phases) or inside one
 *    batch, for an F32 and an F16 cache, with 1 and 3 threads, at positions past tile boundaries;
 *  - an F16 cache stays close to an F32 cache, and reports half the bytes;
 *  - unknown cache types are refused. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lutlm.h"
#include "model/synthetic.h"
#include "test_util.h"

enum { N_TOKENS = 300, N_STEPS = 4 };

/* Logits of the last N_STEPS tokens: [0] a batch of N_TOKENS - N_STEPS then one token per step,
 * [1] all N_TOKENS in one batch. */
static bool run(lutlm_model *m, lutlm_cache_type type, int threads, const int32_t *tokens, float *out[2]) {
    int n_vocab = lutlm_model_n_vocab(m);
    for (int way = 0; way < 2; way++) {
        lutlm_context_params cp = lutlm_context_default_params();
        cp.n_ctx = N_TOKENS + 7; /* not a whole number of tiles */
        cp.n_threads = threads;
        cp.type_k = cp.type_v = type;
        lutlm_context *c = lutlm_context_new(m, &cp);
        if (!c) return false;
        bool ok = true;
        if (way == 0) {
            ok = lutlm_decode(c, tokens, N_TOKENS - N_STEPS, false) == LUTLM_OK;
            for (int s = 0; ok && s < N_STEPS; s++) {
                ok = lutlm_decode(c, tokens + N_TOKENS - N_STEPS + s, 1, false) == LUTLM_OK;
                if (ok) memcpy(out[0] + (size_t)s * n_vocab, lutlm_get_logits(c, -1), sizeof(float) * (size_t)n_vocab);
            }
        } else {
            ok = lutlm_decode(c, tokens, N_TOKENS, true) == LUTLM_OK;
            for (int s = 0; ok && s < N_STEPS; s++)
                memcpy(out[1] + (size_t)s * n_vocab, lutlm_get_logits(c, N_TOKENS - N_STEPS + s), sizeof(float) * (size_t)n_vocab);
        }
        if (way == 0) CHECK(lutlm_context_kv_bytes(c, 10) == 10ull * 4 * 2 * 64 * (type == LUTLM_CACHE_F32 ? 8 : 4));
        lutlm_context_free(c);
        if (!ok) return false;
    }
    return true;
}

int main(void) {
    lutlm_model *m = lt_model_synthetic("tiny", NULL, NULL, 3);
    CHECKF(m != NULL, "%s", lutlm_last_error());
    if (!m) return TEST_DONE();
    int n_vocab = lutlm_model_n_vocab(m);
    size_t rows = (size_t)N_STEPS * n_vocab;
    int32_t tokens[N_TOKENS];
    test_rng_seed(11);
    for (int i = 0; i < N_TOKENS; i++) tokens[i] = (int32_t)(test_rnd() % (uint32_t)n_vocab);
    float *logits[2][2][2]; /* [type][thread case][way] */
    static const lutlm_cache_type types[2] = { LUTLM_CACHE_F32, LUTLM_CACHE_F16 };
    static const int threads[2] = { 1, 3 };
    for (int ty = 0; ty < 2; ty++)
        for (int th = 0; th < 2; th++) {
            for (int w = 0; w < 2; w++) logits[ty][th][w] = calloc(rows, sizeof(float));
            CHECKF(run(m, types[ty], threads[th], tokens, logits[ty][th]), "%s", lutlm_last_error());
            CHECKF(memcmp(logits[ty][th][0], logits[ty][th][1], rows * sizeof(float)) == 0,
                   "%s cache, %d threads: one-token steps and one batch differ", ty ? "f16" : "f32", threads[th]);
        }
    for (int ty = 0; ty < 2; ty++)
        CHECKF(memcmp(logits[ty][0][0], logits[ty][1][0], rows * sizeof(float)) == 0, "%s cache: 1 and 3 threads differ",
               ty ? "f16" : "f32");
    double max_diff = 0, max_abs = 0;
    for (size_t i = 0; i < rows; i++) {
        max_diff = fmax(max_diff, fabs((double)logits[0][0][0][i] - logits[1][0][0][i]));
        max_abs = fmax(max_abs, fabs((double)logits[0][0][0][i]));
    }
    CHECKF(max_diff > 0 && max_diff < 0.02 * max_abs, "f16 vs f32 cache: max |diff| %g (max |logit| %g)", max_diff, max_abs);
    for (int ty = 0; ty < 2; ty++)
        for (int th = 0; th < 2; th++)
            for (int w = 0; w < 2; w++) free(logits[ty][th][w]);

    lutlm_context_params bad = lutlm_context_default_params();
    bad.type_v = (lutlm_cache_type)7;
    CHECK(lutlm_context_new(m, &bad) == NULL && strstr(lutlm_last_error(), "KV cache type") != NULL);
    CHECK(lutlm_cache_type_from_name("f16") == LUTLM_CACHE_F16 && lutlm_cache_type_from_name("f32") == LUTLM_CACHE_F32 &&
          lutlm_cache_type_from_name("q8_0") < 0);
    lutlm_model_free(m);
    return TEST_DONE();
}
