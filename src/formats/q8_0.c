/* Q8_0 (ggml block_q8_0): blocks of 32 weights in 34 bytes: f16 d, then 32 int8 q.
 * value = q * d. Quantizer = ggml's quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d). */
#include <math.h>

#include "formats/format_impl.h"

enum { QK8_0 = 32, Q8_0_BYTES = 2 + QK8_0 };

static void q8_0_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *block = lt_row_data(t, row);
    for (int64_t b = 0; b < t->ne[0] / QK8_0; b++, block += Q8_0_BYTES, dst += QK8_0) {
        const float d = lt_load_f16(block);
        const int8_t *q = (const int8_t *)(block + 2);
        for (int j = 0; j < QK8_0; j++) dst[j] = (float)q[j] * d;
    }
}

static void q8_0_quantize_row(const float *x, uint8_t *block, int64_t ne0) {
    for (int64_t b = 0; b < ne0 / QK8_0; b++, x += QK8_0, block += Q8_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        lt_store_u16(block, lt_fp32_to_fp16(d));
        int8_t *q = (int8_t *)(block + 2);
        for (int j = 0; j < QK8_0; j++) q[j] = (int8_t)roundf(x[j] * id);
    }
}

static bool q8_0_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    extern const lt_format lt_format_q8_0;
    return lt_quantize_rows(&lt_format_q8_0, q8_0_quantize_row, src, ne0, nrows, dst);
}

const lt_format lt_format_q8_0 = {
    .name = "q8_0", .type_id = LT_TYPE_Q8_0, .block_size = QK8_0, .block_bytes = Q8_0_BYTES,
    .dequantize_row = q8_0_dequantize_row, .quantize = q8_0_quantize,
    .description = "llama.cpp 8-bit: 32 int8 + f16 scale per block (8.5 bits/weight)",
};
