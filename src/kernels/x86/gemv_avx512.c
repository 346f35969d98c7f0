/* AVX-512 GEMV for INTn bit-plane weights (LT_QK_PLANES: lut_int<n>, e.g. the INT4 output head of
 * bitnet-2b4t). Results equal lt_gemv_ref bit for bit: exact integer dots per group, then the
 * reference's float steps. Needs the AVX-512 level's F, BW and VBMI (vpermb).
 *
 * Tables: the AVX2 kernel's (lt_gemv_tables_avx2, x86/gemv_avx2.c), unchanged: per slot 16 bytes
 * L + BL then 16 bytes H + BH of the nibble-split activations (q = 16 qh + ql, BL = 0, BH = 32), so
 * a slot pair's tables are 64 bytes: L 2p | H 2p | L 2p+1 | H 2p+1, exactly one vpermb table (a
 * free memory operand of vpermb on Zen 5, where a broadcast load takes a shuffle slot).
 *
 * Kernel, per tile (32 rows) and slot pair p: one 64-byte load = planes j and j + 1 of the pair
 * (the layout stores a pair's planes side by side; an odd last plane is loaded alone, the upper
 * half zero with coefficient 0). Per zmm: lo = v & 0x0F, hi = (v >> 4) & 0x0F | 0x20 (vpsrlw +
 * vpternlogd), H indices | 0x10; four vpermb; byte sums of L and H over two pairs (4 entries
 * <= 60: <= 240 unsigned); widened with vpmaddubsw against the lanes' plane weights 2^j at even /
 * odd byte (L and H apart, H's 16 at the flush); a chunk of at most 16 pairs (<= 16 * 120 * 15
 * < 32768 per word; a group of up to 128 weights is one chunk) goes to int32 in row order. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"
#include "kernels/x86/f16_avx2.h"

#define PLANE_BH 32        /* the AVX2 tables' H bias (L's is 0) */
#define CHUNK_PAIRS 16     /* slot pairs summed in int16 words (see the top) */
/* Software prefetch of the index stream (and the group scales), this many bytes ahead. */
#ifndef LT_PLANES_PREFETCH
#define LT_PLANES_PREFETCH 12288
#endif
#define AI static inline __attribute__((always_inline))

/* vpmaddubsw coefficients of a zmm holding planes j (lower half) and j + 1 (upper; weight 0 if
 * j + 1 >= P): even rows take (c, 0) byte pairs, odd rows (0, c). */
AI __m512i plane_coef(int j, const int P, bool odd) {
    int lo = 1 << j, hi = j + 1 < P ? 2 << j : 0;
    __m512i c_lo = _mm512_set1_epi16((short)(odd ? lo << 8 : lo)), c_hi = _mm512_set1_epi16((short)(odd ? hi << 8 : hi));
    return _mm512_mask_blend_epi16(0xFFFF0000u, c_lo, c_hi);
}

/* One zmm of index bytes of a slot pair (two planes) against the pair's 64 table bytes: l and h
 * get the L and H entries of both slots (first: l, h = ...). */
AI void pair_lookup(__m512i v, const uint8_t *tab, const bool first, __m512i *l, __m512i *h) {
    const __m512i nib = _mm512_set1_epi8(0x0F), h_bit = _mm512_set1_epi8(0x10);
    __m512i t = _mm512_load_si512(tab);
    __m512i lo = _mm512_and_si512(v, nib);
    __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(v, 4), nib, _mm512_set1_epi8(0x20), 0xE2); /* nib ? v : 0x20 */
    __m512i el = _mm512_add_epi8(_mm512_permutexvar_epi8(lo, t), _mm512_permutexvar_epi8(hi, t));
    __m512i eh = _mm512_add_epi8(_mm512_permutexvar_epi8(_mm512_or_si512(lo, h_bit), t),
                                 _mm512_permutexvar_epi8(_mm512_or_si512(hi, h_bit), t));
    *l = first ? el : _mm512_add_epi8(*l, el);
    *h = first ? eh : _mm512_add_epi8(*h, eh);
}

/* Planes j, j + 1 of slot pair p of a tile (P planes: a pair is P * 32 bytes). */
AI __m512i load_planes(const uint8_t *wt, int64_t p, int j, const int P) {
    const uint8_t *src = wt + (p * P + j) * LT_TILE;
    if (j + 1 < P) return _mm512_loadu_si512(src);
    return _mm512_zextsi256_si512(_mm256_load_si256((const __m256i *)src));
}

