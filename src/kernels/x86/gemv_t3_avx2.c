/* AVX2 GEMV for the TERN3 layout (1.71-bit ternary, one scale per row; kernels_impl.h, lt_qkind;
 * the design and its measurements: docs/t3-spike.md, the prototype in commit 16f9032). Results equal
 * lt_gemv_ref bit for bit: exact integer dots, then y = (float)dot * (s_row * a).
 *
 * Tables. Each int8 activation is split with a SIGNED low nibble, q = 16 qh + ql,
 *   ql = ((q + 8) & 15) - 8 in [-8, 7],   qh = (q - ql) / 16 in [-8, 8],
 * and per group of 3 activations (q0, q1, q2) two 16-byte tables over the magnitude m = |v| of the
 * group's combo v = t0 + 3 t1 + 9 t2, with (d0, d1, d2) the balanced-ternary digits of m:
 *   L[m] = d0 ql0 + d1 ql1 + d2 ql2,   H[m] = d0 qh0 + d1 qh1 + d2 qh2   (both in [-24, 24];
 *   entries 14, 15 unused, 0). A negative v has the digits of |v| negated, so its entry is -L[|v|].
 * Per block of 42 weights (14 groups) and token: 448 bytes, group j lo then group 7 + j (j = 0..6)
 * at (4 j + 2 half) * 16: L then H. That is nslots * 32 bytes per token, act.c's reserve.
 *
 * Kernel, per block and 32 rows (the 32-byte vectors of the layout: 2 sign, 7 nibble vectors):
 *   per nibble vector: and, srlw 4, and -> indices of groups j and 7 + j;
 *   per group: two vpshufb (L, H, tables by vbroadcasti128), two vpsignb with the sign vector
 *   (negates where the byte's MSB is set; its bit 0 = 1 keeps it nonzero), two byte adds; the next
 *   group's sign bit comes to the MSB by doubling the sign vector (vpaddb: any vector pipe);
 *   byte sums over units of 5, 5 and 4 groups (|sum| <= 5 * 24 = 120), each widened to int16 by
 *   interleaving l and h (vpunpckl/hbw) and one vpmaddubsw against the unsigned (1, 16): words
 *   l + 16 h per row (|unit| <= 2040); every 5 blocks (15 units, < 32767) the words go to int32.
 * The 7 nibble vectors are unrolled (the spike measured that it matters). */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"
#include "kernels/x86/t3_digits.h"

#define T3_BLOCK_BYTES (LT_T3_VECS * LT_TILE)  /* weight bytes per block and tile */
#define T3_TAB_BLOCK (LT_T3_GROUPS * 32)       /* table bytes per block and token: 16 L + 16 H per group */
#define T3_UNIT 5                              /* groups summed in bytes before widening: 5 * 24 <= 127 */
#define T3_FLUSH_BLOCKS 5                      /* 3 units per block: 15 units * 2040 < 32767 */
/* Software prefetch of the weight stream into L2, this many bytes ahead (as gemv_avx2.c). */
#ifndef LT_T3_PREFETCH
#define LT_T3_PREFETCH 4096
#endif
#define AI static inline __attribute__((always_inline))

/* ---- tables ---- */

/* Balanced-ternary digits of the magnitudes m = 0..15 as int16 lanes, d[i] lane m = digit i
 * (x86/t3_digits.h). */
static void t3_digits(__m256i d[3]) {
    for (int i = 0; i < 3; i++) d[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)t3_digit[i]));
}

/* GEMV tables of this thread's share of the blocks (of 14 groups), for every token (see the top). */
void lt_gemv_t3_tables_avx2(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    __m256i d[3];
    t3_digits(d);
    int64_t b0, b1;
    lt_split_range(nslots / LT_T3_GROUPS, 1, ith, nth, &b0, &b1);
    for (int64_t t = 0; t < a->n; t++) {
        uint8_t *tab = a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t b = b0; b < b1; b++)
            for (int g = 0; g < LT_T3_GROUPS; g++) {
                __m256i l = _mm256_setzero_si256(), h = _mm256_setzero_si256();
                for (int i = 0; i < 3; i++) {
                    int x = q[b * LT_T3_BLOCK + 3 * g + i], ql = ((x + 8) & 15) - 8, qh = (x - ql) / 16;
                    l = _mm256_add_epi16(l, _mm256_sign_epi16(_mm256_set1_epi16((short)ql), d[i]));
                    h = _mm256_add_epi16(h, _mm256_sign_epi16(_mm256_set1_epi16((short)qh), d[i]));
                }
                __m256i packed = _mm256_packs_epi16(l, h); /* quads L 0..7, H 0..7, L 8..15, H 8..15 */
                uint8_t *dst = tab + b * T3_TAB_BLOCK + ((g % 7) * 4 + (g / 7) * 2) * 16;
                _mm256_storeu_si256((__m256i *)dst, _mm256_permute4x64_epi64(packed, 0xD8));
            }
    }
}

