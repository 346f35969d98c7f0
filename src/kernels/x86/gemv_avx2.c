/* AVX2 GEMV (1 to a few tokens): table lookup with vpshufb on int8 tables of nibble-split
 * activations. Results equal lt_gemv_ref bit for bit.
 *
 * Each int8 activation is split into nibbles, q = 16 qh + ql with ql = q & 15 in [0, 15] and
 * qh = q >> 4 in [-8, 7], so a slot's table entry is T = L + 16 H with two small tables:
 *   ternary slot (2 weights): L = t0 ql0 + t1 ql1 in [-30, 30],  H = t0 qh0 + t1 qh1 in [-16, 16]
 *   bit-plane slot (4 weights): L = Σ_b bit_b ql_b in [0, 60],   H = Σ_b bit_b qh_b in [-32, 28]
 * stored biased (L + BL, H + BH: unsigned bytes <= 60) in a->gemv_tab (lt_gemv_tables_avx2; the
 * portable int16 tables of act.c are NEON's). One vpshufb gives final bytes for 32 rows, no
 * low/high byte glue as with int16 entries: per slot pair and plane four lookups (L and H of the
 * two slots), summed in bytes over two slot pairs (at most 4 * 60 = 240), then widened to int16:
 *   ternary: a word sum w += l + 16 h (even row + 256 * odd row, modulo 2^16) and the odd rows
 *            o += l + 16 h (vpmaddubsw against (0, 1), (0, 16)); even rows = w - 256 o;
 *   planes:  vpmaddubsw against (2^j, 0) and (0, 2^j), L and H apart.
 * Every chunk of slot pairs (int16 limit) the sums go to int32 in row order; at a group end the
 * float steps of the reference. The bias, slots * (BL + 16 BH) per plane, is subtracted up front.
 * Measured (thread CPU time, weights in L3, 2560x6912, ~2.8 GHz): ternary 4.35 cycles per 32 index
 * bytes (the int16-table kernel: 4.8), bit planes about as before from cache (but with every line
 * prefetched, 1.2-1.6x from DRAM). The lookup core alone (load, 3 nibble ops, 4 vpshufb, byte
 * adds) takes 3.75 cycles: vpshufb and the shifts share two of the four vector pipes, so the
 * core, not the widening (tried: three pairs per widening, two tiles per table load: <= 3%), is
 * the limit; ~20 GB/s of ternary indices per core at this clock. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/x86/f16_avx2.h"
#include "kernels/kernels_impl.h"

/* Table biases (make every entry an unsigned byte). */
#define TERN_BL 30
#define TERN_BH 16
#define PLANE_BL 0
#define PLANE_BH 32
/* Slot pairs per int16 chunk. Ternary: (L + 16 H) biased <= 60 + 16 * 32 = 572 per slot, so 112
 * slots stay below 65536 (unsigned words). Planes (L and H apart): <= 60 * 15 = 900 per slot, 32 slots. */
#define TERN_CHUNK_PAIRS 56
#define PLANE_CHUNK_PAIRS 16
/* Software prefetch of the weight stream into L2, this many bytes ahead (without it a cold GEMV ran
 * at half the speed of the same GEMV from L3; T0 or 1-2 KB was worse, 4-8 KB about equal on the
 * busy machine). Overridable with -D for tuning. */
#ifndef LT_PREFETCH
#define LT_PREFETCH 4096
#endif
#ifndef LT_PF_HINT
#define LT_PF_HINT _MM_HINT_T1
#endif

/* vpmaddubsw coefficients: byte pairs (c, 0) select even rows, (0, c) odd rows, times c. */
static inline __m256i even_coef(int c) { return _mm256_set1_epi16((short)c); }
static inline __m256i odd_coef(int c) { return _mm256_set1_epi16((short)(c << 8)); }

/* d[0..3] (int32, rows 0-7, 8-15, 16-23, 24-31) += (even, odd) int16 row sums << shift. */
static inline void widen_add(__m256i d[4], __m256i even, __m256i odd, int shift) {
    __m256i a = _mm256_unpacklo_epi16(even, odd), b = _mm256_unpackhi_epi16(even, odd); /* rows 0-7|16-23, 8-15|24-31 */
    __m128i sh = _mm_cvtsi32_si128(shift);
    d[0] = _mm256_add_epi32(d[0], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)), sh));
    d[1] = _mm256_add_epi32(d[1], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)), sh));
    d[2] = _mm256_add_epi32(d[2], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)), sh));
    d[3] = _mm256_add_epi32(d[3], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)), sh));
}

static inline __attribute__((always_inline)) void load_tables(const uint8_t *t, __m256i out[4]) {
    for (int i = 0; i < 4; i++) out[i] = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)(t + 16 * i)));
}

