/* Ternarization and the I2_S-style 2-bit block packing (see ternary.h). */
#include "formats/ternary.h"

#include <math.h>
#include <string.h>

float lt_ternary_scale(const float *w, int64_t n) {
    /* Already ternary? Then every nonzero magnitude equals the first one. */
    float s = 0.0f;
    bool exact = true;
    double sum_abs = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(w[i]);
        sum_abs += a;
        if (a == 0.0f) continue;
        if (s == 0.0f) s = a;
        else if (a != s) exact = false;
    }
    if (exact) return s;
    return n > 0 ? (float)(sum_abs / (double)n) : 0.0f;
}

uint8_t lt_ternary_code(float w, float scale) {
    if (!(scale > 0.0f)) return 1;
    float t = roundf(w / scale); /* NaN compares false below and becomes 0 */
    if (t >= 1.0f) return 2;
    if (t <= -1.0f) return 0;
    return 1;
}

void lt_i2_pack_block(const float *w, int count, float scale, uint8_t *block) {
    uint8_t codes[LT_I2_BLOCK];
    for (int i = 0; i < LT_I2_BLOCK; i++) codes[i] = i < count ? lt_ternary_code(w[i], scale) : 1;
    for (int j = 0; j < LT_I2_BLOCK_BYTES; j++)
        block[j] = (uint8_t)(codes[j] << 6 | codes[j + 32] << 4 | codes[j + 64] << 2 | codes[j + 96]);
}

void lt_i2_unpack_block(const uint8_t *block, float scale, float *dst, int count) {
    static const float value_of_code[4] = { -1.0f, 0.0f, 1.0f, 0.0f };
    for (int i = 0; i < count; i++) {
        int shift = 6 - 2 * (i / 32);
        int code = (block[i % 32] >> shift) & 3;
        dst[i] = value_of_code[code] * scale;
    }
}
