/* A context: the KV cache and the scratch buffers of one sequence being decoded. */
#ifndef LUTLM_MODEL_CONTEXT_H
#define LUTLM_MODEL_CONTEXT_H

#include "common/threadpool.h"
#include "model/model.h"

struct lutlm_context {
    lutlm_model *model;
    lt_pool *pool;
    int n_ctx, n_batch, n_past;
    bool v_f16;                 /* round V to F16 on its way into the cache (lutlm_context_params) */
    float *k_cache;             /* [layer][n_head_kv * head_dim][n_ctx] (transposed: see forward.c) */
    float *v_cache;             /* [layer][n_ctx][n_head_kv * head_dim] */
    /* activations of up to n_batch tokens */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;
    float *scores;              /* per thread: n_ctx attention scores */
    void *linear_scratch;
    struct lt_act *act;         /* activations shared by the kernels of q/k/v and gate/up */
    float *logits;              /* [n_logits][n_vocab] from the last decode call */
    int n_logits;
    size_t logits_cap;          /* rows allocated */
};

/* Run the layers on n <= n_batch tokens (positions n_past ..); write logits of tokens
 * first_logit .. n-1 to `logits` (row-major). Does not advance n_past. */
void lt_forward_batch(lutlm_context *c, const int32_t *tokens, int n, int first_logit, float *logits);

#endif
