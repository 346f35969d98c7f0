/* Attention products over the KV cache: the portable code (every ISA without its own) and the
 * dispatch. See attention.h. */
#include "kernels/attention.h"

#include "common/expf.h"
#include "common/util.h"
#include "kernels/kernels.h"


/* count values of a cache row from element off, as floats: the row itself (F32), or widened into
 * buf (F16; exact). */
static inline const float *row_floats(const void *base, int64_t off, int count, bool f16, float *buf) {
    if (!f16) return (const float *)base + off;
    const uint16_t *h = (const uint16_t *)base + off;
#if defined(__aarch64__)
    const __fp16 *hf = (const __fp16 *)h; /* the hardware conversion (fcvtl), vectorized */
    for (int i = 0; i < count; i++) buf[i] = (float)hf[i];
#else
    for (int i = 0; i < count; i++) buf[i] = lt_fp16_to_fp32(h[i]);
#endif
    return buf;
}

/* Tile by tile of K (LT_KV_TILE positions); per tile, G accumulator rows over i. */
void lt_att_scores_portable(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores,
                            int64_t s_stride) {
    float kbuf[LT_KV_TILE];
    for (int j0 = 0; j0 < n; j0 += LT_KV_TILE) {
        int nb = LT_MIN(LT_KV_TILE, n - j0);
        float acc[LT_ATT_MAX_G][LT_KV_TILE] = { { 0 } };
        for (int i = 0; i < kv->hd; i++) {
            const float *ki = row_floats(kv->k, lt_kv_k_index(kv->hd, i, j0), nb, kv->k_f16, kbuf);
            for (int g = 0; g < G; g++) {
                const float qi = q[g * qs + i];
                for (int b = 0; b < nb; b++) acc[g][b] += qi * ki[b];
            }
        }
        for (int g = 0; g < G; g++)
            for (int b = 0; b < nb; b++) scores[g * s_stride + j0 + b] = acc[g][b];
    }
}

/* Block by block of V (LT_KV_VBLOCK dimensions); per block, G accumulator rows over j. */
void lt_att_values_portable(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out,
                            int64_t qs, bool add) {
    float vbuf[LT_KV_VBLOCK];
    for (int d0 = 0; d0 < kv->hd; d0 += LT_KV_VBLOCK) { /* a block of V */
        int nb = LT_MIN(LT_KV_VBLOCK, kv->hd - d0);
        float acc[LT_ATT_MAX_G][LT_KV_VBLOCK] = { { 0 } };
        if (add)
            for (int g = 0; g < G; g++)
                for (int b = 0; b < nb; b++) acc[g][b] = out[g * qs + d0 + b];
        for (int j = 0; j < n; j++) {
            const float *vj = row_floats(kv->v, lt_kv_v_index(kv->v_rows, j, d0), nb, kv->v_f16, vbuf);
            for (int g = 0; g < G; g++) {
                const float pj = p[g * s_stride + j];
                for (int b = 0; b < nb; b++) acc[g][b] += pj * vj[b];
            }
        }
        for (int g = 0; g < G; g++)
            for (int b = 0; b < nb; b++) out[g * qs + d0 + b] = acc[g][b];
    }
}

void lt_att_softmax_portable(float *s, int n, float scale) {
    for (int j = 0; j < n; j++) s[j] /= scale;
    float max = s[0];
    for (int j = 1; j < n; j++) max = s[j] > max ? s[j] : max;
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        s[j] = lt_expf(s[j] - max);
        sum += s[j];
    }
    for (int j = 0; j < n; j++) s[j] /= sum;
}

void lt_f16_from_f32_row_portable(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = lt_fp32_to_fp16(src[i]);
}

#if defined(LUTLM_HAVE_X86_KERNELS)
static bool use_avx2(void) {
    lt_isa isa = lt_isa_active();
    return isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512;
}
#endif

void lt_att_scores(const float *q, int64_t qs, int G, const lt_kv_view *kv, int n, float *scores, int64_t s_stride) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    if (lt_isa_active() == LT_ISA_AVX512) {
        lt_att_scores_avx512(q, qs, G, kv, n, scores, s_stride);
        return;
    }
    if (use_avx2()) {
        lt_att_scores_avx2(q, qs, G, kv, n, scores, s_stride);
        return;
    }
#endif
    lt_att_scores_portable(q, qs, G, kv, n, scores, s_stride);
}

void lt_att_values(const float *p, int64_t s_stride, int G, const lt_kv_view *kv, int n, float *out, int64_t qs,
                   bool add) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    if (lt_isa_active() == LT_ISA_AVX512) {
        lt_att_values_avx512(p, s_stride, G, kv, n, out, qs, add);
        return;
    }
    if (use_avx2()) {
        lt_att_values_avx2(p, s_stride, G, kv, n, out, qs, add);
        return;
    }
#endif
    lt_att_values_portable(p, s_stride, G, kv, n, out, qs, add);
}

void lt_att_softmax(float *s, int n, float scale) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    if (use_avx2()) {
        lt_att_softmax_avx2(s, n, scale);
        return;
    }
#endif
    lt_att_softmax_portable(s, n, scale);
}

void lt_f16_from_f32_row(uint16_t *dst, const float *src, int64_t n) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    if (use_avx2()) {
        lt_f16_from_f32_row_avx2(dst, src, n);
        return;
    }
#endif
    lt_f16_from_f32_row_portable(dst, src, n);
}
