/* NEON GEMV for the TERN3 layout (1.71-bit ternary, one scale per row; kernels_impl.h, lt_qkind):
 * the design of the AVX2 kernel (x86/gemv_t3_avx2.c, docs/t3-spike.md) with 128-bit vectors.
 * Results equal lt_gemv_ref bit for bit: exact integer dots, then y = (float)dot * (s_row * a).
 *
 * Tables: those of the AVX2 kernel, byte for byte (per group of 3 activations, with the signed
 * nibble split q = 16 qh + ql, L[m] = Σ d_i ql_i and H[m] = Σ d_i qh_i over the balanced-ternary
 * digits d_i of the magnitude m; block layout: group j then group 7 + j, L then H, 448 bytes per
 * block and token). Built here with NEON: qh = vrshrq_n_s8(q, 4) = (q + 8) >> 4 without overflow,
 * ql = q - 16 qh, then per group L = d0 ql0 + d1 ql1 + d2 ql2 with the digit vectors (vmlaq_s8).
 *
 * Kernel, per block of 42 weights and half tile (16 rows; the halves one after the other, which
 * keeps every value in registers):
 *   per nibble vector: and 0x0F, ushr 4 -> the magnitudes of groups j and 7 + j;
 *   per group: mask = vtstq_u8(sign byte, 0x80 >> j) (0xFF where the group is negative), two
 *   vqtbl1q_s8 (L, H), two eor with the mask, two byte adds. NEON has no vpsignb: x ^ 0xFF =
 *   -x - 1, so a negative group adds -L - 1 and -H - 1, i.e. 17 too little in l + 16 h; the
 *   blocks' negative groups are counted with vcntq_u8 of the two sign bytes (= negatives + 2,
 *   bit 0 = 1) and 17 times the count is added back (the 2 x 17 per block are subtracted at the end);
 *   byte sums over units of 5, 5 and 4 groups (|x ^ mask| <= 25: 5 * 25 = 125 <= 127), widened
 *   into int16 words l + 16 h per row with saddw/saddw2 (l) and smlal/smlal2 by 16 (h);
 *   every 5 blocks the words (+ 17 x counts) go to int32. The int16 words may wrap in between:
 *   their true total over 5 blocks is Σ t q + 170, |Σ t q| <= 210 * 128 = 26880, and the wrapping
 *   adds are exact modulo 2^16.
 * Compiled block loop (GCC 12 -O3), per block and 16 rows: 122 vector ALU instructions (28 tbl,
 * 28 eor, 24 add, 14 cmtst/cmlt, 7 and, 7 ushr, 12 widening, 2 cnt), 31 loads (9 weight, 22 table
 * ldr/ldp), 5 prfm, no spills: 8.7 per group, 5.8 per weight for 32 rows (the pair layout of
 * lut_neon.c: 7.0, of which 2.0 tbl; here 1.33 tbl). */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on aarch64 only. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"

#define T3_BLOCK_BYTES (LT_T3_VECS * LT_TILE) /* weight bytes per block and tile */
#define T3_TAB_BLOCK (LT_T3_GROUPS * 32)      /* table bytes per block and token: 16 L + 16 H per group */
#define T3_UNIT 5                             /* groups summed in bytes before widening: 5 * 25 <= 127 */
#define T3_FLUSH_BLOCKS 5                     /* blocks summed in int16 words: 5 * (42 * 128 + 34) < 32768 */
#define T3_BIAS 34                            /* 17 x the two bit-0 ones of a block's sign bytes */
/* Software prefetch of the weight stream, this many bytes ahead (as the AVX2 kernel). */
#ifndef LT_T3_PREFETCH
#define LT_T3_PREFETCH 4096
#endif
#define AI static inline __attribute__((always_inline))

/* Balanced-ternary digits of the magnitudes m = d0 + 3 d1 + 9 d2 (0..13; 14, 15: no magnitude, 0). */
#define DIG0(m) (int8_t)((((m) + 1) % 3) - 1)
#define DIG1(m) DIG0(((m) - DIG0(m)) / 3)
#define DIG2(m) DIG0(((m) - DIG0(m) - 3 * DIG1(m)) / 9)
#define T3_TAB(D) { D(0), D(1), D(2), D(3), D(4), D(5), D(6), D(7), D(8), D(9), D(10), D(11), D(12), D(13), 0, 0 }
const int8_t lt_t3_digits[3][16] = { T3_TAB(DIG0), T3_TAB(DIG1), T3_TAB(DIG2) };

