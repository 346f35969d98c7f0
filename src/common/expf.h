/* expf with the bits of glibc's (>= 2.28, the x86-64 FMA variant), on every machine and ISA.
 *
 * Softmax runs expf once per attention score, and a vector version of libm's expf has to give
 * libm's bits so that every ISA (and the reference path) agrees. So lutlm computes expf itself, by
 * the algorithm glibc uses (Arm's optimized-routines expf, MIT; its coefficients and the 2^(i/32)
 * table below, the table checked against one computed here to 60 digits):
 *
 *   z = x * 32/ln2 in double;  k = round(z) (adding 1.5 * 2^52: ties to even), r = z - k in [-1/2, 1/2]
 *   2^(k/32) = s: the double whose bits are tab[k mod 32] + (k << 47)
 *   exp(x) = s * 2^(r/32) ~ s * (C0 r^3 + C1 r^2 + C2 r + 1), rounded once to float
 *
 * with the fused multiply-adds where glibc's FMA build has them (disassembled from Debian 12's
 * libm): kd = fma(x, 32/ln2, SHIFT), r = fma(32/ln2, x, -k), p = fma(r, C0, C1), q = fma(r, C2, 1),
 * y = fma(p, r*r, q), then y * s. Out of range: x > 0x1.62e42ep6 gives +inf, x < -0x1.9fe368p6 gives
 * 0, x < -0x1.9d1d9ep6 the least subnormal (glibc's "may underflow" result), NaN gives x + x.
 * tests/test_expf.c compares lt_expf with libm's expf (on glibc) and the AVX2 softmax with this. */
#ifndef LUTLM_COMMON_EXPF_H
#define LUTLM_COMMON_EXPF_H

#include <stdint.h>

#define LT_EXPF_TABLE_BITS 5
#define LT_EXPF_SHIFT 0x1.8p+52             /* adding it rounds a double of magnitude < 2^51 to an integer */
#define LT_EXPF_INVLN2_N 0x1.71547652b82fep+5 /* 32 / ln 2 */
#define LT_EXPF_C0 0x1.c6af84b912394p-20
#define LT_EXPF_C1 0x1.ebfce50fac4f3p-13
#define LT_EXPF_C2 0x1.62e42ff0c52d6p-6
#define LT_EXPF_OVERFLOW 0x1.62e42ep6f       /* x above: +inf */
#define LT_EXPF_UNDERFLOW (-0x1.9fe368p6f)   /* x below: 0 */
#define LT_EXPF_MAY_UNDERFLOW (-0x1.9d1d9ep6f) /* x below (and not below the one above): 0x1p-149 */

/* tab[i] = bits(2^(i/32)) - (i << 47), i < 32. */
extern const uint64_t lt_expf_tab[1 << LT_EXPF_TABLE_BITS];

float lt_expf(float x);

#endif
