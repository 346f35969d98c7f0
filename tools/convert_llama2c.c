/* llama2.c checkpoints -> GGUF (arch `llama`, llama.cpp's tensor names and keys).
 *
 * Three fp32-family layouts are read (the kind is decided from the header and the exact size):
 *  - legacy (run.c): int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative =
 *    separate classifier), seq_len; then fp32 token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1,
 *    w2, w3, rms_final, freq_cis_real/imag (seq_len * head_size/2 each, skipped), wcls if not shared;
 *  - "ak42" version 1 (export.py version1_export): 256-byte header (magic, version, the 7 ints,
 *    u8 shared_classifier), then fp32 rms_att, rms_ffn, rms_final, token_embedding, wq, wk, wv, wo,
 *    w1, w2, w3, wcls if not shared;
 *  - "ak42" version 2 (version2_export): the same header + int32 group_size at byte 37; fp32 norms
 *    (rms_att, rms_ffn, rms_final), then per matrix (token_embedding, wq, wk, wv, wo, w1, w2, w3,
 *    wcls if not shared) int8 q[numel] followed by fp32 scale[numel / group_size]; value = q * scale.
 *    Written as F32 (exactly q * scale).
 * bitllama2.c's ternary "ak42" version 1 is handed to convert_bitllama2c.c.
 * llama2.c rotates adjacent pairs, which is llama.cpp's "normal" RoPE for arch llama: no permutation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "convert_common.h"
#include "formats/formats.h"

#define AK42_MAGIC 0x616b3432u
#define AK42_HEADER_BYTES 256
#define LEGACY_HEADER_BYTES 28

const char *l2c_kind_name(l2c_kind kind) {
    switch (kind) {
    case L2C_LEGACY_FP32: return "llama2.c checkpoint (legacy fp32)";
    case L2C_V1_FP32: return "llama2.c ak42 version 1 (fp32)";
    case L2C_V2_INT8: return "llama2.c ak42 version 2 (int8 groups)";
    case L2C_TERNARY: return "bitllama2.c ternary (ak42 version 1)";
    }
    return "?";
}

/* ---- arena ---- */

void *l2c_arena_alloc(l2c_arena *a, size_t bytes) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void **p = realloc(a->ptrs, cap * sizeof *p);
        if (!p) { lt_set_error("out of memory"); return NULL; }
        a->ptrs = p;
        a->cap = cap;
    }
    void *mem = lt_malloc(bytes);
    if (mem) a->ptrs[a->n++] = mem;
    return mem;
}

void l2c_arena_free(l2c_arena *a) {
    for (size_t i = 0; i < a->n; i++) free(a->ptrs[i]);
    free(a->ptrs);
    memset(a, 0, sizeof *a);
}

/* ---- sizes ---- */

/* Sums of products of header numbers, overflow-checked (the header is untrusted). */
typedef struct size_acc { uint64_t total; bool ok; } size_acc;

static void acc_add(size_acc *s, uint64_t a, uint64_t b, uint64_t c, uint64_t unit) {
    uint64_t x;
    if (!(lt_mul_u64(a, b, &x) && lt_mul_u64(x, c, &x) && lt_mul_u64(x, unit, &x) && lt_add_u64(s->total, x, &s->total)))
        s->ok = false;
}

static uint64_t kv_dim(const l2c_config *c) { return (uint64_t)(c->dim / c->n_heads) * (uint64_t)c->n_kv_heads; }

/* Elements of the seven per-layer matrices of one layer, in the order wq, wk, wv, wo, w1, w2, w3. */
static void matrix_elements(const l2c_config *c, uint64_t n[7]) {
    uint64_t d = (uint64_t)c->dim, h = (uint64_t)c->hidden_dim, kv = kv_dim(c);
    n[0] = d * d; n[1] = d * kv; n[2] = d * kv; n[3] = d * d; n[4] = d * h; n[5] = h * d; n[6] = d * h;
}

