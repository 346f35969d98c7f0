/* bitllama2.c ternary checkpoints -> GGUF arch `bitnet`, organised as
 * ../shared/models/bitllama2c-ternary/bitllama2c-3M-f32.gguf (the model's own definition in the
 * shared README), with the linear weights stored as TERN2 with the file's scale (lossless).
 *
 * File: 256-byte "ak42" version 1 header; f32 rms_final[dim]; f32 tok_embeddings[vocab][dim] (tied
 * classifier); then for each kind (wq, wk, wv, wo, w1, w2, w3), for each layer: f32 scale, then
 * W[out][in] as 2-bit codes packed 4 per byte (00 -> 0, 01 -> +1, 11 -> -1; 10 is invalid), element
 * j of the matrix in byte j/4, at the high end of the byte first (MSB) or the low end first (LSB).
 *
 * GGUF form of the model's forward pass:
 *  - each `bn(v, n) = v / rms(v) / n` is an RMSNorm with weight 1/n: attn_norm, attn_sub_norm,
 *    ffn_norm (1/dim) and ffn_sub_norm (1/hidden_dim); eps 1e-20 (ffn_sub_norm's input is ~1e-6);
 *  - the final rmsnorm(x, rms_final, 1e-5) is output_norm (its eps is then 1e-20 too: harmless,
 *    mean(x^2) of the residual stream is far above 1e-5);
 *  - llama.cpp's bitnet arch rotates NeoX-style (pairs i, i + hd/2), the model GPT-J-style
 *    (pairs 2i, 2i + 1): so Q and K rows are permuted per head, new row i = old 2i, new row
 *    i + hd/2 = old 2i + 1 (the dot products q.k are unchanged);
 *  - the ternary scale is kept per tensor (TERN2), token_embd stays F32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "convert_common.h"
#include "formats/formats.h"

static const char *const kind_names[7] = { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up" };

void l2c_ternary_shape(const l2c_config *c, int kind, int64_t *rows, int64_t *cols) {
    const int64_t D = c->dim, H = c->hidden_dim, KV = (int64_t)(c->dim / c->n_heads) * c->n_kv_heads;
    const int64_t r[7] = { D, KV, KV, D, H, D, H }, k[7] = { D, D, D, D, D, H, D };
    *rows = r[kind];
    *cols = k[kind];
}

static uint64_t packed_bytes(int64_t rows, int64_t cols) {
    uint64_t n = (uint64_t)rows * (uint64_t)cols;
    return n / 4 + (n % 4 != 0);
}

/* Byte offset of matrix (kind, layer): its f32 scale, then the codes. Sizes were validated. */
static uint64_t ternary_offset(const l2c_file *f, int kind, int layer) {
    const l2c_config *c = &f->cfg;
    uint64_t off = 256 + 4 * ((uint64_t)c->dim + (uint64_t)c->vocab_size * (uint64_t)c->dim);
    for (int k = 0; k < kind; k++) {
        int64_t rows, cols;
        l2c_ternary_shape(c, k, &rows, &cols);
        off += (uint64_t)c->n_layers * (4 + packed_bytes(rows, cols));
    }
    int64_t rows, cols;
    l2c_ternary_shape(c, kind, &rows, &cols);
    return off + (uint64_t)layer * (4 + packed_bytes(rows, cols));
}

float l2c_ternary_matrix(const l2c_file *f, int kind, int layer, l2c_bit_order order, int8_t *t) {
    static const int8_t value_of_code[4] = { 0, 1, 0 /* invalid, rejected by count_invalid_codes */, -1 };
    int64_t rows, cols;
    l2c_ternary_shape(&f->cfg, kind, &rows, &cols);
    const uint8_t *p = f->data + ternary_offset(f, kind, layer);
    float scale;
    memcpy(&scale, p, 4);
    const uint8_t *codes = p + 4;
    const int64_t n = rows * cols;
    for (int64_t j = 0; j < n; j++) {
        int shift = order == L2C_BITS_LSB ? 2 * (int)(j & 3) : 6 - 2 * (int)(j & 3);
        t[j] = value_of_code[(codes[j >> 2] >> shift) & 3];
    }
    return scale;
}

