/* Activations for the LUT kernels: int8 quantization per token and the lookup tables.
 *
 * Quantization (BitNet b1.58, with the roundings of bitllama2.c's runbit.c so that natively ternary
 * models reproduce their reference runner): a = max|x| / 127 (the value of one int8 step),
 * q = round(x * (1/a)) half away from zero (|q| <= 127); a token's outputs are then dot * (s * a).
 * A table entry is a partial sum of q over the weights of one slot, so it is exact in int16:
 *   ternary slot (2 weights): T[c0 | c1 << 2] = (c0 - 1) q0 + (c1 - 1) q1   (|T| <= 254, c = 3 unused)
 *   bit-plane slot (4 weights): T[i] = Σ_b bit_b(i) q_b                       (|T| <= 508) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "kernels/act_quant.h"
#include "kernels/kernels_impl.h"

/* Grow *buf to at least `bytes` (contents not kept). */
static bool grow(void **buf, size_t *cap, size_t bytes) {
    if (*cap >= bytes) return true;
    lt_aligned_free(*buf);
    *buf = lt_aligned_alloc(64, bytes);
    *cap = *buf ? bytes : 0;
    return *buf != NULL;
}

lt_act *lt_act_new(void) { return lt_calloc(1, sizeof(lt_act)); }

void lt_act_free(lt_act *a) {
    if (!a) return;
    lt_aligned_free(a->xq); /* the scales live in the same buffer */
    for (int i = 0; i < 2; i++) {
        lt_aligned_free(a->gemv_tab[i]);
        lt_aligned_free(a->vlut_tab[i]);
    }
    lt_aligned_free(a->gsum);
    lt_aligned_free(a->gsumf);
    free(a);
}

bool lt_act_prepare(lt_act *a, const float *x, int64_t n, int64_t k) { return lt_act_prepare_rule(a, x, n, k, LT_ACT_RUNBIT); }

bool lt_act_prepare_rule(lt_act *a, const float *x, int64_t n, int64_t k, lt_act_rule rule) {
    return lt_act_prepare_pool(a, x, n, k, rule, NULL);
}

#if defined(LUTLM_HAVE_X86_KERNELS) && defined(__GNUC__)
#include <immintrin.h>
#define LT_QUANT_AVX2 1
/* The two rules of act_quant.h in AVX2 intrinsics, 32 values per step, the same IEEE operations
 * element by element (so the same bits). The compiler does not vectorize the portable loops (the
 * clamp and the half-way test stay scalar branches that mispredict on random signs: ~5 ns per
 * value, 5% of a 1-thread decode step and serial in a 2-thread one); this runs at ~0.1 ns. */
#define AVX2_FN __attribute__((target("avx2")))

/* max |x_i|: maxps(v, m) is v > m ? v : m, as lt_row_absmax (NaN ignored); the order of a max of
 * non-negative numbers does not matter. */
AVX2_FN static float absmax_avx2(const float *x, int64_t k) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
    float lanes[8], amax = 0.0f;
    _mm256_storeu_ps(lanes, m);
    for (; i < k; i++) {
        float v = fabsf(x[i]);
        amax = v > amax ? v : amax;
    }
    for (int l = 0; l < 8; l++) amax = lanes[l] > amax ? lanes[l] : amax;
    return amax;
}

/* lt_to_int8 on 8 lanes: r > 127 ? 127 : r < lo ? lo : r == r ? r : 0, then truncated (exact). */
AVX2_FN static inline __m256i clamp_int32(__m256 r, __m256 lo) {
    __m256 c = _mm256_blendv_ps(_mm256_setzero_ps(), r, _mm256_cmp_ps(r, r, _CMP_ORD_Q));
    c = _mm256_blendv_ps(c, lo, _mm256_cmp_ps(r, lo, _CMP_LT_OQ));
    c = _mm256_blendv_ps(c, _mm256_set1_ps(127.0f), _mm256_cmp_ps(r, _mm256_set1_ps(127.0f), _CMP_GT_OQ));
    return _mm256_cvttps_epi32(c);
}

/* lt_round_even: (v + 1.5 * 2^23) - 1.5 * 2^23. */
AVX2_FN static inline __m256 round_even8(__m256 v) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    return _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
}

/* runbit's rounding of v = x * inv: half to even, exact halves away from zero (lt_quant_row_runbit). */
AVX2_FN static inline __m256i runbit8(const float *x, __m256 inv) {
    const __m256 half = _mm256_set1_ps(0.5f), mhalf = _mm256_set1_ps(-0.5f);
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), inv);
    __m256 r = round_even8(v), d = _mm256_sub_ps(v, r);
    __m256 tie = _mm256_or_ps(_mm256_cmp_ps(d, half, _CMP_EQ_OQ), _mm256_cmp_ps(d, mhalf, _CMP_EQ_OQ));
    __m256 away = _mm256_blendv_ps(_mm256_sub_ps(v, half), _mm256_add_ps(v, half),
                                   _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
    return clamp_int32(_mm256_blendv_ps(r, away, tie), _mm256_set1_ps(-127.0f));
}

