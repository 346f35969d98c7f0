/* Attention of one layer over the KV cache: the cache writes, the work split over the pool, and
 * the softmax between the two products of kernels/attention.h.
 *
 *   a_h = softmax(q_h K^T / sqrt(head_dim), causal) V     (GQA: query head h uses kv head h / group)
 *
 * Per layer and kv head, the cache holds K in tiles of 16 positions, each [dimension][16 positions],
 * and V in blocks of 16 dimensions, each [position][16 dimensions] (kernels/attention.h), so that a
 * score pass over 16 positions and a value pass over 16 dimensions each read one contiguous stream;
 * both F32 or F16 (lutlm_context_params.type_k / type_v). Three work splits: a batch (blocks of
 * tokens over chunks of positions), a decode step over a long cache (three phases), and the rest
 * (one item per kv head and token: short decode steps, ggml_compat). */
#include <math.h>
#include <stdatomic.h>
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
    atomic_llong next_item; /* a batch: the next item to take (batch_attention_task) */
} attention_job;

/* ggml's attention for one (token, head) (ggml_compat; F32 cache storage): the scores q·k times the
 * float 1/sqrt(head_dim), ggml's softmax, then KQ·V as ggml computes it for a single token (F16
 * probabilities) or a batch (see ops_ggml.c). The scores of a single token follow ggml_vec_dot_f32;
 * those of a batch are summed in order in float, which reproduces bitnet.cpp's batch logits bit for
 * bit (the golden test's 16-token prompt). */
static void ggml_attention(const lt_kv_view *kv, const float *q, float *scores, int n, float *out, bool single) {
    const float *k = kv->k;
    int hd = kv->hd;
    float kq_scale = 1.0f / sqrtf((float)hd);
    for (int j = 0; j < n; j++) {
        float dot = 0.0f;
        if (single) /* column j of its tile: stride LT_KV_TILE */
            dot = lt_dot_f32_ggml(k + lt_kv_k_index(hd, 0, j), LT_KV_TILE, q, hd);
        else
            for (int i = 0; i < hd; i++) dot += q[i] * k[lt_kv_k_index(hd, i, j)];
        scores[j] = dot * kq_scale;
    }
    lt_softmax_ggml(scores, n);
    lt_attention_values_ggml(out, scores, kv->v, kv->v_rows, n, hd, single);
}

/* Element offset of kv head kvh's K tiles and V blocks in the cache (the same for both). */
static int64_t kv_head_offset(const lutlm_context *c, int layer, int kvh) {
    return ((int64_t)layer * c->model->hp.n_head_kv + kvh) * c->kv_head_values;
}

/* Element off of a cache of F16 (f16) or F32 values. */
static const void *element(const void *base, int64_t off, bool f16) {
    return f16 ? (const void *)((const uint16_t *)base + off) : (const void *)((const float *)base + off);
}

/* The cache of kv head kvh of a layer, as the kernels read it. */
static lt_kv_view kv_head(const lutlm_context *c, int layer, int kvh) {
    int64_t off = kv_head_offset(c, layer, kvh);
    lt_kv_view kv = { .v_rows = c->kv_positions, .hd = c->model->hp.head_dim, .k_f16 = c->k_f16, .v_f16 = c->v_f16 };
    kv.k = element(c->k_cache, off, c->k_f16);
    kv.v = element(c->v_cache, off, c->v_f16);
    return kv;
}

/* The view of positions c0 .. of a kv head, as a cache of its own (c0 starts a tile). */
static lt_kv_view view_from(const lt_kv_view *kv, int c0) {
    lt_kv_view v = *kv;
    v.k = element(kv->k, lt_kv_k_index(kv->hd, 0, c0), kv->k_f16);
    v.v = element(kv->v, lt_kv_v_index(kv->v_rows, c0, 0), kv->v_f16);
    return v;
}

/* Up to LT_ATT_GROUP query heads of one token that share kv head kv, over positions 0 .. n-1, in
 * lutlm's order: scores summed in order of the dimension, / sqrt(head_dim), softmax, then the
 * values summed in order of the position (the reference runners' rounding). */
