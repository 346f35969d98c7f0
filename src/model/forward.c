/* The forward pass of llama / bitnet / bitnet-b1.58 over a batch of n tokens at positions
 * n_past .. n_past + n - 1, with an F32 KV cache.
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

typedef struct {
    const lt_hparams *hp;
    lutlm_context *ctx;
    int layer;
    int n;          /* tokens in the batch */
    int n_past;     /* position of the first */
} attention_job;

/* ggml's attention for one (token, head) (ggml_compat): the scores q·k times the float 1/sqrt(head_dim),
 * ggml's softmax, then KQ·V as ggml computes it for a single token (F16 probabilities) or a batch (see
 * ops_ggml.c). The scores of a single token follow ggml_vec_dot_f32; those of a batch are summed in
 * order in float, which reproduces bitnet.cpp's batch logits bit for bit (the golden test's 16-token
 * prompt). kt: K transposed [dim][n_ctx]; v: V rows of stride v_stride. */
static void ggml_attention(const lutlm_context *c, const float *q, const float *kt, const float *v, int64_t v_stride,
                           float *scores, int n, float *out, bool single) {
    int hd = c->model->hp.head_dim;
    float kq_scale = 1.0f / sqrtf((float)hd);
    for (int j = 0; j < n; j++) {
        float dot = 0.0f;
        if (single)
            dot = lt_dot_f32_ggml(kt + j, c->n_ctx, q, hd);
        else
            for (int i = 0; i < hd; i++) dot += q[i] * kt[(size_t)i * c->n_ctx + j];
        scores[j] = dot * kq_scale;
    }
    lt_softmax_ggml(scores, n);
    lt_attention_values_ggml(out, scores, v, v_stride, n, hd, single);
}

/* Attention of G query heads that share one kv head (GQA; G = 1 without it) over n cached
 * positions, in lutlm's order: per query, scores[j] = Σ_i q_i k_i[j] summed in order i = 0, 1, ...
 * (the reference runners' rounding), / sqrt(head_dim), softmax, then out = Σ_j p_j v_j summed in
 * order j. kt: K transposed, row stride n_ctx; q / out: the queries' rows, stride qs; scores: G
 * rows of stride n_ctx. The portable code goes query by query, with ATT_BLOCK positions
 * (dimensions) whose partial sums stay in registers over the whole i (j) loop; the AVX2 code below
 * blocks several queries too. Both do the same operations per element in the same order (a product,
 * then a sum), so they give the same bits. */
#define ATT_BLOCK 32

/* Scores of one query, positions [j0, n) unblocked, then / scale and softmax over [0, n). */
static inline __attribute__((always_inline)) void scores_tail(const float *q, const float *kt, int64_t n_ctx, int hd,
                                                              int j0, int n, float scale, float *s) {
    for (int j = j0; j < n; j++) s[j] = 0.0f;
    for (int i = 0; i < hd; i++) {
        const float qi = q[i], *ki = kt + (size_t)i * n_ctx;
        for (int j = j0; j < n; j++) s[j] += qi * ki[j];
    }
    for (int j = 0; j < n; j++) s[j] /= scale;
    lt_softmax(s, n);
}

/* out[d] for d in [d0, hd) of one query, unblocked. */
static inline __attribute__((always_inline)) void values_tail(const float *p, const float *v, int64_t v_stride, int hd,
                                                              int n, int d0, float *out) {
    for (int d = d0; d < hd; d++) out[d] = 0.0f;
    for (int j = 0; j < n; j++) {
        const float *vj = v + j * v_stride;
        for (int d = d0; d < hd; d++) out[d] += p[j] * vj[d];
    }
}