/* Byte sums of the lookups of slot pairs p and (if two) p + 1 of one index stream (32 rows; the
 * pair p + 1 is `stride` bytes after p): l = Σ L entries, h = Σ H entries, each <= 4 * 60 = 240.
 * One running sum per part keeps every value in the 16 registers. */
static inline __attribute__((always_inline)) void pair_bytes(const uint8_t *wp, int64_t stride, const uint8_t *tp,
                                                             const bool two, __m256i *l, __m256i *h) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int q = 0; q < (two ? 2 : 1); q++) {
        __m256i t[4];
        load_tables(tp + 64 * q, t);
        __m256i v = _mm256_load_si256((const __m256i *)(wp + q * stride));
        __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
        *l = q ? _mm256_add_epi8(*l, _mm256_shuffle_epi8(t[0], lo)) : _mm256_shuffle_epi8(t[0], lo);
        *h = q ? _mm256_add_epi8(*h, _mm256_shuffle_epi8(t[1], lo)) : _mm256_shuffle_epi8(t[1], lo);
        *l = _mm256_add_epi8(*l, _mm256_shuffle_epi8(t[2], hi));
        *h = _mm256_add_epi8(*h, _mm256_shuffle_epi8(t[3], hi));
    }
}

/* Bit planes: slot pairs p, p + 1 (if two) of plane j of one tile, widened with vpmaddubsw
 * against (2^j, 0) / (0, 2^j): e/o[0] the L parts, e/o[1] the H parts of even / odd rows. */
static inline __attribute__((always_inline)) void plane_step(const uint8_t *wp, const uint8_t *tp, const int P,
                                                             const int j, const bool two, __m256i e[2], __m256i o[2]) {
    __m256i l, h;
    pair_bytes(wp, P * LT_TILE, tp, two, &l, &h);
    e[0] = _mm256_add_epi16(e[0], _mm256_maddubs_epi16(l, even_coef(1 << j)));
    o[0] = _mm256_add_epi16(o[0], _mm256_maddubs_epi16(l, odd_coef(1 << j)));
    e[1] = _mm256_add_epi16(e[1], _mm256_maddubs_epi16(h, even_coef(1 << j)));
    o[1] = _mm256_add_epi16(o[1], _mm256_maddubs_epi16(h, odd_coef(1 << j)));
}

/* Bit planes: integer dot of one tile over slot pairs [p0, p1), added to d[0..3]. One plane per
 * pass over a chunk: the tables of a pair are loaded again for each plane, which measured as fast
 * as sharing them between two planes (that needs more than the 16 registers). Not inlined, like
 * tern_dot (GCC clones it per plane count). */
static __attribute__((noinline)) void planes_dot(const uint8_t *wt, const uint8_t *tab, int64_t p0, int64_t p1,
                                                  const int P, __m256i d[4]) {
    for (int64_t c0 = p0; c0 < p1; c0 += PLANE_CHUNK_PAIRS) {
        int64_t c1 = LT_MIN(c0 + PLANE_CHUNK_PAIRS, p1);
        __m256i e[2] = { _mm256_setzero_si256(), _mm256_setzero_si256() };
        __m256i o[2] = { _mm256_setzero_si256(), _mm256_setzero_si256() };
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++) {
            int64_t p = c0;
            for (; p + 2 <= c1; p += 2) {
                const uint8_t *wp = wt + p * P * LT_TILE;
                if (j == 0) /* the next two slot pairs of every plane */
                    for (int b = 0; b < 2 * P * LT_TILE; b += 64)
                        _mm_prefetch((const char *)(wp + LT_PREFETCH + b), LT_PF_HINT);
                plane_step(wp + j * LT_TILE, tab + p * 64, P, j, true, e, o);
            }
            if (p < c1) plane_step(wt + (p * P + j) * LT_TILE, tab + p * 64, P, j, false, e, o);
        }
        widen_add(d, e[0], o[0], 0);
        widen_add(d, e[1], o[1], 4);
    }
}

/* Ternary: slot pairs p, p + 1 (if two) of one tile into int16 word sums: w += l + (h << 4) (even
 * row + 256 * odd row, modulo 2^16) and o += the odd rows' bytes of l + 16 h (vpmaddubsw against
 * (0, 1) and (0, 16)); the even rows' sums are w - (o << 8) (tern_flush). 7 vector operations
 * widen two slot pairs (vpmaddubsw for both rows: 8). */
static inline __attribute__((always_inline)) void tern_step(const uint8_t *wp, const uint8_t *tp, const bool two,
                                                            __m256i *acc_w, __m256i *acc_o) {
    __m256i l, h;
    _mm_prefetch((const char *)(wp + LT_PREFETCH), LT_PF_HINT);
    pair_bytes(wp, LT_TILE, tp, two, &l, &h);
    *acc_w = _mm256_add_epi16(*acc_w, _mm256_add_epi16(l, _mm256_slli_epi16(h, 4)));
    *acc_o = _mm256_add_epi16(*acc_o, _mm256_add_epi16(_mm256_maddubs_epi16(l, odd_coef(1)),
                                                       _mm256_maddubs_epi16(h, odd_coef(16))));
}

