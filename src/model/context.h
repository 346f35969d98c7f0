/* A context: the KV cache and the scratch buffers of one sequence being decoded. */
#ifndef LUTLM_MODEL_CONTEXT_H
#define LUTLM_MODEL_CONTEXT_H

#include "common/threadpool.h"
#include "kernels/attention.h"
#include "model/model.h"

/* Query heads one attention work item computes together (they share a kv head): rows of scores per thread. */
#define LT_ATT_GROUP LT_ATT_MAX_G
/* Rows of scores per thread: LT_ATT_GROUP query heads of 8 tokens (a batch's blocks, attention.c). */
#define LT_ATT_ROWS (LT_ATT_GROUP * 8)

/* Parts of the forward pass the profile reports. */
typedef enum {
    LT_PROF_QKV, LT_PROF_ATTENTION, LT_PROF_WO, LT_PROF_GATE_UP, LT_PROF_DOWN, LT_PROF_OUTPUT, LT_PROF_OTHER,
    LT_PROF_COUNT
} lt_prof_part;

struct lutlm_context {
    lutlm_model *model;
    lt_pool *pool;
    int n_ctx, n_batch, n_past;
    bool ggml;                  /* ggml's float arithmetic (lutlm_context_params.ggml_compat, ops_ggml.c) */
    /* The KV cache (model/attention.c). Stored as F16 (uint16_t) when k_f16 / v_f16, else F32. With
     * ggml_compat it stays F32 and an F16 type rounds the values instead (k_round / v_round), for
     * ggml's float arithmetic on them. */
    bool k_f16, v_f16, k_round, v_round;
    int kv_positions;           /* n_ctx rounded up to whole tiles of K (LT_KV_TILE) */
    int64_t kv_head_values;     /* values of K (or V) per layer and kv head: kv_positions x head_dim
                                 * rounded up to whole blocks of V (LT_KV_VBLOCK) */
    void *k_cache;              /* [layer][kv head][tiles of head_dim x LT_KV_TILE] (see kernels/attention.h) */
    void *v_cache;              /* [layer][kv head][blocks of kv_positions x LT_KV_VBLOCK] */
    uint16_t *kv_stage;         /* F16 cache: the batch's K, then V, converted ([2][n_batch][n_head_kv * head_dim]) */
    /* activations of up to n_batch tokens */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;
    float *scores;              /* rows of n_ctx attention scores: LT_ATT_ROWS per thread, or one per query
                                 * head (a decode step over a long cache, attention.c) */
    float *rope_cos, *rope_sin; /* [n_batch][rope_dim / 2]: RoPE angles of the batch's positions */
    void *linear_scratch;
    struct lt_act *act;         /* activations shared by the kernels of q/k/v and gate/up */
    float *logits;              /* [n_logits][n_vocab] from the last decode call */
    int n_logits;
    size_t logits_cap;          /* rows allocated */
    /* LUTLM_PROFILE=1: wall time per part of the forward pass, printed when the context is freed */
    bool profile;
    double prof_seconds[2][LT_PROF_COUNT]; /* [0]: 1-token steps, [1]: batches of more */
    int64_t prof_tokens[2];     /* tokens decoded in batches of 1 and of more */
    int prof_batch;             /* which of the two the current pass is */
};

/* Run the layers on n <= n_batch tokens (positions n_past ..); write logits of tokens
 * first_logit .. n-1 to `logits` (row-major). Does not advance n_past. */
void lt_forward_batch(lutlm_context *c, const int32_t *tokens, int n, int first_logit, float *logits);

/* Attention of layer il for the batch's n tokens (attention.c): store c->k, c->v (after RoPE) in the
 * cache at positions n_past .., then c->att = softmax(q K^T / sqrt(head_dim)) V per query head. */
void lt_attention(lutlm_context *c, int il, int n);

#endif
