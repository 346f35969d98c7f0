/* Contexts: allocation of the KV cache and scratch, and lutlm_decode (batching + bookkeeping). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels.h"
#include "model/context.h"

lutlm_context_params lutlm_context_default_params(void) {
    return (lutlm_context_params){ .n_ctx = 0, .n_threads = 0, .n_batch = 0, .type_k = LUTLM_CACHE_F16,
                                   .type_v = LUTLM_CACHE_F16 };
}

int lutlm_cache_type_from_name(const char *name) {
    if (!name) return -1;
    if (!strcmp(name, "f32")) return LUTLM_CACHE_F32;
    if (!strcmp(name, "f16")) return LUTLM_CACHE_F16;
    return -1;
}

/* The LUTLM_PROFILE report: where the forward pass spent its time, in 1-token steps (decode) and in
 * batches (prompts) apart. */
static void print_profile(const lutlm_context *c) {
    static const char *names[LT_PROF_COUNT] = { "q/k/v matmuls", "attention", "output projection (wo)",
                                                "gate/up matmuls", "down matmul", "output head", "norms, RoPE, rest" };
    static const char *kinds[2] = { "1-token steps", "batches" };
    for (int b = 0; b < 2; b++) {
        double total = 0.0;
        for (int i = 0; i < LT_PROF_COUNT; i++) total += c->prof_seconds[b][i];
        if (total <= 0.0 || c->prof_tokens[b] == 0) continue;
        fprintf(stderr, "lutlm profile, %s: %.3f s for %lld tokens (%.2f ms per token)\n", kinds[b], total,
                (long long)c->prof_tokens[b], 1e3 * total / (double)c->prof_tokens[b]);
        for (int i = 0; i < LT_PROF_COUNT; i++)
            fprintf(stderr, "  %-24s %8.3f s  %5.1f%%\n", names[i], c->prof_seconds[b][i], 100.0 * c->prof_seconds[b][i] / total);
    }
}

void lutlm_context_free(lutlm_context *c) {
    if (!c) return;
    if (c->profile) print_profile(c);
    lt_pool_free(c->pool);
    free(c->k_cache);
    free(c->v_cache);
    free(c->kv_stage);
    free(c->x);
    free(c->xb);
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->att);
    free(c->hb);
    free(c->hb2);
    free(c->scores);
    free(c->rope_cos);
    free(c->rope_sin);
    free(c->linear_scratch);
    lt_act_free(c->act);
    free(c->logits);
    free(c);
}

/* calloc of count * size elements of elem bytes, with an overflow check */
static void *alloc_elems(uint64_t count, uint64_t size, size_t elem) {
    uint64_t total;
    if (!lt_mul_u64(count, size, &total) || total > (UINT64_C(1) << 40)) {
        lt_set_error("context too large (%llu x %llu values)", (unsigned long long)count, (unsigned long long)size);
        return NULL;
    }
    return lt_calloc((size_t)total, elem);
}

static float *alloc_floats(uint64_t count, uint64_t size) { return alloc_elems(count, size, sizeof(float)); }

static bool valid_cache_type(lutlm_cache_type t) {
    return t == LUTLM_CACHE_DEFAULT || t == LUTLM_CACHE_F32 || t == LUTLM_CACHE_F16;
}

