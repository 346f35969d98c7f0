/* AVX2 LUT kernels: bit-plane / ternary-pair table lookup with vpshufb (GEMV) and the vector-LUT
 * GEMM (one index selects a row of 32 token sums). Results equal lt_gemv_ref bit for bit.
 *
 * GEMV, one 32-row tile and one token: a 256-bit load holds the 4-bit indices of slot pair p for
 * all 32 rows (low nibble: slot 2p, high nibble: slot 2p+1). The token's table of a slot is 16
 * int16 entries kept as 16 low bytes + 16 high bytes, so two vpshufb give both bytes of the 32
 * entries and vpunpck{l,h}bw glues them into int16:
 *   acc16 += T_2p[lo] + T_2p+1[hi]          (32 rows, int16: exact for 64 slots)
 * Every 64 slots the int16 sums are widened to int32 (plane j shifted left by j); at the end of a
 * scale group the int32 dot is scaled in float. vpunpcklbw works per 128-bit lane, so acc16[0]
 * holds rows 0-7 | 16-23 and acc16[1] rows 8-15 | 24-31; the widening puts them back in order. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"

#define CHUNK_PAIRS (LT_CHUNK_SLOTS / 2)
/* Software prefetch of the weight stream into L2, 4 KB ahead: without it a cold (DRAM) GEMV ran at
 * half the speed of the same GEMV from L3 while the int8 baseline did not slow down (measured with
 * lutlm bench-kernels; 1-8 KB with T0/T1 tried, 4 KB/T1 best). The table loads (L2 hits) seem to
 * keep the hardware prefetcher from running far enough ahead. */
#define LT_PREFETCH 4096
#define LT_PF_HINT _MM_HINT_T1

/* d[0..3] (int32, rows 0-7, 8-15, 16-23, 24-31) += acc16 << shift. */
static inline void widen_add(__m256i d[4], __m256i acc_a, __m256i acc_b, int shift) {
    __m128i sh = _mm_cvtsi32_si128(shift);
    d[0] = _mm256_add_epi32(d[0], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc_a)), sh));
    d[1] = _mm256_add_epi32(d[1], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc_b)), sh));
    d[2] = _mm256_add_epi32(d[2], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc_a, 1)), sh));
    d[3] = _mm256_add_epi32(d[3], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc_b, 1)), sh));
}

/* Integer dot of 32 rows over slot pairs [p0, p1) with P planes: d[0..3]. */
static inline __attribute__((always_inline)) void tile_dot(const uint8_t *wt, const uint8_t *tab, int64_t p0,
                                                           int64_t p1, const int P, __m256i d[4]) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < 4; i++) d[i] = _mm256_setzero_si256();
    for (int64_t c0 = p0; c0 < p1; c0 += CHUNK_PAIRS) {
        int64_t c1 = LT_MIN(c0 + CHUNK_PAIRS, p1);
        __m256i acc[4][2];
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++) acc[j][0] = acc[j][1] = _mm256_setzero_si256();
        for (int64_t p = c0; p < c1; p++) {
            const uint8_t *t = tab + p * 64;
            __m256i tl0 = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)t));
            __m256i th0 = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)(t + 16)));
            __m256i tl1 = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)(t + 32)));
            __m256i th1 = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)(t + 48)));
            const uint8_t *wp = wt + p * P * LT_TILE;
            _mm_prefetch((const char *)(wp + LT_PREFETCH), LT_PF_HINT);
            _Pragma("GCC unroll 4")
            for (int j = 0; j < P; j++) {
                __m256i v = _mm256_load_si256((const __m256i *)(wp + j * LT_TILE));
                __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
                __m256i a0 = _mm256_shuffle_epi8(tl0, lo), b0 = _mm256_shuffle_epi8(th0, lo);
                __m256i a1 = _mm256_shuffle_epi8(tl1, hi), b1 = _mm256_shuffle_epi8(th1, hi);
                acc[j][0] = _mm256_add_epi16(acc[j][0],
                                             _mm256_add_epi16(_mm256_unpacklo_epi8(a0, b0), _mm256_unpacklo_epi8(a1, b1)));
                acc[j][1] = _mm256_add_epi16(acc[j][1],
                                             _mm256_add_epi16(_mm256_unpackhi_epi8(a0, b0), _mm256_unpackhi_epi8(a1, b1)));
            }
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++) widen_add(d, acc[j][0], acc[j][1], j);
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