/* ggml's rounding: half to even of x * s, clamped to [-128, 127] (lt_quant_row_ggml). */
AVX2_FN static inline __m256i ggml8(const float *x, __m256 s) {
    return clamp_int32(round_even8(_mm256_mul_ps(_mm256_loadu_ps(x), s)), _mm256_set1_ps(-128.0f));
}

/* Four vectors of 8 int32 in [-128, 127] to 32 bytes in order (the packs work per 128-bit lane). */
AVX2_FN static inline void store_int8x32(int8_t *q, __m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    __m256i bytes = _mm256_packs_epi16(ab, cd); /* a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7 */
    _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

/* One token's int8 values; returns the step a (as quantize_row). The tail is the portable code. */
AVX2_FN static float quant_row_avx2(const float *x, int8_t *q, int64_t k, lt_act_rule rule) {
    float amax = absmax_avx2(x, k);
    int64_t i = 0;
    if (rule == LT_ACT_GGML) {
        double max = (double)amax;
        if (!(max > 0.00001)) max = 0.00001;
        float s = (float)(127.0 / max);
        const __m256 vs = _mm256_set1_ps(s);
        for (; i + 32 <= k; i += 32)
            store_int8x32(q + i, ggml8(x + i, vs), ggml8(x + i + 8, vs), ggml8(x + i + 16, vs), ggml8(x + i + 24, vs));
        for (; i < k; i++) q[i] = lt_to_int8(lt_round_even(x[i] * s), -128.0f);
        return (float)(1.0 / (double)s);
    }
    float step = (float)(amax / 127.0), inv = amax > 0.0f ? (float)(1.0 / step) : 0.0f;
    const __m256 vinv = _mm256_set1_ps(inv);
    for (; i + 32 <= k; i += 32)
        store_int8x32(q + i, runbit8(x + i, vinv), runbit8(x + i + 8, vinv), runbit8(x + i + 16, vinv),
                      runbit8(x + i + 24, vinv));
    for (; i < k; i++) { /* lt_quant_row_runbit's loop body */
        float v = x[i] * inv, r = lt_round_even(v), d = v - r;
        float away = v > 0.0f ? v + 0.5f : v - 0.5f;
        q[i] = lt_to_int8((d == 0.5f || d == -0.5f) ? away : r, -127.0f);
    }
    return step;
}
#endif

/* One token's int8 values and step a (ggml rule: a = 1 / s); AVX2 intrinsics where they run. */
static float quantize_row(const float *x, int8_t *q, int64_t k, lt_act_rule rule) {
#if defined(LT_QUANT_AVX2)
    lt_isa isa = lt_isa_active();
    if (isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512) return quant_row_avx2(x, q, k, rule);
#endif
    return rule == LT_ACT_GGML ? (float)(1.0 / (double)lt_quant_row_ggml(x, q, k)) : lt_quant_row_runbit(x, q, k);
}

typedef struct {
    lt_act *a;
    const float *x;
    float *scales;
    lt_act_rule rule;
} quant_job;

static void quant_task(void *arg, int ith, int nth) {
    quant_job *job = arg;
    lt_act *a = job->a;
    int64_t t0, t1;
    lt_split_range(a->n, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        int8_t *q = a->xq + t * a->kx;
        job->scales[t] = quantize_row(job->x + t * a->k, q, a->k, job->rule);
        memset(q + a->k, 0, (size_t)(a->kx - a->k));
    }
}

bool lt_act_prepare_pool(lt_act *a, const float *x, int64_t n, int64_t k, lt_act_rule rule, lt_pool *pool) {
    if (n < 0 || k <= 0) return lt_set_error("lt_act_prepare: invalid shape n=%lld k=%lld", (long long)n, (long long)k);
    /* Room for any padding a weight may use (groups up to 320, plus slot pairs). */
    int64_t kx = (k + 512 + 63) / 64 * 64;
    if (!grow((void **)&a->xq, &a->cap_xq, (size_t)(n ? n : 1) * (size_t)kx + (size_t)(n ? n : 1) * sizeof(float) + 64))
        return false;
    a->n = n;
    a->k = k;
    a->kx = kx;
    /* The scales live after the int8 rows in the same buffer (one allocation). */
    a->scale = NULL;
    for (int i = 0; i < 2; i++) a->gemv_slots[i] = a->vlut_slots[i] = 0;
    a->gsum_group = 0;
    quant_job job = { a, x, (float *)(((uintptr_t)(a->xq + (size_t)n * (size_t)kx) + 63) & ~(uintptr_t)63), rule };
    /* tokens are independent: a batch is split over the pool (one token is not worth a wake-up) */
    if (n > 1) lt_pool_run(pool, quant_task, &job);
    else quant_task(&job, 0, 1);
    a->scale = job.scales;
    return true;
}

/* Table entry i of a slot = Σ_b coef[kind][b][i] * q[b] over the slot's weights (see the top). */
static const int8_t coef[2][4][16] = {
    { { -1, 0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0, 0, 0, 0, 0 },   /* ternary: c0 - 1 (0 if c0 or c1 = 3) */
      { -1, -1, -1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0 } }, /*          c1 - 1 */
    { { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 },      /* planes: bit b of i */
      { 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1 },
      { 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1 },
      { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 } },
};

static int slot_width(lt_qkind kind) { return kind == LT_QK_TERNARY ? 2 : 4; }

/* GEMV tables of this thread's share of the slots, for every token: per slot 16 low bytes, then
 * 16 high bytes. */
void lt_act_fill_gemv(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    int width = slot_width(kind);
    int64_t s0, s1;
    lt_split_range(nslots, 16, ith, nth, &s0, &s1);
    for (int64_t t = 0; t < a->n; t++) {
        uint8_t *tab = a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t s = s0; s < s1; s++) {
            int16_t e[16] = { 0 };
            for (int b = 0; b < width; b++) {
                int16_t x = q[s * width + b];
                for (int i = 0; i < 16; i++) e[i] = (int16_t)(e[i] + coef[kind][b][i] * x);
            }
            for (int i = 0; i < 16; i++) {
                tab[s * 32 + i] = (uint8_t)((uint16_t)e[i] & 0xFF);
                tab[s * 32 + 16 + i] = (uint8_t)((uint16_t)e[i] >> 8);
            }
        }
    }
}