lutlm_context *lutlm_context_new(lutlm_model *m, const lutlm_context_params *params) {
    lutlm_context_params p = params ? *params : lutlm_context_default_params();
    const lt_hparams *hp = &m->hp;
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0) {
        lt_set_error("negative context size, batch or thread count");
        return NULL;
    }
    if (!valid_cache_type(p.type_k) || !valid_cache_type(p.type_v)) {
        lt_set_error("unknown KV cache type (%d, %d)", (int)p.type_k, (int)p.type_v);
        return NULL;
    }
    lutlm_context *c = lt_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->model = m;
    c->n_ctx = p.n_ctx ? p.n_ctx : 4096; /* as llama.cpp: the training length is no hard limit */
    c->n_batch = LT_MIN(p.n_batch ? p.n_batch : 512, c->n_ctx);
    c->ggml = p.ggml_compat;
    bool k16 = p.type_k != LUTLM_CACHE_F32, v16 = p.type_v != LUTLM_CACHE_F32;
    c->k_f16 = k16 && !c->ggml;
    c->v_f16 = v16 && !c->ggml;
    c->k_round = k16 && c->ggml;
    c->v_round = v16 && c->ggml;
    const char *prof = getenv("LUTLM_PROFILE");
    c->profile = prof && *prof && strcmp(prof, "0") != 0;
    c->pool = lt_pool_create(p.n_threads);
    int nth = lt_pool_threads(c->pool);
    uint64_t kv_dim = (uint64_t)hp->n_head_kv * hp->head_dim, q_dim = (uint64_t)hp->n_head * hp->head_dim;
    uint64_t nb = (uint64_t)c->n_batch;
    int64_t widest = LT_MAX(LT_MAX(hp->n_embd, hp->n_ff), (int64_t)q_dim);
    c->kv_positions = (c->n_ctx + LT_KV_TILE - 1) / LT_KV_TILE * LT_KV_TILE;
    c->kv_head_values = (int64_t)c->kv_positions * ((hp->head_dim + LT_KV_VBLOCK - 1) / LT_KV_VBLOCK * LT_KV_VBLOCK);
    uint64_t heads = (uint64_t)hp->n_layer * (uint64_t)hp->n_head_kv;
    if (!c->pool || !(c->k_cache = alloc_elems(heads, (uint64_t)c->kv_head_values, c->k_f16 ? 2 : 4)) ||
        !(c->v_cache = alloc_elems(heads, (uint64_t)c->kv_head_values, c->v_f16 ? 2 : 4)) ||
        ((c->k_f16 || c->v_f16) && !(c->kv_stage = alloc_elems(2 * nb, kv_dim, 2))) ||
        !(c->x = alloc_floats(nb, hp->n_embd)) || !(c->xb = alloc_floats(nb, LT_MAX(hp->n_embd, (int64_t)q_dim))) ||
        !(c->q = alloc_floats(nb, q_dim)) || !(c->k = alloc_floats(nb, kv_dim)) || !(c->v = alloc_floats(nb, kv_dim)) ||
        !(c->att = alloc_floats(nb, q_dim)) || !(c->hb = alloc_floats(nb, hp->n_ff)) ||
        !(c->hb2 = alloc_floats(nb, hp->n_ff)) || !(c->scores = alloc_floats((uint64_t)LT_MAX(nth * LT_ATT_ROWS, hp->n_head), c->n_ctx)) ||
        !(c->rope_cos = alloc_floats(nb, (uint64_t)hp->rope_dim / 2 + 1)) ||
        !(c->rope_sin = alloc_floats(nb, (uint64_t)hp->rope_dim / 2 + 1)) ||
        !(c->linear_scratch = lt_malloc(lt_linear_scratch_bytes(widest, c->n_batch, nth))) ||
        !(c->act = lt_act_new())) {
        lutlm_context_free(c);
        return NULL;
    }
    return c;
}

int32_t lutlm_context_n_ctx(const lutlm_context *c) { return c->n_ctx; }
int32_t lutlm_context_n_past(const lutlm_context *c) { return c->n_past; }

uint64_t lutlm_context_kv_bytes(const lutlm_context *c, int32_t n_positions) {
    const lt_hparams *hp = &c->model->hp;
    uint64_t values = (uint64_t)hp->n_layer * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim * (uint64_t)LT_MAX(n_positions, 0);
    return values * ((c->k_f16 ? 2u : 4u) + (c->v_f16 ? 2u : 4u));
}

void lutlm_context_truncate(lutlm_context *c, int32_t pos) {
    if (pos >= 0 && pos < c->n_past) c->n_past = pos;
}

static bool reserve_logits(lutlm_context *c, size_t rows) {
    if (rows <= c->logits_cap) return true;
    float *bigger = realloc(c->logits, rows * (size_t)c->model->hp.n_vocab * sizeof(float));
    if (!bigger) return lt_set_error("out of memory for %zu rows of logits", rows);
    c->logits = bigger;
    c->logits_cap = rows;
    return true;
}

lutlm_status lutlm_decode(lutlm_context *c, const int32_t *tokens, int32_t n, bool all_logits) {
    if (n <= 0 || !tokens) {
        lt_set_error("lutlm_decode: no tokens");
        return LUTLM_ERR_INVALID_ARGUMENT;
    }
    if ((int64_t)c->n_past + n > c->n_ctx) {
        lt_set_error("context is full: %d cached + %d new tokens > context size %d", c->n_past, n, c->n_ctx);
        return LUTLM_ERR_CONTEXT_FULL;
    }
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->model->hp.n_vocab) {
            lt_set_error("token id %d out of range [0, %d)", tokens[i], c->model->hp.n_vocab);
            return LUTLM_ERR_INVALID_ARGUMENT;
        }
    if (!reserve_logits(c, all_logits ? (size_t)n : 1)) return LUTLM_ERR_OUT_OF_MEMORY;
    size_t n_vocab = (size_t)c->model->hp.n_vocab;
    for (int done = 0; done < n;) {
        int chunk = LT_MIN(c->n_batch, n - done);
        bool last_chunk = done + chunk == n;
        int first_logit = all_logits ? 0 : last_chunk ? chunk - 1 : chunk;
        float *out = c->logits + (all_logits ? (size_t)done * n_vocab : 0);
        lt_forward_batch(c, tokens + done, chunk, first_logit, out);
        c->n_past += chunk;
        done += chunk;
    }
    c->n_logits = all_logits ? n : 1;
    return LUTLM_OK;
}

const float *lutlm_get_logits(const lutlm_context *c, int32_t i) {
    if (c->n_logits == 0) return NULL;
    if (i < 0) i = c->n_logits - 1;
    if (i >= c->n_logits) return NULL;
    return c->logits + (size_t)i * (size_t)c->model->hp.n_vocab;
}
