/* TERN2 (type 1024, lutlm's own ternary storage): I2_S's packing (ternary.h) within each row, but
 * every row padded with zero weights to a whole number of 128-weight blocks, so any row length
 * works and rows start on 32-byte boundaries.
 * Data: nrows * ceil(ne0/128) * 32 bytes of blocks, then the f32 scale, then padding: the tensor is
 * that + 32 bytes. value = (code - 1) * scale. */
#include "formats/format_impl.h"
#include "formats/ternary.h"

static uint64_t tern2_blocks_bytes(int64_t ne0, int64_t nrows, bool *ok) {
    uint64_t blocks_per_row = (uint64_t)(ne0 / LT_I2_BLOCK + (ne0 % LT_I2_BLOCK != 0));
    uint64_t per_row = blocks_per_row * LT_I2_BLOCK_BYTES, total;
    *ok = lt_mul_u64(per_row, (uint64_t)nrows, &total);
    return total;
}

static bool tern2_tensor_bytes(int64_t ne0, int64_t nrows, uint64_t *out) {
    bool ok;
    if (ne0 <= 0 || nrows < 0) return false;
    uint64_t blocks = tern2_blocks_bytes(ne0, nrows, &ok);
    return ok && lt_add_u64(blocks, 32, out);
}

static float tern2_scale(const lt_tensor *t) {
    bool ok;
    uint64_t offset = tern2_blocks_bytes(t->ne[0], lt_tensor_rows(t), &ok);
    return lt_load_f32((const uint8_t *)t->data + offset);
}

static void tern2_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const float scale = tern2_scale(t);
    const uint8_t *block = lt_row_data(t, row);
    for (int64_t i = 0; i < t->ne[0]; i += LT_I2_BLOCK, block += LT_I2_BLOCK_BYTES)
        lt_i2_unpack_block(block, scale, dst + i, (int)LT_MIN(LT_I2_BLOCK, t->ne[0] - i));
}

static bool tern2_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    if (ne0 <= 0 || nrows < 0) return lt_set_error("tern2: invalid shape [%lld, %lld]", (long long)ne0, (long long)nrows);
    const float scale = lt_ternary_scale(src, ne0 * nrows);
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t i = 0; i < ne0; i += LT_I2_BLOCK, out += LT_I2_BLOCK_BYTES)
            lt_i2_pack_block(src + r * ne0 + i, (int)LT_MIN(LT_I2_BLOCK, ne0 - i), scale, out);
    memset(out, 0, 32);
    lt_store_f32(out, scale);
    return true;
}

const lt_format lt_format_tern2 = {
    .name = "tern2", .type_id = LT_TYPE_TERN2, .block_size = LT_I2_BLOCK, .block_bytes = LT_I2_BLOCK_BYTES,
    .ternary = true, .tensor_bytes = tern2_tensor_bytes,
    .dequantize_row = tern2_dequantize_row, .quantize = tern2_quantize,
    .description = "lutlm ternary: I2_S packing per row (rows padded to 128), one f32 scale per tensor",
};