/* Expected file size of each layout (false on overflow). */
static bool expected_size(const l2c_config *c, l2c_kind kind, uint64_t *out) {
    uint64_t L = (uint64_t)c->n_layers, D = (uint64_t)c->dim, H = (uint64_t)c->hidden_dim, V = (uint64_t)c->vocab_size;
    uint64_t KV = kv_dim(c), hs = D / (uint64_t)c->n_heads;
    size_acc s = { kind == L2C_LEGACY_FP32 ? LEGACY_HEADER_BYTES : AK42_HEADER_BYTES, true };
    if (kind == L2C_TERNARY) {
        acc_add(&s, D, 1, 1, 4);
        acc_add(&s, V, D, 1, 4);
        uint64_t n[7];
        matrix_elements(c, n);
        for (int k = 0; k < 7; k++) acc_add(&s, L, 4 + n[k] / 4 + (n[k] % 4 != 0), 1, 1);
    } else if (kind == L2C_V2_INT8) {
        acc_add(&s, 2 * L + 1, D, 1, 4);
        uint64_t gs = (uint64_t)c->group_size;
        acc_add(&s, V, D, 1, 1);
        acc_add(&s, V, D / gs, 1, 4); /* its scales (D % gs == 0 is checked by the caller) */
        uint64_t n[7];
        matrix_elements(c, n);
        for (int k = 0; k < 7; k++) { acc_add(&s, L, n[k], 1, 1); acc_add(&s, L, n[k] / gs, 1, 4); }
        if (!c->shared_classifier) { acc_add(&s, V, D, 1, 1); acc_add(&s, V, D / gs, 1, 4); }
    } else {
        acc_add(&s, V, D, 1, 4);              /* token embedding */
        acc_add(&s, 2 * L + 1, D, 1, 4);      /* rms_att, rms_ffn, rms_final */
        acc_add(&s, L, D, 2 * D + 2 * KV, 4); /* wq, wk, wv, wo */
        acc_add(&s, L, D, 3 * H, 4);          /* w1, w2, w3 */
        if (kind == L2C_LEGACY_FP32) acc_add(&s, (uint64_t)c->seq_len, hs, 1, 4); /* freq_cis real + imag */
        if (!c->shared_classifier) acc_add(&s, V, D, 1, 4);
    }
    *out = s.total;
    return s.ok;
}

static bool check_config(const l2c_config *c, const char *path) {
    if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 ||
        c->vocab_size <= 0 || c->seq_len <= 0)
        return lt_set_error("%s: invalid header: dim %d, hidden_dim %d, n_layers %d, n_heads %d, n_kv_heads %d, "
                            "vocab_size %d, seq_len %d", path, c->dim, c->hidden_dim, c->n_layers, c->n_heads,
                            c->n_kv_heads, c->vocab_size, c->seq_len);
    if (c->dim % c->n_heads || c->n_heads % c->n_kv_heads || (c->dim / c->n_heads) % 2)
        return lt_set_error("%s: invalid header: dim %d, %d heads, %d kv heads (dim must split into even-sized "
                            "heads, heads into kv groups)", path, c->dim, c->n_heads, c->n_kv_heads);
    return true;
}