static void attend(const float *q, int64_t q_stride, int G, const lt_kv_view *kv, int n, int64_t s_stride,
                   float *scores, float *out) {
    float scale = sqrtf((float)kv->hd); /* scores are divided by it */
    lt_att_scores(q, q_stride, G, kv, n, scores, s_stride);
    for (int g = 0; g < G; g++) lt_att_softmax(scores + g * s_stride, n, scale);
    lt_att_values(scores, s_stride, G, kv, n, out, q_stride, false);
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
    int64_t q_dim = (int64_t)hp->n_head * hd;
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
            for (int g = 0; g < rows; g++) ggml_attention(&kv, q + g * hd, scores, pos + 1, out + g * hd, job->n == 1);
            continue;
        }
        for (int g = 0; g < rows; g += LT_ATT_GROUP) /* scores has room for LT_ATT_GROUP rows */
            attend(q + g * hd, hd, LT_MIN(LT_ATT_GROUP, rows - g), &kv, pos + 1, n_ctx, scores, out + g * hd);
    }
}

/* ---- one token over a long cache: three phases, each kv head's K and V read once ----
 * A decode step has only n_head_kv (kv head) items, too few for the threads, and splitting a group's
 * query heads over items reads the kv head's K and V once per part. Instead: (1) the scores of all
 * query heads of a kv head, by chunks of positions; (2) the softmax, by query head; (3) the outputs
 * of all query heads of a kv head, by chunks of 16 dimensions. Every score, probability and output
 * is computed by the same operations in the same order as in attend(): the same bits. */
#define DECODE_SPLIT_MIN 256 /* cached positions from which a decode step takes the three phases */
#define SCORE_CHUNK 256      /* positions per phase-1 item (a multiple of LT_KV_TILE) */
#define VALUE_CHUNK 16       /* dimensions per phase-3 item */

typedef struct {
    lutlm_context *c;
    int layer, n;            /* positions 0 .. n-1 */
    int64_t chunks;          /* items per kv head in the current phase */
} decode_job;

static int group_of(const lutlm_context *c) { return c->model->hp.n_head / c->model->hp.n_head_kv; }

/* This thread's share of a phase's (kv head, chunk) items, one call of item() each. */
static void run_items(decode_job *job, int ith, int nth, void (*item)(decode_job *, int kvh, int chunk)) {
    int64_t i0, i1;
    lt_split_range(job->c->model->hp.n_head_kv * job->chunks, 1, ith, nth, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) item(job, (int)(i / job->chunks), (int)(i % job->chunks));
}

/* Phase 1: scores[h][j] for the query heads h of a kv head and positions j of a chunk. */
static void decode_scores_item(decode_job *job, int kvh, int chunk) {
    lutlm_context *c = job->c;
    int hd = c->model->hp.head_dim, group = group_of(c), j0 = chunk * SCORE_CHUNK, n = LT_MIN(SCORE_CHUNK, job->n - j0);
    lt_kv_view head_kv = kv_head(c, job->layer, kvh), kv = view_from(&head_kv, j0);
    for (int g = 0; g < group; g += LT_ATT_GROUP) {
        int64_t head = (int64_t)kvh * group + g;
        lt_att_scores(c->q + head * hd, hd, LT_MIN(LT_ATT_GROUP, group - g), &kv, n, c->scores + head * c->n_ctx + j0,
                      c->n_ctx);
    }
}

static void decode_scores_task(void *arg, int ith, int nth) { run_items(arg, ith, nth, decode_scores_item); }

/* Phase 2: / sqrt(head_dim) and softmax, one query head per item. */
static void decode_softmax_task(void *arg, int ith, int nth) {
    decode_job *job = arg;
    lutlm_context *c = job->c;
    float scale = sqrtf((float)c->model->hp.head_dim);
    int64_t h0, h1;
    lt_split_range(c->model->hp.n_head, 1, ith, nth, &h0, &h1);
    for (int64_t h = h0; h < h1; h++) lt_att_softmax(c->scores + h * c->n_ctx, job->n, scale);
}