/* Code 10 never occurs in a valid file, whichever the bit order (both read the same 2-bit fields). */
static uint64_t count_invalid_codes(const l2c_file *f, bool *bad_scale) {
    uint64_t invalid = 0;
    *bad_scale = false;
    for (int k = 0; k < 7; k++)
        for (int l = 0; l < f->cfg.n_layers; l++) {
            int64_t rows, cols;
            l2c_ternary_shape(&f->cfg, k, &rows, &cols);
            const uint8_t *p = f->data + ternary_offset(f, k, l);
            float scale;
            memcpy(&scale, p, 4);
            if (!isfinite(scale) || scale < 0) *bad_scale = true;
            const uint64_t n = (uint64_t)rows * (uint64_t)cols;
            for (uint64_t j = 0; j < n; j++) invalid += ((p[4 + j / 4] >> (2 * (j & 3))) & 3) == 2;
        }
    return invalid;
}

/* Per head of hd rows: new row i = old row 2i, new row i + hd/2 = old row 2i + 1. */
static void permute_rope_rows(const int8_t *src, int8_t *dst, int64_t rows, int64_t cols, int64_t hd) {
    for (int64_t h = 0; h < rows / hd; h++)
        for (int64_t i = 0; i < hd / 2; i++) {
            memcpy(dst + (h * hd + i) * cols, src + (h * hd + 2 * i) * cols, (size_t)cols);
            memcpy(dst + (h * hd + i + hd / 2) * cols, src + (h * hd + 2 * i + 1) * cols, (size_t)cols);
        }
}

static bool add_tensor(gguf_writer *w, const char *name, uint32_t type, int64_t ne0, int64_t ne1, const void *data) {
    int64_t ne[2] = { ne0, ne1 };
    uint64_t nbytes;
    int n_dims = ne1 > 1 ? 2 : 1;
    if (!lt_format_tensor_bytes(lt_format_by_type(type), ne, n_dims, &nbytes)) return false;
    return gguf_writer_add_tensor(w, name, type, (uint32_t)n_dims, ne, data, nbytes);
}

/* A norm vector of n copies of 1/n. */
static float *constant_norm(int64_t n, l2c_arena *arena) {
    float *v = l2c_arena_alloc(arena, (size_t)n * sizeof(float));
    for (int64_t i = 0; v && i < n; i++) v[i] = 1.0f / (float)n;
    return v;
}

/* One linear weight as TERN2: t * scale with the file's scale (exact). */
static bool add_ternary(const l2c_file *f, int kind, int layer, l2c_bit_order order, gguf_writer *w, l2c_arena *arena) {
    const l2c_config *c = &f->cfg;
    int64_t rows, cols;
    l2c_ternary_shape(c, kind, &rows, &cols);
    const lt_format *tern2 = lt_format_by_type(LT_TYPE_TERN2);
    int64_t ne[2] = { cols, rows };
    uint64_t nbytes;
    if (!lt_format_tensor_bytes(tern2, ne, 2, &nbytes)) return false;
    int8_t *t = malloc((size_t)(rows * cols)), *tp = malloc((size_t)(rows * cols));
    float *values = malloc((size_t)(rows * cols) * sizeof(float));
    void *data = l2c_arena_alloc(arena, (size_t)nbytes);
    bool ok = t && tp && values && data;
    if (!ok) lt_set_error("out of memory converting a %lld x %lld matrix", (long long)rows, (long long)cols);
    if (ok) {
        float scale = l2c_ternary_matrix(f, kind, layer, order, t);
        if (kind == 0 || kind == 1) permute_rope_rows(t, tp, rows, cols, c->dim / c->n_heads);
        else memcpy(tp, t, (size_t)(rows * cols));
        for (int64_t i = 0; i < rows * cols; i++) values[i] = (float)tp[i] * scale;
        /* TERN2's quantizer keeps an exactly-ternary tensor's scale; an all-zero matrix decodes to
         * zeros whatever its scale, so nothing is lost either way. */
        ok = tern2->quantize(values, cols, rows, data);
        char name[96];
        snprintf(name, sizeof name, "blk.%d.%s.weight", layer, kind_names[kind]);
        ok = ok && gguf_writer_add_tensor(w, name, LT_TYPE_TERN2, 2, ne, data, nbytes);
    }
    free(t);
    free(tp);
    free(values);
    return ok;
}

