/* Which end of each byte holds a bitllama2.c ternary file's first weight?
 *
 * Both readings decode the same 2-bit fields (so the invalid code 10 cannot tell them apart); the
 * wrong one reverses the order of every 4 consecutive weights of a row, which leaves the weight
 * statistics intact but scrambles what the network computes. So run the model, as its own
 * reference runner defines it (shared/README.md), on a short English sentence under each reading
 * and keep the one that predicts the sentence better. On the 3M and 1M TinyStories models the two
 * losses are about 0.9 and 10-12 nats/token. If they are within MARGIN_NATS of each other (a model
 * not trained on English, or an untrained one), the result is reported as ambiguous.
 *
 * The forward pass runs layer by layer over the whole (short) sequence so that only one layer's
 * weights are decoded at a time; activations stay in float (no int8 step: not needed to rank). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "convert_common.h"
#include "tokenizer/tokenizer.h"

#define MARGIN_NATS 1.0
#define MAX_TOKENS 32

static const char probe_text[] =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.";

/* Greedy longest match over the vocabulary's pieces ("▁" for a space), after a BOS. Crude next to
 * SentencePiece, but it yields a natural enough token sequence for an LM to score. */
static int probe_tokens(const l2c_vocab *v, int32_t *ids) {
    char text[512] = "\xe2\x96\x81";
    size_t n = 3;
    for (const char *p = probe_text; *p && n + 4 < sizeof text; p++) {
        if (*p == ' ') { memcpy(text + n, "\xe2\x96\x81", 3); n += 3; }
        else text[n++] = *p;
    }
    text[n] = 0;
    int count = 0;
    ids[count++] = 1;
    for (size_t i = 0; i < n && count < MAX_TOKENS;) {
        int32_t best = -1;
        size_t best_len = 0;
        for (int32_t t = 3; t < v->n; t++) {
            size_t len = strlen(v->tokens[t]);
            if (v->types[t] != LT_TOKEN_NORMAL || len <= best_len || len > n - i) continue;
            if (!memcmp(text + i, v->tokens[t], len)) { best = t; best_len = len; }
        }
        if (best < 0) { i++; continue; }
        ids[count++] = best;
        i += best_len;
    }
    return count;
}

/* bn(v, n) = v / sqrt(mean(v^2)) / n: the model's weightless, eps-less norm. */
static void bn(const float *v, float *out, int64_t n) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)v[i] * v[i];
    double k = ss > 0 ? 1.0 / sqrt(ss / (double)n) / (double)n : 0.0;
    for (int64_t i = 0; i < n; i++) out[i] = (float)(v[i] * k);
}

/* out[rows] = (t . x) * scale */
static void ternary_matvec(const int8_t *t, float scale, const float *x, float *out, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        double acc = 0;
        const int8_t *row = t + r * cols;
        for (int64_t c = 0; c < cols; c++) acc += row[c] * x[c];
        out[r] = (float)(acc * scale);
    }
}

/* GPT-J RoPE on adjacent pairs, theta = pos * 10000^(-i/hd). */
static void rope(float *v, int64_t n_heads, int64_t hd, int pos) {
    for (int64_t h = 0; h < n_heads; h++)
        for (int64_t i = 0; i < hd; i += 2) {
            double theta = pos * pow(10000.0, -(double)i / (double)hd);
            float c = (float)cos(theta), s = (float)sin(theta), a = v[h * hd + i], b = v[h * hd + i + 1];
            v[h * hd + i] = a * c - b * s;
            v[h * hd + i + 1] = a * s + b * c;
        }
}

typedef struct probe_buffers {
    float *x, *q, *k, *v, *tmp, *att, *h1, *h3, *scores;
    int8_t *w[7];
    float scale[7];
} probe_buffers;

/* Attention for every position of the sequence (causal, GQA), then x += Wo bn(att). */
static void attention_block(const l2c_config *c, probe_buffers *b, int T) {
    const int64_t D = c->dim, hd = c->dim / c->n_heads, kvd = hd * c->n_kv_heads;
    const int64_t group = c->n_heads / c->n_kv_heads;
    for (int p = 0; p < T; p++) {
        for (int64_t h = 0; h < c->n_heads; h++) {
            const float *q = b->q + p * D + h * hd;
            const int64_t kvh = h / group;
            double max = -INFINITY, sum = 0;
            for (int j = 0; j <= p; j++) {
                double dot = 0;
                for (int64_t i = 0; i < hd; i++) dot += q[i] * b->k[j * kvd + kvh * hd + i];
                b->scores[j] = (float)(dot / sqrt((double)hd));
                if (b->scores[j] > max) max = b->scores[j];
            }
            for (int j = 0; j <= p; j++) sum += b->scores[j] = (float)exp(b->scores[j] - max);
            float *out = b->att + h * hd;
            for (int64_t i = 0; i < hd; i++) {
                double acc = 0;
                for (int j = 0; j <= p; j++) acc += b->scores[j] * b->v[j * kvd + kvh * hd + i];
                out[i] = (float)(acc / sum);
            }
        }
        bn(b->att, b->tmp, D);
        ternary_matvec(b->w[3], b->scale[3], b->tmp, b->att, D, D);
        for (int64_t i = 0; i < D; i++) b->x[p * D + i] += b->att[i];
    }
}

