/* lt_expf: see expf.h. */
#include "common/expf.h"

#include <math.h>
#include <string.h>

const uint64_t lt_expf_tab[1 << LT_EXPF_TABLE_BITS] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

static uint64_t bits_of(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double double_of(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

float lt_expf(float x) {
    if (isnan(x)) return x + x;
    if (x > LT_EXPF_OVERFLOW) return INFINITY;
    if (x < LT_EXPF_UNDERFLOW) return 0.0f;
    if (x < LT_EXPF_MAY_UNDERFLOW) return 0x1p-149f;
    double xd = x;
    double kd = fma(xd, LT_EXPF_INVLN2_N, LT_EXPF_SHIFT); /* k in the low bits */
    uint64_t ki = bits_of(kd);
    kd -= LT_EXPF_SHIFT;
    double r = fma(LT_EXPF_INVLN2_N, xd, -kd);
    double s = double_of(lt_expf_tab[ki % (1 << LT_EXPF_TABLE_BITS)] + (ki << (52 - LT_EXPF_TABLE_BITS)));
    double p = fma(r, LT_EXPF_C0, LT_EXPF_C1);
    double q = fma(r, LT_EXPF_C2, 1.0);
    double y = fma(p, r * r, q);
    return (float)(y * s);
}
