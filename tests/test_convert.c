/* `lutlm convert` (tools/convert_*.c, linked in directly):
 *  - llama2.c fp32: stories260K-f32.gguf (made by llama.cpp) is exported to each llama2.c layout
 *    by a small exporter here (legacy, ak42 v1, ak42 v2 int8, with a tied and a separate
 *    classifier), converted back, and every tensor and key must match llama.cpp's file; the real
 *    stories260K.bin too;
 *  - bitllama2.c ternary: both bit orders of the 3M model convert to identical files, and the TERN2
 *    weights decode exactly to bitllama2c-3M-f32.gguf's tensors (Q/K permuted as there);
 *  - bad input fails with a clear message. */
#include <unistd.h>

#include "../tools/convert_common.h"
#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "test_util.h"

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int slot;
    char *b = buf[slot++ & 3];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

/* ---- comparing GGUF files ---- */

static size_t elem_size(gguf_type t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    default: return 8;
    }
}

static bool values_equal(const gguf_value *a, const gguf_value *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case GGUF_TYPE_STRING: return a->v.str.len == b->v.str.len && !memcmp(a->v.str.data, b->v.str.data, a->v.str.len);
    case GGUF_TYPE_BOOL: return a->v.b == b->v.b;
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64: return a->v.f64 == b->v.f64;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64: return a->v.i64 == b->v.i64;
    case GGUF_TYPE_ARRAY:
        if (a->v.arr.elem_type != b->v.arr.elem_type || a->v.arr.n != b->v.arr.n) return false;
        if (a->v.arr.elem_type == GGUF_TYPE_STRING) {
            const gguf_string *x = a->v.arr.data, *y = b->v.arr.data;
            for (uint64_t i = 0; i < a->v.arr.n; i++)
                if (x[i].len != y[i].len || memcmp(x[i].data, y[i].data, x[i].len)) return false;
            return true;
        }
        if (a->v.arr.elem_type == GGUF_TYPE_ARRAY) return false; /* not used here */
        return !memcmp(a->v.arr.data, b->v.arr.data, a->v.arr.n * elem_size(a->v.arr.elem_type));
    default: return a->v.u64 == b->v.u64;
    }
}