static inline __attribute__((always_inline)) void gemv_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const int P) {
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t stride = a->gemv_slots[w->kind] * 32, gpairs = lt_qw_group_slots(w) / 2;
    for (int64_t tile = t0; tile < t1; tile++) {
        const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
        const float *sc = w->scale + (size_t)tile * (size_t)w->ngroups * LT_TILE;
        const float *of = w->offset ? w->offset + (sc - w->scale) : NULL;
        for (int64_t n = 0; n < a->n; n++) {
            const uint8_t *tab = a->gemv_tab[w->kind] + n * stride;
            __m256 act = _mm256_set1_ps(a->scale[n]), out[4];
            __m256i d[4];
            if (w->per_row) {
                tile_dot(wt, tab, 0, w->nslots / 2, P, d);
                for (int i = 0; i < 4; i++)
                    out[i] = _mm256_mul_ps(_mm256_cvtepi32_ps(d[i]), _mm256_mul_ps(_mm256_loadu_ps(sc + 8 * i), act));
            } else {
                __m256 f[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
                for (int64_t g = 0; g < w->ngroups; g++) {
                    tile_dot(wt, tab, g * gpairs, (g + 1) * gpairs, P, d);
                    const float *sg = sc + g * LT_TILE;
                    for (int i = 0; i < 4; i++) f[i] = _mm256_fmadd_ps(_mm256_loadu_ps(sg + 8 * i), _mm256_cvtepi32_ps(d[i]), f[i]);
                    if (of) {
                        __m256 sum = _mm256_set1_ps((float)a->gsum[n * a->gsum_ngroups + g]);
                        for (int i = 0; i < 4; i++) f[i] = _mm256_fmadd_ps(_mm256_loadu_ps(of + g * LT_TILE + 8 * i), sum, f[i]);
                    }
                }
                for (int i = 0; i < 4; i++) out[i] = _mm256_mul_ps(f[i], act);
            }
            store_rows(w, tile, y + n * w->m, out);
        }
    }
}

void lt_gemv_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    switch (w->planes) {
    case 1: gemv_tiles(w, a, t0, t1, y, 1); break;
    case 2: gemv_tiles(w, a, t0, t1, y, 2); break;
    case 3: gemv_tiles(w, a, t0, t1, y, 3); break;
    default: gemv_tiles(w, a, t0, t1, y, 4); break;
    }
}

/* GEMV tables of this thread's share of the slots (the layout of lt_act_fill_gemv): the 16 int16
 * entries of a slot are Σ_b coef_b * q_b, with coef_b = -1/0/+1 (ternary, vpsignw) or a bit mask
 * (planes, vpand); vpackuswb + vpermq put the 16 low bytes before the 16 high bytes. */
