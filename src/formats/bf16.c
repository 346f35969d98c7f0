/* BF16: the top 16 bits of an IEEE float (ggml_bf16_t); encoded round-to-nearest-even as ggml's
 * ggml_compute_fp32_to_bf16 (NaN kept quiet). */
#include "formats/format_impl.h"

static void bf16_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *src = lt_row_data(t, row);
    for (int64_t i = 0; i < t->ne[0]; i++) dst[i] = lt_bf16_to_fp32(lt_load_u16(src + 2 * i));
}

static bool bf16_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < ne0 * nrows; i++) lt_store_u16(out + 2 * i, lt_fp32_to_bf16(src[i]));
    return true;
}

const lt_format lt_format_bf16 = {
    .name = "bf16", .type_id = LT_TYPE_BF16, .block_size = 1, .block_bytes = 2,
    .dequantize_row = bf16_dequantize_row, .quantize = bf16_quantize,
    .description = "bfloat16 (8-bit exponent, 7-bit mantissa)",
};
