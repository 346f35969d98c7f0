/* GPTQ of a whole Llama-architecture model (lt_gptq_quantize_model, see quantize_gptq.h).
 *
 * Calibration text is sampled from the model itself (temperature 1, fixed seed): it needs no data
 * set, and it is not the text the model is evaluated on. A small float forward pass of its own
 * (llama2.c's, over all calibration tokens at once) walks the layers; in each layer the linear
 * weights are quantized in forward order, so that every matrix sees its inputs as the quantized
 * model computes them:
 *   xn = rmsnorm(x) · attn_norm -> H -> wq, wk, wv; attention -> H -> wo;  x += wo · attn
 *   xn = rmsnorm(x) · ffn_norm  -> H -> w1 (gate), w3 (up); h = silu(w1 xn) * (w3 xn) -> H -> w2; x += w2 h
 * H is the inputs' Gram matrix (lt_gptq_matrix). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/formats.h"
#include "formats/lut_formats.h"
#include "lutlm.h"
#include "model/quantize_gptq.h"

enum { CALIB_LEN = 128 };
static const uint64_t calib_seed = 20240229;

typedef struct {
    int64_t dim, ff, n_head, n_head_kv, head_dim, n_layer, rope_dim;
    float eps, rope_base;
} hparams;

typedef struct {
    int n_seqs;
    int64_t n_tok;
    int64_t *start, *len; /* sequence s is tokens[start[s] .. start[s] + len[s]) */
    int32_t *tokens;
} calibration;

typedef struct {
    const gguf_file *f;
    const hparams *hp;
    int bits, group;
    void **out;
    uint64_t *nbytes;
    FILE *progress;
} job;

static bool read_hparams(const gguf_file *f, hparams *hp) {
    const char *arch = gguf_get_str(f, "general.architecture");
    if (!arch || strcmp(arch, "llama"))
        return lt_set_error("--method gptq: only Llama-architecture models (this one is '%s')", arch ? arch : "?");
    uint32_t dim, ff, nh, nkv = 0, nl, rope_dim = 0;
    if (!gguf_get_u32(f, "llama.embedding_length", &dim) || !gguf_get_u32(f, "llama.feed_forward_length", &ff) ||
        !gguf_get_u32(f, "llama.attention.head_count", &nh) || !gguf_get_u32(f, "llama.block_count", &nl) ||
        dim == 0 || nh == 0 || dim % nh)
        return lt_set_error("--method gptq: missing or invalid llama.* hyper-parameters");
    if (!gguf_get_u32(f, "llama.attention.head_count_kv", &nkv)) nkv = nh;
    *hp = (hparams){ .dim = dim, .ff = ff, .n_head = nh, .n_head_kv = nkv, .head_dim = dim / nh, .n_layer = nl,
                     .eps = 1e-5f, .rope_base = 10000.0f };
    gguf_get_f32(f, "llama.attention.layer_norm_rms_epsilon", &hp->eps);
    gguf_get_f32(f, "llama.rope.freq_base", &hp->rope_base);
    hp->rope_dim = gguf_get_u32(f, "llama.rope.dimension_count", &rope_dim) && rope_dim ? rope_dim : hp->head_dim;
    if (nkv == 0 || nh % nkv || hp->rope_dim > hp->head_dim || hp->rope_dim % 2)
        return lt_set_error("--method gptq: unsupported head layout (%u heads, %u kv heads)", nh, nkv);
    return true;
}

