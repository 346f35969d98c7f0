/* F16: IEEE half precision (ggml_fp16_t), one weight per 2 bytes; encoded round-to-nearest-even. */
#include "formats/format_impl.h"

static void f16_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *src = lt_row_data(t, row);
    for (int64_t i = 0; i < t->ne[0]; i++) dst[i] = lt_load_f16(src + 2 * i);
}

static bool f16_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < ne0 * nrows; i++) lt_store_u16(out + 2 * i, lt_fp32_to_fp16(src[i]));
    return true;
}

const lt_format lt_format_f16 = {
    .name = "f16", .type_id = LT_TYPE_F16, .block_size = 1, .block_bytes = 2,
    .dequantize_row = f16_dequantize_row, .quantize = f16_quantize,
    .description = "16-bit IEEE half float",
};