/* d[0..3] += the word sums of tern_step in row order: odd rows o, even rows w - (o << 8), both
 * unsigned 16-bit (biased sums of at most TERN_CHUNK_PAIRS pairs). */
static inline void tern_flush(__m256i d[4], __m256i w, __m256i o) {
    __m256i e = _mm256_sub_epi16(w, _mm256_slli_epi16(o, 8));
    __m256i a = _mm256_unpacklo_epi16(e, o), b = _mm256_unpackhi_epi16(e, o); /* rows 0-7|16-23, 8-15|24-31 */
    d[0] = _mm256_add_epi32(d[0], _mm256_cvtepu16_epi32(_mm256_castsi256_si128(a)));
    d[1] = _mm256_add_epi32(d[1], _mm256_cvtepu16_epi32(_mm256_castsi256_si128(b)));
    d[2] = _mm256_add_epi32(d[2], _mm256_cvtepu16_epi32(_mm256_extracti128_si256(a, 1)));
    d[3] = _mm256_add_epi32(d[3], _mm256_cvtepu16_epi32(_mm256_extracti128_si256(b, 1)));
}

/* Ternary: integer dot of one tile over slot pairs [p0, p1), added to d[0..3]. Not inlined: the
 * caller's live values (d, scales) would take registers from the loop (measured: spills, 30%
 * slower per row-scaled tile). */
static __attribute__((noinline)) void tern_dot(const uint8_t *wt, const uint8_t *tab, int64_t p0, int64_t p1,
                                                __m256i d[4]) {
    for (int64_t c0 = p0; c0 < p1; c0 += TERN_CHUNK_PAIRS) {
        int64_t c1 = LT_MIN(c0 + TERN_CHUNK_PAIRS, p1), p = c0;
        __m256i acc_w = _mm256_setzero_si256(), acc_o = _mm256_setzero_si256();
        for (; p + 2 <= c1; p += 2) tern_step(wt + p * LT_TILE, tab + p * 64, true, &acc_w, &acc_o);
        if (p < c1) tern_step(wt + p * LT_TILE, tab + p * 64, false, &acc_w, &acc_o);
        tern_flush(d, acc_w, acc_o);
    }
}

static void store_rows(const lt_qweight *w, int64_t tile, float *yn, const __m256 out[4]) {
    int64_t row0 = tile * LT_TILE;
    if (row0 + LT_TILE <= w->m) {
        for (int i = 0; i < 4; i++) _mm256_storeu_ps(yn + row0 + 8 * i, out[i]);
        return;
    }
    float tmp[LT_TILE];
    for (int i = 0; i < 4; i++) _mm256_storeu_ps(tmp + 8 * i, out[i]);
    memcpy(yn + row0, tmp, (size_t)(w->m - row0) * sizeof(float));
}

/* The biased tables add (BL + 16 BH) per slot and plane, times Σ_j 2^j over the planes. */
static inline int32_t bias_per_slot(const int P, const bool tern) {
    return tern ? TERN_BL + 16 * TERN_BH : (PLANE_BL + 16 * PLANE_BH) * ((1 << P) - 1);
}

static inline void set_bias(__m256i d[4], int64_t pairs, const int P, const bool tern) {
    __m256i b = _mm256_set1_epi32(-(int32_t)(2 * pairs) * bias_per_slot(P, tern));
    for (int i = 0; i < 4; i++) d[i] = b;
}

