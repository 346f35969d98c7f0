/* Attention's two products over one kv head of the KV cache, for up to LT_ATT_MAX_G query heads
 * that share it (GQA), with the cache stored in F32 or F16:
 *   scores[g][j] = Σ_i q_g[i] · K[i][j]     (i = 0 .. hd-1 in order, a product then a sum)
 *   out_g[d]     = Σ_j p_g[j] · V[j][d]     (j = 0 .. n-1 in order)
 * The softmax between them is lt_att_softmax; the work split is the caller's (model/attention.c). F16 values are widened to F32
 * exactly, so an F16 cache gives the same bits as an F32 cache holding the same (rounded) values,
 * and every ISA gives the same bits as the portable code (the same operations per element in the
 * same order). */
#ifndef LUTLM_KERNELS_ATTENTION_H
#define LUTLM_KERNELS_ATTENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h" /* lt_fp16_to_fp32 */

#define LT_ATT_MAX_G 4 /* query heads per call: their accumulators share the registers */
#define LT_KV_TILE 16  /* positions per tile of K */
#define LT_KV_VBLOCK 16 /* dimensions per block of V */

/* One kv head's cache. K is stored in tiles of LT_KV_TILE positions, each tile transposed
 * ([dimension][16 positions]): the score loops run over 16 contiguous positions, and a pass over
 * the positions reads one contiguous stream (a plain transposed K, [dimension][all positions],
 * made hd streams of page-sized stride that the prefetchers did not follow). V in blocks of
 * LT_KV_VBLOCK dimensions, each [v_rows positions][16] (lt_kv_v_index): a value pass over 16
 * dimensions reads one contiguous stream (rows of the whole head_dim, read 32 bytes at a time with a
 * 256-byte stride, ran at half the speed). Elements are float, or uint16_t F16 bits when k_f16 / v_f16.
 * K's memory holds whole tiles: a score pass may read a partial last tile whole (the values past
 * position n do not matter; their lanes are dropped). */
typedef struct {
    const void *k, *v;
    int64_t v_rows;  /* positions per block of V */
    int hd;          /* head dimension */
    bool k_f16, v_f16;
} lt_kv_view;

/* Element index of K[i][j] (dimension i, position j) in a kv head's tiles. */
static inline int64_t lt_kv_k_index(int hd, int64_t i, int64_t j) {
    return j / LT_KV_TILE * hd * LT_KV_TILE + i * LT_KV_TILE + j % LT_KV_TILE;
}

/* Element index of V[j][d] (position j, dimension d) in a kv head's blocks of v_rows positions. */
static inline int64_t lt_kv_v_index(int64_t v_rows, int64_t j, int64_t d) {
    return d / LT_KV_VBLOCK * v_rows * LT_KV_VBLOCK + j * LT_KV_VBLOCK + d % LT_KV_VBLOCK;
}

/* scores[g * s_stride + j] for g < G <= LT_ATT_MAX_G, j < n; q_g = q + g * qs. */
void lt_att_scores(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores, int64_t s_stride);
/* out[g * qs + d] for g < G, d < hd, from probabilities p[g * s_stride + j], j < n. With `add`, the
 * sums start from out's values instead of 0: positions can come in consecutive calls (shifting p
 * and the view's v) with the bits of one call over them all. */
void lt_att_values(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out, int64_t qs,
                   bool add);

/* A row of scores into probabilities, in place: s[j] / scale, then softmax over the n positions
 *   p_j = e_j / Σ e,  e_j = expf(s_j - max s)   (the sum in order of j; expf = lt_expf, libm's bits)
 * Every ISA gives the portable code's bits. */
void lt_att_softmax(float *s, int n, float scale);

/* F32 -> F16 (round to nearest even, as lt_fp32_to_fp16) of n values: how rows enter an F16 cache. */
void lt_f16_from_f32_row(uint16_t *dst, const float *src, int64_t n);

/* The implementations behind the three (chosen by lt_isa_active), for tests. */
void lt_att_scores_portable(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores,
                            int64_t s_stride);
void lt_att_values_portable(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out,
                            int64_t qs, bool add);
void lt_att_softmax_portable(float *s, int n, float scale);
void lt_f16_from_f32_row_portable(uint16_t *dst, const float *src, int64_t n);
/* lt_att_values' dimensions d0 .. hd-1 one by one (the operations of the portable code): the tail
 * of the SIMD versions, which take 16 dimensions at a time. */
static inline void lt_att_values_dims(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out,
                                      int64_t qs, bool add, int d0) {
    for (int g = 0; g < G; g++) {
        float *o = out + g * qs;
        if (!add)
            for (int d = d0; d < kv->hd; d++) o[d] = 0.0f;
        for (int j = 0; j < n; j++) {
            const float pj = p[g * s_stride + j];
            for (int d = d0; d < kv->hd; d++) {
                int64_t e = lt_kv_v_index(kv->v_rows, j, d);
                o[d] += pj * (kv->v_f16 ? lt_fp16_to_fp32(((const uint16_t *)kv->v)[e]) : ((const float *)kv->v)[e]);
            }
        }
    }
}

/* CALL(..., G) with G = 1..4 a constant: the SIMD versions keep one copy per query count (and
 * storage type), so that the accumulators stay in registers. */
#define LT_ATT_BY_G(CALL, G, ...)                    \
    switch (G) {                                     \
    case 4: CALL(__VA_ARGS__, 4); break;             \
    case 3: CALL(__VA_ARGS__, 3); break;             \
    case 2: CALL(__VA_ARGS__, 2); break;             \
    default: CALL(__VA_ARGS__, 1); break;            \
    }

#ifdef LUTLM_HAVE_X86_KERNELS
void lt_att_scores_avx512(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores, int64_t s_stride);
void lt_att_values_avx512(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out, int64_t qs,
                          bool add);
void lt_att_softmax_avx2(float *s, int n, float scale);
void lt_att_scores_avx2(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores, int64_t s_stride);
void lt_att_values_avx2(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out, int64_t qs,
                        bool add);
void lt_f16_from_f32_row_avx2(uint16_t *dst, const float *src, int64_t n);
#endif

#endif