static void layer_forward(const l2c_config *c, probe_buffers *b, int T) {
    const int64_t D = c->dim, H = c->hidden_dim, hd = c->dim / c->n_heads, kvd = hd * c->n_kv_heads;
    for (int p = 0; p < T; p++) {
        bn(b->x + p * D, b->tmp, D);
        ternary_matvec(b->w[0], b->scale[0], b->tmp, b->q + p * D, D, D);
        ternary_matvec(b->w[1], b->scale[1], b->tmp, b->k + p * kvd, kvd, D);
        ternary_matvec(b->w[2], b->scale[2], b->tmp, b->v + p * kvd, kvd, D);
        rope(b->q + p * D, c->n_heads, hd, p);
        rope(b->k + p * kvd, c->n_kv_heads, hd, p);
    }
    attention_block(c, b, T);
    for (int p = 0; p < T; p++) {
        float *x = b->x + p * D;
        bn(x, b->tmp, D);
        ternary_matvec(b->w[4], b->scale[4], b->tmp, b->h1, H, D);
        ternary_matvec(b->w[6], b->scale[6], b->tmp, b->h3, H, D);
        for (int64_t i = 0; i < H; i++) b->h1[i] = b->h1[i] / (1.0f + expf(-b->h1[i])) * b->h3[i];
        bn(b->h1, b->h3, H);
        ternary_matvec(b->w[5], b->scale[5], b->h3, b->tmp, D, H);
        for (int64_t i = 0; i < D; i++) x[i] += b->tmp[i];
    }
}

/* Mean negative log-likelihood of ids[1..T) under one bit order; NAN if out of memory. */
static double sequence_nll(const l2c_file *f, l2c_bit_order order, const int32_t *ids, int T) {
    const l2c_config *c = &f->cfg;
    const int64_t D = c->dim, H = c->hidden_dim, V = c->vocab_size, kvd = (D / c->n_heads) * c->n_kv_heads;
    const float *rms_final = (const float *)(f->data + 256), *emb = rms_final + D;
    probe_buffers b = { 0 };
    b.x = malloc((size_t)(T * D) * sizeof(float));
    b.q = malloc((size_t)(T * D) * sizeof(float));
    b.k = malloc((size_t)(T * kvd) * sizeof(float));
    b.v = malloc((size_t)(T * kvd) * sizeof(float));
    b.tmp = malloc((size_t)LT_MAX(LT_MAX(D, H), V) * sizeof(float));
    b.att = malloc((size_t)D * sizeof(float));
    b.h1 = malloc((size_t)H * sizeof(float));
    b.h3 = malloc((size_t)H * sizeof(float));
    b.scores = malloc((size_t)T * sizeof(float));
    bool ok = b.x && b.q && b.k && b.v && b.tmp && b.att && b.h1 && b.h3 && b.scores;
    for (int k = 0; k < 7 && ok; k++) {
        int64_t rows, cols;
        l2c_ternary_shape(c, k, &rows, &cols);
        ok = (b.w[k] = malloc((size_t)(rows * cols))) != NULL;
    }
    double nll = NAN;
    if (ok) {
        for (int p = 0; p < T; p++) memcpy(b.x + p * D, emb + (int64_t)ids[p] * D, (size_t)D * sizeof(float));
        for (int l = 0; l < c->n_layers; l++) {
            for (int k = 0; k < 7; k++) b.scale[k] = l2c_ternary_matrix(f, k, l, order, b.w[k]);
            layer_forward(c, &b, T);
        }
        nll = 0;
        for (int p = 0; p + 1 < T; p++) { /* rmsnorm(x, rms_final, 1e-5), logits = Emb x */
            const float *x = b.x + p * D;
            double ss = 0;
            for (int64_t i = 0; i < D; i++) ss += (double)x[i] * x[i];
            double k = 1.0 / sqrt(ss / (double)D + 1e-5), max = -INFINITY, sum = 0;
            for (int64_t i = 0; i < D; i++) b.att[i] = (float)(x[i] * k) * rms_final[i];
            for (int64_t t = 0; t < V; t++) {
                double acc = 0;
                for (int64_t i = 0; i < D; i++) acc += (double)emb[t * D + i] * b.att[i];
                b.tmp[t] = (float)acc;
                if (acc > max) max = acc;
            }
            for (int64_t t = 0; t < V; t++) sum += exp(b.tmp[t] - max);
            nll -= b.tmp[ids[p + 1]] - max - log(sum);
        }
        nll /= (T - 1);
    }
    free(b.x); free(b.q); free(b.k); free(b.v); free(b.tmp); free(b.att); free(b.h1); free(b.h3); free(b.scores);
    for (int k = 0; k < 7; k++) free(b.w[k]);
    return nll;
}

l2c_bit_order l2c_detect_bit_order(const l2c_file *f, const l2c_vocab *vocab, bool *ambiguous, double nll[2]) {
    int32_t ids[MAX_TOKENS];
    int T = probe_tokens(vocab, ids);
    nll[0] = nll[1] = NAN;
    *ambiguous = true;
    if (T < 4) return L2C_BITS_MSB; /* the vocabulary cannot spell the probe: no evidence */
    nll[0] = sequence_nll(f, L2C_BITS_MSB, ids, T);
    nll[1] = sequence_nll(f, L2C_BITS_LSB, ids, T);
    if (!isfinite(nll[0]) || !isfinite(nll[1])) return isfinite(nll[1]) && !isfinite(nll[0]) ? L2C_BITS_LSB : L2C_BITS_MSB;
    *ambiguous = fabs(nll[0] - nll[1]) < MARGIN_NATS;
    if (*ambiguous) return L2C_BITS_MSB;
    return nll[0] < nll[1] ? L2C_BITS_MSB : L2C_BITS_LSB;
}