/* Tensor `name` decoded to floats; its shape must be rows x k. NULL + lt_error otherwise. */
static float *load_floats(const gguf_file *f, const char *name, int64_t k, int64_t rows) {
    const gguf_tensor_info *ti = gguf_get_tensor(f, name);
    if (!ti) return lt_set_error("--method gptq: tensor %s is missing", name), NULL;
    const lt_format *fmt = lt_format_by_type(ti->type);
    lt_tensor t = { .name = name, .fmt = fmt, .n_dims = (int)ti->n_dims,
                    .ne = { ti->ne[0], ti->ne[1], ti->ne[2], ti->ne[3] }, .data = ti->data, .nbytes = ti->nbytes };
    if (!fmt || !fmt->dequantize_row) return lt_set_error("--method gptq: cannot decode %s", name), NULL;
    if (t.ne[0] != k || lt_tensor_rows(&t) != rows)
        return lt_set_error("--method gptq: %s is [%lld, %lld], expected [%lld, %lld]", name, (long long)t.ne[0],
                            (long long)lt_tensor_rows(&t), (long long)k, (long long)rows), NULL;
    float *x = lt_malloc((size_t)(k * rows) * sizeof(float));
    for (int64_t r = 0; x && r < rows; r++) lt_tensor_dequantize_row(&t, r, x + r * k);
    return x;
}

/* n_seqs sequences: BOS, then tokens sampled from the model until EOS or CALIB_LEN tokens. */
static bool sample_calibration(const char *path, int n_seqs, calibration *c) {
    lutlm_model_params mp = lutlm_model_default_params();
    lutlm_model *model = lutlm_model_load(path, &mp);
    if (!model) return lt_set_error("--method gptq: %s", lutlm_last_error());
    int64_t len = lutlm_model_n_ctx_train(model) > 1 ? LT_MIN(CALIB_LEN, lutlm_model_n_ctx_train(model)) : CALIB_LEN;
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = (int32_t)len;
    cp.type_k = cp.type_v = LUTLM_CACHE_F32; /* the source model's exact outputs */
    lutlm_context *ctx = lutlm_context_new(model, &cp);
    lutlm_sampler_params sp = lutlm_sampler_default_params();
    sp.temperature = 1.0f, sp.top_k = 0, sp.top_p = 1.0f, sp.min_p = 0.0f, sp.seed = calib_seed;
    lutlm_sampler *sampler = lutlm_sampler_new(&sp);
    c->n_seqs = n_seqs;
    c->n_tok = 0;
    c->start = lt_calloc((size_t)n_seqs, sizeof(int64_t));
    c->len = lt_calloc((size_t)n_seqs, sizeof(int64_t));
    c->tokens = lt_malloc((size_t)(n_seqs * len) * sizeof(int32_t));
    bool ok = ctx && sampler && c->start && c->len && c->tokens;
    if (!ok && !ctx) lt_set_error("--method gptq: %s", lutlm_last_error());
    for (int s = 0; ok && s < n_seqs; s++) {
        int32_t *seq = c->tokens + c->n_tok, n = 1;
        seq[0] = lutlm_token_bos(model);
        lutlm_context_truncate(ctx, 0);
        while (n < len) {
            if (lutlm_decode(ctx, seq + n - 1, 1, false) != LUTLM_OK) {
                ok = lt_set_error("--method gptq: sampling calibration text: %s", lutlm_last_error());
                break;
            }
            int32_t next = lutlm_sampler_sample(sampler, lutlm_get_logits(ctx, -1), lutlm_model_n_vocab(model));
            if (lutlm_token_is_eog(model, next)) break;
            seq[n++] = next;
        }
        c->start[s] = c->n_tok;
        c->len[s] = n;
        c->n_tok += n;
    }
    lutlm_sampler_free(sampler);
    lutlm_context_free(ctx);
    lutlm_model_free(model);
    return ok;
}

/* y[n][rows] = x[n][k] · w[rows][k]^T */
static void matmul(float *y, const float *x, const float *w, int64_t n, int64_t k, int64_t rows) {
    for (int64_t t = 0; t < n; t++)
        for (int64_t r = 0; r < rows; r++) {
            float v = 0.0f;
            for (int64_t i = 0; i < k; i++) v += x[t * k + i] * w[r * k + i];
            y[t * rows + r] = v;
        }
}

