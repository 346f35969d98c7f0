/* AVX-512 attention products (attention.h): as attention_avx2.c, with the 16 positions (scores)
 * or 16 dimensions (values) of a K tile row or V block row in one zmm instead of two ymm, so one
 * load (F16: one vcvtph2ps) and, per query, one multiply and one add per row. The same operations
 * per element in the same order as the portable code: the same bits. The softmax stays AVX2's. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/attention.h"
#include "kernels/x86/f16_avx2.h"

_Static_assert(LT_KV_TILE == 16 && LT_KV_VBLOCK == 16, "a K tile row and a V block row are 16 floats");

/* Sixteen cache values from element off, as floats. */
static inline __attribute__((always_inline)) __m512 load16(const void *base, int64_t off, const bool f16) {
    return f16 ? load_f16x16((const uint16_t *)base + off) : _mm512_loadu_ps((const float *)base + off);
}

/* acc[g] = Σ_{i < count} x_g[i] · row_i (a product then a sum per element, in order of i),
 * row_i the 16 values at element off0 + i * rstep: the loop of both products (scores: x = q,
 * rows = K tile rows; values: x = p, rows = V block rows). acc starts as given. */
static inline __attribute__((always_inline)) void dot_rows(const float *x, int64_t xs, const int G,
                                                           const void *base, int64_t off0, int64_t rstep,
                                                           int64_t count, const bool f16, __m512 acc[LT_ATT_MAX_G]) {
    for (int64_t i = 0; i < count; i++) {
        __m512 r = load16(base, off0 + i * rstep, f16);
        for (int g = 0; g < G; g++)
            acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(_mm512_set1_ps(x[g * xs + i]), r));
    }
}

static inline __attribute__((always_inline)) void scores_g(const float *q, int64_t qs, const int G,
                                                           const lt_kv_view *kv, const bool f16, int n,
                                                           float *scores, int64_t s_stride) {
    for (int j0 = 0; j0 < n; j0 += 16) {
        __m512 acc[LT_ATT_MAX_G];
        for (int g = 0; g < G; g++) acc[g] = _mm512_setzero_ps();
        dot_rows(q, qs, G, kv->k, lt_kv_k_index(kv->hd, 0, j0), LT_KV_TILE, kv->hd, f16, acc);
        /* a partial last tile is read whole (it is in memory); its valid lanes are kept */
        __mmask16 keep = n - j0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j0)) - 1);
        for (int g = 0; g < G; g++) _mm512_mask_storeu_ps(scores + g * s_stride + j0, keep, acc[g]);
    }
}

static inline __attribute__((always_inline)) void values_g(const float *p, int64_t s_stride, const int G,
                                                           const lt_kv_view *kv, const bool f16, int n,
                                                           float *out, int64_t qs, bool add) {
    int d0 = 0;
    for (; d0 + 16 <= kv->hd; d0 += 16) {
        __m512 acc[LT_ATT_MAX_G];
        for (int g = 0; g < G; g++) acc[g] = add ? _mm512_loadu_ps(out + g * qs + d0) : _mm512_setzero_ps();
        dot_rows(p, s_stride, G, kv->v, lt_kv_v_index(kv->v_rows, 0, d0), LT_KV_VBLOCK, n, f16, acc);
        for (int g = 0; g < G; g++) _mm512_storeu_ps(out + g * qs + d0, acc[g]);
    }
    lt_att_values_dims(p, s_stride, G, kv, n, out, qs, add, d0); /* past the last multiple of 16 */
}

#define SCORES(f16, G) scores_g(q, qs, G, kv, f16, n, scores, s_stride)
#define VALUES(f16, G) values_g(p, s_stride, G, kv, f16, n, out, qs, add)

void lt_att_scores_avx512(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores,
                          int64_t s_stride) {
    if (kv->k_f16) LT_ATT_BY_G(SCORES, G, true) else LT_ATT_BY_G(SCORES, G, false)
}

void lt_att_values_avx512(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out, int64_t qs,
                          bool add) {
    if (kv->v_f16) LT_ATT_BY_G(VALUES, G, true) else LT_ATT_BY_G(VALUES, G, false)
}

#endif