/* ---- tables ---- */

/* The two tables of each group of one block (42 activations at q, the layout at the top). */
static void t3_block_tables(const int8_t *q, int8_t *tab, const int8x16_t d[3]) {
    int8_t ql[48], qh[48]; /* 48: three vectors; the 6 past the block are not used */
    for (int v = 0; v < 3; v++) {
        int8x16_t x = vld1q_s8(q + 16 * v), h = vrshrq_n_s8(x, 4); /* (x + 8) >> 4, exact */
        vst1q_s8(qh + 16 * v, h);
        vst1q_s8(ql + 16 * v, vsubq_s8(x, vshlq_n_s8(h, 4)));   /* in [-8, 7]: the wrap is exact */
    }
    for (int g = 0; g < LT_T3_GROUPS; g++) {
        const int8_t *l = ql + 3 * g, *h = qh + 3 * g;
        int8x16_t L = vmulq_s8(d[0], vld1q_dup_s8(l)), H = vmulq_s8(d[0], vld1q_dup_s8(h));
        L = vmlaq_s8(L, d[1], vld1q_dup_s8(l + 1)), H = vmlaq_s8(H, d[1], vld1q_dup_s8(h + 1));
        L = vmlaq_s8(L, d[2], vld1q_dup_s8(l + 2)), H = vmlaq_s8(H, d[2], vld1q_dup_s8(h + 2));
        int8_t *dst = tab + ((g % 7) * 4 + (g / 7) * 2) * 16;
        vst1q_s8(dst, L);
        vst1q_s8(dst + 16, H);
    }
}

/* GEMV tables of this thread's share of the blocks (of 14 groups), for every token (lt_fill_fn).
 * The 48-byte loads stay inside xq: its rows have 512 bytes of zeros past k. */
void lt_gemv_t3_tables_neon(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    const int8x16_t d[3] = { vld1q_s8(lt_t3_digits[0]), vld1q_s8(lt_t3_digits[1]), vld1q_s8(lt_t3_digits[2]) };
    int64_t b0, b1;
    lt_split_range(nslots / LT_T3_GROUPS, 1, ith, nth, &b0, &b1);
    for (int64_t t = 0; t < a->n; t++) {
        int8_t *tab = (int8_t *)a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t b = b0; b < b1; b++) t3_block_tables(q + b * LT_T3_BLOCK, tab + b * T3_TAB_BLOCK, d);
    }
}

/* ---- kernel ---- */

/* One group of 16 rows: l += L[idx] ^ mask, h += H[idx] ^ mask (the first of a unit: =). */
AI void t3_group(uint8x16_t idx, const int8_t *tab, uint8x16_t sign, uint8x16_t bit, const bool first, int8x16_t *l,
                 int8x16_t *h) {
    int8x16_t mask = vreinterpretq_s8_u8(vtstq_u8(sign, bit));
    int8x16_t gl = veorq_s8(vqtbl1q_s8(vld1q_s8(tab), idx), mask), gh = veorq_s8(vqtbl1q_s8(vld1q_s8(tab + 16), idx), mask);
    *l = first ? gl : vaddq_s8(*l, gl);
    *h = first ? gh : vaddq_s8(*h, gh);
}

/* A unit's byte sums into the words l + 16 h: w[0] rows 0-7, w[1] rows 8-15. */
AI void t3_widen(int8x16_t l, int8x16_t h, int16x8_t w[2]) {
    const int8x16_t c16 = vdupq_n_s8(16);
    w[0] = vmlal_s8(vaddw_s8(w[0], vget_low_s8(l)), vget_low_s8(h), vget_low_s8(c16));
    w[1] = vmlal_high_s8(vaddw_high_s8(w[1], l), h, c16);
}

/* One block of 16 rows (wb: the block's bytes of this half): 14 groups in units of 5, 5 and 4
 * (order: j lo, j hi, j + 1 lo, ...); cnt += the popcounts of the two sign bytes (negatives + 2). */
