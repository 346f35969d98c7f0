/* A context: the KV cache and the scratch buffers of one sequence being decoded. */
#ifndef LUTLM_MODEL_CONTEXT_H
#define LUTLM_MODEL_CONTEXT_H

#include "common/threadpool.h"
#include "model/model.h"

/* Query heads one attention work item computes together (they share a kv head): rows of scores per thread. */
#define LT_ATT_GROUP 4

/* Parts of the forward pass the profile reports. */
typedef enum {
    LT_PROF_QKV, LT_PROF_ATTENTION, LT_PROF_WO, LT_PROF_GATE_UP, LT_PROF_DOWN, LT_PROF_OUTPUT, LT_PROF_OTHER,
    LT_PROF_COUNT
} lt_prof_part;

struct lutlm_context {
    lutlm_model *model;
    lt_pool *pool;
    int n_ctx, n_batch, n_past;
    bool v_f16;                 /* round V to F16 on its way into the cache (lutlm_context_params) */
    bool ggml;                  /* ggml's float arithmetic (lutlm_context_params.ggml_compat, ops_ggml.c) */
    float *k_cache;             /* [layer][n_head_kv * head_dim][n_ctx] (transposed: see forward.c) */
    float *v_cache;             /* [layer][n_ctx][n_head_kv * head_dim] */
    /* activations of up to n_batch tokens */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;
    float *scores;              /* per thread: LT_ATT_GROUP rows of n_ctx attention scores */
    float *rope_cos, *rope_sin; /* [n_batch][rope_dim / 2]: RoPE angles of the batch's positions */
    void *linear_scratch;
    struct lt_act *act;         /* activations shared by the kernels of q/k/v and gate/up */
    float *logits;              /* [n_logits][n_vocab] from the last decode call */
    int n_logits;
    size_t logits_cap;          /* rows allocated */
    /* LUTLM_PROFILE=1: wall time per part of the forward pass, printed when the context is freed */
    bool profile;
    double prof_seconds[LT_PROF_COUNT];
    int64_t prof_tokens[2];     /* tokens decoded in batches of 1 and of more */
};

/* Run the layers on n <= n_batch tokens (positions n_past ..); write logits of tokens
 * first_logit .. n-1 to `logits` (row-major). Does not advance n_past. */
void lt_forward_batch(lutlm_context *c, const int32_t *tokens, int n, int first_logit, float *logits);

#endif