/* Phase 3: outputs of the query heads of a kv head, dimensions d0 .. d0 + VALUE_CHUNK - 1. */
static void decode_values_item(decode_job *job, int kvh, int chunk) {
    lutlm_context *c = job->c;
    int hd = c->model->hp.head_dim, group = group_of(c), d0 = chunk * VALUE_CHUNK;
    lt_kv_view kv = kv_head(c, job->layer, kvh);
    kv.hd = LT_MIN(VALUE_CHUNK, hd - d0); /* the chunk's dimensions of each V row */
    kv.v = element(kv.v, lt_kv_v_index(kv.v_rows, 0, d0), kv.v_f16); /* d0 starts a block */
    for (int g = 0; g < group; g += LT_ATT_GROUP) {
        int64_t head = (int64_t)kvh * group + g;
        lt_att_values(c->scores + head * c->n_ctx, c->n_ctx, LT_MIN(LT_ATT_GROUP, group - g), &kv, job->n,
                      c->att + head * hd + d0, hd, false);
    }
}

static void decode_values_task(void *arg, int ith, int nth) { run_items(arg, ith, nth, decode_values_item); }

static void decode_attention(lutlm_context *c, int il, int n) {
    int hd = c->model->hp.head_dim;
    decode_job job = { c, il, n, (n + SCORE_CHUNK - 1) / SCORE_CHUNK };
    lt_pool_run(c->pool, decode_scores_task, &job);
    lt_pool_run(c->pool, decode_softmax_task, &job);
    job.chunks = (hd + VALUE_CHUNK - 1) / VALUE_CHUNK;
    lt_pool_run(c->pool, decode_values_task, &job);
}

/* ---- a batch: blocks of tokens over chunks of positions ----
 * An item is (kv head, up to LT_ATT_GROUP of its query heads, BATCH_TOKENS consecutive tokens). It
 * goes over the cache in chunks of CHUNK positions and runs every token of the block on a chunk
 * before the next, so the chunk's K (then V) is read from memory once per block instead of once per
 * token and served from L2 to the rest. The scores of a token are complete before its softmax; the
 * values of later chunks add to the sums of earlier ones (lt_att_values with add): every score,
 * probability and output has the bits of attend(). */
#define BATCH_TOKENS (LT_ATT_ROWS / LT_ATT_GROUP)
#define CHUNK 256 /* positions (a multiple of LT_KV_TILE): K and V of a chunk, 64 KB each in F16 at head_dim 128 */

static void batch_attention_task(void *arg, int ith, int nth) {
    attention_job *job = arg;
    const lt_hparams *hp = job->hp;
    lutlm_context *c = job->ctx;
    int hd = hp->head_dim, group = hp->n_head / hp->n_head_kv, n_ctx = c->n_ctx;
    int parts = (group + LT_ATT_GROUP - 1) / LT_ATT_GROUP, blocks = (job->n + BATCH_TOKENS - 1) / BATCH_TOKENS;
    int64_t q_dim = (int64_t)hp->n_head * hd;
    float *scores = c->scores + (size_t)ith * LT_ATT_GROUP * BATCH_TOKENS * n_ctx; /* [token][query][n_ctx] */
    float scale = sqrtf((float)hd); /* scores are divided by it */
    /* Items from a counter, each kv head's blocks last to first: a block's cost grows with its
     * position (causal), so fixed halves left one thread with the dearer blocks (~18% apart at 128
     * tokens) while the largest-first order lets the threads end together. */
    int64_t items = (int64_t)hp->n_head_kv * parts * blocks, item;
    (void)nth;
    while ((item = atomic_fetch_add_explicit(&job->next_item, 1, memory_order_relaxed)) < items) {
        int kvh = (int)(item / ((int64_t)parts * blocks)), part = (int)(item / blocks % parts);
        int block = blocks - 1 - (int)(item % blocks);
        int t0 = block * BATCH_TOKENS, t1 = LT_MIN(job->n, t0 + BATCH_TOKENS), G = LT_MIN(LT_ATT_GROUP, group - part * LT_ATT_GROUP);
        int64_t head0 = (int64_t)kvh * group + (int64_t)part * LT_ATT_GROUP;
        lt_kv_view kv = kv_head(c, job->layer, kvh);
        int n_last = job->n_past + t1; /* positions the block's last token sees */
        for (int c0 = 0; c0 < n_last; c0 += CHUNK) {
            lt_kv_view chunk = view_from(&kv, c0);
            for (int t = t0; t < t1; t++) {
                int n_t = job->n_past + t + 1;
                if (c0 < n_t)
                    lt_att_scores(c->q + t * q_dim + head0 * hd, hd, G, &chunk, LT_MIN(CHUNK, n_t - c0),
                                  scores + (size_t)(t - t0) * G * n_ctx + c0, n_ctx);
            }
        }
        for (int t = t0; t < t1; t++)
            for (int g = 0; g < G; g++)
                lt_att_softmax(scores + ((size_t)(t - t0) * G + g) * n_ctx, job->n_past + t + 1, scale);
        for (int c0 = 0; c0 < n_last; c0 += CHUNK) {
            lt_kv_view chunk = view_from(&kv, c0);
            for (int t = t0; t < t1; t++) {
                int n_t = job->n_past + t + 1;
                if (c0 < n_t)
                    lt_att_values(scores + (size_t)(t - t0) * G * n_ctx + c0, n_ctx, G, &chunk, LT_MIN(CHUNK, n_t - c0),
                                  c->att + t * q_dim + head0 * hd, hd, c0 > 0);
            }
        }
    }
}