void lt_gemv_tables_avx2(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    const __m256i tern0 = _mm256_setr_epi16(-1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0, 0, 0, 0, 0);
    const __m256i tern1 = _mm256_setr_epi16(-1, -1, -1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0);
    const __m256i idx = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m256i bit[4];
    for (int b = 0; b < 4; b++) {
        __m256i m = _mm256_set1_epi16((short)(1 << b));
        bit[b] = _mm256_cmpeq_epi16(_mm256_and_si256(idx, m), m);
    }
    const __m256i low = _mm256_set1_epi16(0xFF);
    int64_t s0, s1;
    lt_split_range(nslots, 16, ith, nth, &s0, &s1);
    for (int64_t t = 0; t < a->n; t++) {
        uint8_t *tab = a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t s = s0; s < s1; s++) {
            __m256i e;
            if (kind == LT_QK_TERNARY) {
                e = _mm256_add_epi16(_mm256_sign_epi16(_mm256_set1_epi16(q[2 * s]), tern0),
                                     _mm256_sign_epi16(_mm256_set1_epi16(q[2 * s + 1]), tern1));
            } else {
                const int8_t *x = q + 4 * s;
                e = _mm256_add_epi16(_mm256_add_epi16(_mm256_and_si256(_mm256_set1_epi16(x[0]), bit[0]),
                                                      _mm256_and_si256(_mm256_set1_epi16(x[1]), bit[1])),
                                     _mm256_add_epi16(_mm256_and_si256(_mm256_set1_epi16(x[2]), bit[2]),
                                                      _mm256_and_si256(_mm256_set1_epi16(x[3]), bit[3])));
            }
            __m256i packed = _mm256_packus_epi16(_mm256_and_si256(e, low), _mm256_srli_epi16(e, 8));
            _mm256_storeu_si256((__m256i *)(tab + s * 32), _mm256_permute4x64_epi64(packed, 0xD8));
        }
    }
}

/* ---- vector-LUT GEMM ----
 * Tables per block of 32 tokens: T[slot][index][32 tokens] int16. For one row and one slot pair,
 * the index byte selects two rows of 32 int16 that are added to the row's 32 token sums: two
 * loads and two adds per slot for 32 tokens, no shuffles. Loop order: token block, then 256-row
 * chunk, then scale group and K-block of 32 slots (32 KB of tables, kept in L1 while every row of
 * the chunk uses them), then rows. Per-row int32 sums and per-row float sums live on the stack. */

#define NB LT_VLUT_NB
_Static_assert(NB == 32, "vlut_row addresses table entries of 64 bytes");
#define SLOT_BYTES (LT_VLUT_SLOT * NB * 2)

/* ip[0..31] (int32) += the int16 token sums of one row over slots [s0, s1). */
static inline __attribute__((always_inline)) void vlut_row(const uint8_t *wt, int r, const int16_t *tab, int64_t s0,
                                                           int64_t s1, const int P, int32_t *ip) {
    __m256i acc[4][2];
    _Pragma("GCC unroll 4")
    for (int j = 0; j < P; j++) acc[j][0] = acc[j][1] = _mm256_setzero_si256();
    /* Entry (slot, index) is 64 bytes at slot * SLOT_BYTES + index * 64: the byte b of a pair gives
     * the offsets (b & 15) << 6 and (b >> 4) << 6 = (b << 2) & 0x3C0 without a multiply. */
    const uint8_t *tp = (const uint8_t *)(tab + s0 * LT_VLUT_SLOT * NB);
    const uint8_t *wp = wt + (s0 / 2) * P * LT_TILE + r;
    for (int64_t s = s0; s < s1; s += 2, tp += 2 * SLOT_BYTES, wp += P * LT_TILE) {
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++) {
            unsigned b = wp[j * LT_TILE];
            const __m256i *e0 = (const __m256i *)(tp + ((b << 6) & 0x3C0));
            const __m256i *e1 = (const __m256i *)(tp + SLOT_BYTES + ((b << 2) & 0x3C0));
            acc[j][0] = _mm256_add_epi16(acc[j][0], _mm256_add_epi16(_mm256_load_si256(e0), _mm256_load_si256(e1)));
            acc[j][1] = _mm256_add_epi16(acc[j][1], _mm256_add_epi16(_mm256_load_si256(e0 + 1), _mm256_load_si256(e1 + 1)));
        }
    }
    __m256i d[4];
    for (int i = 0; i < 4; i++) d[i] = _mm256_load_si256((const __m256i *)(ip + 8 * i));
    _Pragma("GCC unroll 4")
    for (int j = 0; j < P; j++) {
        __m128i sh = _mm_cvtsi32_si128(j);
        d[0] = _mm256_add_epi32(d[0], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc[j][0])), sh));
        d[1] = _mm256_add_epi32(d[1], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc[j][0], 1)), sh));
        d[2] = _mm256_add_epi32(d[2], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc[j][1])), sh));
        d[3] = _mm256_add_epi32(d[3], _mm256_sll_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc[j][1], 1)), sh));
    }
    for (int i = 0; i < 4; i++) _mm256_store_si256((__m256i *)(ip + 8 * i), d[i]);
}

