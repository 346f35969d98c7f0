/* TQ1_0 (ggml block_tq1_0, ternary): blocks of 256 weights in 54 bytes: qs[48], qh[4], f16 d.
 * value = (trit - 1) * d, trit in {0, 1, 2}.
 *
 * Five trits are packed per byte as a base-3 number t0*81 + t1*27 + t2*9 + t3*3 + t4 (t0 most
 * significant), stored as the fixed-point fraction ceil(v * 256 / 243): the byte is v / 243 in
 * units of 1/256. Trit n is then recovered without division: multiplying the byte by 3^n (mod 256)
 * shifts the fraction left by n trits and drops the integer part, and (q * 3) >> 8 reads the
 * leading trit of what is left (ggml's dequantize_row_tq1_0).
 *
 * Order (ggml's layout): qs[0..31] hold weights m + 32n (m = byte, n = trit 0..4): weights 0..159;
 * qs[32..47] hold weights 160 + m + 16n: weights 160..239; qh[0..3] hold 4 trits each (the fifth
 * is 0): weight 240 + j + 4n in trit n of qh[j].
 * Quantizer = ggml's quantize_row_tq1_0_ref: d = max|x| over the block, trit = round(x / d) + 1. */
#include <math.h>

#include "formats/format_impl.h"

enum { QK_TQ1 = 256, TQ1_QS = 48, TQ1_QH = 4, TQ1_0_BYTES = TQ1_QS + TQ1_QH + 2 };

static const uint8_t pow3[6] = { 1, 3, 9, 27, 81, 243 };

/* Trit n (0 = most significant) of a packed byte. */
static inline int tq1_trit(uint8_t packed, int n) {
    uint8_t q = (uint8_t)(packed * pow3[n]);
    return ((uint16_t)q * 3) >> 8;
}

static void tq1_0_dequantize_row(const lt_tensor *t, int64_t row, float *dst) {
    const uint8_t *block = lt_row_data(t, row);
    for (int64_t b = 0; b < t->ne[0] / QK_TQ1; b++, block += TQ1_0_BYTES) {
        const float d = lt_load_f16(block + TQ1_QS + TQ1_QH);
        for (int n = 0; n < 5; n++)
            for (int m = 0; m < 32; m++) *dst++ = (float)(tq1_trit(block[m], n) - 1) * d;
        for (int n = 0; n < 5; n++)
            for (int m = 0; m < 16; m++) *dst++ = (float)(tq1_trit(block[32 + m], n) - 1) * d;
        for (int n = 0; n < 4; n++)
            for (int j = 0; j < TQ1_QH; j++) *dst++ = (float)(tq1_trit(block[TQ1_QS + j], n) - 1) * d;
    }
}

/* Pack trits (most significant first, n_trits <= 5, the rest 0) into one byte. */
static uint8_t tq1_pack(const float *x, int stride, int n_trits, float id) {
    uint8_t q = 0;
    for (int n = 0; n < 5; n++) {
        int trit = n < n_trits ? (int)lroundf(x[n * stride] * id) + 1 : 0;
        q = (uint8_t)(q * 3 + trit);
    }
    return (uint8_t)(((uint16_t)q * 256 + (243 - 1)) / 243); /* ceil(q * 256 / 243) */
}

static void tq1_0_quantize_row(const float *x, uint8_t *block, int64_t ne0) {
    for (int64_t b = 0; b < ne0 / QK_TQ1; b++, x += QK_TQ1, block += TQ1_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < QK_TQ1; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float id = amax != 0.0f ? 1.0f / amax : 0.0f;
        for (int m = 0; m < 32; m++) block[m] = tq1_pack(x + m, 32, 5, id);
        for (int m = 0; m < 16; m++) block[32 + m] = tq1_pack(x + 160 + m, 16, 5, id);
        for (int j = 0; j < TQ1_QH; j++) block[TQ1_QS + j] = tq1_pack(x + 240 + j, 4, 4, id);
        lt_store_u16(block + TQ1_QS + TQ1_QH, lt_fp32_to_fp16(amax));
    }
}

static bool tq1_0_quantize(const float *src, int64_t ne0, int64_t nrows, void *dst) {
    extern const lt_format lt_format_tq1_0;
    return lt_quantize_rows(&lt_format_tq1_0, tq1_0_quantize_row, src, ne0, nrows, dst);
}

const lt_format lt_format_tq1_0 = {
    .name = "tq1_0", .type_id = LT_TYPE_TQ1_0, .block_size = QK_TQ1, .block_bytes = TQ1_0_BYTES,
    .ternary = true,
    .dequantize_row = tq1_0_dequantize_row, .quantize = tq1_0_quantize,
    .description = "llama.cpp ternary: base-3, 5 trits/byte + f16 scale per 256 (1.69 bits/weight)",
};