static void attend_portable(const float *q, int64_t qs, int G, const float *kt, int64_t n_ctx, const float *v,
                            int64_t v_stride, int hd, int n, float scale, float *scores, float *out) {
    for (int g = 0; g < G; g++, q += qs, out += qs) {
        int j0 = 0;
        for (; j0 + ATT_BLOCK <= n; j0 += ATT_BLOCK) {
            float acc[ATT_BLOCK] = { 0 };
            for (int i = 0; i < hd; i++) {
                const float qi = q[i], *ki = kt + (size_t)i * n_ctx + j0;
                for (int b = 0; b < ATT_BLOCK; b++) acc[b] += qi * ki[b];
            }
            for (int b = 0; b < ATT_BLOCK; b++) scores[j0 + b] = acc[b];
        }
        scores_tail(q, kt, n_ctx, hd, j0, n, scale, scores);
        int d0 = 0;
        for (; d0 + ATT_BLOCK <= hd; d0 += ATT_BLOCK) {
            float acc[ATT_BLOCK] = { 0 };
            for (int j = 0; j < n; j++) {
                const float p = scores[j], *vj = v + j * v_stride + d0;
                for (int b = 0; b < ATT_BLOCK; b++) acc[b] += p * vj[b];
            }
            for (int b = 0; b < ATT_BLOCK; b++) out[d0 + b] = acc[b];
        }
        values_tail(scores, v, v_stride, hd, n, d0, out);
    }
}

typedef void (*attend_fn)(const float *, int64_t, int, const float *, int64_t, const float *, int64_t, int, int, float,
                          float *, float *);

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LT_ATTEND_AVX2 1
#define AVX2_FN __attribute__((target("avx2"))) static inline __attribute__((always_inline))

/* Scores of G queries at positions j0 .. j0 + 15: one load of k_i serves the G queries, 2G
 * accumulators (8 lanes each) stay in registers over i. */
AVX2_FN void scores16_avx2(const float *q, int64_t qs, const int G, const float *kt, int64_t n_ctx, int hd, int j0,
                           float *scores) {
    __m256 acc[4][2];
    for (int g = 0; g < G; g++) acc[g][0] = acc[g][1] = _mm256_setzero_ps();
    for (int i = 0; i < hd; i++) {
        const float *ki = kt + (size_t)i * n_ctx + j0;
        __m256 k0 = _mm256_loadu_ps(ki), k1 = _mm256_loadu_ps(ki + 8);
        for (int g = 0; g < G; g++) {
            __m256 qi = _mm256_broadcast_ss(q + g * qs + i);
            acc[g][0] = _mm256_add_ps(acc[g][0], _mm256_mul_ps(qi, k0));
            acc[g][1] = _mm256_add_ps(acc[g][1], _mm256_mul_ps(qi, k1));
        }
    }
    for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(scores + (size_t)g * n_ctx + j0, acc[g][0]);
        _mm256_storeu_ps(scores + (size_t)g * n_ctx + j0 + 8, acc[g][1]);
    }
}

/* out[d0 .. d0 + 15] of G queries: one load of v_j serves the G queries. */
AVX2_FN void values16_avx2(const float *scores, int64_t n_ctx, const int G, const float *v, int64_t v_stride, int n,
                           int d0, float *out, int64_t qs) {
    __m256 acc[4][2];
    for (int g = 0; g < G; g++) acc[g][0] = acc[g][1] = _mm256_setzero_ps();
    for (int j = 0; j < n; j++) {
        const float *vj = v + j * v_stride + d0;
        __m256 v0 = _mm256_loadu_ps(vj), v1 = _mm256_loadu_ps(vj + 8);
        for (int g = 0; g < G; g++) {
            __m256 p = _mm256_broadcast_ss(scores + (size_t)g * n_ctx + j);
            acc[g][0] = _mm256_add_ps(acc[g][0], _mm256_mul_ps(p, v0));
            acc[g][1] = _mm256_add_ps(acc[g][1], _mm256_mul_ps(p, v1));
        }
    }
    for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(out + g * qs + d0, acc[g][0]);
        _mm256_storeu_ps(out + g * qs + d0 + 8, acc[g][1]);
    }
}

