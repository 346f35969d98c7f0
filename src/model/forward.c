/* The forward pass of llama / bitnet / bitnet-b1.58 over a batch of n tokens at positions
 * n_past .. n_past + n - 1 (attention over the KV cache: attention.c).
 *
 *   x = token_embd[token]
 *   per layer:  h = rmsnorm(x, attn_norm);  q, k, v = Wq h, Wk h, Wv h;  RoPE(q, k)
 *               a = softmax(q k^T / sqrt(head_dim), causal) v      (GQA: q head j uses kv head j / group)
 *               a = rmsnorm(a, attn_sub_norm)                       (BitNet only)
 *               x += Wo a
 *               h = rmsnorm(x, ffn_norm);  f = act(Wgate h) * (Wup h)   (act = SiLU, or ReLU^2 for b1.58)
 *               f = rmsnorm(f, ffn_sub_norm)                        (BitNet only)
 *               x += Wdown f
 *   logits = Wout rmsnorm(x, output_norm)
 */
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels.h"
#include "model/context.h"
#include "model/ops.h"

/* Profiling (LUTLM_PROFILE=1): charge the time since the last mark to a part of the pass. */
static double prof_mark(lutlm_context *c, lt_prof_part part, double since) {
    if (!c->profile) return 0.0;
    double now = lt_time_now();
    if (since > 0.0) c->prof_seconds[c->prof_batch][part] += now - since;
    return now;
}

static void linear(lutlm_context *c, const lt_linear *l, const float *x, int n, float *y) {
    lt_linear_forward(l, x, n, y, c->pool, c->linear_scratch, c->act, c->ggml);
}

static void rmsnorm(const lutlm_context *c, float *out, const float *x, const float *w, int n) {
    if (c->ggml) lt_rmsnorm_ggml(out, x, w, n, c->model->hp.norm_eps);
    else lt_rmsnorm(out, x, w, n, c->model->hp.norm_eps);
}

/* Per-token element-wise work of a batch, split over the pool by tokens (each token's result is
 * computed exactly as alone): RMSNorm of rows, or the FFN activation followed by the sub-norm. */
typedef struct {
    const lutlm_context *c;
    float *out;          /* rows of `dim`, stride dim */
    const float *x, *w;  /* input rows (stride dim), norm weight (may be NULL: no norm) */
    const float *up;     /* FFN: the up projection (act(out) * up, in place in out) or NULL */
    int dim, rows;
} rows_job;

/* out[r] = rmsnorm(x[r], w) for rows [r0, r1) of width dim. */
static void rmsnorm_rows(const lutlm_context *c, float *out, const float *x, const float *w, int dim, int64_t r0,
                         int64_t r1) {
    if (!c->ggml) {
        lt_rmsnorm_rows(out + r0 * dim, x + r0 * dim, w, (int)(r1 - r0), dim, c->model->hp.norm_eps);
        return;
    }
    for (int64_t r = r0; r < r1; r++) rmsnorm(c, out + r * dim, x + r * dim, w, dim);
}

static void rows_task(void *arg, int ith, int nth) {
    rows_job *job = arg;
    int64_t r0, r1;
    lt_split_range(job->rows, 1, ith, nth, &r0, &r1);
    if (!job->up) {
        rmsnorm_rows(job->c, job->out, job->x, job->w, job->dim, r0, r1);
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        float *out = job->out + r * job->dim;
        const float *up = job->up + r * job->dim;
        if (job->c->model->hp.ffn_act == LT_FFN_RELU2) lt_relu2_glu(out, up, job->dim);
        else lt_swiglu(out, up, job->dim);
    }
    if (job->w) rmsnorm_rows(job->c, job->out, job->out, job->w, job->dim, r0, r1);
}

static void run_rows(lutlm_context *c, rows_job *job) {
    if (job->rows > 1) lt_pool_run(c->pool, rows_task, job);
    else rows_task(job, 0, 1);
}

/* out[t] = rmsnorm(x[t], w) for the n rows of width dim. */
static void norm_rows(lutlm_context *c, float *out, const float *x, const float *w, int dim, int n) {
    rows_job job = { .c = c, .out = out, .x = x, .w = w, .dim = dim, .rows = n };
    run_rows(c, &job);
}

static void embed_tokens(lutlm_context *c, const int32_t *tokens, int n) {
    const lutlm_model *m = c->model;
    for (int t = 0; t < n; t++) lt_tensor_dequantize_row(&m->tok_embd, tokens[t], c->x + (size_t)t * m->hp.n_embd);
}