static int32_t read_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* Decide the kind from the header and the file size. */
static bool detect_kind(l2c_file *f) {
    l2c_config *c = &f->cfg;
    const uint8_t *p = f->data;
    if (f->size < LEGACY_HEADER_BYTES) return lt_set_error("%s: file too short for a llama2.c header (%llu bytes)",
                                                           f->path, (unsigned long long)f->size);
    bool ak42 = (uint32_t)read_i32(p) == AK42_MAGIC;
    const uint8_t *ints = ak42 ? p + 8 : p;
    if (ak42 && f->size < AK42_HEADER_BYTES)
        return lt_set_error("%s: file too short for the 256-byte ak42 header", f->path);
    c->dim = read_i32(ints); c->hidden_dim = read_i32(ints + 4); c->n_layers = read_i32(ints + 8);
    c->n_heads = read_i32(ints + 12); c->n_kv_heads = read_i32(ints + 16); c->vocab_size = read_i32(ints + 20);
    c->seq_len = read_i32(ints + 24);
    if (!ak42) {
        c->shared_classifier = c->vocab_size > 0;
        if (c->vocab_size < 0 && c->vocab_size != INT32_MIN) c->vocab_size = -c->vocab_size;
        f->kind = L2C_LEGACY_FP32;
    } else {
        int32_t version = read_i32(p + 4);
        c->shared_classifier = p[36] != 0;
        if (version == 2) {
            c->group_size = read_i32(p + 37);
            f->kind = L2C_V2_INT8;
        } else if (version != 1) {
            return lt_set_error("%s: ak42 version %d is not supported (1 = fp32 or bitllama2.c ternary, 2 = int8)",
                                f->path, version);
        }
    }
    if (!check_config(c, f->path)) return false;

    uint64_t need;
    if (f->kind == L2C_V2_INT8) {
        uint64_t n[7];
        matrix_elements(c, n);
        bool divisible = c->group_size > 0 && c->dim % c->group_size == 0;
        for (int k = 0; k < 7 && divisible; k++) divisible = n[k] % (uint64_t)c->group_size == 0;
        if (!divisible) return lt_set_error("%s: invalid ak42 version 2 group size %d", f->path, c->group_size);
    }
    if (ak42 && f->kind != L2C_V2_INT8) {
        /* version 1: llama2.c fp32 and bitllama2.c ternary share the header; only the size tells. */
        uint64_t fp32_size, tern_size;
        bool fp32_ok = expected_size(c, L2C_V1_FP32, &fp32_size), tern_ok = expected_size(c, L2C_TERNARY, &tern_size);
        if (fp32_ok && f->size == fp32_size) { f->kind = L2C_V1_FP32; return true; }
        if (tern_ok && f->size == tern_size && c->shared_classifier) { f->kind = L2C_TERNARY; return true; }
        if ((!fp32_ok || f->size < fp32_size) && (!tern_ok || f->size < tern_size))
            return lt_set_error("%s: file too short for the header's shapes (%llu bytes; an fp32 checkpoint would "
                                "be %llu, a bitllama2.c ternary one %llu)", f->path, (unsigned long long)f->size,
                                (unsigned long long)fp32_size, (unsigned long long)tern_size);
        return lt_set_error("%s: ak42 version 1 file of %llu bytes matches neither llama2.c's fp32 layout (%llu bytes) "
                            "nor bitllama2.c's ternary layout (%llu bytes, tied classifier)", f->path,
                            (unsigned long long)f->size, (unsigned long long)fp32_size, (unsigned long long)tern_size);
    }
    if (!expected_size(c, f->kind, &need))
        return lt_set_error("%s: the header's shapes overflow: not a llama2.c checkpoint?", f->path);
    if (f->size < need)
        return lt_set_error("%s: file too short for the header's shapes (%llu bytes, the %s layout needs %llu)", f->path,
                            (unsigned long long)f->size, l2c_kind_name(f->kind), (unsigned long long)need);
    if (f->size > need && f->kind == L2C_V2_INT8)
        return lt_set_error("%s: %llu bytes, but the ak42 version 2 layout is %llu", f->path,
                            (unsigned long long)f->size, (unsigned long long)need);
    if (f->size > need)
        fprintf(stderr, "warning: %s: %llu trailing bytes after the weights are ignored\n", f->path,
                (unsigned long long)(f->size - need));
    return true;
}

bool l2c_open(const char *path, l2c_file *f) {
    memset(f, 0, sizeof *f);
    f->path = path;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lt_set_error("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lt_set_error("%s: not a regular file", path);
    }
    f->size = (uint64_t)st.st_size;
    if (f->size > 0) {
        void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            return lt_set_error("%s: cannot map: %s", path, strerror(errno));
        }
        f->data = m;
    }
    close(fd);
    if (!detect_kind(f)) {
        l2c_close(f);
        return false;
    }
    return true;
}

void l2c_close(l2c_file *f) {
    if (f->data) munmap((void *)f->data, (size_t)f->size);
    f->data = NULL;
}

/* ---- fp32 layouts ---- */

/* Pointers to every weight of an fp32-family checkpoint (for v2: dequantized copies). */
typedef struct l2c_weights {
    const float *emb, *rms_att, *rms_ffn, *rms_final, *wcls;
    const float *w[7]; /* wq, wk, wv, wo, w1, w2, w3: all layers, layer-major */
} l2c_weights;

