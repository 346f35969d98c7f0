/* I2_S (type 36, bitnet.cpp's x86 layout): ternary weights, 2 bits each, ONE f32 scale per tensor.
 * Data: n/4 bytes of 128-weight blocks (ternary.h layout; n = all weights of the tensor, row after
 * row, so a row of ne0 weights is ne0/4 bytes), then the f32 scale at byte n/4, then padding to
 * n/4 + 32 bytes. ne0 must be a multiple of 128. value = (code - 1) * scale.
 * bitnet.cpp itself writes scale = max|w| and code = sign(w) + 1; lutlm's quantizer uses the
 * BitNet absmean rule (lossless when the tensor already is ternary, see ternary.h). */
#include "formats/format_impl.h"
#include "formats/ternary.h"

static bool i2_s_tensor_bytes(int64_t ne0, int64_t nrows, uint64_t *out) {
    uint64_t n;
    if (ne0 <= 0 || ne0 % LT_I2_BLOCK != 0 || nrows < 0 || !lt_mul_u64((uint64_t)ne0, (uint64_t)nrows, &n))
        return false;
    return lt_add_u64(n / 4, 32, out);
}

static float i2_s_scale(const lt_tensor *t) {
    return lt_load_f32((const uint8_t *)t->data + (size_t)(lt_tensor_elements(t) / 4));
}

static void i2_s_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const float scale = i2_s_scale(t);
    const uint8_t *block = lt_row_data(t, row);
    for (int64_t b = 0; b < t->ne[0] / LT_I2_BLOCK; b++, block += LT_I2_BLOCK_BYTES, dst += LT_I2_BLOCK)
        lt_i2_unpack_block(block, scale, dst, LT_I2_BLOCK);
}

static bool i2_s_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    if (ne0 <= 0 || ne0 % LT_I2_BLOCK != 0)
        return lt_set_error("i2_s: row length %lld is not a multiple of %d", (long long)ne0, LT_I2_BLOCK);
    const int64_t n = ne0 * nrows;
    const float scale = lt_ternary_scale(src, n);
    uint8_t *out = dst;
    for (int64_t b = 0; b < n / LT_I2_BLOCK; b++)
        lt_i2_pack_block(src + b * LT_I2_BLOCK, LT_I2_BLOCK, scale, out + b * LT_I2_BLOCK_BYTES);
    memset(out + n / 4, 0, 32);
    lt_store_f32(out + n / 4, scale);
    return true;
}

const lt_format lt_format_i2_s = {
    .name = "i2_s", .type_id = LT_TYPE_I2_S, .block_size = LT_I2_BLOCK, .block_bytes = LT_I2_BLOCK_BYTES,
    .ternary = true, .tensor_bytes = i2_s_tensor_bytes,
    .dequantize_row = i2_s_dequantize_row, .quantize = i2_s_quantize,
    .description = "bitnet.cpp ternary (x86 layout): 2 bits/weight, one f32 scale per tensor",
};