static void rmsnorm(float *y, const float *x, const float *w, int64_t n, int64_t dim, float eps) {
    for (int64_t t = 0; t < n; t++) {
        double ss = 0.0;
        for (int64_t i = 0; i < dim; i++) ss += (double)x[t * dim + i] * x[t * dim + i];
        float scale = 1.0f / sqrtf((float)(ss / (double)dim) + eps);
        for (int64_t i = 0; i < dim; i++) y[t * dim + i] = x[t * dim + i] * scale * w[i];
    }
}

/* Llama RoPE (llama.cpp's "normal" mode: adjacent pairs) on n_heads heads of v at position pos. */
static void rope(float *v, int64_t n_heads, const hparams *hp, int64_t pos) {
    for (int64_t h = 0; h < n_heads; h++)
        for (int64_t i = 0; i < hp->rope_dim; i += 2) {
            float theta = (float)pos * powf(hp->rope_base, -(float)i / (float)hp->rope_dim);
            float c = cosf(theta), s = sinf(theta), *p = v + h * hp->head_dim + i, a = p[0], b = p[1];
            p[0] = a * c - b * s;
            p[1] = a * s + b * c;
        }
}

/* Causal attention of one sequence (len tokens): o[t] = sum_u softmax_u(q_t · k_u / sqrt(hd)) v_u. */
static void attention(float *o, float *q, float *k, const float *v, int64_t len, const hparams *hp, float *scores) {
    int64_t hd = hp->head_dim, kv_dim = hp->n_head_kv * hd, group = hp->n_head / hp->n_head_kv;
    for (int64_t t = 0; t < len; t++) {
        rope(q + t * hp->n_head * hd, hp->n_head, hp, t);
        rope(k + t * kv_dim, hp->n_head_kv, hp, t);
    }
    for (int64_t t = 0; t < len; t++)
        for (int64_t h = 0; h < hp->n_head; h++) {
            const float *qh = q + (t * hp->n_head + h) * hd;
            int64_t kvh = h / group;
            float mx = -INFINITY, sum = 0.0f;
            for (int64_t u = 0; u <= t; u++) {
                float d = 0.0f;
                for (int64_t i = 0; i < hd; i++) d += qh[i] * k[u * kv_dim + kvh * hd + i];
                scores[u] = d / sqrtf((float)hd);
                mx = fmaxf(mx, scores[u]);
            }
            for (int64_t u = 0; u <= t; u++) sum += scores[u] = expf(scores[u] - mx);
            float *oh = o + (t * hp->n_head + h) * hd;
            for (int64_t i = 0; i < hd; i++) oh[i] = 0.0f;
            for (int64_t u = 0; u <= t; u++)
                for (int64_t i = 0; i < hd; i++) oh[i] += scores[u] / sum * v[u * kv_dim + kvh * hd + i];
        }
}

/* Gram matrix of x[n][k]: h = sum_t x_t x_t^T (k x k doubles, malloc'ed). */
static double *gram(const float *x, int64_t n, int64_t k) {
    double *h = lt_calloc((size_t)(k * k), sizeof(double));
    for (int64_t t = 0; h && t < n; t++)
        for (int64_t i = 0; i < k; i++) {
            double xi = x[t * k + i];
            if (xi != 0.0)
                for (int64_t j = 0; j <= i; j++) h[i * k + j] += xi * x[t * k + j];
        }
    for (int64_t i = 0; h && i < k; i++)
        for (int64_t j = 0; j < i; j++) h[j * k + i] = h[i * k + j];
    return h;
}

/* Quantize blk.<layer>.<what>.weight (rows x k) by GPTQ for inputs with Gram matrix h (copied: several
 * matrices share one). Returns the decoded weights (malloc'ed) for the rest of the forward pass. */