/* G <= 4 queries (a constant in each inlined copy). */
AVX2_FN void attend_rows_avx2(const float *q, int64_t qs, const int G, const float *kt, int64_t n_ctx, const float *v,
                              int64_t v_stride, int hd, int n, float scale, float *scores, float *out) {
    int j0 = 0;
    for (; j0 + 16 <= n; j0 += 16) scores16_avx2(q, qs, G, kt, n_ctx, hd, j0, scores);
    for (int g = 0; g < G; g++) scores_tail(q + g * qs, kt, n_ctx, hd, j0, n, scale, scores + (size_t)g * n_ctx);
    int d0 = 0;
    for (; d0 + 16 <= hd; d0 += 16) values16_avx2(scores, n_ctx, G, v, v_stride, n, d0, out, qs);
    for (int g = 0; g < G; g++) values_tail(scores + (size_t)g * n_ctx, v, v_stride, hd, n, d0, out + g * qs);
}

__attribute__((target("avx2"))) static void attend_avx2(const float *q, int64_t qs, int G, const float *kt,
                                                        int64_t n_ctx, const float *v, int64_t v_stride, int hd,
                                                        int n, float scale, float *scores, float *out) {
    for (int g = 0; g < G; g += 4) {
        const float *qg = q + g * qs;
        float *og = out + g * qs;
        switch (G - g >= 4 ? 4 : G - g) {
        case 4: attend_rows_avx2(qg, qs, 4, kt, n_ctx, v, v_stride, hd, n, scale, scores, og); break;
        case 3: attend_rows_avx2(qg, qs, 3, kt, n_ctx, v, v_stride, hd, n, scale, scores, og); break;
        case 2: attend_rows_avx2(qg, qs, 2, kt, n_ctx, v, v_stride, hd, n, scale, scores, og); break;
        default: attend_rows_avx2(qg, qs, 1, kt, n_ctx, v, v_stride, hd, n, scale, scores, og); break;
        }
    }
}
#endif

/* One (kv head, token) pair per work item (or a part of it, see rows): the query heads of the
 * token that share the kv head, over the cached positions 0..pos. K is cached transposed ([kv head][dim][position]), so the score
 * loops run over contiguous positions and vectorize. Items go kv head by kv head, then token: a
 * thread's consecutive items read the same K and V (one kv head's cache stays in L2 for the batch).
 * Each item's result does not depend on the order. */
static void attention_task(void *arg, int ith, int nth) {
    attention_job *job = arg;
    const lt_hparams *hp = job->hp;
    lutlm_context *c = job->ctx;
    int hd = hp->head_dim, group = hp->n_head / hp->n_head_kv, n_ctx = c->n_ctx;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hd, q_dim = (int64_t)hp->n_head * hd;
    const float *k_cache = c->k_cache + (size_t)job->layer * n_ctx * kv_dim;
    const float *v_cache = c->v_cache + (size_t)job->layer * n_ctx * kv_dim;
    float *scores = c->scores + (size_t)ith * LT_ATT_GROUP * n_ctx;
    float scale = sqrtf((float)hd); /* scores are divided by it */
    attend_fn attend = attend_portable;
#if LT_ATTEND_AVX2
    lt_isa isa = lt_isa_active();
    if (isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512) attend = attend_avx2;
#endif
    /* Query heads per item: the whole group, halved while there are too few items to keep the
     * threads equally busy (a decode step has only n_head_kv groups). */
    int rows = group;
    while (rows % 2 == 0 && (int64_t)job->n * hp->n_head_kv * (group / rows) < 4 * (int64_t)nth) rows /= 2;
    int parts = group / rows;
    int64_t items = (int64_t)job->n * hp->n_head_kv * parts, i0, i1;
    lt_split_range(items, 1, ith, nth, &i0, &i1);
    for (int64_t item = i0; item < i1; item++) {
        int kvh = (int)(item / ((int64_t)job->n * parts)), t = (int)(item / parts % job->n), pos = job->n_past + t;
        int64_t head0 = (int64_t)kvh * group + (int64_t)(item % parts) * rows;
        const float *q = c->q + t * q_dim + head0 * hd;
        const float *kt = k_cache + (size_t)kvh * hd * n_ctx;
        float *out = c->att + t * q_dim + head0 * hd;
        if (c->ggml) {
            for (int g = 0; g < rows; g++)
                ggml_attention(c, q + g * hd, kt, v_cache + kvh * hd, kv_dim, scores, pos + 1, out + g * hd, job->n == 1);
            continue;
        }
        for (int g = 0; g < rows; g += LT_ATT_GROUP) /* scores has room for LT_ATT_GROUP rows */
            attend(q + g * hd, hd, LT_MIN(LT_ATT_GROUP, rows - g), kt, n_ctx, v_cache + kvh * hd, kv_dim, hd, pos + 1,
                   scale, scores, out + g * hd);
    }
}

