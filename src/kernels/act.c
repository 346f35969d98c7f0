/* Activations for the LUT kernels: int8 quantization per token and the lookup tables.
 *
 * Quantization (BitNet b1.58): a = 127 / max|x|, q = clamp(nearbyintf(x * a), -127, 127).
 * A table entry is a partial sum of q over the weights of one slot, so it is exact in int16:
 *   ternary slot (2 weights): T[c0 | c1 << 2] = (c0 - 1) q0 + (c1 - 1) q1   (|T| <= 254, c = 3 unused)
 *   bit-plane slot (4 weights): T[i] = Σ_b bit_b(i) q_b                       (|T| <= 508) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
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

bool lt_act_prepare(lt_act *a, const float *x, int64_t n, int64_t k) {
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
    float *scales = (float *)(((uintptr_t)(a->xq + (size_t)n * (size_t)kx) + 63) & ~(uintptr_t)63);
    for (int64_t t = 0; t < n; t++) {
        const float *xr = x + t * k;
        int8_t *q = a->xq + t * kx;
        float amax = 0.0f;
        for (int64_t i = 0; i < k; i++) amax = fmaxf(amax, fabsf(xr[i]));
        float s = amax > 0.0f ? 127.0f / amax : 1.0f;
        for (int64_t i = 0; i < k; i++) {
            float v = nearbyintf(xr[i] * s);
            q[i] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
        }
        memset(q + k, 0, (size_t)(kx - k));
        scales[t] = s;
    }
    a->scale = scales;
    return true;
}

/* The 16 int16 entries of slot s for token row q. */
static void slot_entries(lt_qkind kind, const int8_t *q, int64_t s, int16_t e[16]) {
    if (kind == LT_QK_TERNARY) {
        int q0 = q[2 * s], q1 = q[2 * s + 1];
        for (int i = 0; i < 16; i++) {
            int c0 = i & 3, c1 = i >> 2;
            e[i] = (c0 == 3 || c1 == 3) ? 0 : (int16_t)((c0 - 1) * q0 + (c1 - 1) * q1);
        }
    } else {
        const int8_t *x = q + 4 * s;
        for (int i = 0; i < 16; i++)
            e[i] = (int16_t)((i & 1 ? x[0] : 0) + (i & 2 ? x[1] : 0) + (i & 4 ? x[2] : 0) + (i & 8 ? x[3] : 0));
    }
}

bool lt_act_build_gemv(lt_act *a, lt_qkind kind, int64_t nslots) {
    if (a->gemv_slots[kind] >= nslots) return true;
    size_t bytes = (size_t)(a->n ? a->n : 1) * (size_t)nslots * 32;
    if (!grow((void **)&a->gemv_tab[kind], &a->cap_gemv[kind], bytes)) return false;
    for (int64_t t = 0; t < a->n; t++) {
        uint8_t *tab = a->gemv_tab[kind] + (size_t)t * (size_t)nslots * 32;
        for (int64_t s = 0; s < nslots; s++) {
            int16_t e[16];
            slot_entries(kind, a->xq + t * a->kx, s, e);
            for (int i = 0; i < 16; i++) {
                tab[s * 32 + i] = (uint8_t)((uint16_t)e[i] & 0xFF);
                tab[s * 32 + 16 + i] = (uint8_t)((uint16_t)e[i] >> 8);
            }
        }
    }
    a->gemv_slots[kind] = nslots;
    return true;
}

bool lt_act_build_vlut(lt_act *a, lt_qkind kind, int64_t nslots) {
    if (a->vlut_slots[kind] >= nslots) return true;
    int64_t nb = lt_act_blocks(a);
    size_t per_block = (size_t)nslots * 16 * LT_VLUT_NB;
    if (!grow((void **)&a->vlut_tab[kind], &a->cap_vlut[kind], (nb ? (size_t)nb : 1) * per_block * sizeof(int16_t)))
        return false;
    for (int64_t b = 0; b < nb; b++) {
        int16_t *tab = a->vlut_tab[kind] + (size_t)b * per_block;
        for (int t = 0; t < LT_VLUT_NB; t++) {
            int64_t tok = b * LT_VLUT_NB + t;
            for (int64_t s = 0; s < nslots; s++) {
                int16_t e[16] = { 0 };
                if (tok < a->n) slot_entries(kind, a->xq + tok * a->kx, s, e);
                for (int i = 0; i < 16; i++) tab[(s * 16 + i) * LT_VLUT_NB + t] = e[i];
            }
        }
    }
    a->vlut_slots[kind] = nslots;
    return true;
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