/* Word sums of one chunk: [0] L even rows, [1] L odd, [2] H even, [3] H odd (both halves' planes). */
typedef struct {
    __m512i w[4];
} chunk_sums;

/* The byte sums of one zmm column (planes j, j + 1) over pairs p, p + 1 (if two), widened. */
AI void plane_step(const uint8_t *wt, const uint8_t *tab, int64_t p, int j, const int P, const bool two, chunk_sums *s) {
    __m512i l, h;
    pair_lookup(load_planes(wt, p, j, P), tab + p * 64, true, &l, &h);
    if (two) pair_lookup(load_planes(wt, p + 1, j, P), tab + (p + 1) * 64, false, &l, &h);
    __m512i ce = plane_coef(j, P, false), co = plane_coef(j, P, true);
    s->w[0] = _mm512_add_epi16(s->w[0], _mm512_maddubs_epi16(l, ce));
    s->w[1] = _mm512_add_epi16(s->w[1], _mm512_maddubs_epi16(l, co));
    s->w[2] = _mm512_add_epi16(s->w[2], _mm512_maddubs_epi16(h, ce));
    s->w[3] = _mm512_add_epi16(s->w[3], _mm512_maddubs_epi16(h, co));
}

/* Words of both halves (the same rows, other planes) added: 16 words of the even or odd rows. */
AI __m256i halves(__m512i w) { return _mm256_add_epi16(_mm512_castsi512_si256(w), _mm512_extracti64x4_epi64(w, 1)); }

/* A chunk's sums as int32 dots (biased) in row order: d[0] rows 0-15, d[1] rows 16-31. */
AI void chunk_dots(const chunk_sums *s, __m512i d[2]) {
    __m256i le = halves(s->w[0]), lo = halves(s->w[1]), he = halves(s->w[2]), ho = halves(s->w[3]);
    /* words in row order per 128-bit lane: a = rows 0-7 | 16-23, b = rows 8-15 | 24-31 */
    __m512i a = _mm512_add_epi32(_mm512_cvtepi16_epi32(_mm256_unpacklo_epi16(le, lo)),
                                 _mm512_slli_epi32(_mm512_cvtepi16_epi32(_mm256_unpacklo_epi16(he, ho)), 4));
    __m512i b = _mm512_add_epi32(_mm512_cvtepi16_epi32(_mm256_unpackhi_epi16(le, lo)),
                                 _mm512_slli_epi32(_mm512_cvtepi16_epi32(_mm256_unpackhi_epi16(he, ho)), 4));
    d[0] = _mm512_shuffle_i64x2(a, b, 0x44);
    d[1] = _mm512_shuffle_i64x2(a, b, 0xEE);
}

/* Integer dots of one tile over slot pairs [p0, p1) (at most CHUNK_PAIRS), unbiased. Not inlined:
 * the caller's float state would take registers from the loop (GCC clones it per plane count). */
static __attribute__((noinline)) void planes_chunk(const uint8_t *wt, const uint8_t *tab, int64_t p0, int64_t p1,
                                                    const int P, __m512i d[2]) {
    chunk_sums s;
    for (int i = 0; i < 4; i++) s.w[i] = _mm512_setzero_si512();
    int64_t p = p0;
    for (; p + 2 <= p1; p += 2) {
        const uint8_t *wp = wt + p * P * LT_TILE;
        for (int b = 0; b < 2 * P * LT_TILE; b += 64) _mm_prefetch((const char *)(wp + LT_PLANES_PREFETCH + b), _MM_HINT_T0);
        _Pragma("GCC unroll 2")
        for (int j = 0; j < P; j += 2) plane_step(wt, tab, p, j, P, true, &s);
    }
    if (p < p1)
        for (int j = 0; j < P; j += 2) plane_step(wt, tab, p, j, P, false, &s);
    chunk_dots(&s, d);
    /* each entry of the tables carries BH in H: 16 * BH * (2^P - 1) per slot */
    __m512i bias = _mm512_set1_epi32(-(int32_t)(2 * (p1 - p0)) * 16 * PLANE_BH * ((1 << P) - 1));
    d[0] = _mm512_add_epi32(d[0], bias), d[1] = _mm512_add_epi32(d[1], bias);
}