static bool in_list(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

/* Every key of `ref` is in `got` with the same value (except `skip`); `got`'s other keys are in `extra`. */
static void compare_keys(const gguf_file *got, const gguf_file *ref, const char *const *skip, const char *const *extra) {
    for (uint64_t i = 0; i < ref->n_kv; i++) {
        const char *key = ref->kv[i].key.data;
        if (in_list(key, skip)) continue;
        const gguf_value *v = gguf_get(got, key);
        CHECKF(v != NULL, "%s: key %s missing", got->path, key);
        if (v) CHECKF(values_equal(v, &ref->kv[i].value), "%s: key %s differs", got->path, key);
    }
    for (uint64_t i = 0; i < got->n_kv; i++) {
        const char *key = got->kv[i].key.data;
        CHECKF(gguf_get(ref, key) || in_list(key, extra) || in_list(key, skip), "%s: unexpected key %s", got->path, key);
    }
}

/* Same tensor names, shapes, types and bytes (ref's `optional` tensor may be absent from got). */
static void compare_tensors(const gguf_file *got, const gguf_file *ref, const char *optional) {
    int matched = 0;
    for (uint64_t i = 0; i < ref->n_tensors; i++) {
        const gguf_tensor_info *r = &ref->tensors[i];
        const gguf_tensor_info *g = gguf_get_tensor(got, r->name.data);
        if (!g && optional && !strcmp(optional, r->name.data)) continue;
        CHECKF(g != NULL, "%s: tensor %s missing", got->path, r->name.data);
        if (!g) continue;
        bool same = g->type == r->type && g->n_dims == r->n_dims && !memcmp(g->ne, r->ne, sizeof g->ne) &&
                    g->nbytes == r->nbytes && !memcmp(g->data, r->data, r->nbytes);
        CHECKF(same, "%s: tensor %s differs", got->path, r->name.data);
        matched += same;
    }
    CHECKF(got->n_tensors == (uint64_t)matched, "%s: %llu tensors, %d match", got->path,
           (unsigned long long)got->n_tensors, matched);
}

/* ---- a llama2.c exporter (the inverse of the converter), from llama.cpp's GGUF ---- */

typedef enum { EXPORT_LEGACY, EXPORT_V1, EXPORT_V2 } export_kind;

static const float *tensor_f32(const gguf_file *f, const char *fmt, int layer) {
    char name[96];
    snprintf(name, sizeof name, fmt, layer);
    const gguf_tensor_info *t = gguf_get_tensor(f, name);
    return t ? t->data : NULL;
}

static void put_f32(FILE *out, const float *p, uint64_t n) { fwrite(p, 4, (size_t)n, out); }

/* Each group of gs weights: scale = max|w| / 127, q = round(w / scale) (export.py quantize_q80). */
static void put_int8(FILE *out, const float *w, uint64_t n, int gs) {
    int8_t *q = malloc((size_t)n);
    float *s = malloc((size_t)(n / gs) * sizeof(float));
    for (uint64_t g = 0; g < n / gs; g++) {
        float max = 0;
        for (int j = 0; j < gs; j++) max = fmaxf(max, fabsf(w[g * gs + j]));
        s[g] = max / 127.0f;
        for (int j = 0; j < gs; j++) q[g * gs + j] = (int8_t)roundf(w[g * gs + j] / s[g]);
    }
    fwrite(q, 1, (size_t)n, out);
    fwrite(s, 4, (size_t)(n / gs), out);
    free(q);
    free(s);
}

static bool export_llama2c(const gguf_file *g, const char *path, export_kind kind, bool separate_classifier, int gs) {
    uint32_t D, H, L, NH, NKV, ctx;
    if (!gguf_get_u32(g, "llama.embedding_length", &D) || !gguf_get_u32(g, "llama.feed_forward_length", &H) ||
        !gguf_get_u32(g, "llama.block_count", &L) || !gguf_get_u32(g, "llama.attention.head_count", &NH) ||
        !gguf_get_u32(g, "llama.attention.head_count_kv", &NKV) || !gguf_get_u32(g, "llama.context_length", &ctx))
        return false;
    const gguf_tensor_info *emb = gguf_get_tensor(g, "token_embd.weight");
    const int32_t V = (int32_t)emb->ne[1];
    const uint64_t KV = D / NH * NKV, hs = D / NH;
    FILE *out = fopen(path, "wb");
    if (!out) return false;
    int32_t cfg[7] = { (int32_t)D, (int32_t)H, (int32_t)L, (int32_t)NH, (int32_t)NKV, V, (int32_t)ctx };
    if (kind == EXPORT_LEGACY) {
        if (separate_classifier) cfg[5] = -V;
        fwrite(cfg, 4, 7, out);
    } else {
        uint8_t header[256] = { 0 };
        uint32_t magic = 0x616b3432;
        int32_t version = kind == EXPORT_V1 ? 1 : 2;
        memcpy(header, &magic, 4);
        memcpy(header + 4, &version, 4);
        memcpy(header + 8, cfg, 28);
        header[36] = !separate_classifier;
        if (kind == EXPORT_V2) memcpy(header + 37, &gs, 4);
        fwrite(header, 1, 256, out);
    }
    static const char *const mats[7] = { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up" };
    const uint64_t numel[7] = { D * D, D * KV, D * KV, D * D, D * H, H * D, D * H };
    char fmt[64];
    const float *cls = tensor_f32(g, "output.weight", 0);
    if (!cls) cls = emb->data;
    if (kind == EXPORT_LEGACY) {
        put_f32(out, emb->data, (uint64_t)V * D);
        for (uint32_t l = 0; l < L; l++) put_f32(out, tensor_f32(g, "blk.%d.attn_norm.weight", l), D);
        for (int k = 0; k < 7; k++) {
            if (k == 4)
                for (uint32_t l = 0; l < L; l++) put_f32(out, tensor_f32(g, "blk.%d.ffn_norm.weight", l), D);
            snprintf(fmt, sizeof fmt, "blk.%%d.%s.weight", mats[k]);
            for (uint32_t l = 0; l < L; l++) put_f32(out, tensor_f32(g, fmt, l), numel[k]);
        }
        put_f32(out, tensor_f32(g, "output_norm.weight", 0), D);
        float *freq = calloc(ctx * hs, sizeof(float)); /* freq_cis_real + imag: unused by anyone */
        put_f32(out, freq, ctx * hs);
        free(freq);
        if (separate_classifier) put_f32(out, cls, (uint64_t)V * D);
    } else {
        for (uint32_t l = 0; l < L; l++) put_f32(out, tensor_f32(g, "blk.%d.attn_norm.weight", l), D);
        for (uint32_t l = 0; l < L; l++) put_f32(out, tensor_f32(g, "blk.%d.ffn_norm.weight", l), D);
        put_f32(out, tensor_f32(g, "output_norm.weight", 0), D);
        if (kind == EXPORT_V1) put_f32(out, emb->data, (uint64_t)V * D);
        else put_int8(out, emb->data, (uint64_t)V * D, gs);
        for (int k = 0; k < 7; k++) {
            snprintf(fmt, sizeof fmt, "blk.%%d.%s.weight", mats[k]);
            for (uint32_t l = 0; l < L; l++) {
                if (kind == EXPORT_V1) put_f32(out, tensor_f32(g, fmt, l), numel[k]);
                else put_int8(out, tensor_f32(g, fmt, l), numel[k], gs);
            }
        }
        if (separate_classifier) {
            if (kind == EXPORT_V1) put_f32(out, cls, (uint64_t)V * D);
            else put_int8(out, cls, (uint64_t)V * D, gs);
        }
    }
    return fclose(out) == 0;
}

/* ---- tests ---- */

static const char *const llama_extra_keys[] = { "general.file_type", "llama.rope.freq_base", "llama.vocab_size",
                                                "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", NULL };
static const char *const skip_name[] = { "general.name", NULL };

static bool convert(const char *in, const char *tok, const char *out, l2c_bit_order order) {
    lt_convert_options opt = { .tokenizer_path = tok, .bit_order = order, .quiet = true };
    bool ok = lt_convert_llama2c(in, out, &opt);
    if (!ok) fprintf(stderr, "convert %s: %s\n", in, lt_error());
    return ok;
}

/* Export stories260K to `kind`, convert it back, compare with llama.cpp's file. */
static void test_llama_roundtrip(const gguf_file *ref, export_kind kind, bool separate) {
    const char *bin = tmp_path("model.bin"), *out = tmp_path("model.gguf");
    CHECK(export_llama2c(ref, bin, kind, separate, 64));
    if (!convert(bin, shared_path("models/stories260K/tok512.bin"), out, L2C_BITS_AUTO)) { CHECK(0); return; }
    gguf_file *got = gguf_open(out);
    CHECKF(got != NULL, "%s", lt_error());
    if (!got) return;
    compare_keys(got, ref, skip_name, llama_extra_keys);
    CHECK(!strcmp(gguf_get_str(got, "general.name"), "model"));
    if (kind != EXPORT_V2) {
        compare_tensors(got, ref, separate ? NULL : "output.weight");
        CHECK((gguf_get_tensor(got, "output.weight") != NULL) == separate);
    } else { /* int8 groups of 64: every value within half a step of llama.cpp's */
        int checked = 0;
        for (uint64_t i = 0; i < got->n_tensors; i++) {
            const gguf_tensor_info *g = &got->tensors[i], *r = gguf_get_tensor(ref, g->name.data);
            CHECK(r && g->type == LT_TYPE_F32 && r->nbytes == g->nbytes);
            if (!r || r->nbytes != g->nbytes) continue;
            const float *a = g->data, *b = r->data;
            double worst = 0, amax = 0;
            for (uint64_t j = 0; j < g->nbytes / 4; j++) {
                worst = fmax(worst, fabs((double)a[j] - b[j]));
                amax = fmax(amax, fabs((double)b[j]));
            }
            CHECKF(worst <= amax / 254 * 1.0001, "%s: v2 error %g (max %g)", g->name.data, worst, amax);
            checked++;
        }
        CHECK(checked == (int)ref->n_tensors - !separate);
    }
    gguf_close(got);
}

static void test_llama(void) {
    gguf_file *ref = gguf_open(shared_path("models/stories260K/stories260K-f32.gguf"));
    CHECKF(ref != NULL, "%s", lt_error());
    if (!ref) return;
    test_llama_roundtrip(ref, EXPORT_LEGACY, false);
    test_llama_roundtrip(ref, EXPORT_LEGACY, true);
    test_llama_roundtrip(ref, EXPORT_V1, false);
    test_llama_roundtrip(ref, EXPORT_V1, true);
    test_llama_roundtrip(ref, EXPORT_V2, false);
    test_llama_roundtrip(ref, EXPORT_V2, true);

    /* the real llama2.c checkpoint: the same weights as llama.cpp's file (its seq_len is 512,
     * llama.cpp's converter wrote its default context of 128) */
    const char *out = tmp_path("stories260K.gguf");
    if (convert(shared_path("models/stories260K/stories260K.bin"), shared_path("models/stories260K/tok512.bin"), out,
                L2C_BITS_AUTO)) {
        gguf_file *got = gguf_open(out);
        static const char *const skip[] = { "general.name", "llama.context_length", NULL };
        compare_keys(got, ref, skip, llama_extra_keys);
        uint32_t ctx = 0;
        CHECK(gguf_get_u32(got, "llama.context_length", &ctx) && ctx == 512);
        compare_tensors(got, ref, "output.weight");
        gguf_close(got);
    } else {
        CHECK(0);
    }
    gguf_close(ref);
}

/* Both bit orders of the 3M model give the same file, equal to bitllama2c-3M-f32.gguf. */
static void test_ternary(void) {
    char msb[512], lsb[512], tok[512];
    snprintf(msb, sizeof msb, "%s", shared_path("models/bitllama2c-ternary/bitllama2c-3M-tern-msb.bin"));
    snprintf(lsb, sizeof lsb, "%s", shared_path("models/bitllama2c-ternary/bitllama2c-3M-tern-lsb.bin"));
    snprintf(tok, sizeof tok, "%s", shared_path("models/bitllama2c-ternary/tok512.bin"));
    const char *out_msb = tmp_path("3m-msb.gguf"), *out_lsb = tmp_path("3m-lsb.gguf"), *out_wrong = tmp_path("3m-wrong.gguf");
    CHECK(convert(msb, tok, out_msb, L2C_BITS_AUTO));
    CHECK(convert(lsb, tok, out_lsb, L2C_BITS_AUTO));
    CHECK(convert(lsb, tok, out_wrong, L2C_BITS_MSB)); /* forced wrong: must differ */
    gguf_file *a = gguf_open(out_msb), *b = gguf_open(out_lsb), *wrong = gguf_open(out_wrong);
    gguf_file *ref = gguf_open(shared_path("models/bitllama2c-ternary/bitllama2c-3M-f32.gguf"));
    CHECK(a && b && wrong && ref);
    if (!a || !b || !wrong || !ref) goto done;
    compare_tensors(a, b, NULL);
    CHECK(!memcmp(gguf_get_tensor(a, "blk.3.ffn_up.weight")->data, gguf_get_tensor(b, "blk.3.ffn_up.weight")->data,
                  gguf_get_tensor(a, "blk.3.ffn_up.weight")->nbytes));
    CHECK(memcmp(gguf_get_tensor(a, "blk.3.ffn_up.weight")->data, gguf_get_tensor(wrong, "blk.3.ffn_up.weight")->data,
                 gguf_get_tensor(a, "blk.3.ffn_up.weight")->nbytes) != 0);
    static const char *const extra[] = { "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id", NULL };
    static const char *const skip[] = { "general.name", "general.file_type", NULL };
    compare_keys(a, ref, skip, extra);
    CHECK(a->n_tensors == ref->n_tensors);
    int tern2 = 0, exact = 0;
    for (uint64_t i = 0; i < ref->n_tensors; i++) {
        const gguf_tensor_info *r = &ref->tensors[i], *g = gguf_get_tensor(a, r->name.data);
        CHECKF(g && g->n_dims == r->n_dims && !memcmp(g->ne, r->ne, sizeof g->ne), "%s: shape", r->name.data);
        if (!g) continue;
        CHECK(g->type == LT_TYPE_F32 || g->type == LT_TYPE_TERN2);
        tern2 += g->type == LT_TYPE_TERN2;
        lt_tensor t = { .name = g->name.data, .fmt = lt_format_by_type(g->type), .n_dims = (int)g->n_dims,
                        .ne = { g->ne[0], g->ne[1], g->ne[2], g->ne[3] }, .data = g->data, .nbytes = g->nbytes };
        const float *want = r->data;
        float *row = malloc((size_t)g->ne[0] * sizeof(float));
        bool same = true;
        for (int64_t rr = 0; rr < lt_tensor_rows(&t); rr++) {
            lt_tensor_dequantize_row(&t, rr, row);
            same = same && !memcmp(row, want + rr * g->ne[0], (size_t)g->ne[0] * sizeof(float));
        }
        free(row);
        CHECKF(same, "%s: converted values differ from the F32 GGUF", r->name.data);
        exact += same;
    }
    CHECK(tern2 == 56 && exact == (int)ref->n_tensors);
    fprintf(stderr, "bitllama2c-3M: %d tensors equal to the F32 GGUF (%d TERN2), both bit orders identical\n", exact, tern2);
done:
    gguf_close(a); gguf_close(b); gguf_close(wrong); gguf_close(ref);
}

static void test_bit_order_detection(void) {
    const char *paths[3] = { "models/bitllama2c-ternary/bitllama2c-3M-tern-msb.bin",
                             "models/bitllama2c-ternary/bitllama2c-3M-tern-lsb.bin",
                             "models/bitllama2c-ternary/bitllama2c-1M-tern-msb.bin" };
    const l2c_bit_order expect[3] = { L2C_BITS_MSB, L2C_BITS_LSB, L2C_BITS_MSB };
    for (int i = 0; i < 3; i++) {
        l2c_file f;
        l2c_vocab v;
        CHECKF(l2c_open(shared_path(paths[i]), &f), "%s", lt_error());
        CHECK(f.kind == L2C_TERNARY);
        CHECK(l2c_vocab_load(shared_path("models/bitllama2c-ternary/tok512.bin"), f.cfg.vocab_size, &v));
        bool ambiguous;
        double nll[2];
        l2c_bit_order got = l2c_detect_bit_order(&f, &v, &ambiguous, nll);
        CHECKF(got == expect[i] && !ambiguous, "%s: detected %d (nll msb %.2f lsb %.2f)", paths[i], got, nll[0], nll[1]);
        fprintf(stderr, "%s: nll msb %.2f, lsb %.2f nats/token\n", paths[i], nll[0], nll[1]);
        l2c_vocab_free(&v);
        l2c_close(&f);
    }
}

/* Tokenizer arrays as llama.cpp's converter writes them (checked in test_llama via the keys), and
 * errors with clear messages. */
static void expect_error(const char *in, const char *tok, const char *needle) {
    lt_convert_options opt = { .tokenizer_path = tok, .quiet = true };
    lt_clear_error();
    bool ok = lt_convert_llama2c(in, tmp_path("bad.gguf"), &opt);
    CHECKF(!ok && strstr(lt_error(), needle), "%s: expected an error containing '%s', got '%s'", in, needle,
           ok ? "success" : lt_error());
    CHECK(access(tmp_path("bad.gguf"), F_OK) != 0);
}

static void copy_prefix(const char *src, const char *dst, long bytes) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    char buf[4096];
    for (long left = bytes; in && out && left > 0;) {
        size_t got = fread(buf, 1, (size_t)LT_MIN(left, (long)sizeof buf), in);
        if (!got) break;
        fwrite(buf, 1, got, out);
        left -= (long)got;
    }
    if (in) fclose(in);
    if (out) fclose(out);
}

static void test_errors(void) {
    char tok[512];
    snprintf(tok, sizeof tok, "%s", shared_path("models/stories260K/tok512.bin"));
    copy_prefix(shared_path("models/stories260K/stories260K.bin"), tmp_path("trunc.bin"), 100000);
    expect_error(tmp_path("trunc.bin"), tok, "file too short for the header's shapes");
    copy_prefix(shared_path("models/bitllama2c-ternary/bitllama2c-3M-tern-msb.bin"), tmp_path("trunc-tern.bin"), 700000);
    expect_error(tmp_path("trunc-tern.bin"), tok, "file too short for the header's shapes");
    copy_prefix(shared_path("models/bitllama2c-ternary/bitllama2c-3M-tern-msb.bin"), tmp_path("odd.bin"), 1312224);
    FILE *odd = fopen(tmp_path("odd.bin"), "ab");
    fputc(0, odd); /* one byte more than the ternary layout, far less than the fp32 one */
    fclose(odd);
    expect_error(tmp_path("odd.bin"), tok, "matches neither");
    copy_prefix(shared_path("models/stories260K/stories260K.bin"), tmp_path("tiny.bin"), 10);
    expect_error(tmp_path("tiny.bin"), tok, "too short");
    expect_error(tmp_path("does-not-exist.bin"), tok, "cannot open");
    expect_error(shared_path("models/stories260K/stories260K.bin"), NULL, "tokenizer");
    copy_prefix(tok, tmp_path("tok-short.bin"), 300);
    expect_error(shared_path("models/stories260K/stories260K.bin"), tmp_path("tok-short.bin"), "ends at token");
    /* a header with nonsense shapes */
    FILE *f = fopen(tmp_path("bad-header.bin"), "wb");
    int32_t cfg[7] = { 64, 172, 5, 7, 4, 512, 512 }; /* 64 is not divisible by 7 heads */
    fwrite(cfg, 4, 7, f);
    fclose(f);
    expect_error(tmp_path("bad-header.bin"), tok, "invalid header");
    f = fopen(tmp_path("huge.bin"), "wb");
    int32_t huge[7] = { 1 << 30, 1 << 30, 1 << 30, 2, 2, 1 << 30, 2 };
    fwrite(huge, 4, 7, f);
    fclose(f);
    expect_error(tmp_path("huge.bin"), tok, "overflow");
}

/* Random headers and sizes: every file either converts or is refused with a message (under
 * ASan/UBSan this checks that nothing is read out of bounds). Most configurations are valid and
 * most sizes are a layout's exact size, possibly off by a little; some fields are then corrupted. */
static uint32_t rng_state = 2024;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

static void test_random_headers(void) {
    char tok[512];
    snprintf(tok, sizeof tok, "%s", shared_path("models/stories260K/tok512.bin"));
    int converted = 0;
    for (int iter = 0; iter < 300; iter++) {
        const int64_t NH = 1 << rnd(3), NKV = NH >> rnd(2), D = NH * 2 * (1 + rnd(4)), H = 1 + rnd(40);
        const int64_t L = 1 + rnd(3), V = 64 + rnd(449), S = 1 + rnd(16), KV = D / NH * (NKV ? NKV : 1);
        const int layout = (int)rnd(3); /* 0 legacy fp32, 1 ak42 v1 fp32, 2 ak42 v1 ternary */
        const bool shared = layout == 2 || rnd(2);
        int32_t cfg[7] = { (int32_t)D, (int32_t)H, (int32_t)L, (int32_t)NH, (int32_t)NKV, (int32_t)V, (int32_t)S };
        if (layout == 0 && !shared) cfg[5] = -cfg[5];
        int64_t body;
        if (layout == 2) {
            const int64_t n[7] = { D * D, D * KV, D * KV, D * D, D * H, H * D, D * H };
            body = 4 * (D + V * D);
            for (int k = 0; k < 7; k++) body += L * (4 + (n[k] + 3) / 4);
        } else {
            body = 4 * (V * D * (shared ? 1 : 2) + (2 * L + 1) * D + L * D * (2 * D + 2 * KV) + L * D * H * 3 +
                        (layout == 0 ? S * (D / NH) : 0));
        }
        if (rnd(3) == 0) body += (int64_t)rnd(9) - 4;
        if (rnd(4) == 0) cfg[rnd(7)] = (int32_t)rnd(1000) - 10;
        uint8_t header[256] = { 0 };
        size_t header_len = 28;
        if (layout == 0) {
            memcpy(header, cfg, 28);
        } else {
            uint32_t magic = 0x616b3432;
            int32_t version = 1;
            memcpy(header, &magic, 4);
            memcpy(header + 4, &version, 4);
            memcpy(header + 8, cfg, 28);
            header[36] = shared;
            header_len = 256;
        }
        FILE *f = fopen(tmp_path("random.bin"), "wb");
        fwrite(header, 1, header_len, f);
        for (int64_t i = 0; i < body; i++) fputc((int)rnd(256) & (layout == 2 ? 0x55 : 0x3f), f); /* small floats */
        fclose(f);
        lt_convert_options opt = { .tokenizer_path = tok, .quiet = true, .bit_order = rnd(2) ? L2C_BITS_AUTO : L2C_BITS_LSB };
        lt_clear_error();
        bool ok = lt_convert_llama2c(tmp_path("random.bin"), tmp_path("random.gguf"), &opt);
        CHECKF(ok || strlen(lt_error()) > 10, "iteration %d: failed without a message", iter);
        if (ok) { /* what was written must open */
            gguf_file *g = gguf_open(tmp_path("random.gguf"));
            CHECKF(g != NULL, "iteration %d: converted file does not open: %s", iter, lt_error());
            gguf_close(g);
        }
        converted += ok;
    }
    CHECK(converted > 50);
    fprintf(stderr, "random headers: %d of 300 converted, the rest refused with a message\n", converted);
}

int main(void) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/lutlm-test-convert-XXXXXX", base);
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_llama();
    test_ternary();
    test_bit_order_detection();
    test_errors();
    test_random_headers();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_DONE();
}