static void bitnet_keys(const l2c_config *c, gguf_writer *w) {
    gguf_writer_set_str(w, "general.architecture", "bitnet");
    gguf_writer_set_u32(w, "bitnet.context_length", (uint32_t)c->seq_len);
    gguf_writer_set_u32(w, "bitnet.embedding_length", (uint32_t)c->dim);
    gguf_writer_set_u32(w, "bitnet.feed_forward_length", (uint32_t)c->hidden_dim);
    gguf_writer_set_u32(w, "bitnet.block_count", (uint32_t)c->n_layers);
    gguf_writer_set_u32(w, "bitnet.attention.head_count", (uint32_t)c->n_heads);
    gguf_writer_set_u32(w, "bitnet.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    gguf_writer_set_f32(w, "bitnet.attention.layer_norm_rms_epsilon", 1e-20f);
    gguf_writer_set_u32(w, "bitnet.rope.dimension_count", (uint32_t)(c->dim / c->n_heads));
    gguf_writer_set_f32(w, "bitnet.rope.freq_base", 10000.0f);
    gguf_writer_set_u32(w, "bitnet.vocab_size", (uint32_t)c->vocab_size);
}

static l2c_bit_order choose_bit_order(const l2c_file *f, const l2c_vocab *vocab, const lt_convert_options *opt) {
    if (opt->bit_order != L2C_BITS_AUTO) return opt->bit_order;
    bool ambiguous;
    double nll[2];
    l2c_bit_order order = l2c_detect_bit_order(f, vocab, &ambiguous, nll);
    if (ambiguous)
        fprintf(stderr, "warning: %s: cannot tell the bit order (the model's loss on a test sentence: MSB %.2f, "
                "LSB %.2f nats/token); using MSB-first. Pass --bit-order msb|lsb if you know it.\n", f->path, nll[0], nll[1]);
    else if (!opt->quiet)
        fprintf(stderr, "bit order: %s-first (the model's loss on a test sentence: MSB %.2f, LSB %.2f nats/token)\n",
                order == L2C_BITS_MSB ? "MSB" : "LSB", nll[0], nll[1]);
    return order;
}

bool l2c_convert_ternary(const l2c_file *f, const l2c_vocab *vocab, const lt_convert_options *opt, gguf_writer *w,
                         l2c_arena *arena) {
    const l2c_config *c = &f->cfg;
    bool bad_scale;
    uint64_t invalid = count_invalid_codes(f, &bad_scale);
    if (invalid) return lt_set_error("%s: %llu weights have the invalid 2-bit code 10: not a bitllama2.c ternary file?",
                                     f->path, (unsigned long long)invalid);
    if (bad_scale) return lt_set_error("%s: a ternary scale is negative or not finite", f->path);
    const l2c_bit_order order = choose_bit_order(f, vocab, opt);
    bitnet_keys(c, w);

    const int64_t D = c->dim, H = c->hidden_dim;
    const float *rms_final = (const float *)(f->data + 256);
    const float *emb = rms_final + D;
    float *norm_d = constant_norm(D, arena), *norm_h = constant_norm(H, arena);
    bool ok = norm_d && norm_h && add_tensor(w, "token_embd.weight", LT_TYPE_F32, D, c->vocab_size, emb) &&
              add_tensor(w, "output_norm.weight", LT_TYPE_F32, D, 1, rms_final);
    for (int l = 0; ok && l < c->n_layers; l++) {
        char name[96];
        static const char *const norms[4] = { "attn_norm", "attn_sub_norm", "ffn_norm", "ffn_sub_norm" };
        for (int k = 0; ok && k < 4; k++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, norms[k]);
            ok = k == 3 ? add_tensor(w, name, LT_TYPE_F32, H, 1, norm_h) : add_tensor(w, name, LT_TYPE_F32, D, 1, norm_d);
        }
        for (int k = 0; ok && k < 7; k++) ok = add_ternary(f, k, l, order, w, arena);
    }
    return ok;
}
