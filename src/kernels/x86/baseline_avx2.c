/* AVX2 baselines, for honest comparison with the LUT kernels:
 *  - int8: decode the packed codes to bytes (shift + mask), vpmaddubsw with the int8 activations,
 *    vpmaddwd to int32 — the way llama.cpp's TQ2_0/Q4_0 and bitnet.cpp's I2_S dot products work.
 *    Ternary codes are stored as c = t + 1, so dot(t, q) = dot(c, q) - Σq (as I2_S does).
 *    The integer dots and the float combination are those of the reference: bit-identical results.
 *  - f32: the dequantized weights times the float activations (FMA, 4 accumulators). */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"

static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The 32 codes of unit u (weights 32u .. 32u+31) of a packed row, as unsigned bytes. */
static inline __m256i unit_codes(const uint8_t *row, int bits, int64_t u) {
    if (bits == 2) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(row + (u / 4) * 32));
        return _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(6 - 2 * (int)(u % 4))), _mm256_set1_epi8(3));
    }
    __m128i v = _mm_loadu_si128((const __m128i *)(row + u * 16));
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/* Σ c·q over units [u0, u1): int16 pair sums from vpmaddubsw (up to four units, |sum| <= 4 * 2 *
 * 15 * 127 < 2^15), then int32. Whole 2-bit blocks take one load and four immediate shifts. */
static inline int32_t units_dot(const uint8_t *row, int bits, const int8_t *xq, int64_t u0, int64_t u1) {
    const __m256i ones = _mm256_set1_epi16(1), m3 = _mm256_set1_epi8(3);
    __m256i acc = _mm256_setzero_si256();
    int64_t u = u0;
    if (bits == 2)
        for (; u % 4 == 0 && u + 4 <= u1; u += 4) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(row + (u / 4) * 32));
            const int8_t *x = xq + u * 32;
            __m256i s16 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 6), m3), _mm256_loadu_si256((const __m256i *)x));
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m3),
                                                             _mm256_loadu_si256((const __m256i *)(x + 32))));
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 2), m3),
                                                             _mm256_loadu_si256((const __m256i *)(x + 64))));
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(v, m3), _mm256_loadu_si256((const __m256i *)(x + 96))));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(s16, ones));
        }
    for (; u < u1; u += 4) {
        __m256i s16 = _mm256_setzero_si256();
        for (int64_t v = u; v < LT_MIN(u + 4, u1); v++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(xq + v * 32));
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(unit_codes(row, bits, v), x));
        }
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(s16, ones));
    }
    return hsum_i32(acc);
}

void lt_baseline_avx2(const lt_qweight *w, const lt_act *a, int64_t r0, int64_t r1, float *y) {
    size_t row_bytes = (size_t)w->kb * (size_t)w->base_bits / 8;
    int64_t gunits = w->group / 32;
    bool ternary = lt_qw_ternary(w); /* TERNARY or TERN3: codes stored t + 1 */
    for (int64_t row = r0; row < r1; row++) {
        const uint8_t *src = w->base + (size_t)row * row_bytes;
        for (int64_t n = 0; n < a->n; n++) {
            const int8_t *xq = a->xq + n * a->kx;
            const int32_t *gsum = a->gsum + n * a->gsum_ngroups;
            if (w->per_row) {
                int32_t dot = units_dot(src, w->base_bits, xq, 0, w->kp / 32 + (w->kp % 32 != 0));
                if (ternary) dot -= gsum[0];
                y[n * w->m + row] = (float)dot * (w->scale[row] * a->scale[n]);
                continue;
            }
            float f = 0.0f;
            for (int64_t g = 0; g < w->ngroups; g++) {
                int32_t dot = units_dot(src, w->base_bits, xq, g * gunits, (g + 1) * gunits);
                if (ternary) dot -= gsum[g];
                float s, m;
                lt_qw_group_sm(w, row, g, &s, &m);
                f = fmaf(s, (float)dot, f);
                if (!ternary) f = fmaf(m, (float)gsum[g], f);
            }
            y[n * w->m + row] = f * a->scale[n];
        }
    }
}

void lt_f32_avx2(const lt_qweight *w, const float *x, int64_t n, int64_t r0, int64_t r1, float *y) {
    int64_t k = w->k, k32 = k / 32 * 32;
    for (int64_t row = r0; row < r1; row++) {
        const float *wr = w->f32 + row * k;
        for (int64_t t = 0; t < n; t++) {
            const float *xr = x + t * k;
            __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
            for (int64_t i = 0; i < k32; i += 32)
                for (int j = 0; j < 4; j++)
                    acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 8 * j), _mm256_loadu_ps(xr + i + 8 * j), acc[j]);
            float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
            for (int64_t i = k32; i < k; i++) sum += wr[i] * xr[i];
            y[t * w->m + row] = sum;
        }
    }
}

#endif
