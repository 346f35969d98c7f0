/* The 2-bit ternary packing shared by I2_S (bitnet.cpp) and TERN2 (lutlm), and BitNet's absmean
 * ternarization. Internal to src/formats (kernels may include it for the layout constants).
 *
 * One block = 128 weights in 32 bytes. Byte j of a block holds weights j, j+32, j+64, j+96 at bit
 * offsets 6, 4, 2, 0; each 2-bit code is t + 1 for t in {-1, 0, +1} (code 3 is never written and
 * decodes as 0). */
#ifndef LUTLM_FORMATS_TERNARY_H
#define LUTLM_FORMATS_TERNARY_H

#include <stdbool.h>
#include <stdint.h>

enum { LT_I2_BLOCK = 128, LT_I2_BLOCK_BYTES = 32 };

/* The per-tensor scale for ternarizing w[0..n): BitNet's absmean, mean(|w|), except when w is
 * already exactly t * s (every nonzero |w| equal to one s): then s, so that encoding is lossless.
 * 0 for an all-zero tensor. */
float lt_ternary_scale(const float *w, int64_t n);
/* t = clamp(round(w / scale), -1, 1), as a code t + 1 (scale 0 gives code 1). */
uint8_t lt_ternary_code(float w, float scale);

/* Pack 128 codes (ternary_code values, in weight order) into one 32-byte block, and back to
 * values (code - 1) * scale. `count` < 128 packs only the first count weights (the rest zero). */
void lt_i2_pack_block(const float *w, int count, float scale, uint8_t *block);
void lt_i2_unpack_block(const uint8_t *block, float scale, float *dst, int count);

#endif
