/* Q4_0 (ggml block_q4_0): blocks of 32 weights in 18 bytes: f16 d, then 16 bytes of nibbles.
 * Byte j holds weight j in its low nibble and weight j+16 in its high nibble; value = (q - 8) * d.
 * Quantizer = ggml's quantize_row_q4_0_ref: m = the weight of largest magnitude (with its sign),
 * d = m / -8, q = min(15, trunc(x / d + 8.5)); so m itself lands exactly on q = 0 (-8 * d = m). */
#include <math.h>

#include "formats/format_impl.h"

enum { QK4_0 = 32, Q4_0_BYTES = 2 + QK4_0 / 2 };

static void q4_0_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *block = lt_row_data(t, row);
    for (int64_t b = 0; b < t->ne[0] / QK4_0; b++, block += Q4_0_BYTES, dst += QK4_0) {
        const float d = lt_load_f16(block);
        const uint8_t *qs = block + 2;
        for (int j = 0; j < QK4_0 / 2; j++) {
            dst[j] = (float)((qs[j] & 0x0f) - 8) * d;
            dst[j + QK4_0 / 2] = (float)((qs[j] >> 4) - 8) * d;
        }
    }
}

static int q4_0_code(float x, float id) {
    int q = (int8_t)(x * id + 8.5f); /* truncation toward zero, as ggml */
    return q < 15 ? q : 15;
}

static void q4_0_quantize_row(const float *x, uint8_t *block, int64_t ne0) {
    for (int64_t b = 0; b < ne0 / QK4_0; b++, x += QK4_0, block += Q4_0_BYTES) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK4_0; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        lt_store_u16(block, lt_fp32_to_fp16(d));
        for (int j = 0; j < QK4_0 / 2; j++)
            block[2 + j] = (uint8_t)(q4_0_code(x[j], id) | (q4_0_code(x[j + QK4_0 / 2], id) << 4));
    }
}

static bool q4_0_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    extern const lt_format lt_format_q4_0;
    return lt_quantize_rows(&lt_format_q4_0, q4_0_quantize_row, src, ne0, nrows, dst);
}

const lt_format lt_format_q4_0 = {
    .name = "q4_0", .type_id = LT_TYPE_Q4_0, .block_size = QK4_0, .block_bytes = Q4_0_BYTES,
    .dequantize_row = q4_0_dequantize_row, .quantize = q4_0_quantize,
    .description = "llama.cpp 4-bit: 32 nibbles + f16 scale per block (4.5 bits/weight)",
};