static const float *take(const uint8_t **cursor, uint64_t count) {
    const float *p = (const float *)*cursor;
    *cursor += count * 4;
    return p;
}

/* Dequantize one v2 int8 matrix (q[numel] then scales[numel/gs]) into F32. */
static const float *take_int8(const uint8_t **cursor, uint64_t numel, int32_t gs, l2c_arena *arena) {
    float *out = l2c_arena_alloc(arena, (size_t)numel * sizeof(float));
    if (!out) return NULL;
    const int8_t *q = (const int8_t *)*cursor;
    const uint8_t *scales = *cursor + numel;
    for (uint64_t g = 0; g < numel / (uint64_t)gs; g++) {
        float s;
        memcpy(&s, scales + 4 * g, 4);
        for (int32_t j = 0; j < gs; j++) out[g * gs + j] = (float)q[g * gs + j] * s;
    }
    *cursor += numel + numel / (uint64_t)gs * 4;
    return out;
}

static bool map_weights(const l2c_file *f, l2c_weights *w, l2c_arena *arena) {
    const l2c_config *c = &f->cfg;
    const uint64_t L = (uint64_t)c->n_layers, D = (uint64_t)c->dim, V = (uint64_t)c->vocab_size;
    uint64_t n[7];
    matrix_elements(c, n);
    const uint8_t *cur = f->data + (f->kind == L2C_LEGACY_FP32 ? LEGACY_HEADER_BYTES : AK42_HEADER_BYTES);
    if (f->kind == L2C_LEGACY_FP32) {
        w->emb = take(&cur, V * D);
        w->rms_att = take(&cur, L * D);
        for (int k = 0; k < 4; k++) w->w[k] = take(&cur, L * n[k]);
        w->rms_ffn = take(&cur, L * D);
        for (int k = 4; k < 7; k++) w->w[k] = take(&cur, L * n[k]);
        w->rms_final = take(&cur, D);
        take(&cur, (uint64_t)c->seq_len * (D / (uint64_t)c->n_heads)); /* freq_cis_real + imag: unused */
        w->wcls = c->shared_classifier ? NULL : take(&cur, V * D);
        return true;
    }
    w->rms_att = take(&cur, L * D);
    w->rms_ffn = take(&cur, L * D);
    w->rms_final = take(&cur, D);
    if (f->kind == L2C_V1_FP32) {
        w->emb = take(&cur, V * D);
        for (int k = 0; k < 7; k++) w->w[k] = take(&cur, L * n[k]);
        w->wcls = c->shared_classifier ? NULL : take(&cur, V * D);
        return true;
    }
    /* version 2: each matrix of each layer is quantized on its own; gather layers contiguously */
    if (!(w->emb = take_int8(&cur, V * D, c->group_size, arena))) return false;
    for (int k = 0; k < 7; k++) {
        float *all = l2c_arena_alloc(arena, (size_t)(L * n[k]) * sizeof(float));
        if (!all) return false;
        for (uint64_t l = 0; l < L; l++) {
            const float *m = take_int8(&cur, n[k], c->group_size, arena);
            if (!m) return false;
            memcpy(all + l * n[k], m, (size_t)n[k] * sizeof(float));
        }
        w->w[k] = all;
    }
    w->wcls = NULL;
    if (!c->shared_classifier && !(w->wcls = take_int8(&cur, V * D, c->group_size, arena))) return false;
    return true;
}

static bool add_f32(gguf_writer *w, const char *name, int64_t ne0, int64_t ne1, const float *data) {
    int64_t ne[2] = { ne0, ne1 };
    return gguf_writer_add_tensor(w, name, LT_TYPE_F32, ne1 > 1 ? 2 : 1, ne, data, (uint64_t)(ne0 * ne1) * 4);
}

