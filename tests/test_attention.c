/* Attention products (kernels/attention.h): for every ISA this machine runs, scores and values over
 * an F16 cache equal, bit for bit, the same products over an F32 cache holding the same values, and
 * equal the portable code; across head sizes with and without a tail of dimensions, position counts
 * with and without a tail of positions, 1-4 queries and strides wider than the rows. The F32 -> F16
 * row conversion equals lt_fp32_to_fp16 on random values, ties, subnormals, overflow and zeros. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "test_util.h"

typedef void (*scores_fn)(const float *, int64_t, int, const lt_kv_view *, int, float *, int64_t);
typedef void (*values_fn)(const float *, int64_t, int, const lt_kv_view *, int, float *, int64_t, bool);

static float rounded(float x) { return lt_fp16_to_fp32(lt_fp32_to_fp16(x)); }

/* One case: hd dimensions, n positions, G queries; K in whole tiles, V in blocks of vr >= n rows
 * (and whole blocks of dimensions), the queries padded. */
static void check_case(int hd, int n, int G, scores_fn scores_ref, values_fn values_ref, scores_fn scores_isa,
                       values_fn values_isa, const char *isa) {
    int64_t ks = (n + LT_KV_TILE - 1) / LT_KV_TILE * LT_KV_TILE, vr = n + 3, qs = hd + 1, ss = n + 2;
    int64_t vn = vr * ((hd + LT_KV_VBLOCK - 1) / LT_KV_VBLOCK * LT_KV_VBLOCK);
    float *k32 = malloc(sizeof(float) * (size_t)(hd * ks)), *v32 = malloc(sizeof(float) * (size_t)vn);
    uint16_t *k16 = malloc(2 * (size_t)(hd * ks)), *v16 = malloc(2 * (size_t)vn);
    float *q = malloc(sizeof(float) * (size_t)(G * qs)), *p = malloc(sizeof(float) * (size_t)(G * ss));
    float *s_want = calloc((size_t)(G * ss), sizeof(float)), *s_got = calloc((size_t)(G * ss), sizeof(float));
    float *o_want = calloc((size_t)(G * qs), sizeof(float)), *o_got = calloc((size_t)(G * qs), sizeof(float));
    for (int64_t i = 0; i < hd * ks; i++) k16[i] = lt_fp32_to_fp16(k32[i] = rounded(3.0f * test_frand()));
    for (int64_t i = 0; i < vn; i++) v16[i] = lt_fp32_to_fp16(v32[i] = rounded(2.0f * test_frand()));
    for (int64_t i = 0; i < G * qs; i++) q[i] = test_frand();
    for (int64_t i = 0; i < G * ss; i++) p[i] = 0.5f * (test_frand() + 1.0f);
    lt_kv_view f32 = { .k = k32, .v = v32, .v_rows = vr, .hd = hd };
    lt_kv_view f16 = { .k = k16, .v = v16, .v_rows = vr, .hd = hd, .k_f16 = true, .v_f16 = true };
    scores_ref(q, qs, G, &f32, n, s_want, ss);
    values_ref(p, ss, G, &f32, n, o_want, qs, false);
    const lt_kv_view *views[2] = { &f32, &f16 };
    scores_fn sf[2] = { scores_ref, scores_isa };
    values_fn vf[2] = { values_ref, values_isa };
    for (int impl = 0; impl < 2; impl++)
        for (int v = 0; v < 2; v++) {
            memset(s_got, 0, sizeof(float) * (size_t)(G * ss));
            memset(o_got, 0, sizeof(float) * (size_t)(G * qs));
            sf[impl](q, qs, G, views[v], n, s_got, ss);
            vf[impl](p, ss, G, views[v], n, o_got, qs, false);
            CHECKF(memcmp(s_got, s_want, sizeof(float) * (size_t)(G * ss)) == 0, "%s %s %s: scores differ (hd %d n %d G %d)",
                   impl ? isa : "portable", v ? "f16" : "f32", "", hd, n, G);
            CHECKF(memcmp(o_got, o_want, sizeof(float) * (size_t)(G * qs)) == 0, "%s %s: values differ (hd %d n %d G %d)",
                   impl ? isa : "portable", v ? "f16" : "f32", hd, n, G);
            /* the positions in two calls, the second adding to the first */
            int n1 = n / 3;
            lt_kv_view rest = *views[v];
            int64_t skip = lt_kv_v_index(vr, n1, 0);
            rest.v = v ? (const void *)(v16 + skip) : (const void *)(v32 + skip);
            memset(o_got, 0, sizeof(float) * (size_t)(G * qs));
            vf[impl](p, ss, G, views[v], n1, o_got, qs, false);
            vf[impl](p + n1, ss, G, &rest, n - n1, o_got, qs, true);
            CHECKF(memcmp(o_got, o_want, sizeof(float) * (size_t)(G * qs)) == 0, "%s %s: values in two calls differ (hd %d n %d G %d)",
                   impl ? isa : "portable", v ? "f16" : "f32", hd, n, G);
        }
    /* the scalar definition, for the first query: the portable code is the reference's order */
    for (int j = 0; j < n; j++) {
        float s = 0.0f;
        for (int i = 0; i < hd; i++) s += q[i] * k32[lt_kv_k_index(hd, i, j)];
        CHECKF(memcmp(&s, &s_want[j], sizeof s) == 0, "score %d: %g vs %g", j, (double)s, (double)s_want[j]);
    }
    for (int d = 0; d < hd; d++) {
        float o = 0.0f;
        for (int j = 0; j < n; j++) o += p[j] * v32[lt_kv_v_index(vr, j, d)];
        CHECKF(memcmp(&o, &o_want[d], sizeof o) == 0, "value %d: %g vs %g", d, (double)o, (double)o_want[d]);
    }
    free(k32); free(v32); free(k16); free(v16); free(q); free(p); free(s_want); free(s_got); free(o_want); free(o_got);
}