/* ---- kernel ---- */

AI __m256i bcast16(const uint8_t *p) { return _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)p)); }

/* One group: l += sign(L[idx]), h += sign(H[idx]) (the first of a unit: l, h = ...). */
AI void t3_group(__m256i idx, const uint8_t *tab, __m256i s, const bool first, __m256i *l, __m256i *h) {
    __m256i gl = _mm256_sign_epi8(_mm256_shuffle_epi8(bcast16(tab), idx), s);
    __m256i gh = _mm256_sign_epi8(_mm256_shuffle_epi8(bcast16(tab + 16), idx), s);
    *l = first ? gl : _mm256_add_epi8(*l, gl);
    *h = first ? gh : _mm256_add_epi8(*h, gh);
}

/* A unit's byte sums into word sums l + 16 h per row: a += rows 0-7|16-23, b += rows 8-15|24-31
 * (vpmaddubsw: the unsigned operand is the coefficients, the signed one the sums). */
AI void t3_widen(__m256i l, __m256i h, __m256i *a, __m256i *b) {
    const __m256i c = _mm256_set1_epi16(1 | 16 << 8);
    *a = _mm256_add_epi16(*a, _mm256_maddubs_epi16(c, _mm256_unpacklo_epi8(l, h)));
    *b = _mm256_add_epi16(*b, _mm256_maddubs_epi16(c, _mm256_unpackhi_epi8(l, h)));
}

/* One block of one tile: 14 groups in units of 5, 5 and 4 (order: j lo, j hi, j + 1 lo, ...). */
AI void t3_block(const uint8_t *wb, const uint8_t *tb, __m256i *e, __m256i *o) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < T3_BLOCK_BYTES; c += 64) _mm_prefetch((const char *)(wb + LT_T3_PREFETCH + c), _MM_HINT_T1);
    __m256i sa = _mm256_load_si256((const __m256i *)wb), sb = _mm256_load_si256((const __m256i *)(wb + LT_TILE));
    __m256i l = _mm256_setzero_si256(), h = _mm256_setzero_si256();
    int n = 0; /* groups in the current unit (a constant once unrolled) */
    _Pragma("GCC unroll 7")
    for (int j = 0; j < 7; j++) {
        __m256i v = _mm256_load_si256((const __m256i *)(wb + (2 + j) * LT_TILE));
        __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
        t3_group(lo, tb + 64 * j, sa, n == 0, &l, &h);
        if (++n == T3_UNIT) t3_widen(l, h, e, o), n = 0;
        t3_group(hi, tb + 64 * j + 32, sb, n == 0, &l, &h);
        if (++n == T3_UNIT) t3_widen(l, h, e, o), n = 0;
        sa = _mm256_add_epi8(sa, sa), sb = _mm256_add_epi8(sb, sb); /* the next group's sign to the MSB */
    }
    if (n) t3_widen(l, h, e, o); /* the last unit */
}

/* d[0..3] (int32, rows 0-7, 8-15, 16-23, 24-31) += the signed word sums of t3_widen. */
AI void t3_flush(__m256i d[4], __m256i a, __m256i b) {
    d[0] = _mm256_add_epi32(d[0], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)));
    d[1] = _mm256_add_epi32(d[1], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)));
    d[2] = _mm256_add_epi32(d[2], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)));
    d[3] = _mm256_add_epi32(d[3], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)));
}

/* Integer dots of one tile (32 rows) with one token's tables. Not inlined: the caller's live
 * values would take registers from the loop (as gemv_avx2.c's tern_dot). */
static __attribute__((noinline)) void t3_tile_dot(const uint8_t *wt, const uint8_t *tab, int64_t nblk, __m256i d[4]) {
    for (int i = 0; i < 4; i++) d[i] = _mm256_setzero_si256();
    for (int64_t c0 = 0; c0 < nblk; c0 += T3_FLUSH_BLOCKS) {
        int64_t c1 = LT_MIN(c0 + T3_FLUSH_BLOCKS, nblk);
        __m256i e = _mm256_setzero_si256(), o = _mm256_setzero_si256();
        for (int64_t b = c0; b < c1; b++) t3_block(wt + b * T3_BLOCK_BYTES, tab + b * T3_TAB_BLOCK, &e, &o);
        t3_flush(d, e, o);
    }
}

/* The 32 rows' dots of one tile with one token's tables, in row order. */
static void t3_tile_dots(const uint8_t *wt, const uint8_t *tab, int64_t nblk, int32_t dot[LT_TILE]) {
    __m256i d[4];
    t3_tile_dot(wt, tab, nblk, d);
    for (int i = 0; i < 4; i++) _mm256_storeu_si256((__m256i *)(dot + 8 * i), d[i]);
}

void lt_gemv_t3_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    lt_gemv_t3_tiles(w, a, t0, t1, y, t3_tile_dots);
}

#endif
