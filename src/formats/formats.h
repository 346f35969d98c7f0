/* The format registry: one table of every weight format lutlm knows (in the spirit of ggml's
 * type traits). Each entry says how a tensor of that format is laid out and how to turn it into
 * floats; kernels (src/kernels) add fast paths for the formats they accelerate.
 *
 * GGUF type ids below 1024 are ggml's (llama.cpp's numbering; 36 = bitnet.cpp's I2_S).
 * lutlm's own formats use ids from 1024 up, so they never collide with any fork's. */
#ifndef LUTLM_FORMATS_H
#define LUTLM_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LT_TYPE_F32 = 0, LT_TYPE_F16 = 1, LT_TYPE_Q4_0 = 2, LT_TYPE_Q4_1 = 3,
    LT_TYPE_Q5_0 = 6, LT_TYPE_Q5_1 = 7, LT_TYPE_Q8_0 = 8, LT_TYPE_Q8_1 = 9,
    LT_TYPE_Q2_K = 10, LT_TYPE_Q3_K = 11, LT_TYPE_Q4_K = 12, LT_TYPE_Q5_K = 13,
    LT_TYPE_Q6_K = 14, LT_TYPE_Q8_K = 15,
    LT_TYPE_I8 = 24, LT_TYPE_I16 = 25, LT_TYPE_I32 = 26, LT_TYPE_I64 = 27, LT_TYPE_F64 = 28,
    LT_TYPE_BF16 = 30, LT_TYPE_TQ1_0 = 34, LT_TYPE_TQ2_0 = 35,
    LT_TYPE_I2_S = 36, /* bitnet.cpp's x86 I2_S (ambiguous across forks: see docs/formats.md) */

    LT_TYPE_LUTLM_BASE = 1024,
    LT_TYPE_TERN2 = 1024, /* lutlm ternary, 2 bits/weight, I2_S-style packing per row, f32 scale per tensor */
    LT_TYPE_LUT_T16 = 1040, /* lutlm dense ternary, 1.6 bits/weight (src/formats/lut_formats.h) */
    LT_TYPE_LUT_INT1_G32 = 1041, /* lut_int<n>_g<G>: 1041 + 3 (n - 1) + log2(G / 32), up to 1052 */
};

typedef struct lt_tensor lt_tensor;

typedef struct lt_format {
    const char *name;        /* lower-case, as in `lutlm quantize ... TYPE` */
    uint32_t type_id;        /* GGUF tensor type id */
    int64_t block_size;      /* weights per block along a row */
    size_t block_bytes;      /* bytes per block */
    bool ternary;            /* weights are t * scale with t in {-1,0,1}: compute with int8 activations */
    /* Bytes of a whole tensor of nrows rows of ne0 weights; NULL means nrows * ne0/block_size *
     * block_bytes (and ne0 must be a multiple of block_size). Returns false if the shape is invalid
     * for this format or the size overflows. */
    bool (*tensor_bytes)(int64_t ne0, int64_t nrows, uint64_t *out);
    /* Decode row `row` of t into dst[t->ne[0]] (reference: exact, scalar). NULL: parse-only. */
    void (*dequantize_row)(const lt_tensor *t, int64_t row, float *dst);
    /* Encode a whole nrows x ne0 float matrix into dst (tensor_bytes big). NULL: no quantizer.
     * Returns false (with lt_error) if the shape is not supported. */
    bool (*quantize)(const float *src, int64_t ne0, int64_t nrows, void *dst);
    const char *description;
} lt_format;

/* A read-only tensor view: usually points into a mapped GGUF file. */
struct lt_tensor {
    const char *name;
    const lt_format *fmt;
    int n_dims;
    int64_t ne[4];      /* ne[0] = row length (K for a weight matrix), ne[1] = rows (M) */
    const void *data;
    uint64_t nbytes;
};

const lt_format *lt_format_by_type(uint32_t type_id); /* NULL if unknown */
const lt_format *lt_format_by_name(const char *name); /* case-insensitive; NULL if unknown */
int lt_format_count(void);
const lt_format *lt_format_at(int i);

/* Size of a tensor with these dims; false (with lt_error) if invalid or overflowing. */
bool lt_format_tensor_bytes(const lt_format *fmt, const int64_t *ne, int n_dims, uint64_t *out);
static inline int64_t lt_tensor_rows(const lt_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }
/* Bytes per row for block formats (row_start = data + row * lt_format_row_bytes). */
size_t lt_format_row_bytes(const lt_format *fmt, int64_t ne0);
/* Decode one row (a convenience over fmt->dequantize_row). */
void lt_tensor_dequantize_row(const lt_tensor *t, int64_t row, float *dst);

#endif
