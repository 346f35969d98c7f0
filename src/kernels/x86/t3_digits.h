/* TERN3 (kernels_impl.h, lt_qkind): the balanced ternary digits of a group's magnitude m = |v| =
 * d0 + 3 d1 + 9 d2 (0..13) as constant expressions, and as a table over the 16 nibble values
 * (14, 15 are no magnitude: digits 0), for the x86 TERN3 decoders and table builders; a group's
 * weights are t_i = sign(v) d_i(m). */
#ifndef LUTLM_KERNELS_X86_T3_DIGITS_H
#define LUTLM_KERNELS_X86_T3_DIGITS_H

#include <stdint.h>

#define DIG0(m) (int8_t)((m) == 0 ? 0 : (((m) + 1) % 3) - 1)
#define DIG1(m) DIG0(((m) - DIG0(m)) / 3)
#define DIG2(m) DIG0(((m) - DIG0(m) - 3 * DIG1(m)) / 9)
#define T3_TAB(D) { D(0), D(1), D(2), D(3), D(4), D(5), D(6), D(7), D(8), D(9), D(10), D(11), D(12), D(13), 0, 0 }

/* t3_digit[i][m]: digit i of magnitude m (the nibble), m = 0..15. */
static const int8_t t3_digit[3][16] = { T3_TAB(DIG0), T3_TAB(DIG1), T3_TAB(DIG2) };

#endif
