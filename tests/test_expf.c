/* lt_expf has libm's bits (glibc >= 2.28: the same algorithm; checked on a sample of every float,
 * the whole range having been checked once, see docs/kernels.md), and the softmax of every ISA has
 * the portable code's bits, on rows whose exponentials reach every branch (underflow to 0, glibc's
 * least-subnormal band, subnormal and normal results). */
#include <math.h>

#include "common/expf.h"
#include "common/util.h"
#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "test_util.h"

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void check_libm(void) {
#if defined(__GLIBC__) && defined(__x86_64__)
    int64_t differ = 0, count = 0;
    for (uint64_t u = 0; u <= UINT32_MAX; u += 997) {
        uint32_t b = (uint32_t)u;
        float x;
        memcpy(&x, &b, sizeof x);
        float want = expf(x), got = lt_expf(x);
        count++;
        if (bits_of(want) != bits_of(got) && !(isnan(want) && isnan(got)) && differ++ < 5)
            fprintf(stderr, "expf(%a): libm %a, lt_expf %a\n", (double)x, (double)want, (double)got);
    }
    CHECKF(differ == 0, "%lld of %lld inputs differ from libm", (long long)differ, (long long)count);
#else
    fprintf(stderr, "(not glibc on x86-64: lt_expf not compared with libm)\n");
#endif
    /* the edges of the special cases */
    CHECK(lt_expf(0.0f) == 1.0f && lt_expf(-0.0f) == 1.0f);
    CHECK(lt_expf(-INFINITY) == 0.0f && isinf(lt_expf(INFINITY)) && isnan(lt_expf(NAN)));
    CHECK(isinf(lt_expf(nextafterf(LT_EXPF_OVERFLOW, INFINITY))) && !isinf(lt_expf(LT_EXPF_OVERFLOW)));
    CHECK(lt_expf(nextafterf(LT_EXPF_UNDERFLOW, -INFINITY)) == 0.0f && lt_expf(LT_EXPF_UNDERFLOW) > 0.0f);
    CHECK(lt_expf(nextafterf(LT_EXPF_MAY_UNDERFLOW, -INFINITY)) == 0x1p-149f);
}

typedef void (*softmax_fn)(float *, int, float);

/* A row of n scores spread over [-spread, 0] (times scale), softmaxed by both functions. */
static void check_softmax(softmax_fn fn, const char *isa, int n, float spread, float scale) {
    float *want = malloc(sizeof(float) * (size_t)n), *got = malloc(sizeof(float) * (size_t)n);
    for (int j = 0; j < n; j++) want[j] = got[j] = scale * spread * 0.5f * (test_frand() - 1.0f);
    lt_att_softmax_portable(want, n, scale);
    fn(got, n, scale);
    int bad = 0;
    for (int j = 0; j < n; j++)
        if (bits_of(got[j]) != bits_of(want[j]) && bad++ < 3)
            fprintf(stderr, "%s n %d spread %g: p[%d] %a, want %a\n", isa, n, (double)spread, j, (double)got[j], (double)want[j]);
    CHECKF(bad == 0, "%s: softmax of %d scores (spread %g) differs", isa, n, (double)spread);
    free(want);
    free(got);
}

int main(void) {
    test_rng_seed(11);
    check_libm();
    static const int ns[] = { 1, 2, 7, 8, 9, 15, 16, 17, 31, 100, 257, 2049 };
    static const float spreads[] = { 0.5f, 10.0f, 90.0f, 104.0f, 110.0f, 300.0f };
    softmax_fn fns[3] = { lt_att_softmax_portable, lt_att_softmax };
    const char *names[3] = { "portable", "dispatch" };
    int n_fns = 2;
#ifdef LUTLM_HAVE_X86_KERNELS
    if (lt_isa_available(LT_ISA_AVX2)) fns[n_fns] = lt_att_softmax_avx2, names[n_fns++] = "avx2";
#endif
    for (int f = 0; f < n_fns; f++)
        for (size_t i = 0; i < LT_ARRAY_LEN(ns); i++)
            for (size_t k = 0; k < LT_ARRAY_LEN(spreads); k++) check_softmax(fns[f], names[f], ns[i], spreads[k], 11.3137085f);
    /* exponentials in the least-subnormal band, and ties of the maximum */
    float row[24], ref[24];
    for (int j = 0; j < 24; j++) row[j] = ref[j] = j % 3 == 0 ? 0.0f : -103.5f - 0.01f * (float)j;
    lt_att_softmax_portable(ref, 24, 1.0f);
    lt_att_softmax(row, 24, 1.0f);
    CHECK(memcmp(row, ref, sizeof row) == 0);
    return TEST_DONE();
}