/* Profiling (LUTLM_PROFILE=1): charge the time since the last mark to a part of the pass. */
static double prof_mark(lutlm_context *c, lt_prof_part part, double since) {
    if (!c->profile) return 0.0;
    double now = lt_time_now();
    if (since > 0.0) c->prof_seconds[part] += now - since;
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

static void rows_task(void *arg, int ith, int nth) {
    rows_job *job = arg;
    int64_t r0, r1;
    lt_split_range(job->rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        float *out = job->out + r * job->dim;
        if (job->up) {
            const float *up = job->up + r * job->dim;
            if (job->c->model->hp.ffn_act == LT_FFN_RELU2) lt_relu2_glu(out, up, job->dim);
            else lt_swiglu(out, up, job->dim);
            if (job->w) rmsnorm(job->c, out, out, job->w, job->dim);
        } else {
            rmsnorm(job->c, out, job->x + r * job->dim, job->w, job->dim);
        }
    }
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
        int pos = c->n_past + t;
        const float *rc = c->rope_cos + (size_t)t * half, *rs = c->rope_sin + (size_t)t * half;
        for (int h = 0; h < hp->n_head; h++) lt_rope_apply(c->q + t * q_dim + h * hd, rc, rs, hp->rope_dim, hp->rope_neox);
        for (int h = 0; h < hp->n_head_kv; h++) lt_rope_apply(c->k + t * kv_dim + h * hd, rc, rs, hp->rope_dim, hp->rope_neox);
        size_t layer = (size_t)il * c->n_ctx * kv_dim;
        float *v_row = c->v_cache + layer + (size_t)pos * kv_dim;
        memcpy(v_row, c->v + t * kv_dim, (size_t)kv_dim * sizeof(float));
        if (c->v_f16) /* as an F16 V cache stores it */
            for (int64_t i = 0; i < kv_dim; i++) v_row[i] = lt_fp16_to_fp32(lt_fp32_to_fp16(v_row[i]));
    }
    /* K goes in transposed: dimension by dimension, so that the batch's positions are written side by
     * side (one row of the cache per dimension, instead of one scattered store per value). */
    float *k_layer = c->k_cache + (size_t)il * c->n_ctx * kv_dim + c->n_past;
    for (int64_t i = 0; i < kv_dim; i++)
        for (int t = 0; t < n; t++) k_layer[(size_t)i * c->n_ctx + t] = c->k[t * kv_dim + i];
    attention_job job = { hp, c, il, n, c->n_past };
    lt_pool_run(c->pool, attention_task, &job);
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
    for (int t = 0; t < n_out; t++)
        rmsnorm(c, c->xb + t * d, c->x + (first_logit + t) * d, m->output_norm, d);
    linear(c, &m->output, c->xb, n_out, logits);
    prof_mark(c, LT_PROF_OUTPUT, t0);
    if (c->profile) c->prof_tokens[n > 1] += n;
}
