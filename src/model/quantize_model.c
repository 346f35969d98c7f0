/* lutlm quantize: re-encode the weights of a GGUF model file.
 *
 * Every tensor is classified by name: the seven linear weights of each block take the chosen type,
 * output.weight and token_embd.weight their own (default: unchanged), everything else (norms,
 * llama.cpp's per-matrix .scale tensors) is copied byte for byte. A tensor that changes format is
 * decoded row by row with its format's exact decoder, then handed whole to the target format's
 * quantizer (ternary formats need the whole tensor: their absmean scale is per tensor, and exact
 * when the source already is ternary × scale). The new tensors stay in memory until the file is
 * written, so peak memory ≈ the output file + one tensor in floats. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/formats.h"
#include "formats/lut_formats.h"
#include "formats/lut_int_quant.h"
#include "gguf/gguf.h"
#include "model/quantize_gptq.h"
#include "model/quantize_model.h"

typedef enum { ROLE_OTHER, ROLE_LINEAR, ROLE_OUTPUT, ROLE_EMBD } tensor_role;

static tensor_role role_of(const char *name) {
    static const char *const linears[] = { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down" };
    if (!strcmp(name, "output.weight")) return ROLE_OUTPUT;
    if (!strcmp(name, "token_embd.weight")) return ROLE_EMBD;
    int layer, used = 0;
    char what[32];
    /* blk.<N>.<what>.weight */
    if (sscanf(name, "blk.%d.%31[a-z_].weight%n", &layer, what, &used) == 2 && used > 0 && name[used] == 0)
        for (size_t i = 0; i < LT_ARRAY_LEN(linears); i++)
            if (!strcmp(what, linears[i])) return ROLE_LINEAR;
    return ROLE_OTHER;
}

unsigned lt_quantize_file_type(const char *fmt_name) {
    static const struct { const char *name; unsigned ftype; } known[] = {
        { "f32", 0 }, { "f16", 1 }, { "q4_0", 2 }, { "q8_0", 7 }, { "bf16", 32 },
        { "tq1_0", 36 }, { "tq2_0", 37 }, { "i2_s", 40 },
    };
    for (size_t i = 0; i < LT_ARRAY_LEN(known); i++)
        if (!strcmp(fmt_name, known[i].name)) return known[i].ftype;
    const lt_format *fmt = lt_format_by_name(fmt_name);
    return fmt ? fmt->type_id : 0;
}

/* A target format given by name: it must exist and have both a quantizer and a decoder. */
static bool target_format(const char *name, const char *option, const lt_format **out) {
    *out = NULL;
    if (!name) return true;
    const lt_format *fmt = lt_format_by_name(name);
    if (!fmt) {
        char names[1024] = "";
        for (int i = 0; i < lt_format_count(); i++) {
            const lt_format *f = lt_format_at(i);
            if (!f->quantize || !f->dequantize_row) continue;
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", f->name);
        }
        return lt_set_error("unknown %s '%s' (formats with a quantizer: %s)", option, name, names);
    }
    if (!fmt->quantize || !fmt->dequantize_row)
        return lt_set_error("%s '%s': lutlm has no %s for this format", option, fmt->name,
                            fmt->quantize ? "decoder" : "quantizer");
    *out = fmt;
    return true;
}

/* Decode tensor `ti` to floats and encode it as `to`; *data and *nbytes receive the new bytes. */
/* to->quantize, or the fitted INTn quantizer unless RTN was asked for. */
static bool encode(const lt_format *to, lt_quant_method method, const float *x, int64_t ne0, int64_t rows, void *dst) {
    if (lt_is_lut_int(to->type_id) && method != LT_QUANT_RTN)
        return lt_lut_int_quantize_fitted(lt_lut_int_bits(to->type_id), lt_lut_int_group(to->type_id), x, ne0, rows,
                                          NULL, dst);
    return to->quantize(x, ne0, rows, dst);
}

static bool reencode(const gguf_tensor_info *ti, const lt_format *from, const lt_format *to, lt_quant_method method,
                     void **data, uint64_t *nbytes) {
    const char *name = ti->name.data;
    if (!from->dequantize_row) return lt_set_error("%s: lutlm cannot decode its type %s", name, from->name);
    if (!lt_format_tensor_bytes(to, ti->ne, (int)ti->n_dims, nbytes)) {
        char why[512];
        snprintf(why, sizeof why, "%s", lt_error());
        return lt_set_error("%s: shape [%lld, %lld] cannot be stored as %s: %s", name, (long long)ti->ne[0],
                            (long long)(ti->ne[1] * ti->ne[2] * ti->ne[3]), to->name, why);
    }
    lt_tensor src = { .name = name, .fmt = from, .n_dims = (int)ti->n_dims,
                      .ne = { ti->ne[0], ti->ne[1], ti->ne[2], ti->ne[3] }, .data = ti->data, .nbytes = ti->nbytes };
    int64_t ne0 = src.ne[0], rows = lt_tensor_rows(&src);
    float *x = lt_malloc((size_t)(ne0 * rows) * sizeof(float));
    *data = x ? lt_malloc(*nbytes ? (size_t)*nbytes : 1) : NULL;
    if (!*data) {
        free(x);
        return false;
    }
    for (int64_t r = 0; r < rows; r++) lt_tensor_dequantize_row(&src, r, x + r * ne0);
    bool ok = encode(to, method, x, ne0, rows, *data);
    free(x);
    if (!ok) {
        char why[512];
        snprintf(why, sizeof why, "%s", lt_error());
        free(*data);
        *data = NULL;
        return lt_set_error("%s: encoding as %s failed: %s", name, to->name, why);
    }
    return true;
}

