/* lut_int<n>_g<G> (n = 1..4 bits, G = 32/64/128): asymmetric INTn for the bit-plane LUT kernels.
 * Block = G weights: f16 s, f16 m, then n planes of G/8 bytes; plane j holds bit j of q for weight
 * i at byte i/8, bit i%8. value = s * q + m. Rows are padded with q = 0 to whole blocks.
 * Reference quantizer (min/max per group, like GPTQ without the error feedback):
 *   s = (max - min) / (2^n - 1), m = min (both rounded to f16), q = clamp(round((w - m) / s)). */
#include <math.h>
#include <string.h>

#include "formats/format_impl.h"
#include "formats/lut_formats.h"

void lt_lut_int_decode_block(const uint8_t *block, int bits, int group, uint8_t *q, float *s, float *m) {
    *s = lt_load_f16(block);
    *m = lt_load_f16(block + 2);
    const uint8_t *planes = block + 4;
    for (int i = 0; i < group; i++) {
        int v = 0;
        for (int j = 0; j < bits; j++) v |= ((planes[j * group / 8 + i / 8] >> (i % 8)) & 1) << j;
        q[i] = (uint8_t)v;
    }
}

static void encode_block(const float *w, int count, int bits, int group, uint8_t *block) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < count; i++) {
        lo = fminf(lo, w[i]);
        hi = fmaxf(hi, w[i]);
    }
    if (count == 0 || !(lo <= hi)) lo = hi = 0.0f;
    int qmax = (1 << bits) - 1;
    uint16_t s16 = lt_fp32_to_fp16((hi - lo) / (float)qmax), m16 = lt_fp32_to_fp16(lo);
    float s = lt_fp16_to_fp32(s16), m = lt_fp16_to_fp32(m16);
    lt_store_u16(block, s16);
    lt_store_u16(block + 2, m16);
    uint8_t *planes = block + 4;
    memset(planes, 0, (size_t)bits * (size_t)group / 8);
    for (int i = 0; i < count; i++) {
        float v = s > 0.0f ? nearbyintf((w[i] - m) / s) : 0.0f;
        int q = v > (float)qmax ? qmax : v > 0.0f ? (int)v : 0; /* NaN ends up 0 */
        for (int j = 0; j < bits; j++) planes[j * group / 8 + i / 8] |= (uint8_t)(((q >> j) & 1) << (i % 8));
    }
}

static bool int_tensor_bytes_for(int bits, int group, int64_t ne0, int64_t nrows, uint64_t *out) {
    uint64_t row;
    if (ne0 <= 0 || nrows < 0) return false;
    return lt_mul_u64((uint64_t)((ne0 + group - 1) / group), lt_lut_int_block_bytes(bits, group), &row) &&
           lt_mul_u64(row, (uint64_t)nrows, out);
}

static void int_dequantize_row_for(int bits, int group, const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *block = lt_row_data(t, row);
    uint8_t q[128];
    for (int64_t k0 = 0; k0 < t->ne[0]; k0 += group, block += lt_lut_int_block_bytes(bits, group)) {
        float s, m;
        lt_lut_int_decode_block(block, bits, group, q, &s, &m);
        for (int i = 0; i < group && k0 + i < t->ne[0]; i++) dst[k0 + i] = s * (float)q[i] + m;
    }
}

static bool int_quantize_for(int bits, int group, const float *src, int64_t ne0, int64_t nrows, void *dst) {
    if (ne0 <= 0 || nrows < 0) return lt_set_error("lut_int%d_g%d: invalid shape", bits, group);
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t k0 = 0; k0 < ne0; k0 += group, out += lt_lut_int_block_bytes(bits, group))
            encode_block(src + r * ne0 + k0, (int)LT_MIN(group, ne0 - k0), bits, group, out);
    return true;
}

#define LUT_INT_FORMAT(BITS, GROUP)                                                                         \
    static bool int##BITS##_g##GROUP##_bytes(int64_t ne0, int64_t nrows, uint64_t *out) {                 \
        return int_tensor_bytes_for(BITS, GROUP, ne0, nrows, out);                                          \
    }                                                                                                       \
    static void int##BITS##_g##GROUP##_dequantize(const lt_tensor *t, int64_t row, float *dst) {           \
        int_dequantize_row_for(BITS, GROUP, t, row, dst);                                                   \
    }                                                                                                       \
    static bool int##BITS##_g##GROUP##_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) { \
        return int_quantize_for(BITS, GROUP, src, ne0, nrows, dst);                                         \
    }                                                                                                       \
    const lt_format lt_format_lut_int##BITS##_g##GROUP = {                                                  \
        .name = "lut_int" #BITS "_g" #GROUP, .type_id = LT_TYPE_LUT_INT1_G32 + 3 * (BITS - 1) + (GROUP / 64), \
        .block_size = GROUP, .block_bytes = 4 + BITS * GROUP / 8, .ternary = false,                         \
        .tensor_bytes = int##BITS##_g##GROUP##_bytes, .dequantize_row = int##BITS##_g##GROUP##_dequantize, \
        .quantize = int##BITS##_g##GROUP##_quantize,                                                       \
        .description = "lutlm INT" #BITS ", groups of " #GROUP ": f16 scale + f16 min, " #BITS " bit planes", \
    };

LUT_INT_FORMAT(1, 32) LUT_INT_FORMAT(1, 64) LUT_INT_FORMAT(1, 128)
LUT_INT_FORMAT(2, 32) LUT_INT_FORMAT(2, 64) LUT_INT_FORMAT(2, 128)
LUT_INT_FORMAT(3, 32) LUT_INT_FORMAT(3, 64) LUT_INT_FORMAT(3, 128)
LUT_INT_FORMAT(4, 32) LUT_INT_FORMAT(4, 64) LUT_INT_FORMAT(4, 128)