static void check_conversion(void (*convert)(uint16_t *, const float *, int64_t), const char *isa) {
    enum { N = 4099 };
    float *x = malloc(sizeof(float) * N);
    uint16_t *got = malloc(2 * N);
    for (int i = 0; i < N; i++) {
        switch (i % 6) {
        case 0: x[i] = test_frand() * 1000.0f; break;
        case 1: x[i] = lt_fp16_to_fp32((uint16_t)test_rnd()) * (test_rnd() % 2 ? 1.0f : -1.0f); break;   /* exact */
        case 2: x[i] = ldexpf((float)(test_rnd() % 4096) + 0.5f, -24 - (int)(test_rnd() % 3)); break;   /* subnormal, ties */
        case 3: x[i] = ldexpf((float)(2048 + test_rnd() % 2048) + 0.5f, -(int)(test_rnd() % 20)); break; /* normal ties */
        case 4: x[i] = (test_rnd() % 2 ? 1.0f : -1.0f) * (65504.0f + (float)(test_rnd() % 64)); break;     /* near overflow */
        default: x[i] = test_rnd() % 2 ? 0.0f : -0.0f; break;
        }
        if (isnan(x[i])) x[i] = 1.0f; /* NaN payloads may differ between conversions */
    }
    convert(got, x, N);
    int bad = 0;
    for (int i = 0; i < N; i++)
        if (got[i] != lt_fp32_to_fp16(x[i]) && bad++ < 5)
            fprintf(stderr, "%s: %a -> %04x, want %04x\n", isa, (double)x[i], got[i], lt_fp32_to_fp16(x[i]));
    CHECKF(bad == 0, "%s: %d conversions differ", isa, bad);
    free(x);
    free(got);
}

int main(void) {
    test_rng_seed(7);
    static const int hds[] = { 8, 64, 80, 128, 40 };
    static const int ns[] = { 1, 2, 15, 16, 17, 33, 64, 70 };
    typedef struct { const char *name; scores_fn s; values_fn v; void (*conv)(uint16_t *, const float *, int64_t); } impl;
    impl isas[3] = {
        { "portable", lt_att_scores_portable, lt_att_values_portable, lt_f16_from_f32_row_portable },
    };
    int n_isas = 1;
#ifdef LUTLM_HAVE_X86_KERNELS
    if (lt_isa_available(LT_ISA_AVX2))
        isas[n_isas++] = (impl){ "avx2", lt_att_scores_avx2, lt_att_values_avx2, lt_f16_from_f32_row_avx2 };
    if (lt_isa_available(LT_ISA_AVX512)) /* its own products, AVX2's row conversion */
        isas[n_isas++] = (impl){ "avx512", lt_att_scores_avx512, lt_att_values_avx512, lt_f16_from_f32_row_avx2 };
#endif
    for (int a = 0; a < n_isas; a++) {
        for (size_t h = 0; h < LT_ARRAY_LEN(hds); h++)
            for (size_t j = 0; j < LT_ARRAY_LEN(ns); j++)
                for (int G = 1; G <= LT_ATT_MAX_G; G++)
                    check_case(hds[h], ns[j], G, lt_att_scores_portable, lt_att_values_portable, isas[a].s, isas[a].v, isas[a].name);
        check_conversion(isas[a].conv, isas[a].name);
    }
    /* the dispatching entry points (whatever ISA is active) */
    check_case(64, 37, 3, lt_att_scores_portable, lt_att_values_portable, lt_att_scores, lt_att_values, "dispatch");
    check_conversion(lt_f16_from_f32_row, "dispatch");
    return TEST_DONE();
}
