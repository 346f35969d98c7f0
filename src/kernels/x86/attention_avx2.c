/* AVX2 attention products (attention.h): 16 positions (scores) or 16 dimensions (values) of up to
 * four query heads at a time, so that one load of K or V (F32, or F16 widened with F16C) serves
 * every query; 2G accumulators of 8 lanes stay in registers over the whole sum. The same
 * operations per element in the same order as the portable code: the same bits. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "kernels/attention.h"
#include "kernels/x86/expf_avx2.h"
#include "kernels/x86/f16_avx2.h"

_Static_assert(LT_KV_TILE == 16 && LT_KV_VBLOCK == 16, "scores16 / values16 read 16 positions / dimensions");

/* Eight cache values from element off, as floats. */
static inline __attribute__((always_inline)) __m256 load8(const void *base, int64_t off, const bool f16) {
    return f16 ? load_f16x8((const uint16_t *)base + off) : _mm256_loadu_ps((const float *)base + off);
}

/* Scores of G queries at positions j0 .. j0 + 15 (j0 starts a tile) into out[g * s_stride + 0 .. 15]. */
static inline __attribute__((always_inline)) void scores16(const float *q, int64_t qs, const int G,
                                                           const lt_kv_view *kv, const bool f16, int j0,
                                                           float *out, int64_t s_stride) {
    __m256 acc[LT_ATT_MAX_G][2];
    for (int g = 0; g < G; g++) acc[g][0] = acc[g][1] = _mm256_setzero_ps();
    const int64_t tile = lt_kv_k_index(kv->hd, 0, j0); /* j0 starts a tile */
    for (int i = 0; i < kv->hd; i++) {
        int64_t off = tile + (int64_t)i * LT_KV_TILE;
        __m256 k0 = load8(kv->k, off, f16), k1 = load8(kv->k, off + 8, f16);
        for (int g = 0; g < G; g++) {
            __m256 qi = _mm256_broadcast_ss(q + g * qs + i);
            acc[g][0] = _mm256_add_ps(acc[g][0], _mm256_mul_ps(qi, k0));
            acc[g][1] = _mm256_add_ps(acc[g][1], _mm256_mul_ps(qi, k1));
        }
    }
    for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(out + g * s_stride, acc[g][0]);
        _mm256_storeu_ps(out + g * s_stride + 8, acc[g][1]);
    }
}

/* out[d0 .. d0 + 15] of G queries. */
static inline __attribute__((always_inline)) void values16(const float *p, int64_t s_stride, const int G,
                                                           const lt_kv_view *kv, const bool f16, int n, int d0,
                                                           float *out, int64_t qs, bool add) {
    __m256 acc[LT_ATT_MAX_G][2];
    for (int g = 0; g < G; g++) {
        acc[g][0] = add ? _mm256_loadu_ps(out + g * qs + d0) : _mm256_setzero_ps();
        acc[g][1] = add ? _mm256_loadu_ps(out + g * qs + d0 + 8) : _mm256_setzero_ps();
    }
    for (int j = 0; j < n; j++) {
        int64_t off = lt_kv_v_index(kv->v_rows, j, d0); /* d0 starts a block */
        __m256 v0 = load8(kv->v, off, f16), v1 = load8(kv->v, off + 8, f16);
        for (int g = 0; g < G; g++) {
            __m256 pj = _mm256_broadcast_ss(p + g * s_stride + j);
            acc[g][0] = _mm256_add_ps(acc[g][0], _mm256_mul_ps(pj, v0));
            acc[g][1] = _mm256_add_ps(acc[g][1], _mm256_mul_ps(pj, v1));
        }
    }
    for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(out + g * qs + d0, acc[g][0]);
        _mm256_storeu_ps(out + g * qs + d0 + 8, acc[g][1]);
    }
}

static inline __attribute__((always_inline)) void scores_g(const float *q, int64_t qs, const int G,
                                                           const lt_kv_view *kv, const bool f16, int n,
                                                           float *scores, int64_t s_stride) {
    int j0 = 0;
    for (; j0 + 16 <= n; j0 += 16) scores16(q, qs, G, kv, f16, j0, scores + j0, s_stride);
    if (j0 < n) { /* the last n % 16 positions: the whole tile (it is in memory), the valid lanes kept */
        float tail[LT_ATT_MAX_G][16];
        scores16(q, qs, G, kv, f16, j0, tail[0], 16);
        for (int g = 0; g < G; g++) memcpy(scores + g * s_stride + j0, tail[g], sizeof(float) * (size_t)(n - j0));
    }
}

static inline __attribute__((always_inline)) void values_g(const float *p, int64_t s_stride, const int G,
                                                           const lt_kv_view *kv, const bool f16, int n,
                                                           float *out, int64_t qs, bool add) {
    int d0 = 0;
    for (; d0 + 16 <= kv->hd; d0 += 16) values16(p, s_stride, G, kv, f16, n, d0, out, qs, add);
    lt_att_values_dims(p, s_stride, G, kv, n, out, qs, add, d0); /* past the last multiple of 16 */
}

#define SCORES(f16, G) scores_g(q, qs, G, kv, f16, n, scores, s_stride)
#define VALUES(f16, G) values_g(p, s_stride, G, kv, f16, n, out, qs, add)

void lt_att_scores_avx2(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores,
                        int64_t s_stride) {
    if (kv->k_f16) LT_ATT_BY_G(SCORES, G, true) else LT_ATT_BY_G(SCORES, G, false)
}

void lt_att_values_avx2(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out, int64_t qs,
                        bool add) {
    if (kv->v_f16) LT_ATT_BY_G(VALUES, G, true) else LT_ATT_BY_G(VALUES, G, false)
}

/* lt_att_softmax_portable's operations: the division and the exponentials eight at a time, the
 * maximum in any order (it is exact), the sum in order of j (one scalar chain, fed by the vectors). */
void lt_att_softmax_avx2(float *s, int n, float scale) {
    const __m256 vscale = _mm256_set1_ps(scale);
    int j = 0;
    float max;
    if (n >= 8) {
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        for (; j + 8 <= n; j += 8) {
            __m256 v = _mm256_div_ps(_mm256_loadu_ps(s + j), vscale);
            _mm256_storeu_ps(s + j, v);
            vmax = _mm256_max_ps(vmax, v);
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, vmax);
        max = lanes[0];
        for (int i = 1; i < 8; i++) max = lanes[i] > max ? lanes[i] : max;
    } else {
        max = s[0] /= scale;
        j = 1;
    }
    for (; j < n; j++) {
        s[j] /= scale;
        max = s[j] > max ? s[j] : max;
    }
    const __m256 vm = _mm256_set1_ps(max);
    float sum = 0.0f;
    for (j = 0; j + 8 <= n; j += 8) {
        _mm256_storeu_ps(s + j, lt_expf8(_mm256_sub_ps(_mm256_loadu_ps(s + j), vm)));
        for (int i = 0; i < 8; i++) sum += s[j + i];
    }
    for (; j < n; j++) {
        s[j] = lt_expf(s[j] - max);
        sum += s[j];
    }
    const __m256 vsum = _mm256_set1_ps(sum);
    for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_div_ps(_mm256_loadu_ps(s + j), vsum));
    for (; j < n; j++) s[j] /= sum;
}

void lt_f16_from_f32_row_avx2(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}
#endif