static float *quantize_linear(const job *jb, int64_t layer, const char *what, int64_t k, int64_t rows,
                              const double *h) {
    char name[96];
    snprintf(name, sizeof name, "blk.%lld.%s.weight", (long long)layer, what);
    int64_t index = gguf_find_tensor(jb->f, name);
    float *w = index >= 0 ? load_floats(jb->f, name, k, rows) : NULL;
    if (index < 0) lt_set_error("--method gptq: tensor %s is missing", name);
    if (!w) return NULL;
    uint64_t blocks = (uint64_t)rows * (uint64_t)((k + jb->group - 1) / jb->group);
    uint64_t bytes = blocks * lt_lut_int_block_bytes(jb->bits, jb->group);
    double *hc = lt_malloc((size_t)(k * k) * sizeof(double));
    uint8_t *data = lt_malloc((size_t)bytes);
    bool ok = hc && data;
    if (ok) memcpy(hc, h, (size_t)(k * k) * sizeof(double));
    ok = ok && lt_gptq_matrix(w, rows, k, hc, jb->bits, jb->group, data);
    free(hc);
    if (!ok) {
        char why[512];
        snprintf(why, sizeof why, "%s", lt_error());
        lt_set_error("%s: %s", name, why);
        free(data);
        free(w);
        return NULL;
    }
    jb->out[index] = data;
    jb->nbytes[index] = bytes;
    if (jb->progress) fprintf(jb->progress, "[gptq] %s -> lut_int%d_g%d\n", name, jb->bits, jb->group);
    return w;
}

/* Frees every buffer taken with take() when the layer is done. */
typedef struct {
    void *p[32];
    int n;
    bool ok;
} buffers;

static void *take(buffers *b, void *p) {
    if (!p || b->n == (int)LT_ARRAY_LEN(b->p)) {
        free(p);
        b->ok = false;
        return NULL;
    }
    return b->p[b->n++] = p;
}

static float *floats(buffers *b, int64_t n) { return b->ok ? take(b, lt_malloc((size_t)n * sizeof(float))) : NULL; }