static inline float f16_round(float x) { return lt_fp16_to_fp32(lt_fp32_to_fp16(x)); }

/* The batch's K and V (c->k, c->v after RoPE, [token][kv head][dim]) into the cache at positions
 * n_past .. n_past + n - 1: V rows per kv head, K into its tiles (the batch's positions side by side
 * in each tile row). An F16 cache takes the values converted once (c->kv_stage); ggml_compat's F32
 * storage of an F16 type takes them rounded. */
static void store_kv(lutlm_context *c, int il, int n) {
    const lt_hparams *hp = &c->model->hp;
    int hd = hp->head_dim;
    int64_t kv_dim = (int64_t)hp->n_head_kv * hd;
    const uint16_t *k16 = c->kv_stage, *v16 = c->kv_stage + (size_t)n * kv_dim;
    if (c->k_f16) lt_f16_from_f32_row(c->kv_stage, c->k, n * kv_dim);
    if (c->v_f16) lt_f16_from_f32_row(c->kv_stage + (size_t)n * kv_dim, c->v, n * kv_dim);
    for (int kvh = 0; kvh < hp->n_head_kv; kvh++) {
        int64_t off = kv_head_offset(c, il, kvh);
        for (int t = 0; t < n; t++) {
            int64_t pos = c->n_past + t, src = t * kv_dim + (int64_t)kvh * hd;
            for (int d = 0; d < hd; d++) { /* 16 contiguous values per block of V */
                int64_t at = off + lt_kv_v_index(c->kv_positions, pos, d);
                if (c->v_f16) ((uint16_t *)c->v_cache)[at] = v16[src + d];
                else ((float *)c->v_cache)[at] = c->v_round ? f16_round(c->v[src + d]) : c->v[src + d];
            }
            int64_t k0 = off + lt_kv_k_index(hd, 0, pos); /* dimension i at k0 + i * LT_KV_TILE */
            if (c->k_f16) {
                uint16_t *k = (uint16_t *)c->k_cache + k0;
                for (int i = 0; i < hd; i++) k[i * LT_KV_TILE] = k16[src + i];
            } else {
                float *k = (float *)c->k_cache + k0;
                for (int i = 0; i < hd; i++) k[i * LT_KV_TILE] = c->k_round ? f16_round(c->k[src + i]) : c->k[src + i];
            }
        }
    }
}

void lt_attention(lutlm_context *c, int il, int n) {
    store_kv(c, il, n);
    if (n == 1 && !c->ggml && c->n_past + 1 >= DECODE_SPLIT_MIN) {
        decode_attention(c, il, c->n_past + 1);
        return;
    }
    attention_job job = { .hp = &c->model->hp, .ctx = c, .layer = il, .n = n, .n_past = c->n_past };
    atomic_init(&job.next_item, 0);
    lt_pool_run(c->pool, n > 1 && !c->ggml ? batch_attention_task : attention_task, &job);
}
