/* AVX-512 GEMV for the TERN3 layout (1.71-bit ternary, one scale per row; kernels_impl.h, lt_qkind).
 * Results equal lt_gemv_ref bit for bit: exact integer dots, then y = (float)dot * (s_row * a)
 * (lt_gemv_t3_tiles, lut_ref.c). Needs the AVX-512 level's F, BW and VBMI (vpermb, vpermi2b).
 *
 * What decides the speed (Zen 5, 1 thread, weights from DRAM; docs/kernels.md): the weights must
 * come as ONE forward stream per thread (a first version ran two tiles in lockstep, 64 rows per
 * zmm: 17-20 GB/s against ~25 for one tile at a time), the tables must stay in L1 (AVX2-sized
 * tables, 27 KB per token at K = 2560; that version's signed 32-entry tables were twice that), and
 * the prefetch must run far enough ahead (LT_T3X_PREFETCH). A vbroadcasti64x4 load takes a
 * shuffle slot on Zen 5, while vpermb's 64-byte memory operand is free.
 *
 * Tables: the AVX2 kernel's entries (x86/gemv_t3_avx2.c): with the signed nibble split
 * q = 16 qh + ql (ql in [-8, 7], qh in [-8, 8]) and the balanced-ternary digits d_i of a group's
 * magnitude m, L[m] = Σ d_i ql_i and H[m] = Σ d_i qh_i (|L|, |H| <= 24; m = 14, 15 give 0). Laid
 * out for two consecutive blocks b, b + 1 at a time: per slot o (o = 2j: group j, o = 2j + 1:
 * group 7 + j, j = 0..6) 64 bytes L_b | H_b | L_b+1 | H_b+1 of the slot's group, 896 bytes per
 * block pair; an odd last block alone, 32 bytes L | H per slot. nslots * 32 bytes per token, as
 * the AVX2 tables. Built with vpermi2b (each entry's activations picked from the block's ql, qh
 * bytes) and digit masks: ~80 operations per block.
 *
 * Kernel, per tile (32 rows) and block pair, each zmm = a weight vector of block b (bytes 0-31)
 * and of block b + 1 (32-63): a 256-bit load and vinserti64x4 (one stream: the blocks are
 * neighbours). Per nibble vector j:
 *   L index = vpternlogd select(0x0F ? nibbles : C), C = which of the four tables (bit 5: the
 *   block of the lane), H index = L index | 0x10; the high nibble after vpsrlw 4 the same;
 *   per group: k = vptestmb(sign vector, 0x80 >> j) (negative groups), two vpermb (L, H) with
 *   the slot's 64 bytes as the table (a free memory operand), each negated where k (masked
 *   vpsubb from zero, in place) and added to the unit's byte sums l, h;
 *   per unit of 5, 5 and 4 groups (|l|, |h| <= 120), widened as the AVX2 kernel: vpunpckl/hbw
 *   (l, h) and vpmaddubsw against (1, 16) give words l + 16 h; every 3 pairs the two blocks' words
 *   are added (6 blocks: |dot| <= 6 * 42 * 128 < 32768) and go to int32. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"
#include "kernels/x86/t3_digits.h"

#define T3_BLOCK_BYTES (LT_T3_VECS * LT_TILE)  /* weight bytes per block and tile */
#define T3_TAB_BLOCK (LT_T3_GROUPS * 32)       /* table bytes per block and token */
#define T3_TAB_SLOT2 64                        /* table bytes per slot of a block pair */
#define T3_UNIT 5                              /* groups summed in bytes before widening: 5 * 24 <= 127 */
#define T3_FLUSH_PAIRS 3                       /* block pairs summed in int16: 6 * 42 * 128 < 32768 */
/* Software prefetch of the weight stream into L1, this many bytes ahead: 12 KiB read 35-37 GB/s
 * from DRAM at 1 thread (K 2560 and 6912; the read bandwidth), 8 KiB 33, 4 KiB (the AVX2
 * kernel's) 26, 16-32 KiB 31-33; prefetcht1 was no better and erratic at K 6912. */
#ifndef LT_T3X_PREFETCH
#define LT_T3X_PREFETCH 12288
#endif
#define AI static inline __attribute__((always_inline))

/* ---- tables ---- */

