/* F32: plain IEEE single precision, one weight per 4 bytes. */
#include "formats/format_impl.h"

static void f32_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    memcpy(dst, lt_row_data(t, row), (size_t)t->ne[0] * sizeof(float));
}

static bool f32_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    memcpy(dst, src, (size_t)(ne0 * nrows) * sizeof(float));
    return true;
}

const lt_format lt_format_f32 = {
    .name = "f32", .type_id = LT_TYPE_F32, .block_size = 1, .block_bytes = 4,
    .dequantize_row = f32_dequantize_row, .quantize = f32_quantize,
    .description = "32-bit IEEE float",
};
