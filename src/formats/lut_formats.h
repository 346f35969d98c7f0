/* lutlm's LUT-oriented weight formats (see docs/formats.md, section "LUT formats"):
 *  - lut_t16: ternary, 320 weights in 64 bytes (1.6 bits/weight): base-3 digits, 5 weights per
 *    byte; one f32 scale per tensor after all the blocks;
 *  - lut_int{1,2,3,4}_g{32,64,128}: asymmetric INTn, w = s * q + m with q in [0, 2^n), one f16 s
 *    and one f16 m per group of G weights along the row, the q stored as n bit planes.
 * Rows whose length is not a multiple of the block are padded with zero weights (q = 0, m = 0 for
 * the padding of INTn is not needed: padded activations are zero). */
#ifndef LUTLM_FORMATS_LUT_FORMATS_H
#define LUTLM_FORMATS_LUT_FORMATS_H

#include <stdint.h>

#include "formats/formats.h"

enum { LT_T16_BLOCK = 320, LT_T16_BLOCK_BYTES = 64 };

extern const lt_format lt_format_lut_t16;
extern const lt_format lt_format_lut_int1_g32, lt_format_lut_int1_g64, lt_format_lut_int1_g128,
    lt_format_lut_int2_g32, lt_format_lut_int2_g64, lt_format_lut_int2_g128,
    lt_format_lut_int3_g32, lt_format_lut_int3_g64, lt_format_lut_int3_g128,
    lt_format_lut_int4_g32, lt_format_lut_int4_g64, lt_format_lut_int4_g128;

/* Type id of lut_int<bits>_g<group>: LT_TYPE_LUT_INT1_G32 + 3 * (bits - 1) + log2(group / 32). */
static inline uint32_t lt_lut_int_type(int bits, int group) {
    return LT_TYPE_LUT_INT1_G32 + 3u * (uint32_t)(bits - 1) + (group == 32 ? 0u : group == 64 ? 1u : 2u);
}
static inline bool lt_is_lut_int(uint32_t type_id) {
    return type_id >= LT_TYPE_LUT_INT1_G32 && type_id < LT_TYPE_LUT_INT1_G32 + 12;
}
static inline int lt_lut_int_bits(uint32_t type_id) { return 1 + (int)(type_id - LT_TYPE_LUT_INT1_G32) / 3; }
static inline int lt_lut_int_group(uint32_t type_id) { return 32 << ((type_id - LT_TYPE_LUT_INT1_G32) % 3); }
static inline size_t lt_lut_int_block_bytes(int bits, int group) { return 4 + (size_t)bits * (size_t)group / 8; }

/* Decode one INTn block: q[group] codes, its scale and offset. */
void lt_lut_int_decode_block(const uint8_t *block, int bits, int group, uint8_t *q, float *s, float *m);

#endif
