/* The int8 GEMM for many tokens (prompt processing): decode the weight codes of a 32-row tile and
 * a K-block once into bytes, then multiply them with the int8 activations of many tokens
 * (vpmaddubsw / vmlal_s8; vpdpbusd / sdot with int32 sums on the AVX-512 and dotprod levels), rows
 * in vector lanes, tokens broadcast. docs/kernels.md, "int8 GEMM".
 *
 * Decoded codes: per "kquad" q (weights 4q .. 4q+3 of a row), 128 bytes: row r of the tile at
 * bytes 4r .. 4r+3, weight 4q+i at byte 4r+i. Ternary codes are c = t + 1 ∈ {0, 1, 2}, INTn codes
 * q ∈ [0, 2^n), both unsigned; ternary dots subtract Σx per group (a->gsum): Σ t·x = Σ c·x - Σ x.
 * Partial sums are int16 for at most lt_gemm_chunk kquads (c0 x0 + c1 x1 in [-2 * cmax * 128,
 * 2 * cmax * 127] per pair of weights: x is in [-128, 127] under the ggml rule), then int32. */
#ifndef LUTLM_KERNELS_GEMM_H
#define LUTLM_KERNELS_GEMM_H

#include "kernels/kernels_impl.h"

#define LT_GEMM_KQ 64     /* kquads per decoded K-block: 256 weights x 32 rows = 8 KB, in L1 */
#define LT_GEMM_NB 128    /* tokens per block (per-tile int32/float partials on the stack: 32 KB) */
#define LT_GEMM_MIN_N 4   /* AUTO picks the int8 GEMM from this many tokens (measured break-even) */

/* Kquads whose int16 pair sums may be added before widening: sums stay in [-32768, 32767]
 * (2 * cmax * 128 * chunk <= 32768; ternary cmax = 2: 64; INT1: 64; INT2: 32; INT3: 16; INT4: 8).
 * Powers of two, so they divide every group (8, 16, 32 kquads for INTn; 64, 80 for ternary). */
static inline int64_t lt_gemm_chunk(const lt_qweight *w) {
    if (lt_qw_ternary(w)) return 64;
    static const int64_t by_bits[5] = { 0, 64, 32, 16, 8 };
    return by_bits[w->planes];
}

/* TILES(w, a, t0, t1, y, kind, planes) with the layout kind and plane count as constants: one
 * copy of a kernel's tile loop per layout (x86/gemm_avx2.c, x86/gemm_avx512.c). */
#define LT_GEMM_BY_LAYOUT(TILES, w, a, t0, t1, y)                                 \
    do {                                                                           \
        if ((w)->kind == LT_QK_TERN3) TILES(w, a, t0, t1, y, LT_QK_TERN3, 1);     \
        else if ((w)->kind == LT_QK_TERNARY) TILES(w, a, t0, t1, y, LT_QK_TERNARY, 1); \
        else if ((w)->planes == 1) TILES(w, a, t0, t1, y, LT_QK_PLANES, 1);       \
        else if ((w)->planes == 2) TILES(w, a, t0, t1, y, LT_QK_PLANES, 2);       \
        else if ((w)->planes == 3) TILES(w, a, t0, t1, y, LT_QK_PLANES, 3);       \
        else TILES(w, a, t0, t1, y, LT_QK_PLANES, 4);                              \
    } while (0)

#ifdef LUTLM_HAVE_X86_KERNELS
void lt_gemm_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
/* The AVX-512 level's (VNNI vpdpbusd, int32 sums: no int16 chunks; x86/gemm_avx512.c). */
void lt_gemm_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
#endif
#ifdef LUTLM_HAVE_ARM_KERNELS
void lt_gemm_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_gemm_dotprod(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
/* The NEON tile loop (decode, group ends, outputs) with the integer dots of one decoded K-block of
 * nq kquads: ip[t][row] += Σ codes · x_t for the nt tokens x0 + t * kx (arm/gemm_neon.c). */
typedef void (*lt_gemm_block_fn)(const uint8_t *codes, int64_t nq, int64_t chunk, const int8_t *x0, int64_t kx, int nt,
                                 int32_t (*ip)[LT_TILE]);
void lt_gemm_neon_tiles(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y, lt_gemm_block_fn block);
#endif

#endif