/* Per digit i, the byte lanes (m = lane % 16) where it is +1 (pos) and -1 (neg) (x86/t3_digits.h). */
static void t3x_digit_masks(__mmask64 pos[3], __mmask64 neg[3]) {
    for (int i = 0; i < 3; i++) {
        pos[i] = neg[i] = 0;
        for (int lane = 0; lane < 64; lane++) {
            int d = t3_digit[i][lane % 16];
            if (d > 0) pos[i] |= 1ull << lane;
            if (d < 0) neg[i] |= 1ull << lane;
        }
    }
}

/* vpermi2b indices (bit 6: from qh) of activation i of the groups of zmm j of a block, whose 16-byte
 * quarters are L of group j, H of group j, L of group 7 + j, H of group 7 + j. */
static void t3x_pick_indices(__m512i idx[7][3]) {
    for (int j = 0; j < 7; j++)
        for (int i = 0; i < 3; i++) {
            uint8_t b[64];
            for (int lane = 0; lane < 64; lane++) {
                int quarter = lane / 16, group = quarter < 2 ? j : 7 + j;
                b[lane] = (uint8_t)((quarter % 2 ? 64 : 0) + 3 * group + i);
            }
            idx[j][i] = _mm512_loadu_si512(b);
        }
}

/* ql and qh of the bytes at q: ql = ((q + 8) & 15) - 8; qh = floor(q / 16) + bit 3 of q, with
 * floor(q / 16) + 8 = (q ^ 0x80) >> 4 unsigned (16-bit shifts, then the nibble masked). */
AI void t3x_split(__m512i q, __m512i *ql, __m512i *qh) {
    const __m512i eight = _mm512_set1_epi8(8), nib = _mm512_set1_epi8(15), one = _mm512_set1_epi8(1);
    *ql = _mm512_sub_epi8(_mm512_and_si512(_mm512_add_epi8(q, eight), nib), eight);
    __m512i fl = _mm512_and_si512(_mm512_srli_epi16(_mm512_xor_si512(q, _mm512_set1_epi8(-128)), 4), nib);
    __m512i b3 = _mm512_and_si512(_mm512_srli_epi16(q, 3), one);
    *qh = _mm512_sub_epi8(_mm512_add_epi8(fl, b3), eight);
}

/* The 7 zmm of one block (42 activations at q): z[j] = L_j | H_j | L_7+j | H_7+j. */
AI void t3x_block_tables(const int8_t *q, const __m512i idx[7][3], const __mmask64 pos[3], const __mmask64 neg[3],
                         __m512i z[7]) {
    __m512i ql, qh;
    t3x_split(_mm512_loadu_si512(q), &ql, &qh); /* 22 bytes past the block: xq rows have room (kx) */
    for (int j = 0; j < 7; j++) {
        __m512i e = _mm512_setzero_si512();
        for (int i = 0; i < 3; i++) {
            __m512i x = _mm512_permutex2var_epi8(ql, idx[j][i], qh);
            e = _mm512_mask_add_epi8(e, pos[i], e, x);
            e = _mm512_mask_sub_epi8(e, neg[i], e, x);
        }
        z[j] = e;
    }
}

/* GEMV tables of this thread's share of the block pairs, for every token (the layout at the top). */
void lt_gemv_t3_tables_avx512(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    __m512i idx[7][3];
    __mmask64 pos[3], neg[3];
    t3x_pick_indices(idx);
    t3x_digit_masks(pos, neg);
    int64_t nblk = nslots / LT_T3_GROUPS, p0, p1;
    lt_split_range((nblk + 1) / 2, 1, ith, nth, &p0, &p1);
    for (int64_t t = 0; t < a->n; t++) {
        uint8_t *tab = a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t p = p0; p < p1; p++) {
            __m512i zb[7], zn[7];
            uint8_t *dst = tab + (size_t)p * 2 * T3_TAB_BLOCK;
            t3x_block_tables(q + 2 * p * LT_T3_BLOCK, idx, pos, neg, zb);
            if (2 * p + 1 == nblk) { /* a lone last block: L | H per slot */
                for (int j = 0; j < 7; j++) _mm512_store_si512(dst + 64 * j, zb[j]);
                continue;
            }
            t3x_block_tables(q + (2 * p + 1) * LT_T3_BLOCK, idx, pos, neg, zn);
            for (int j = 0; j < 7; j++) {
                _mm512_store_si512(dst + (2 * j) * T3_TAB_SLOT2, _mm512_shuffle_i64x2(zb[j], zn[j], 0x44));
                _mm512_store_si512(dst + (2 * j + 1) * T3_TAB_SLOT2, _mm512_shuffle_i64x2(zb[j], zn[j], 0xEE));
            }
        }
    }
}

