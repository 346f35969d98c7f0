/* TERN3 (kernels_impl.h, lt_qkind): the balanced ternary digits of a group's magnitude m = |v| =
 * d0 + 3 d1 + 9 d2 (0..13) as constant expressions, for the int8 GEMMs' decode tables
 * (x86/gemm_avx2.c, x86/gemm_avx512.c); a group's weights are t_i = sign(v) d_i(m). */
#ifndef LUTLM_KERNELS_X86_T3_DIGITS_H
#define LUTLM_KERNELS_X86_T3_DIGITS_H

#include <stdint.h>

#define DIG0(m) (int8_t)((m) == 0 ? 0 : (((m) + 1) % 3) - 1)
#define DIG1(m) DIG0(((m) - DIG0(m)) / 3)
#define DIG2(m) DIG0(((m) - DIG0(m) - 3 * DIG1(m)) / 9)

#endif
