/* The pieces of the lut_int<n>_g<G> quantizer that calibrated quantizers (GPTQ in
 * src/model/quantize_gptq.c) reuse: fitting one group's (s, m), coding one weight, packing a block.
 * The format itself is in lut_formats.h / lut_int.c. */
#ifndef LUTLM_FORMATS_LUT_INT_QUANT_H
#define LUTLM_FORMATS_LUT_INT_QUANT_H

#include <stdbool.h>
#include <stdint.h>

/* Choose (s, m) for `count` weights so that sum_i imp_i (s q_i + m - w_i)^2 is small, with
 * q_i = lt_lut_int_code(w_i, s, m, bits) (importance NULL: all 1). Both results are exactly
 * representable in f16 (the format stores them so), s >= 0. */
void lt_lut_int_fit(const float *w, const float *importance, int count, int bits, float *s, float *m);

/* q = clamp(round((w - m) / s), 0, 2^bits - 1); 0 for s = 0 or a NaN. */
int lt_lut_int_code(float w, float s, float m, int bits);

/* Write one block: f16 s, f16 m (s, m as returned by lt_lut_int_fit), then the bit planes of q[0..count)
 * (weights count..group-1 are padding, q = 0). */
void lt_lut_int_pack_block(const uint8_t *q, int count, int bits, int group, float s, float m, uint8_t *block);

/* Quantize a nrows x ne0 matrix to lut_int<bits>_g<group> with lt_lut_int_fit per group (the
 * registry's fmt->quantize is plain min/max rounding instead). importance: NULL or ne0 weights per
 * column (e.g. the mean square of that input over calibration data), shared by all rows. */
bool lt_lut_int_quantize_fitted(int bits, int group, const float *src, int64_t ne0, int64_t nrows,
                                const float *importance, void *dst);

#endif