/* ---- kernel ---- */

/* A weight vector of blocks b and b + 1 (pair), or of a lone block b with zeros above (magnitude
 * 0 looks up L[0] = H[0] = 0). */
AI __m512i t3x_load(const uint8_t *p, const bool pair) {
    __m256i lo = _mm256_load_si256((const __m256i *)p);
    if (!pair) return _mm512_zextsi256_si512(lo);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_load_si256((const __m256i *)(p + T3_BLOCK_BYTES)), 1);
}

/* A slot's four tables (pair), or a lone block's L | H twice. */
AI __m512i t3x_table(const uint8_t *p, const bool pair) {
    if (pair) return _mm512_load_si512(p);
    return _mm512_broadcast_i64x4(_mm256_load_si256((const __m256i *)p));
}

/* One group: l += ±L, h += ±H of the lane's block (negated where k marks a negative group; the
 * first of a unit: l, h = ...). idx_l / idx_h index L / H. */
AI void t3x_group(__m512i idx_l, __m512i idx_h, __m512i tab, __mmask64 k, const bool first, __m512i *l, __m512i *h) {
    const __m512i zero = _mm512_setzero_si512();
    __m512i el = _mm512_permutexvar_epi8(idx_l, tab), eh = _mm512_permutexvar_epi8(idx_h, tab);
    el = _mm512_mask_sub_epi8(el, k, zero, el), eh = _mm512_mask_sub_epi8(eh, k, zero, eh);
    *l = first ? el : _mm512_add_epi8(*l, el);
    *h = first ? eh : _mm512_add_epi8(*h, eh);
}

/* A unit's byte sums into word sums l + 16 h per row (as the AVX2 kernel): e += rows 0-7 of each
 * 16-row lane, o += rows 8-15 (vpmaddubsw: the unsigned operand is the coefficients). */
AI void t3x_widen(__m512i l, __m512i h, __m512i *e, __m512i *o) {
    const __m512i c = _mm512_set1_epi16(1 | 16 << 8);
    *e = _mm512_add_epi16(*e, _mm512_maddubs_epi16(c, _mm512_unpacklo_epi8(l, h)));
    *o = _mm512_add_epi16(*o, _mm512_maddubs_epi16(c, _mm512_unpackhi_epi8(l, h)));
}

/* Which of a slot's four tables each lane reads: bit 4 = H, bit 5 = block b + 1 (upper lanes). */
AI __m512i t3x_which(int h) {
    return _mm512_mask_blend_epi8(0xFFFFFFFF00000000ull, _mm512_set1_epi8((char)(16 * h)), _mm512_set1_epi8((char)(16 * h + 32)));
}

/* The L index of a nibble vector's groups: bits 0-3 = the magnitude, 4-7 = t3x_which(0) (the
 * nibbles are the destination operand: no copy); H's sets bit 4. */
AI __m512i t3x_index(__m512i nibbles, __m512i *idx_h) {
    __m512i idx_l = _mm512_ternarylogic_epi32(nibbles, _mm512_set1_epi8(0x0F), t3x_which(0), 0xE2); /* b ? a : c */
    *idx_h = _mm512_or_si512(idx_l, _mm512_set1_epi8(0x10));
    return idx_l;
}