typedef struct {
    const lt_format *linear, *output, *embd;
    lt_quant_method method;
} targets;

static const lt_format *target_of(const targets *t, tensor_role role) {
    switch (role) {
    case ROLE_LINEAR: return t->linear;
    case ROLE_OUTPUT: return t->output;
    case ROLE_EMBD: return t->embd;
    default: return NULL;
    }
}

/* Add every tensor of f to w, re-encoded where asked; the new buffers are recorded in owned[]. */
static bool add_tensors(gguf_writer *w, const gguf_file *f, const targets *t, void **owned, const uint64_t *gptq_bytes,
                        FILE *progress) {
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor_info *ti = &f->tensors[i];
        const lt_format *from = lt_format_by_type(ti->type);
        if (!from) return lt_set_error("%s: tensor '%s' has unknown type %u", f->path, ti->name.data, ti->type);
        const lt_format *to = target_of(t, role_of(ti->name.data));
        const void *data = ti->data;
        uint64_t nbytes = ti->nbytes;
        if (owned[i]) { /* already encoded (GPTQ) */
            if (progress) fprintf(progress, "[%llu/%llu] %s %s -> %s (gptq)\n", (unsigned long long)(i + 1),
                                  (unsigned long long)f->n_tensors, ti->name.data, from->name, to->name);
            data = owned[i];
            nbytes = gptq_bytes[i];
        } else if (to && to != from) {
            if (progress) fprintf(progress, "[%llu/%llu] %s %s -> %s\n", (unsigned long long)(i + 1),
                                  (unsigned long long)f->n_tensors, ti->name.data, from->name, to->name);
            if (!reencode(ti, from, to, t->method, &owned[i], &nbytes)) return false;
            data = owned[i];
        } else {
            to = from;
            if (progress) fprintf(progress, "[%llu/%llu] %s %s (kept)\n", (unsigned long long)(i + 1),
                                  (unsigned long long)f->n_tensors, ti->name.data, from->name);
        }
        if (!gguf_writer_add_tensor(w, ti->name.data, to->type_id, ti->n_dims, ti->ne, data, nbytes)) return false;
    }
    return true;
}

bool lt_quantize_model(const char *in, const char *out, const lt_quantize_params *p) {
    lt_clear_error();
    targets t;
    if (!p || !p->type) return lt_set_error("quantize: no target type given");
    t.method = p->method;
    if (!target_format(p->type, "type", &t.linear) || !target_format(p->output_type, "output type", &t.output) ||
        !target_format(p->embd_type, "embedding type", &t.embd))
        return false;
    gguf_file *f = gguf_open(in);
    if (!f) return false;
    /* A tied model's token_embd is also its output head: --output-type applies to it unless
     * --embd-type says otherwise (llama.cpp's rule). */
    if (!gguf_get_tensor(f, "output.weight") && !t.embd) t.embd = t.output;
    gguf_writer *w = gguf_writer_new();
    void **owned = lt_calloc(f->n_tensors ? (size_t)f->n_tensors : 1, sizeof(void *));
    uint64_t *gptq_bytes = lt_calloc(f->n_tensors ? (size_t)f->n_tensors : 1, sizeof(uint64_t));
    bool ok = w && owned && gptq_bytes;
    if (ok && t.method == LT_QUANT_GPTQ) {
        if (!lt_is_lut_int(t.linear->type_id))
            ok = lt_set_error("--method gptq is for the lut_int* types, not %s", t.linear->name);
        else
            ok = lt_gptq_quantize_model(in, f, lt_lut_int_bits(t.linear->type_id), lt_lut_int_group(t.linear->type_id),
                                        p->calib_seqs > 0 ? p->calib_seqs : 32, owned, gptq_bytes, p->progress);
    }
    if (ok) {
        gguf_writer_copy_kv(w, f);
        gguf_writer_set_u32(w, "general.file_type", lt_quantize_file_type(t.linear->name));
        if (t.linear->block_size > 1 || t.linear->ternary) gguf_writer_set_u32(w, "general.quantization_version", 2);
        ok = ok && add_tensors(w, f, &t, owned, gptq_bytes, p->progress) && gguf_writer_write(w, out);
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", lt_error());
    for (uint64_t i = 0; owned && i < f->n_tensors; i++) free(owned[i]);
    free(owned);
    free(gptq_bytes);
    gguf_writer_free(w);
    gguf_close(f);
    if (!ok) lt_set_error("%s", msg);
    return ok;
}
