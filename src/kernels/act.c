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
    for (int i = 0; i < LT_QK_COUNT; i++) {
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

/* One token's int8 values and step a (ggml rule: a = 1 / s); AVX2 intrinsics where they run. */
static float quantize_row(const float *x, int8_t *q, int64_t k, lt_act_rule rule) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    lt_isa isa = lt_isa_active();
    if (isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512) return lt_quant_row_avx2(x, q, k, rule == LT_ACT_GGML);
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
    for (int i = 0; i < LT_QK_COUNT; i++) a->gemv_slots[i] = a->vlut_slots[i] = 0;
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

int lt_act_reserve_gemv(lt_act *a, lt_qkind kind, int64_t nslots, lt_fill_fn fill) {
    if (a->gemv_slots[kind] >= nslots && a->gemv_fill[kind] == fill) return 0;
    size_t bytes = (size_t)(a->n ? a->n : 1) * (size_t)nslots * 32;
    a->gemv_slots[kind] = 0; /* whatever was there is not `fill`'s */
    a->gemv_fill[kind] = fill;
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