/* Integer dots of one tile over slot pairs [p0, p1) (a group, or the whole row), in chunks. */
AI void planes_dots(const uint8_t *wt, const uint8_t *tab, int64_t p0, int64_t p1, const int P, __m512i d[2]) {
    planes_chunk(wt, tab, p0, LT_MIN(p0 + CHUNK_PAIRS, p1), P, d);
    for (int64_t c0 = p0 + CHUNK_PAIRS; c0 < p1; c0 += CHUNK_PAIRS) {
        __m512i part[2];
        planes_chunk(wt, tab, c0, LT_MIN(c0 + CHUNK_PAIRS, p1), P, part);
        d[0] = _mm512_add_epi32(d[0], part[0]), d[1] = _mm512_add_epi32(d[1], part[1]);
    }
}

/* y of one tile for token n (the float steps of lt_gemv_ref), rows past m dropped. */
AI void tile_token(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t n, float *y, const int P) {
    const uint8_t *wt = w->idx + (size_t)tile * lt_qw_tile_bytes(w);
    const uint8_t *tab = a->gemv_tab[w->kind] + n * a->gemv_slots[w->kind] * 32;
    __m512 act = _mm512_set1_ps(a->scale[n]), out[2];
    __m512i d[2];
    if (w->per_row) {
        planes_dots(wt, tab, 0, w->nslots / 2, P, d);
        const float *sc = w->scale + tile * LT_TILE;
        for (int i = 0; i < 2; i++)
            out[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(d[i]), _mm512_mul_ps(_mm512_loadu_ps(sc + 16 * i), act));
    } else {
        int64_t gpairs = lt_qw_group_slots(w) / 2;
        __m512 f[2] = { _mm512_setzero_ps(), _mm512_setzero_ps() };
        for (int64_t g = 0; g < w->ngroups; g++) {
            const uint16_t *sm = lt_qw_gsm(w, tile, g);
            /* the scales' stream, as far ahead as the indices' (INT4 g64: 128 of 1152 bytes per group) */
            _mm_prefetch((const char *)(sm + LT_PLANES_PREFETCH / 16), _MM_HINT_T0);
            _mm_prefetch((const char *)(sm + LT_PLANES_PREFETCH / 16 + 32), _MM_HINT_T0);
            planes_dots(wt, tab, g * gpairs, (g + 1) * gpairs, P, d);
            __m512 sum = _mm512_set1_ps((float)a->gsum[n * a->gsum_ngroups + g]);
            for (int i = 0; i < 2; i++) {
                f[i] = _mm512_fmadd_ps(load_f16x16(sm + 16 * i), _mm512_cvtepi32_ps(d[i]), f[i]);
                f[i] = _mm512_fmadd_ps(load_f16x16(sm + LT_TILE + 16 * i), sum, f[i]);
            }
        }
        for (int i = 0; i < 2; i++) out[i] = _mm512_mul_ps(f[i], act);
    }
    float *yn = y + n * w->m;
    int64_t row0 = tile * LT_TILE, rows = LT_MIN(LT_TILE, w->m - row0);
    __mmask16 k0 = (__mmask16)(rows >= 16 ? 0xFFFF : (1u << rows) - 1);
    __mmask16 k1 = (__mmask16)(rows >= 32 ? 0xFFFF : rows > 16 ? (1u << (rows - 16)) - 1 : 0);
    _mm512_mask_storeu_ps(yn + row0, k0, out[0]);
    _mm512_mask_storeu_ps(yn + row0 + 16, k1, out[1]);
}

/* Tokens are the inner loop: a tile's weights stay in cache for all tokens. */
AI void gemv_tiles(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y, const int P) {
    for (int64_t tile = t0; tile < t1; tile++)
        for (int64_t n = 0; n < a->n; n++) tile_token(w, a, tile, n, y, P);
}

void lt_gemv_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    switch (w->planes) {
    case 1: gemv_tiles(w, a, t0, t1, y, 1); break;
    case 2: gemv_tiles(w, a, t0, t1, y, 2); break;
    case 3: gemv_tiles(w, a, t0, t1, y, 3); break;
    default: gemv_tiles(w, a, t0, t1, y, 4); break;
    }
}

#endif