/* One block pair (or lone block) of one tile: 14 groups in units of 5, 5 and 4 (order: slot 0, 1, ...). */
AI void t3x_pair(const uint8_t *wb, const uint8_t *tb, __m512i *e, __m512i *o, const bool pair) {
    for (int c = 0; c < (pair ? 2 : 1) * T3_BLOCK_BYTES; c += 64)
        _mm_prefetch((const char *)(wb + LT_T3X_PREFETCH + c), _MM_HINT_T0);
    __m512i sa = t3x_load(wb, pair), sb = t3x_load(wb + LT_TILE, pair);
    const int slot_bytes = pair ? T3_TAB_SLOT2 : 32;
    __m512i l = _mm512_setzero_si512(), h = _mm512_setzero_si512();
    int n = 0; /* groups in the current unit (a constant once unrolled) */
    _Pragma("GCC unroll 7")
    for (int j = 0; j < 7; j++) {
        __m512i v = t3x_load(wb + (2 + j) * LT_TILE, pair), vh = _mm512_srli_epi16(v, 4);
        __m512i bit = _mm512_set1_epi8((char)(0x80 >> j)), lo_h, hi_h;
        __m512i lo_l = t3x_index(v, &lo_h), hi_l = t3x_index(vh, &hi_h);
        t3x_group(lo_l, lo_h, t3x_table(tb + 2 * j * slot_bytes, pair), _mm512_test_epi8_mask(sa, bit), n == 0, &l, &h);
        if (++n == T3_UNIT) t3x_widen(l, h, e, o), n = 0;
        t3x_group(hi_l, hi_h, t3x_table(tb + (2 * j + 1) * slot_bytes, pair), _mm512_test_epi8_mask(sb, bit), n == 0, &l, &h);
        if (++n == T3_UNIT) t3x_widen(l, h, e, o), n = 0;
    }
    if (n) t3x_widen(l, h, e, o); /* the last unit */
}

/* d[0] (rows 0-7, 16-23) and d[1] (rows 8-15, 24-31), int32, += the two blocks' word sums. */
AI void t3x_flush(__m512i d[2], __m512i e, __m512i o) {
    __m256i es = _mm256_add_epi16(_mm512_castsi512_si256(e), _mm512_extracti64x4_epi64(e, 1));
    __m256i os = _mm256_add_epi16(_mm512_castsi512_si256(o), _mm512_extracti64x4_epi64(o, 1));
    d[0] = _mm512_add_epi32(d[0], _mm512_cvtepi16_epi32(es));
    d[1] = _mm512_add_epi32(d[1], _mm512_cvtepi16_epi32(os));
}

/* Integer dots of one tile with one token's tables. Not inlined: the caller's live values would
 * take registers from the loop. */
static __attribute__((noinline)) void t3x_tile_dot(const uint8_t *wt, const uint8_t *tab, int64_t nblk, __m512i d[2]) {
    int64_t npairs = nblk / 2;
    d[0] = d[1] = _mm512_setzero_si512();
    for (int64_t p0 = 0; p0 < npairs; p0 += T3_FLUSH_PAIRS) {
        int64_t p1 = LT_MIN(p0 + T3_FLUSH_PAIRS, npairs);
        __m512i e = _mm512_setzero_si512(), o = _mm512_setzero_si512();
        for (int64_t p = p0; p < p1; p++)
            t3x_pair(wt + 2 * p * T3_BLOCK_BYTES, tab + 2 * p * T3_TAB_BLOCK, &e, &o, true);
        t3x_flush(d, e, o);
    }
    if (nblk % 2) {
        __m512i e = _mm512_setzero_si512(), o = _mm512_setzero_si512();
        t3x_pair(wt + 2 * npairs * T3_BLOCK_BYTES, tab + 2 * npairs * T3_TAB_BLOCK, &e, &o, false);
        t3x_flush(d, e, o);
    }
}

/* The 32 rows' dots of one tile with one token's tables, in row order. */
static void t3x_tile_dots(const uint8_t *wt, const uint8_t *tab, int64_t nblk, int32_t dot[LT_TILE]) {
    __m512i d[2];
    t3x_tile_dot(wt, tab, nblk, d);
    _mm256_storeu_si256((__m256i *)dot, _mm512_castsi512_si256(d[0]));
    _mm256_storeu_si256((__m256i *)(dot + 8), _mm512_castsi512_si256(d[1]));
    _mm256_storeu_si256((__m256i *)(dot + 16), _mm512_extracti64x4_epi64(d[0], 1));
    _mm256_storeu_si256((__m256i *)(dot + 24), _mm512_extracti64x4_epi64(d[1], 1));
}

void lt_gemv_t3_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    lt_gemv_t3_tiles(w, a, t0, t1, y, t3x_tile_dots);
}

#endif
