/* TQ2_0 (ggml block_tq2_0, ternary): blocks of 256 weights in 66 bytes: 64 bytes of 2-bit codes,
 * then f16 d. value = (code - 1) * d, code in {0, 1, 2}.
 * Code layout (ggml's dequantize_row_tq2_0): the block is two halves of 128 weights; in half h,
 * byte qs[32h + m] holds weight 128h + 32n + m at bits 2n..2n+1 (n = 0..3).
 * Quantizer = ggml's quantize_row_tq2_0_ref: d = max|x| over the block, code = round(x / d) + 1. */
#include <math.h>

#include "formats/format_impl.h"

enum { QK_TQ2 = 256, TQ2_0_BYTES = QK_TQ2 / 4 + 2 };

static void tq2_0_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *block = lt_row_data(t, row);
    for (int64_t b = 0; b < t->ne[0] / QK_TQ2; b++, block += TQ2_0_BYTES) {
        const float d = lt_load_f16(block + QK_TQ2 / 4);
        for (int half = 0; half < 2; half++)
            for (int n = 0; n < 4; n++)
                for (int m = 0; m < 32; m++) {
                    int code = (block[32 * half + m] >> (2 * n)) & 3;
                    *dst++ = (float)(code - 1) * d;
                }
    }
}

static void tq2_0_quantize_row(const float *x, uint8_t *block, int64_t ne0) {
    for (int64_t b = 0; b < ne0 / QK_TQ2; b++, x += QK_TQ2, block += TQ2_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < QK_TQ2; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float id = amax != 0.0f ? 1.0f / amax : 0.0f;
        lt_store_u16(block + QK_TQ2 / 4, lt_fp32_to_fp16(amax));
        for (int half = 0; half < 2; half++)
            for (int m = 0; m < 32; m++) {
                uint8_t q = 0;
                for (int n = 0; n < 4; n++) {
                    int code = (int)lroundf(x[128 * half + 32 * n + m] * id) + 1;
                    q |= (uint8_t)((code & 3) << (2 * n));
                }
                block[32 * half + m] = q;
            }
    }
}

static bool tq2_0_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    extern const lt_format lt_format_tq2_0;
    return lt_quantize_rows(&lt_format_tq2_0, tq2_0_quantize_row, src, ne0, nrows, dst);
}

const lt_format lt_format_tq2_0 = {
    .name = "tq2_0", .type_id = LT_TYPE_TQ2_0, .block_size = QK_TQ2, .block_bytes = TQ2_0_BYTES,
    .ternary = true,
    .dequantize_row = tq2_0_dequantize_row, .quantize = tq2_0_quantize,
    .description = "llama.cpp ternary: 2-bit codes + f16 scale per 256 (2.06 bits/weight)",
};