static bool llama_tensors(const l2c_file *f, const l2c_weights *wt, gguf_writer *w) {
    const l2c_config *c = &f->cfg;
    const int64_t D = c->dim, H = c->hidden_dim, KV = (int64_t)kv_dim(c);
    /* ggml ne = [columns (input), rows (output)]: llama2.c's row-major W[out][in] as is. */
    static const char *const names[7] = { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up" };
    const int64_t cols[7] = { D, D, D, D, D, H, D }, rows[7] = { D, KV, KV, D, H, D, H };
    bool ok = add_f32(w, "token_embd.weight", D, c->vocab_size, wt->emb) &&
              add_f32(w, "output_norm.weight", D, 1, wt->rms_final);
    if (ok && wt->wcls) ok = add_f32(w, "output.weight", D, c->vocab_size, wt->wcls);
    for (int64_t l = 0; ok && l < c->n_layers; l++) {
        char name[96];
        for (int k = 0; ok && k < 7; k++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", (int)l, names[k]);
            ok = add_f32(w, name, cols[k], rows[k], wt->w[k] + l * rows[k] * cols[k]);
            if (ok && k == 3) { /* llama.cpp's order: q, k, v, output, attn_norm, gate, down, up, ffn_norm */
                snprintf(name, sizeof name, "blk.%d.attn_norm.weight", (int)l);
                ok = add_f32(w, name, D, 1, wt->rms_att + l * D);
            }
        }
        snprintf(name, sizeof name, "blk.%d.ffn_norm.weight", (int)l);
        ok = ok && add_f32(w, name, D, 1, wt->rms_ffn + l * D);
    }
    return ok;
}

/* general.name default: the input's base name without its extension. */
static void default_name(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}

static void llama_keys(const l2c_config *c, const char *name, gguf_writer *w) {
    gguf_writer_set_str(w, "general.architecture", "llama");
    gguf_writer_set_str(w, "general.name", name);
    gguf_writer_set_u32(w, "general.file_type", 0); /* all F32 */
    gguf_writer_set_u32(w, "llama.context_length", (uint32_t)c->seq_len);
    gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)c->dim);
    gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)c->hidden_dim);
    gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)c->n_heads);
    gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    gguf_writer_set_u32(w, "llama.block_count", (uint32_t)c->n_layers);
    gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)(c->dim / c->n_heads));
    gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f);
    gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)c->vocab_size);
}

bool lt_convert_llama2c(const char *in_path, const char *out_path, const lt_convert_options *opt) {
    if (!opt->tokenizer_path)
        return lt_set_error("%s: a tokenizer is needed (--tokenizer tokenizer.bin): llama2.c checkpoints hold no vocabulary",
                            in_path);
    l2c_file f;
    if (!l2c_open(in_path, &f)) return false;
    const l2c_config *c = &f.cfg;
    if (!opt->quiet)
        fprintf(stderr, "%s: %s: dim %d, hidden %d, %d layers, %d heads (%d kv), vocab %d, seq_len %d, %s classifier\n",
                in_path, l2c_kind_name(f.kind), c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
                c->vocab_size, c->seq_len, c->shared_classifier ? "tied" : "separate");
    l2c_vocab vocab;
    if (!l2c_vocab_load(opt->tokenizer_path, c->vocab_size, &vocab)) {
        l2c_close(&f);
        return false;
    }
    char name[256];
    if (opt->name) snprintf(name, sizeof name, "%s", opt->name);
    else default_name(in_path, name, sizeof name);

    gguf_writer *w = gguf_writer_new();
    l2c_arena arena = { 0 };
    bool ok = w != NULL;
    if (ok && f.kind == L2C_TERNARY) {
        gguf_writer_set_str(w, "general.name", name);
        ok = l2c_convert_ternary(&f, &vocab, opt, w, &arena);
    } else if (ok) {
        l2c_weights wt = { 0 };
        llama_keys(c, name, w);
        ok = map_weights(&f, &wt, &arena) && llama_tensors(&f, &wt, w);
    }
    if (ok) {
        l2c_vocab_to_gguf(&vocab, w);
        ok = gguf_writer_write(w, out_path);
    }
    if (ok && !opt->quiet) fprintf(stderr, "wrote %s\n", out_path);
    gguf_writer_free(w);
    l2c_arena_free(&arena);
    l2c_vocab_free(&vocab);
    l2c_close(&f);
    return ok;
}
