/* lut_int<n>_g<G> (n = 1..4 bits, G = 32/64/128): asymmetric INTn for the bit-plane LUT kernels.
 * Block = G weights: f16 s, f16 m, then n planes of G/8 bytes; plane j holds bit j of q for weight
 * i at byte i/8, bit i%8. value = s * q + m. Rows are padded with q = 0 to whole blocks.
 *
 * Two quantizers:
 *  - the registry's (lt_format.quantize): round to nearest on the min/max grid,
 *    s = (max - min) / (2^n - 1), m = min, both rounded to f16, q = clamp(round((w - m) / s));
 *    every weight is within s/2 of its value;
 *  - lt_lut_int_quantize_fitted (`lutlm quantize`'s default): per group, the (s, m) of least
 *    (optionally importance-weighted) squared error among the clipped ranges
 *      lo = min + a (max - min), hi = max - b (max - min), a, b in {0, 0.05, ..., 0.3},
 *      s = (hi - lo) / (2^n - 1), m = lo   (a = b = 0: the min/max grid),
 *    each followed by least-squares refits: with the codes q fixed, (s, m) = argmin sum (s q + m - w)^2,
 *    then q re-rounded (the alternation of llama.cpp's make_qkx2_quants). Every candidate is judged
 *    with s, m rounded to f16 as stored.
 * Min/max round to nearest gives perplexity 4.02 on stories260K INT4 g32 (F32: 3.72), the fit 3.92
 * (README.md, "Low-bit models: accuracy"). GPTQ (src/model/gptq.c) calls lt_lut_int_fit with the
 * inputs' mean squares as weights. */
#include <math.h>
#include <string.h>

#include "formats/format_impl.h"
#include "formats/lut_formats.h"
#include "formats/lut_int_quant.h"

enum { CLIP_STEPS = 7, REFITS = 2 };
static const float clip_step = 0.05f;

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

int lt_lut_int_code(float w, float s, float m, int bits) {
    int qmax = (1 << bits) - 1;
    float v = s > 0.0f ? nearbyintf((w - m) / s) : 0.0f;
    return v > (float)qmax ? qmax : v > 0.0f ? (int)v : 0; /* NaN ends up 0 */
}

static float round_f16(float x) { return lt_fp16_to_fp32(lt_fp32_to_fp16(x)); }

/* sum imp_i (s q_i + m - w_i)^2 with s, m as given (already f16 values). */
static double weighted_error(const float *w, const float *imp, int count, int bits, float s, float m) {
    double err = 0.0;
    for (int i = 0; i < count; i++) {
        double d = (double)s * lt_lut_int_code(w[i], s, m, bits) + m - w[i];
        err += (imp ? imp[i] : 1.0) * d * d;
    }
    return err;
}

/* Least squares for fixed codes: minimize sum imp (s q + m - w)^2 over (s, m), a 2x2 system
 *   [Sqq Sq; Sq S1] [s; m] = [Sqw; Sw]. false if degenerate (all q equal) or s <= 0. */
static bool refit(const float *w, const float *imp, int count, int bits, float *s, float *m) {
    double s1 = 0, sq = 0, sqq = 0, sw = 0, sqw = 0;
    for (int i = 0; i < count; i++) {
        double c = imp ? imp[i] : 1.0, q = lt_lut_int_code(w[i], *s, *m, bits);
        s1 += c, sq += c * q, sqq += c * q * q, sw += c * w[i], sqw += c * q * w[i];
    }
    double det = s1 * sqq - sq * sq;
    if (!(det > 1e-30 * s1 * sqq)) return false;
    double new_s = (s1 * sqw - sq * sw) / det, new_m = (sqq * sw - sq * sqw) / det;
    if (!(new_s > 0.0) || !isfinite(new_s) || !isfinite(new_m)) return false;
    *s = round_f16((float)new_s);
    *m = round_f16((float)new_m);
    return true;
}

