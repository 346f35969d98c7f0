/* The format registry: every weight format lutlm knows, in one table.
 *
 * Each format lives in its own file (f32.c, q8_0.c, tern2.c, ...) and exports one
 * `const lt_format lt_format_<name>`. To add a format: write its file, declare it below and add it
 * to `registry`. Lookups are linear: the table is small and looked up at load time only. */
#include <strings.h>

#include "formats/format_impl.h"

/* llama.cpp / ggml formats with a decoder (and mostly a quantizer). */
extern const lt_format lt_format_f32, lt_format_f16, lt_format_bf16, lt_format_q8_0, lt_format_q4_0,
    lt_format_tq1_0, lt_format_tq2_0, lt_format_i2_s;
/* lutlm's own formats. */
extern const lt_format lt_format_tern2;
#include "formats/lut_formats.h" /* lut_t16, lut_int<n>_g<G> */
/* ggml formats lutlm can parse (size known) but not decode: see ggml_other.c. */
extern const lt_format *const lt_ggml_parse_only_formats[];
extern const int lt_ggml_parse_only_count;

static const lt_format *const registry[] = {
    &lt_format_f32, &lt_format_f16, &lt_format_bf16, &lt_format_q8_0, &lt_format_q4_0,
    &lt_format_tq1_0, &lt_format_tq2_0, &lt_format_i2_s,
    &lt_format_tern2,
    &lt_format_lut_t16, &lt_format_lut_int1_g32, &lt_format_lut_int1_g64, &lt_format_lut_int1_g128,
    &lt_format_lut_int2_g32, &lt_format_lut_int2_g64, &lt_format_lut_int2_g128, &lt_format_lut_int3_g32,
    &lt_format_lut_int3_g64, &lt_format_lut_int3_g128, &lt_format_lut_int4_g32, &lt_format_lut_int4_g64,
    &lt_format_lut_int4_g128,
};

int lt_format_count(void) { return (int)LT_ARRAY_LEN(registry) + lt_ggml_parse_only_count; }

const lt_format *lt_format_at(int i) {
    if (i < 0) return NULL;
    if (i < (int)LT_ARRAY_LEN(registry)) return registry[i];
    i -= (int)LT_ARRAY_LEN(registry);
    return i < lt_ggml_parse_only_count ? lt_ggml_parse_only_formats[i] : NULL;
}

const lt_format *lt_format_by_type(uint32_t type_id) {
    for (int i = 0; i < lt_format_count(); i++)
        if (lt_format_at(i)->type_id == type_id) return lt_format_at(i);
    return NULL;
}

const lt_format *lt_format_by_name(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < lt_format_count(); i++)
        if (!strcasecmp(lt_format_at(i)->name, name)) return lt_format_at(i);
    return NULL;
}

/* Default size rule of a block format: nrows * (ne0 / block_size) * block_bytes, with ne0 a
 * multiple of block_size. */
static bool block_tensor_bytes(const lt_format *fmt, int64_t ne0, int64_t nrows, uint64_t *out) {
    if (ne0 % fmt->block_size != 0)
        return lt_set_error("%s: row length %lld is not a multiple of the block size %lld", fmt->name,
                            (long long)ne0, (long long)fmt->block_size);
    uint64_t row;
    if (!lt_mul_u64((uint64_t)(ne0 / fmt->block_size), fmt->block_bytes, &row) ||
        !lt_mul_u64(row, (uint64_t)nrows, out))
        return lt_set_error("%s: tensor size overflows", fmt->name);
    return true;
}

bool lt_format_tensor_bytes(const lt_format *fmt, const int64_t *ne, int n_dims, uint64_t *out) {
    if (!fmt) return lt_set_error("unknown tensor format");
    if (n_dims < 1 || n_dims > 4) return lt_set_error("%s: invalid number of dimensions %d", fmt->name, n_dims);
    uint64_t nrows = 1;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 0) return lt_set_error("%s: negative dimension %lld", fmt->name, (long long)ne[d]);
        if (d > 0 && !lt_mul_u64(nrows, (uint64_t)ne[d], &nrows))
            return lt_set_error("%s: tensor dimensions overflow", fmt->name);
    }
    /* Keep every count representable as int64_t (rows and elements are int64_t everywhere). */
    uint64_t elements;
    if (nrows > (uint64_t)INT64_MAX || !lt_mul_u64(nrows, (uint64_t)ne[0], &elements) ||
        elements > (uint64_t)INT64_MAX)
        return lt_set_error("%s: tensor dimensions overflow", fmt->name);
    if (fmt->tensor_bytes) {
        if (!fmt->tensor_bytes(ne[0], (int64_t)nrows, out))
            return lt_set_error("%s: invalid shape [%lld, %llu] for this format (or its size overflows)",
                                fmt->name, (long long)ne[0], (unsigned long long)nrows);
        return true;
    }
    return block_tensor_bytes(fmt, ne[0], (int64_t)nrows, out);
}

size_t lt_format_row_bytes(const lt_format *fmt, int64_t ne0) {
    /* Rounded up, so that formats that pad each row (TERN2) get their padded size. */
    int64_t blocks = ne0 / fmt->block_size + (ne0 % fmt->block_size != 0);
    return (size_t)blocks * fmt->block_bytes;
}

void lt_tensor_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    if (t->fmt->dequantize_row) {
        t->fmt->dequantize_row(t, row, dst);
        return;
    }
    /* Parse-only format: there is no decoder; give zeros rather than garbage (callers check
     * fmt->dequantize_row before relying on the values). */
    memset(dst, 0, (size_t)t->ne[0] * sizeof *dst);
}

bool lt_quantize_rows(const lt_format *fmt, lt_quantize_row_fn fn, const float *src, int64_t ne0,
                      int64_t nrows, void *dst) {
    if (ne0 <= 0 || nrows < 0 || ne0 % fmt->block_size != 0)
        return lt_set_error("%s: cannot quantize rows of %lld weights (need a multiple of %lld)", fmt->name,
                            (long long)ne0, (long long)fmt->block_size);
    size_t row_bytes = lt_format_row_bytes(fmt, ne0);
    for (int64_t r = 0; r < nrows; r++)
        fn(src + r * ne0, (uint8_t *)dst + (size_t)r * row_bytes, ne0);
    return true;
}
