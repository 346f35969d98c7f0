/* Token sampling, in llama.cpp's order: repetition penalty -> top-k -> top-p -> min-p ->
 * temperature -> draw. Temperature <= 0 is greedy (argmax, lowest id on ties). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "lutlm.h"

struct lutlm_sampler {
    lutlm_sampler_params p;
    uint64_t rng;
    int32_t *recent;      /* ring buffer of the last repeat_last_n tokens */
    int n_recent, recent_pos;
    struct candidate { int32_t id; float logit; float prob; } *cand;
    int cand_cap;
};

lutlm_sampler_params lutlm_sampler_default_params(void) {
    return (lutlm_sampler_params){ .temperature = 0.0f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                                   .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0 };
}

/* splitmix64: a small, well-mixed generator; reproducible for a given seed. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double next_unit(uint64_t *s) { return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0); }

lutlm_sampler *lutlm_sampler_new(const lutlm_sampler_params *params) {
    lutlm_sampler *s = lt_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = params ? *params : lutlm_sampler_default_params();
    if (s->p.repeat_last_n < 0) s->p.repeat_last_n = 0;
    s->rng = s->p.seed;
    if (s->p.repeat_last_n > 0 && !(s->recent = lt_calloc((size_t)s->p.repeat_last_n, sizeof(int32_t)))) {
        free(s);
        return NULL;
    }
    return s;
}

void lutlm_sampler_free(lutlm_sampler *s) {
    if (!s) return;
    free(s->recent);
    free(s->cand);
    free(s);
}

void lutlm_sampler_accept(lutlm_sampler *s, int32_t token) {
    if (s->p.repeat_last_n <= 0) return;
    s->recent[s->recent_pos] = token;
    s->recent_pos = (s->recent_pos + 1) % s->p.repeat_last_n;
    if (s->n_recent < s->p.repeat_last_n) s->n_recent++;
}

static int by_logit_desc(const void *a, const void *b) {
    const struct candidate *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

static int32_t argmax(const float *logits, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

/* The penalty as llama.cpp applies it: a seen token's logit is divided by the penalty if positive,
 * multiplied if negative (each distinct token once). */
static void apply_repeat_penalty(lutlm_sampler *s, int32_t n_vocab) {
    if (s->p.repeat_penalty == 1.0f || s->n_recent == 0) return;
    for (int i = 0; i < s->cand_cap && i < n_vocab; i++) {
        struct candidate *c = &s->cand[i];
        bool seen = false;
        for (int j = 0; j < s->n_recent && !seen; j++) seen = s->recent[j] == c->id;
        if (seen) c->logit = c->logit > 0 ? c->logit / s->p.repeat_penalty : c->logit * s->p.repeat_penalty;
    }
}

int32_t lutlm_sampler_sample(lutlm_sampler *s, const float *logits, int32_t n_vocab) {
    if (n_vocab <= 0) return -1;
    if (s->cand_cap < n_vocab) {
        struct candidate *c = realloc(s->cand, (size_t)n_vocab * sizeof *c);
        if (!c) return argmax(logits, n_vocab);
        s->cand = c;
        s->cand_cap = n_vocab;
    }
    int n = n_vocab;
    for (int i = 0; i < n; i++) s->cand[i] = (struct candidate){ i, logits[i], 0.0f };
    apply_repeat_penalty(s, n_vocab);
    if (s->p.temperature <= 0.0f) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (s->cand[i].logit > s->cand[best].logit) best = i;
        return s->cand[best].id;
    }
    qsort(s->cand, (size_t)n, sizeof *s->cand, by_logit_desc);
    if (s->p.top_k > 0 && s->p.top_k < n) n = s->p.top_k;
    /* probabilities of the remaining candidates (before temperature, as llama.cpp's top-p/min-p see them) */
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (s->cand[i].prob = expf(s->cand[i].logit - s->cand[0].logit));
    if (s->p.top_p < 1.0f) {
        double cum = 0.0;
        for (int i = 0; i < n; i++) {
            cum += s->cand[i].prob / sum;
            if (cum >= s->p.top_p) { n = i + 1; break; }
        }
    }
    if (s->p.min_p > 0.0f) {
        int keep = 1;
        while (keep < n && s->cand[keep].prob >= s->p.min_p * s->cand[0].prob) keep++;
        n = keep;
    }
    sum = 0.0;
    for (int i = 0; i < n; i++) sum += (s->cand[i].prob = expf((s->cand[i].logit - s->cand[0].logit) / s->p.temperature));
    double r = next_unit(&s->rng) * sum;
    for (int i = 0; i < n; i++) {
        r -= s->cand[i].prob;
        if (r <= 0.0) return s->cand[i].id;
    }
    return s->cand[n - 1].id;
}
