/* Attention of one layer over the KV cache: the cache writes, the work split over the pool, and
 * the softmax between the two products of kernels/attention.h.
 *
 *   a_h = softmax(q_h K^T / sqrt(head_dim), causal) V     (GQA: query head h uses kv head h / group)
 *
 * The cache holds K transposed ([layer][kv head * head_dim + i][position]), so the score loops run
 * over contiguous positions, and V by position ([layer][position][kv head * head_dim + d]); both
 * F32 or F16 (lutlm_context_params.type_k / type_v). */
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "kernels/attention.h"
#include "model/context.h"
#include "model/ops.h"

typedef struct {
    const lt_hparams *hp;
    lutlm_context *ctx;
    int layer;
    int n;          /* tokens in the batch */
    int n_past;     /* position of the first */
} attention_job;

/* ggml's attention for one (token, head) (ggml_compat; F32 cache storage): the scores q·k times the
 * float 1/sqrt(head_dim), ggml's softmax, then KQ·V as ggml computes it for a single token (F16
 * probabilities) or a batch (see ops_ggml.c). The scores of a single token follow ggml_vec_dot_f32;
 * those of a batch are summed in order in float, which reproduces bitnet.cpp's batch logits bit for
 * bit (the golden test's 16-token prompt). kt: K transposed [dim][n_ctx]; v: V rows of stride v_stride. */
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

/* The cache of kv head kvh of a layer, as the kernels read it. */
static lt_kv_view kv_head(const lutlm_context *c, int layer, int kvh) {
    const lt_hparams *hp = &c->model->hp;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hp->head_dim, layer_values = (int64_t)c->n_ctx * kv_dim;
    int64_t k_off = layer * layer_values + (int64_t)kvh * hp->head_dim * c->n_ctx;
    int64_t v_off = layer * layer_values + (int64_t)kvh * hp->head_dim;
    lt_kv_view kv = { .k_stride = c->n_ctx, .v_stride = kv_dim, .hd = hp->head_dim, .k_f16 = c->k_f16, .v_f16 = c->v_f16 };
    kv.k = c->k_f16 ? (const void *)((const uint16_t *)c->k_cache + k_off) : (const void *)((const float *)c->k_cache + k_off);
    kv.v = c->v_f16 ? (const void *)((const uint16_t *)c->v_cache + v_off) : (const void *)((const float *)c->v_cache + v_off);
    return kv;
}

/* Up to LT_ATT_GROUP query heads of one token that share kv head kv, over positions 0 .. n-1, in
 * lutlm's order: scores summed in order of the dimension, / sqrt(head_dim), softmax, then the
 * values summed in order of the position (the reference runners' rounding). */
static void attend(const float *q, int64_t q_stride, int G, const lt_kv_view *kv, int n, int64_t s_stride,
                   float *scores, float *out) {
    float scale = sqrtf((float)kv->hd); /* scores are divided by it */
    lt_att_scores(q, q_stride, G, kv, n, scores, s_stride);
    for (int g = 0; g < G; g++) {
        float *s = scores + g * s_stride;
        for (int j = 0; j < n; j++) s[j] /= scale;
        lt_softmax(s, n);
    }
    lt_att_values(scores, s_stride, G, kv, n, out, q_stride);
}

/* One (kv head, token) pair per work item (or a part of it, see rows): the query heads of the
 * token that share the kv head, over the cached positions 0..pos. Items go kv head by kv head, then
 * token: a thread's consecutive items read the same K and V (one kv head's cache stays in L2 for
 * the batch). Each item's result does not depend on the order. */
static void attention_task(void *arg, int ith, int nth) {
    attention_job *job = arg;
    const lt_hparams *hp = job->hp;
    lutlm_context *c = job->ctx;
    int hd = hp->head_dim, group = hp->n_head / hp->n_head_kv, n_ctx = c->n_ctx;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hd, q_dim = (int64_t)hp->n_head * hd;
    float *scores = c->scores + (size_t)ith * LT_ATT_GROUP * n_ctx;
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
        float *out = c->att + t * q_dim + head0 * hd;
        lt_kv_view kv = kv_head(c, job->layer, kvh);
        if (c->ggml) { /* F32 storage */
            for (int g = 0; g < rows; g++)
                ggml_attention(c, q + g * hd, kv.k, kv.v, kv_dim, scores, pos + 1, out + g * hd, job->n == 1);
            continue;
        }
        for (int g = 0; g < rows; g += LT_ATT_GROUP) /* scores has room for LT_ATT_GROUP rows */
            attend(q + g * hd, hd, LT_MIN(LT_ATT_GROUP, rows - g), &kv, pos + 1, n_ctx, scores, out + g * hd);
    }
}

static inline float f16_round(float x) { return lt_fp16_to_fp32(lt_fp32_to_fp16(x)); }

/* The batch's K and V (c->k, c->v after RoPE) into the cache at positions n_past .. n_past + n - 1. */
static void store_kv(lutlm_context *c, int il, int n) {
    const lt_hparams *hp = &c->model->hp;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hp->head_dim, n_ctx = c->n_ctx;
    size_t layer = (size_t)il * n_ctx * kv_dim;
    if (c->v_f16) {
        lt_f16_from_f32_row((uint16_t *)c->v_cache + layer + (size_t)c->n_past * kv_dim, c->v, n * kv_dim);
    } else {
        float *v_rows = (float *)c->v_cache + layer + (size_t)c->n_past * kv_dim;
        memcpy(v_rows, c->v, (size_t)n * kv_dim * sizeof(float));
        if (c->v_round) /* ggml_compat: the values an F16 cache would hold */
            for (int64_t i = 0; i < n * kv_dim; i++) v_rows[i] = f16_round(v_rows[i]);
    }
    /* K goes in transposed: dimension by dimension, so that the batch's positions are written side by
     * side (one row of the cache per dimension, instead of one scattered store per value). */
    if (c->k_f16) {
        lt_f16_from_f32_row(c->kv_stage, c->k, n * kv_dim);
        uint16_t *k_layer = (uint16_t *)c->k_cache + layer + c->n_past;
        for (int64_t i = 0; i < kv_dim; i++)
            for (int t = 0; t < n; t++) k_layer[(size_t)i * n_ctx + t] = c->kv_stage[t * kv_dim + i];
    } else {
        float *k_layer = (float *)c->k_cache + layer + c->n_past;
        for (int64_t i = 0; i < kv_dim; i++)
            for (int t = 0; t < n; t++) {
                float k = c->k[t * kv_dim + i];
                k_layer[(size_t)i * n_ctx + t] = c->k_round ? f16_round(k) : k;
            }
    }
}

void lt_attention(lutlm_context *c, int il, int n) {
    store_kv(c, il, n);
    attention_job job = { &c->model->hp, c, il, n, c->n_past };
    lt_pool_run(c->pool, attention_task, &job);
}