static void add_into(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

/* One transformer block over all calibration tokens: quantize its seven matrices in forward order
 * and advance the residual stream x (n_tok x dim) through the quantized block. */
static bool quantize_layer(const job *jb, const calibration *c, int64_t l, float *x) {
    const hparams *hp = jb->hp;
    int64_t n = c->n_tok, dim = hp->dim, ff = hp->ff;
    int64_t qd = hp->n_head * hp->head_dim, kvd = hp->n_head_kv * hp->head_dim;
    buffers b = { .n = 0, .ok = true };
    char name[96];
    float *xn = floats(&b, n * dim), *q = floats(&b, n * qd), *k = floats(&b, n * kvd), *v = floats(&b, n * kvd);
    float *att = floats(&b, n * qd), *delta = floats(&b, n * dim), *g = floats(&b, n * ff), *u = floats(&b, n * ff);
    float *scores = floats(&b, CALIB_LEN);
    snprintf(name, sizeof name, "blk.%lld.attn_norm.weight", (long long)l);
    const float *attn_norm = b.ok ? take(&b, load_floats(jb->f, name, dim, 1)) : NULL;
    snprintf(name, sizeof name, "blk.%lld.ffn_norm.weight", (long long)l);
    const float *ffn_norm = b.ok ? take(&b, load_floats(jb->f, name, dim, 1)) : NULL;
    double *h = NULL;
    /* attention: q, k, v share the normed input; wo sees the attention output */
    if (b.ok) rmsnorm(xn, x, attn_norm, n, dim, hp->eps);
    h = b.ok ? take(&b, gram(xn, n, dim)) : NULL;
    const float *wq = b.ok ? take(&b, quantize_linear(jb, l, "attn_q", dim, qd, h)) : NULL;
    const float *wk = b.ok ? take(&b, quantize_linear(jb, l, "attn_k", dim, kvd, h)) : NULL;
    const float *wv = b.ok ? take(&b, quantize_linear(jb, l, "attn_v", dim, kvd, h)) : NULL;
    if (b.ok) {
        matmul(q, xn, wq, n, dim, qd);
        matmul(k, xn, wk, n, dim, kvd);
        matmul(v, xn, wv, n, dim, kvd);
        for (int s = 0; s < c->n_seqs; s++) {
            int64_t t0 = c->start[s];
            attention(att + t0 * qd, q + t0 * qd, k + t0 * kvd, v + t0 * kvd, c->len[s], hp, scores);
        }
    }
    h = b.ok ? take(&b, gram(att, n, qd)) : NULL;
    const float *wo = b.ok ? take(&b, quantize_linear(jb, l, "attn_output", qd, dim, h)) : NULL;
    if (b.ok) {
        matmul(delta, att, wo, n, qd, dim);
        add_into(x, delta, n * dim);
        rmsnorm(xn, x, ffn_norm, n, dim, hp->eps);
    }
    /* feed-forward: gate and up share the normed input; down sees silu(gate) * up */
    h = b.ok ? take(&b, gram(xn, n, dim)) : NULL;
    const float *wg = b.ok ? take(&b, quantize_linear(jb, l, "ffn_gate", dim, ff, h)) : NULL;
    const float *wu = b.ok ? take(&b, quantize_linear(jb, l, "ffn_up", dim, ff, h)) : NULL;
    if (b.ok) {
        matmul(g, xn, wg, n, dim, ff);
        matmul(u, xn, wu, n, dim, ff);
        for (int64_t i = 0; i < n * ff; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
    h = b.ok ? take(&b, gram(g, n, ff)) : NULL;
    const float *wd = b.ok ? take(&b, quantize_linear(jb, l, "ffn_down", ff, dim, h)) : NULL;
    if (b.ok) {
        matmul(delta, g, wd, n, ff, dim);
        add_into(x, delta, n * dim);
    }
    for (int i = 0; i < b.n; i++) free(b.p[i]);
    return b.ok;
}

bool lt_gptq_quantize_model(const char *path, const gguf_file *f, int bits, int group, int n_seqs, void **out,
                            uint64_t *nbytes, FILE *progress) {
    hparams hp;
    if (!read_hparams(f, &hp)) return false;
    const gguf_tensor_info *te = gguf_get_tensor(f, "token_embd.weight");
    if (!te) return lt_set_error("--method gptq: tensor token_embd.weight is missing");
    int64_t n_vocab = te->ne[1] * te->ne[2] * te->ne[3];
    calibration c = { 0 };
    bool ok = sample_calibration(path, n_seqs, &c);
    float *embd = ok ? load_floats(f, "token_embd.weight", hp.dim, n_vocab) : NULL;
    float *x = embd ? lt_malloc((size_t)(c.n_tok * hp.dim) * sizeof(float)) : NULL;
    ok = ok && x;
    for (int64_t t = 0; ok && t < c.n_tok; t++) {
        if (c.tokens[t] < 0 || c.tokens[t] >= n_vocab) {
            ok = lt_set_error("--method gptq: sampled token %d is outside token_embd", c.tokens[t]);
            break;
        }
        memcpy(x + t * hp.dim, embd + (int64_t)c.tokens[t] * hp.dim, (size_t)hp.dim * sizeof(float));
    }
    if (ok && progress)
        fprintf(progress, "[gptq] calibration: %lld tokens in %d sequences sampled from the model\n",
                (long long)c.n_tok, c.n_seqs);
    job jb = { .f = f, .hp = &hp, .bits = bits, .group = group, .out = out, .nbytes = nbytes, .progress = progress };
    for (int64_t l = 0; ok && l < hp.n_layer; l++) ok = quantize_layer(&jb, &c, l, x);
    free(x);
    free(embd);
    free(c.start);
    free(c.len);
    free(c.tokens);
    return ok;
}
