/* AVX2 vector-LUT GEMM (one index selects a row of 32 token sums). Results equal lt_gemv_ref bit
 * for bit. The GEMV (1 to a few tokens) is in gemv_avx2.c. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"

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
                    float sg, mg;
                    lt_qw_group_sm(w, c0 * LT_TILE + i, g, &sg, &mg);
                    __m256 s = _mm256_set1_ps(sg);
                    for (int q = 0; q < NB; q += 8) {
                        __m256 f = _mm256_load_ps(fpart[i] + q);
                        __m256i d = _mm256_load_si256((const __m256i *)(ipart[i] + q));
                        f = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(d), f);
                        if (gs) f = _mm256_fmadd_ps(_mm256_set1_ps(mg), _mm256_loadu_ps(gs + q), f);
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