static void attention_block(lutlm_context *c, const lt_layer *L, int il, int n) {
    const lt_hparams *hp = &c->model->hp;
    int d = hp->n_embd, hd = hp->head_dim;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hd, q_dim = (int64_t)hp->n_head * hd;
    double t0 = prof_mark(c, LT_PROF_OTHER, 0.0);
    norm_rows(c, c->xb, c->x, L->attn_norm, d, n);
    t0 = prof_mark(c, LT_PROF_OTHER, t0);
    const lt_linear *qkv[3] = { &L->wq, &L->wk, &L->wv };
    float *qkv_out[3] = { c->q, c->k, c->v };
    lt_linear_forward_many(qkv, 3, c->xb, n, qkv_out, c->pool, c->linear_scratch, c->act, c->ggml);
    t0 = prof_mark(c, LT_PROF_QKV, t0);
    int half = hp->rope_dim / 2;
    for (int t = 0; t < n; t++) {
        const float *rc = c->rope_cos + (size_t)t * half, *rs = c->rope_sin + (size_t)t * half;
        for (int h = 0; h < hp->n_head; h++) lt_rope_apply(c->q + t * q_dim + h * hd, rc, rs, hp->rope_dim, hp->rope_neox);
        for (int h = 0; h < hp->n_head_kv; h++) lt_rope_apply(c->k + t * kv_dim + h * hd, rc, rs, hp->rope_dim, hp->rope_neox);
    }
    lt_attention(c, il, n);
    t0 = prof_mark(c, LT_PROF_ATTENTION, t0);
    if (L->attn_sub_norm)
        norm_rows(c, c->att, c->att, L->attn_sub_norm, (int)q_dim, n);
    t0 = prof_mark(c, LT_PROF_OTHER, t0);
    linear(c, &L->wo, c->att, n, c->xb);
    t0 = prof_mark(c, LT_PROF_WO, t0);
    for (int64_t i = 0; i < (int64_t)n * d; i++) c->x[i] += c->xb[i];
    prof_mark(c, LT_PROF_OTHER, t0);
}

static void ffn_block(lutlm_context *c, const lt_layer *L, int n) {
    const lt_hparams *hp = &c->model->hp;
    int d = hp->n_embd, ff = hp->n_ff;
    double t0 = prof_mark(c, LT_PROF_OTHER, 0.0);
    norm_rows(c, c->xb, c->x, L->ffn_norm, d, n);
    t0 = prof_mark(c, LT_PROF_OTHER, t0);
    const lt_linear *gate_up[2] = { &L->w_gate, &L->w_up };
    float *gate_up_out[2] = { c->hb, c->hb2 };
    lt_linear_forward_many(gate_up, 2, c->xb, n, gate_up_out, c->pool, c->linear_scratch, c->act, c->ggml);
    t0 = prof_mark(c, LT_PROF_GATE_UP, t0);
    rows_job act = { .c = c, .out = c->hb, .up = c->hb2, .w = L->ffn_sub_norm, .dim = ff, .rows = n };
    run_rows(c, &act);
    t0 = prof_mark(c, LT_PROF_OTHER, t0);
    linear(c, &L->w_down, c->hb, n, c->xb);
    t0 = prof_mark(c, LT_PROF_DOWN, t0);
    for (int64_t i = 0; i < (int64_t)n * d; i++) c->x[i] += c->xb[i];
    prof_mark(c, LT_PROF_OTHER, t0);
}

void lt_forward_batch(lutlm_context *c, const int32_t *tokens, int n, int first_logit, float *logits) {
    const lutlm_model *m = c->model;
    const lt_hparams *hp = &m->hp;
    int d = hp->n_embd;
    c->prof_batch = n > 1;
    embed_tokens(c, tokens, n);
    for (int t = 0; t < n; t++) /* the angles depend on the position only: once per token */
        (c->ggml ? lt_rope_angles_ggml : lt_rope_angles)(c->rope_cos + (size_t)t * (hp->rope_dim / 2), c->rope_sin + (size_t)t * (hp->rope_dim / 2),
                       hp->rope_dim, c->n_past + t, hp->rope_base);
    for (int il = 0; il < hp->n_layer; il++) {
        attention_block(c, &m->layers[il], il, n);
        ffn_block(c, &m->layers[il], n);
    }
    /* logits only for tokens first_logit .. n-1 */
    int n_out = n - first_logit;
    double t0 = prof_mark(c, LT_PROF_OTHER, 0.0);
    norm_rows(c, c->xb, c->x + (size_t)first_logit * d, m->output_norm, d, n_out);
    linear(c, &m->output, c->xb, n_out, logits);
    prof_mark(c, LT_PROF_OUTPUT, t0);
    if (c->profile) c->prof_tokens[n > 1] += n;
}
