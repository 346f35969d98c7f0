/* lut_t16 (type LT_TYPE_LUT_T16): dense ternary at 1.6 bits/weight.
 * Block = 320 weights in 64 bytes: byte j holds the base-3 number v = Σ_i c_i 3^i (i = 0..4) with
 * c_i = t + 1 of weight j + 64 i; 3^5 = 243 <= 256, so five weights fit a byte. Rows are padded with
 * zeros to whole blocks. After the blocks of all rows: one f32 scale d for the whole tensor (BitNet's
 * per-tensor scale, exact: an f16 copy per block would change every matmul by up to 2^-11 and
 * natively ternary models would drift from their reference), padded to 32 bytes as I2_S/TERN2 do.
 * value = (c - 1) * d. */
#include <math.h>
#include <string.h>

#include "formats/format_impl.h"
#include "formats/lut_formats.h"
#include "formats/ternary.h"

enum { T16_TRAILER = 32 }; /* f32 scale + padding */

static int64_t t16_blocks(int64_t ne0) { return (ne0 + LT_T16_BLOCK - 1) / LT_T16_BLOCK; }

static bool t16_codes_bytes(int64_t ne0, int64_t nrows, uint64_t *out) {
    uint64_t row;
    return lt_mul_u64((uint64_t)t16_blocks(ne0), LT_T16_BLOCK_BYTES, &row) && lt_mul_u64(row, (uint64_t)nrows, out);
}

static bool t16_tensor_bytes(int64_t ne0, int64_t nrows, uint64_t *out) {
    uint64_t codes;
    if (ne0 <= 0 || nrows < 0) return false;
    return t16_codes_bytes(ne0, nrows, &codes) && lt_add_u64(codes, T16_TRAILER, out);
}

static void t16_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    int64_t ne0 = t->ne[0];
    uint64_t codes = 0;
    t16_codes_bytes(ne0, lt_tensor_rows(t), &codes);
    float d;
    memcpy(&d, (const uint8_t *)t->data + codes, sizeof d);
    const uint8_t *block = (const uint8_t *)t->data + (size_t)row * (size_t)t16_blocks(ne0) * LT_T16_BLOCK_BYTES;
    for (int64_t b = 0; b < t16_blocks(ne0); b++, block += LT_T16_BLOCK_BYTES) {
        for (int j = 0; j < 64; j++) {
            int v = block[j];
            for (int i = 0; i < 5; i++, v /= 3) {
                int64_t k = b * LT_T16_BLOCK + j + 64 * i;
                if (k < ne0) dst[k] = (float)(v % 3 - 1) * d;
            }
        }
    }
}

/* One scale for the whole tensor (BitNet absmean, or the exact s of an already ternary tensor). */
static bool t16_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    if (ne0 <= 0 || nrows < 0) return lt_set_error("lut_t16: invalid shape [%lld, %lld]", (long long)ne0, (long long)nrows);
    float d = lt_ternary_scale(src, ne0 * nrows);
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++) {
        const float *w = src + r * ne0;
        for (int64_t b = 0; b < t16_blocks(ne0); b++, out += LT_T16_BLOCK_BYTES) {
            for (int j = 0; j < 64; j++) {
                int v = 0;
                for (int i = 4; i >= 0; i--) {
                    int64_t k = b * LT_T16_BLOCK + j + 64 * i;
                    v = v * 3 + (k < ne0 ? lt_ternary_code(w[k], d) : 1);
                }
                out[j] = (uint8_t)v;
            }
        }
    }
    memset(out, 0, T16_TRAILER);
    memcpy(out, &d, sizeof d);
    return true;
}

const lt_format lt_format_lut_t16 = {
    .name = "lut_t16", .type_id = LT_TYPE_LUT_T16, .block_size = LT_T16_BLOCK, .block_bytes = LT_T16_BLOCK_BYTES,
    .ternary = true, .tensor_bytes = t16_tensor_bytes,
    .dequantize_row = t16_dequantize_row, .quantize = t16_quantize,
    .description = "lutlm dense ternary: 5 weights per byte (base 3), 320-weight blocks, one f32 scale per tensor (1.6 bpw)",
};