AI void t3_block(const uint8_t *wb, const int8_t *tb, int16x8_t w[2], uint8x16_t *cnt) {
    const uint8x16_t nib = vdupq_n_u8(0x0F);
    uint8x16_t sa = vld1q_u8(wb), sb = vld1q_u8(wb + LT_TILE);
    *cnt = vaddq_u8(*cnt, vaddq_u8(vcntq_u8(sa), vcntq_u8(sb)));
    int8x16_t l = vdupq_n_s8(0), h = vdupq_n_s8(0);
    int n = 0; /* groups in the current unit (a constant once unrolled) */
    _Pragma("GCC unroll 7")
    for (int j = 0; j < 7; j++) {
        const uint8x16_t bit = vdupq_n_u8((uint8_t)(0x80 >> j));
        uint8x16_t v = vld1q_u8(wb + (2 + j) * LT_TILE);
        t3_group(vandq_u8(v, nib), tb + 64 * j, sa, bit, n == 0, &l, &h);
        if (++n == T3_UNIT) t3_widen(l, h, w), n = 0;
        t3_group(vshrq_n_u8(v, 4), tb + 64 * j + 32, sb, bit, n == 0, &l, &h);
        if (++n == T3_UNIT) t3_widen(l, h, w), n = 0;
    }
    if (n) t3_widen(l, h, w); /* the last unit */
}

/* d[0..3] (int32, rows 4i..4i+3 of the half) += the words w + 17 x cnt (the -1s of the eor). */
AI void t3_flush(int32x4_t d[4], const int16x8_t w[2], uint8x16_t cnt) {
    const uint8x16_t c17 = vdupq_n_u8(17);
    int16x8_t w0 = vreinterpretq_s16_u16(vmlal_u8(vreinterpretq_u16_s16(w[0]), vget_low_u8(cnt), vget_low_u8(c17)));
    int16x8_t w1 = vreinterpretq_s16_u16(vmlal_high_u8(vreinterpretq_u16_s16(w[1]), cnt, c17));
    d[0] = vaddw_s16(d[0], vget_low_s16(w0));
    d[1] = vaddw_high_s16(d[1], w0);
    d[2] = vaddw_s16(d[2], vget_low_s16(w1));
    d[3] = vaddw_high_s16(d[3], w1);
}

/* Integer dots of one half tile (16 rows from wt, d[i] = rows 4i..4i+3) with one token's tables.
 * One half at a time keeps the loop's values in registers (both halves at once spill); the
 * second half reads the tables again, from L1. Not inlined: the caller's live values would take
 * registers from the loop. */
static __attribute__((noinline)) void t3_half_dot(const uint8_t *wt, const int8_t *tab, int64_t nblk, int32x4_t d[4]) {
    for (int i = 0; i < 4; i++) d[i] = vdupq_n_s32(-T3_BIAS * (int32_t)nblk);
    for (int64_t c0 = 0; c0 < nblk; c0 += T3_FLUSH_BLOCKS) {
        int64_t c1 = LT_MIN(c0 + T3_FLUSH_BLOCKS, nblk);
        int16x8_t w[2] = { vdupq_n_s16(0), vdupq_n_s16(0) };
        uint8x16_t cnt = vdupq_n_u8(0);
        for (int64_t b = c0; b < c1; b++) {
            const uint8_t *wb = wt + b * T3_BLOCK_BYTES;
            for (int c = 0; c < T3_BLOCK_BYTES; c += 64) __builtin_prefetch(wb + LT_T3_PREFETCH + c, 0, 2);
            t3_block(wb, tab + b * T3_TAB_BLOCK, w, &cnt);
        }
        t3_flush(d, w, cnt);
    }
}

/* The 32 rows' dots of one tile with one token's tables, in row order (two halves of 16 rows). */
static void t3_tile_dots(const uint8_t *wt, const uint8_t *tab, int64_t nblk, int32_t dot[LT_TILE]) {
    int32x4_t d[8];
    t3_half_dot(wt, (const int8_t *)tab, nblk, d);
    t3_half_dot(wt + 16, (const int8_t *)tab, nblk, d + 4);
    for (int i = 0; i < 8; i++) vst1q_s32(dot + 4 * i, d[i]);
}

void lt_gemv_t3_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    lt_gemv_t3_tiles(w, a, t0, t1, y, t3_tile_dots);
}

#endif
