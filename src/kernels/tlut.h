/* Ternary vector-LUT GEMM over groups of three weights ("tlut"), for prompt processing with
 * per-row ternary weights (BitNet) on AVX2. Results equal lt_gemv_ref bit for bit.
 *
 * For a block of 32 tokens and a group g of three consecutive weights k = 3g .. 3g+2, a table of
 * 27 rows of 32 int16 (one per token):
 *   E_g[c][t] = Σ_i (c_i - 1) · x_t[3g + i],   c = c0 + 3 c1 + 9 c2,  c_i = t_i + 1 ∈ {0, 1, 2}
 * (|E| <= 3 · 128 = 384). Per weight row: acc[t] += E_g[code(row, g)][t] over the groups, int16
 * for at most LT_TLUT_WIDEN groups, then the high byte moves into an int16 high part (dot = 256 hi
 * + acc, acc back in [0, 255]); y = (float)dot * (s * a).
 * Two 256-bit adds (each with its table load) and an eighth of a code load per 96 multiply-adds,
 * against ~10 µops per 96 in the int8 GEMM (gemm_avx2.c). docs/kernels.md, "Ternary group LUT GEMM". */
#ifndef LUTLM_KERNELS_TLUT_H
#define LUTLM_KERNELS_TLUT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels/kernels_impl.h"

#define LT_TLUT_NB 32      /* tokens per table block: 32 int16 = two 256-bit vectors */
#define LT_TLUT_ENTRY 64   /* bytes per table row (32 int16 of one code c) */
#define LT_TLUT_GROUP (27 * LT_TLUT_ENTRY) /* bytes of one group's table (1728) */
#define LT_TLUT_KG 16      /* groups per K-block: 27 KB of tables, built in L1 and used by all rows of a unit */
#define LT_TLUT_KG_T3 14   /* the same for TERN3 weights on AVX-512: one TERN3 block */
#define LT_TLUT_WIDEN 80   /* groups added in int16 before the high byte moves out: 255 + 80 · 384 < 32768 */
#define LT_TLUT_MAX_K 65280 /* K at most: the high parts of the dots (dot / 256) fit int16 (|dot| <= 128 K:
                            * the padding is zero weights; a multiple of 8, so TERNARY's kp fits as well) */
#define LT_TLUT_TILES 32   /* tiles (32 rows each) per work unit at most: the tables are built once per 1024 rows */
#define LT_TLUT_TOKENS 128 /* tokens per parallel region: bounds the transposed activations (K = 6912: 1.8 MB) */
#define LT_TLUT_MIN_N 32   /* AUTO: from one full token block, and only if the padding of the last block
                            * is at most n / 8 tokens (a partial block costs a full one: 16 tokens run
                            * at 0.7x the int8 GEMM, 32 and 64 at 1.2x, 48 at 0.9x) */

/* Groups of three weights the tables cover: TERNARY: K padded to 12 (four groups come from three
 * code bytes of a row), weights past kp are zero; TERN3: its groups (nslots: kp is a multiple of 3). */
static inline int64_t lt_tlut_groups(const lt_qweight *w) {
    return w->kind == LT_QK_TERN3 ? w->nslots : (w->kp + 11) / 12 * 4;
}

/* Does the kernel handle w (ternary, TERNARY or TERN3 layout, one scale per row)? */
static inline bool lt_tlut_supports(const lt_qweight *w) {
    return (w->kind == LT_QK_TERNARY || w->kind == LT_QK_TERN3) && w->per_row && w->k <= LT_TLUT_MAX_K;
}

#ifdef LUTLM_HAVE_X86_KERNELS
/* Whether AUTO uses the tlut GEMM for these weights and n tokens (lt_tlut_supports, n as
 * LT_TLUT_MIN_N says, switched on). By default on at the AVX2 level and off at the AVX-512 level,
 * where the VNNI int8 GEMM runs ~1.2x faster (gemm_micro, 1 thread, Zen 5: 420 vs 355 GMAC/s);
 * env LUTLM_TLUT=0 / 1 or lt_tlut_set_auto(false / true) turns it off / on at every level, for
 * comparisons in one build. */
bool lt_tlut_auto(const lt_qweight *w, int64_t n);
void lt_tlut_set_auto(bool on);

/* y_i = W_i · x for `count` weights (all lt_tlut_supports, same K as a) in parallel regions of up to
 * LT_TLUT_TOKENS tokens: tables built once per region (split over the threads), then units of
 * LT_TLUT_TILES tiles taken from a counter. Needs AVX2 (the caller checks the ISA). On out of
 * memory the outputs are zeros and lt_error() is set. */
void lt_qweight_matmul_tlut(const lt_qweight *const *ws, int count, lt_act *a, float *const *ys, lt_pool *pool);

/* The per-ISA pieces of a work unit (tlut_avx2.c runs the units; lt_qweight_matmul_tlut takes the
 * AVX-512 ones where that level is active). A K-block is LT_TLUT_KG groups, for TERN3 kg_t3 (the
 * AVX-512 decoder reads whole 14-group blocks).
 *   tables:   E_g for ng groups from g0 at tab + (g - g0) * LT_TLUT_GROUP, from the transposed
 *             activations xt[k][32 tokens] (int16);
 *   codes_t3: codes[g - g0][r] = 8 c of row r (TERN3 tiles: c = v + 13), groups past nslots 8 * 13;
 *   rows:     p16[r][t] += Σ_{g < ng} E_g[c][t] for the 32 rows of a tile (codes[g * 32 + r] = 8 c);
 *   carry:    hi += p16 >> 8, p16 &= 255 for `rows` rows (dot = 256 hi + p16). */
typedef struct {
    int kg_t3;
    void (*tables)(const int16_t *xt, int64_t g0, int ng, uint8_t *tab);
    void (*codes_t3)(const uint8_t *wt, int64_t nslots, int64_t g0, int ng, uint8_t *codes);
    void (*rows)(const uint8_t *codes, const uint8_t *tab, int ng, int16_t (*p16)[LT_TLUT_NB]);
    void (*carry)(int16_t (*p16)[LT_TLUT_NB], int16_t (*hi)[LT_TLUT_NB], int64_t rows);
} lt_tlut_ops;
extern const lt_tlut_ops lt_tlut_ops_avx512;
#endif

#endif