/* Outputs of one tile for token n: the integer dots per group, then the float steps of the reference. */
static inline __attribute__((always_inline)) void tile_token(const lt_qweight *w, const lt_act *a, int64_t tile,
                                                             int64_t n, float *y, const int P, const bool tern) {
    const uint8_t *wt = w->idx + (size_t)tile * lt_qw_tile_bytes(w);
    const uint8_t *tab = a->gemv_tab[w->kind] + n * a->gemv_slots[w->kind] * 32;
    int64_t gpairs = lt_qw_group_slots(w) / 2;
    __m256 act = _mm256_set1_ps(a->scale[n]), out[4];
    __m256i d[4];
    if (w->per_row) {
        set_bias(d, w->nslots / 2, P, tern);
        if (tern) tern_dot(wt, tab, 0, w->nslots / 2, d);
        else planes_dot(wt, tab, 0, w->nslots / 2, P, d);
        const float *sc = w->scale + tile * LT_TILE;
        for (int i = 0; i < 4; i++)
            out[i] = _mm256_mul_ps(_mm256_cvtepi32_ps(d[i]), _mm256_mul_ps(_mm256_loadu_ps(sc + 8 * i), act));
    } else {
        __m256 f[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
        for (int64_t g = 0; g < w->ngroups; g++) {
            set_bias(d, gpairs, P, tern);
            if (tern) tern_dot(wt, tab, g * gpairs, (g + 1) * gpairs, d);
            else planes_dot(wt, tab, g * gpairs, (g + 1) * gpairs, P, d);
            const uint16_t *sm = lt_qw_gsm(w, tile, g);
            for (int i = 0; i < 4; i++) f[i] = _mm256_fmadd_ps(load_f16x8(sm + 8 * i), _mm256_cvtepi32_ps(d[i]), f[i]);
            if (!tern) {
                __m256 sum = _mm256_set1_ps((float)a->gsum[n * a->gsum_ngroups + g]);
                for (int i = 0; i < 4; i++) f[i] = _mm256_fmadd_ps(load_f16x8(sm + LT_TILE + 8 * i), sum, f[i]);
            }
        }
        for (int i = 0; i < 4; i++) out[i] = _mm256_mul_ps(f[i], act);
    }
    store_rows(w, tile, y + n * w->m, out);
}

/* Tokens are the inner loop: a tile's weights stay in L1 for all tokens. */
static inline __attribute__((always_inline)) void gemv_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const int P, const bool tern) {
    for (int64_t tile = t0; tile < t1; tile++)
        for (int64_t n = 0; n < a->n; n++) tile_token(w, a, tile, n, y, P, tern);
}

void lt_gemv_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    if (w->kind == LT_QK_TERNARY) {
        gemv_tiles(w, a, t0, t1, y, 1, true);
        return;
    }
    switch (w->planes) {
    case 1: gemv_tiles(w, a, t0, t1, y, 1, false); break;
    case 2: gemv_tiles(w, a, t0, t1, y, 2, false); break;
    case 3: gemv_tiles(w, a, t0, t1, y, 3, false); break;
    default: gemv_tiles(w, a, t0, t1, y, 4, false); break;
    }
}

/* GEMV tables of this thread's share of the slots: per slot 16 bytes L + BL, then 16 bytes H + BH
 * (see the top). Entries are Σ_b coef_b * ql_b (and qh_b), coef_b = -1/0/+1 (ternary, vpsignw)
 * or a bit mask (planes, vpand), computed in int16 and packed to bytes with vpackuswb + vpermq. */
void lt_gemv_tables_avx2(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    const __m256i tern0 = _mm256_setr_epi16(-1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0, 0, 0, 0, 0);
    const __m256i tern1 = _mm256_setr_epi16(-1, -1, -1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0);
    const __m256i idx = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m256i bit[4];
    for (int b = 0; b < 4; b++) {
        __m256i m = _mm256_set1_epi16((short)(1 << b));
        bit[b] = _mm256_cmpeq_epi16(_mm256_and_si256(idx, m), m);
    }
    const bool tern = kind == LT_QK_TERNARY;
    const __m256i bl = _mm256_set1_epi16(tern ? TERN_BL : PLANE_BL), bh = _mm256_set1_epi16(tern ? TERN_BH : PLANE_BH);
    const __m256i nib = _mm256_set1_epi16(15);
    int64_t s0, s1;
    lt_split_range(nslots, 16, ith, nth, &s0, &s1);
    for (int64_t t = 0; t < a->n; t++) {
        uint8_t *tab = a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t s = s0; s < s1; s++) {
            __m256i l, h;
            if (tern) {
                __m256i x0 = _mm256_set1_epi16(q[2 * s]), x1 = _mm256_set1_epi16(q[2 * s + 1]);
                __m256i l0 = _mm256_and_si256(x0, nib), l1 = _mm256_and_si256(x1, nib);
                __m256i h0 = _mm256_srai_epi16(x0, 4), h1 = _mm256_srai_epi16(x1, 4);
                l = _mm256_add_epi16(_mm256_sign_epi16(l0, tern0), _mm256_sign_epi16(l1, tern1));
                h = _mm256_add_epi16(_mm256_sign_epi16(h0, tern0), _mm256_sign_epi16(h1, tern1));
            } else {
                l = h = _mm256_setzero_si256();
                for (int b = 0; b < 4; b++) {
                    __m256i x = _mm256_set1_epi16(q[4 * s + b]);
                    l = _mm256_add_epi16(l, _mm256_and_si256(_mm256_and_si256(x, nib), bit[b]));
                    h = _mm256_add_epi16(h, _mm256_and_si256(_mm256_srai_epi16(x, 4), bit[b]));
                }
            }
            __m256i packed = _mm256_packus_epi16(_mm256_add_epi16(l, bl), _mm256_add_epi16(h, bh));
            _mm256_storeu_si256((__m256i *)(tab + s * 32), _mm256_permute4x64_epi64(packed, 0xD8));
        }
    }
}

#endif