int lt_act_reserve_gemv(lt_act *a, lt_qkind kind, int64_t nslots) {
    if (a->gemv_slots[kind] >= nslots) return 0;
    size_t bytes = (size_t)(a->n ? a->n : 1) * (size_t)nslots * 32;
    return grow((void **)&a->gemv_tab[kind], &a->cap_gemv[kind], bytes) ? 1 : -1;
}

/* Vector-LUT tables of this thread's share of the slots, for every block of tokens: for each slot
 * and index, the entries of the block's tokens side by side (a loop the compiler vectorizes). */
void lt_act_fill_vlut(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth) {
    int width = slot_width(kind);
    int64_t s0, s1;
    lt_split_range(nslots, 16, ith, nth, &s0, &s1);
    for (int64_t blk = 0; blk < lt_act_blocks(a); blk++) {
        int16_t *tab = a->vlut_tab[kind] + (size_t)blk * (size_t)nslots * LT_VLUT_SLOT * LT_VLUT_NB;
        int64_t nt = LT_MIN(LT_VLUT_NB, a->n - blk * LT_VLUT_NB);
        for (int64_t s = s0; s < s1; s++) {
            int16_t x[4][LT_VLUT_NB] = { { 0 } };
            for (int b = 0; b < width; b++)
                for (int64_t t = 0; t < nt; t++) x[b][t] = a->xq[(blk * LT_VLUT_NB + t) * a->kx + s * width + b];
            for (int i = 0; i < 16; i++) {
                int16_t *e = tab + (s * LT_VLUT_SLOT + i) * LT_VLUT_NB;
                for (int t = 0; t < LT_VLUT_NB; t++) e[t] = 0;
                for (int b = 0; b < width; b++) {
                    int16_t c = coef[kind][b][i];
                    for (int t = 0; t < LT_VLUT_NB; t++) e[t] = (int16_t)(e[t] + c * x[b][t]);
                }
            }
        }
    }
}

int lt_act_reserve_vlut(lt_act *a, lt_qkind kind, int64_t nslots) {
    if (a->vlut_slots[kind] >= nslots) return 0;
    int64_t nb = lt_act_blocks(a);
    size_t per_block = (size_t)nslots * LT_VLUT_SLOT * LT_VLUT_NB;
    return grow((void **)&a->vlut_tab[kind], &a->cap_vlut[kind], (nb ? (size_t)nb : 1) * per_block * sizeof(int16_t)) ? 1 : -1;
}

bool lt_act_build_gsum(lt_act *a, int64_t group, int64_t ngroups) {
    if (a->gsum_group == group && a->gsum_ngroups >= ngroups) return true;
    int64_t nb = lt_act_blocks(a);
    if (!grow((void **)&a->gsum, &a->cap_gsum, (size_t)(a->n ? a->n : 1) * (size_t)ngroups * sizeof(int32_t)) ||
        !grow((void **)&a->gsumf, &a->cap_gsumf, (size_t)(nb ? nb : 1) * (size_t)ngroups * LT_VLUT_NB * sizeof(float)))
        return false;
    memset(a->gsumf, 0, (size_t)(nb ? nb : 1) * (size_t)ngroups * LT_VLUT_NB * sizeof(float));
    for (int64_t t = 0; t < a->n; t++) {
        const int8_t *q = a->xq + t * a->kx;
        for (int64_t g = 0; g < ngroups; g++) {
            int32_t sum = 0;
            for (int64_t i = g * group; i < (g + 1) * group; i++) sum += q[i];
            a->gsum[t * ngroups + g] = sum;
            a->gsumf[((t / LT_VLUT_NB) * ngroups + g) * LT_VLUT_NB + t % LT_VLUT_NB] = (float)sum;
        }
    }
    a->gsum_group = group;
    a->gsum_ngroups = ngroups;
    return true;
}