void lt_lut_int_fit(const float *w, const float *imp, int count, int bits, float *s_out, float *m_out) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < count; i++) {
        lo = fminf(lo, w[i]);
        hi = fmaxf(hi, w[i]);
    }
    if (count <= 0 || !(lo <= hi)) lo = hi = 0.0f;
    float qmax = (float)((1 << bits) - 1), range = hi - lo;
    /* the plain min/max grid first: it is kept unless a candidate is strictly better */
    float best_s = round_f16(range / qmax), best_m = round_f16(lo);
    double best = weighted_error(w, imp, count, bits, best_s, best_m);
    for (int a = 0; a < CLIP_STEPS && range > 0.0f; a++)
        for (int b = 0; b < CLIP_STEPS; b++) {
            float s = round_f16((range - (float)(a + b) * clip_step * range) / qmax);
            float m = round_f16(lo + (float)a * clip_step * range);
            for (int r = 0; r <= REFITS; r++) {
                if (r > 0 && !refit(w, imp, count, bits, &s, &m)) break;
                double err = weighted_error(w, imp, count, bits, s, m);
                if (err < best) best = err, best_s = s, best_m = m;
            }
        }
    *s_out = best_s;
    *m_out = best_m;
}

void lt_lut_int_pack_block(const uint8_t *q, int count, int bits, int group, float s, float m, uint8_t *block) {
    lt_store_u16(block, lt_fp32_to_fp16(s));
    lt_store_u16(block + 2, lt_fp32_to_fp16(m));
    uint8_t *planes = block + 4;
    memset(planes, 0, (size_t)bits * (size_t)group / 8);
    for (int i = 0; i < count; i++)
        for (int j = 0; j < bits; j++) planes[j * group / 8 + i / 8] |= (uint8_t)(((q[i] >> j) & 1) << (i % 8));
}

/* The registry's reference quantizer: min/max grid, every weight within s/2 (+ f16 rounding of m)
 * of its value (tests/test_kernels.c relies on that bound). */
static void encode_block_minmax(const float *w, int count, int bits, int group, uint8_t *block) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < count; i++) {
        lo = fminf(lo, w[i]);
        hi = fmaxf(hi, w[i]);
    }
    if (count == 0 || !(lo <= hi)) lo = hi = 0.0f;
    float s = round_f16((hi - lo) / (float)((1 << bits) - 1)), m = round_f16(lo);
    uint8_t q[128];
    for (int i = 0; i < count; i++) q[i] = (uint8_t)lt_lut_int_code(w[i], s, m, bits);
    lt_lut_int_pack_block(q, count, bits, group, s, m, block);
}

static bool valid_args(int bits, int group, int64_t ne0, int64_t nrows) {
    if (bits < 1 || bits > 4 || (group != 32 && group != 64 && group != 128))
        return lt_set_error("lut_int: no format with %d bits and groups of %d", bits, group);
    if (ne0 <= 0 || nrows < 0) return lt_set_error("lut_int%d_g%d: invalid shape", bits, group);
    return true;
}

bool lt_lut_int_quantize_fitted(int bits, int group, const float *src, int64_t ne0, int64_t nrows,
                                const float *importance, void *dst) {
    if (!valid_args(bits, group, ne0, nrows)) return false;
    uint8_t *out = dst, q[128];
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t k0 = 0; k0 < ne0; k0 += group, out += lt_lut_int_block_bytes(bits, group)) {
            const float *w = src + r * ne0 + k0;
            int count = (int)LT_MIN(group, ne0 - k0);
            float s, m;
            lt_lut_int_fit(w, importance ? importance + k0 : NULL, count, bits, &s, &m);
            for (int i = 0; i < count; i++) q[i] = (uint8_t)lt_lut_int_code(w[i], s, m, bits);
            lt_lut_int_pack_block(q, count, bits, group, s, m, out);
        }
    return true;
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
    if (!valid_args(bits, group, ne0, nrows)) return false;
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t k0 = 0; k0 < ne0; k0 += group, out += lt_lut_int_block_bytes(bits, group))
            encode_block_minmax(src + r * ne0 + k0, (int)LT_MIN(group, ne0 - k0), bits, group, out);
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