static inline __attribute__((always_inline)) void vlut_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const int P) {
    enum { CHUNK_TILES = LT_VLUT_ROWS / LT_TILE };
    _Alignas(32) int32_t ipart[LT_VLUT_ROWS][NB];
    _Alignas(32) float fpart[LT_VLUT_ROWS][NB];
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t per_block = a->vlut_slots[w->kind] * LT_VLUT_SLOT * NB, gslots = lt_qw_group_slots(w);
    for (int64_t b = 0; b < lt_act_blocks(a); b++) {
        const int16_t *tab = a->vlut_tab[w->kind] + b * per_block;
        for (int64_t c0 = t0; c0 < t1; c0 += CHUNK_TILES) {
            int64_t c1 = LT_MIN(c0 + CHUNK_TILES, t1), rows = (c1 - c0) * LT_TILE;
            memset(ipart, 0, sizeof ipart);
            memset(fpart, 0, sizeof fpart);
            for (int64_t g = 0; g < w->ngroups; g++) {
                for (int64_t s0 = g * gslots; s0 < (g + 1) * gslots; s0 += LT_VLUT_KBLOCK) {
                    int64_t s1 = LT_MIN(s0 + LT_VLUT_KBLOCK, (g + 1) * gslots);
                    for (int64_t tile = c0; tile < c1; tile++) {
                        const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
                        for (int r = 0; r < LT_TILE; r++)
                            vlut_row(wt, r, tab, s0, s1, P, ipart[(tile - c0) * LT_TILE + r]);
                    }
                }
                if (w->per_row) continue;
                /* End of a scale group: f = fmaf(s, dot, f) [+ fmaf(m, Σq, f)] per row and token. */
                const float *gs = a->gsumf ? a->gsumf + (b * a->gsum_ngroups + g) * NB : NULL;
                for (int64_t i = 0; i < rows; i++) {
                    int64_t tile = c0 + i / LT_TILE, lane = i % LT_TILE;
                    size_t at = (size_t)(tile * w->ngroups + g) * LT_TILE + (size_t)lane;
                    __m256 s = _mm256_set1_ps(w->scale[at]);
                    for (int q = 0; q < NB; q += 8) {
                        __m256 f = _mm256_load_ps(fpart[i] + q);
                        __m256i d = _mm256_load_si256((const __m256i *)(ipart[i] + q));
                        f = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(d), f);
                        if (w->offset) f = _mm256_fmadd_ps(_mm256_set1_ps(w->offset[at]), _mm256_loadu_ps(gs + q), f);
                        _mm256_store_ps(fpart[i] + q, f);
                        _mm256_store_si256((__m256i *)(ipart[i] + q), _mm256_setzero_si256());
                    }
                }
            }
            lt_vlut_store_outputs(w, a, c0 * LT_TILE, rows, b * NB, ipart, fpart, y);
        }
    }
}

void lt_vlut_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    switch (w->planes) {
    case 1: vlut_tiles(w, a, t0, t1, y, 1); break;
    case 2: vlut_tiles(w, a, t0, t1, y, 2); break;
    case 3: vlut_tiles(w, a, t0, t1, y, 3); break;
    default: vlut_tiles(w, a, t0, t1, y, 4); break;
    }
}

#endif
