/* Format registry unit tests: lookups, tensor sizes, known-answer layouts, and quantize ->
 * dequantize round trips with their error bounds (no files needed). */
#include <stdint.h>

#include "common/util.h"
#include "formats/formats.h"
#include "test_util.h"

static uint32_t rng_state = 12345;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state = rng_state * 1103515245u + 12345u;
    return (float)((rng_state >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}
static int trand(void) { /* uniform ternary */
    rng_state = rng_state * 1103515245u + 12345u;
    return (int)((rng_state >> 16) % 3) - 1;
}

/* Quantize nrows x ne0 floats with fmt and decode them back into out. */
static bool roundtrip(const lt_format *fmt, const float *src, int64_t ne0, int64_t nrows, float *out) {
    int64_t ne[2] = { ne0, nrows };
    uint64_t nbytes;
    if (!lt_format_tensor_bytes(fmt, ne, 2, &nbytes)) return false;
    void *data = malloc(nbytes);
    memset(data, 0xAB, nbytes);
    bool ok = fmt->quantize(src, ne0, nrows, data);
    lt_tensor t = { .name = "t", .fmt = fmt, .n_dims = 2, .ne = { ne0, nrows, 1, 1 }, .data = data, .nbytes = nbytes };
    for (int64_t r = 0; ok && r < nrows; r++) lt_tensor_dequantize_row(&t, r, out + r * ne0);
    free(data);
    return ok;
}

static void test_registry(void) {
    CHECK(lt_format_count() >= 36);
    for (int i = 0; i < lt_format_count(); i++) {
        const lt_format *f = lt_format_at(i);
        CHECK(f && f->name && f->description && f->block_size > 0 && f->block_bytes > 0);
        CHECK(lt_format_by_type(f->type_id) == f);
        CHECK(lt_format_by_name(f->name) == f);
        for (int j = 0; j < i; j++) CHECKF(lt_format_at(j)->type_id != f->type_id, "duplicate id %u", f->type_id);
    }
    CHECK(lt_format_at(-1) == NULL && lt_format_at(lt_format_count()) == NULL);
    CHECK(lt_format_by_name("Q8_0") == lt_format_by_type(LT_TYPE_Q8_0));
    CHECK(lt_format_by_name("TERN2") == lt_format_by_type(LT_TYPE_TERN2));
    CHECK(lt_format_by_name("q6_K") && lt_format_by_name("q6_K")->dequantize_row == NULL);
    CHECK(lt_format_by_name("nope") == NULL && lt_format_by_type(4) == NULL && lt_format_by_type(1025) == NULL);
    static const uint32_t decodable[] = { LT_TYPE_F32, LT_TYPE_F16, LT_TYPE_BF16, LT_TYPE_Q8_0, LT_TYPE_Q4_0,
                                          LT_TYPE_TQ1_0, LT_TYPE_TQ2_0, LT_TYPE_I2_S, LT_TYPE_TERN2 };
    for (size_t i = 0; i < LT_ARRAY_LEN(decodable); i++) {
        const lt_format *f = lt_format_by_type(decodable[i]);
        CHECK(f && f->dequantize_row && f->quantize);
    }
    CHECK(lt_format_by_type(LT_TYPE_TQ2_0)->ternary && lt_format_by_type(LT_TYPE_I2_S)->ternary &&
          !lt_format_by_type(LT_TYPE_Q8_0)->ternary);
}

static uint64_t bytes_of(uint32_t type, int64_t ne0, int64_t ne1, bool *ok) {
    int64_t ne[2] = { ne0, ne1 };
    uint64_t n = 0;
    *ok = lt_format_tensor_bytes(lt_format_by_type(type), ne, 2, &n);
    return n;
}

static void test_sizes(void) {
    bool ok;
    CHECK(bytes_of(LT_TYPE_F32, 64, 3, &ok) == 768 && ok);
    CHECK(bytes_of(LT_TYPE_F16, 5, 3, &ok) == 30 && ok);
    CHECK(bytes_of(LT_TYPE_Q8_0, 64, 3, &ok) == 204 && ok);
    CHECK(bytes_of(LT_TYPE_Q4_0, 64, 3, &ok) == 108 && ok);
    CHECK(bytes_of(LT_TYPE_TQ2_0, 512, 2, &ok) == 264 && ok);
    CHECK(bytes_of(LT_TYPE_TQ1_0, 256, 3, &ok) == 162 && ok);
    CHECK(bytes_of(LT_TYPE_Q6_K, 256, 1, &ok) == 210 && ok);
    CHECK(bytes_of(LT_TYPE_I2_S, 256, 128, &ok) == 256 * 128 / 4 + 32 && ok);
    CHECK(bytes_of(LT_TYPE_TERN2, 100, 3, &ok) == 3 * 32 + 32 && ok);
    CHECK(bytes_of(LT_TYPE_TERN2, 256, 128, &ok) == 256 * 128 / 4 + 32 && ok);
    CHECK(lt_format_row_bytes(lt_format_by_type(LT_TYPE_TERN2), 129) == 64);
    CHECK(lt_format_row_bytes(lt_format_by_type(LT_TYPE_Q8_0), 64) == 68);
    /* invalid shapes and overflow fail with a message instead of wrapping */
    bytes_of(LT_TYPE_Q8_0, 33, 1, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_I2_S, 100, 1, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_TQ2_0, 128, 1, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_F32, -1, 1, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_F32, INT64_MAX / 2, 4, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_F32, (int64_t)1 << 62, 1, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_TERN2, INT64_MAX, 64, &ok); CHECK(!ok);
    bytes_of(LT_TYPE_I2_S, (int64_t)1 << 40, (int64_t)1 << 23, &ok); CHECK(!ok);
    int64_t ne4[4] = { 32, 2, 3, 4 };
    uint64_t n;
    CHECK(lt_format_tensor_bytes(lt_format_by_type(LT_TYPE_Q8_0), ne4, 4, &n) && n == 24 * 34);
    CHECK(!lt_format_tensor_bytes(lt_format_by_type(LT_TYPE_Q8_0), ne4, 5, &n));
    CHECK(!lt_format_tensor_bytes(NULL, ne4, 1, &n));
}

/* Hand-made blocks decoded against the layouts written out in ggml / bitnet.cpp. */
static void test_known_layouts(void) {
    float out[256];
    uint8_t buf[512];
    lt_tensor t = { .name = "k", .n_dims = 1, .ne = { 0, 1, 1, 1 }, .data = buf };

    /* Q4_0: low nibble of byte j = weight j, high nibble = weight j + 16; value (q - 8) * d */
    memset(buf, 0x88, 18);
    uint16_t half = lt_fp32_to_fp16(0.5f);
    memcpy(buf, &half, 2);
    buf[2 + 3] = 0xF1; /* weight 3: (1 - 8) * 0.5, weight 19: (15 - 8) * 0.5 */
    t.fmt = lt_format_by_type(LT_TYPE_Q4_0); t.ne[0] = 32; t.nbytes = 18;
    lt_tensor_dequantize_row(&t, 0, out);
    CHECK(out[3] == -3.5f && out[19] == 3.5f && out[0] == 0.0f && out[16] == 0.0f);

    /* TQ2_0: byte m of half h holds weight 128h + 32n + m at bits 2n; f16 d after the 64 bytes */
    memset(buf, 0x55, 64); /* code 1 everywhere = 0 */
    uint16_t one = lt_fp32_to_fp16(1.0f);
    memcpy(buf + 64, &one, 2);
    buf[5] = 0x86;  /* 10 00 01 10: weight 5 -> +1, 37 -> 0, 69 -> -1, 101 -> +1 */
    buf[32] = 0x56; /* weight 128 -> +1 */
    t.fmt = lt_format_by_type(LT_TYPE_TQ2_0); t.ne[0] = 256; t.nbytes = 66;
    lt_tensor_dequantize_row(&t, 0, out);
    CHECK(out[5] == 1.0f && out[37] == 0.0f && out[69] == -1.0f && out[101] == 1.0f && out[128] == 1.0f);
    CHECK(out[4] == 0.0f && out[6] == 0.0f && out[160] == 0.0f);

    /* TQ1_0: trits (2,0,1,1,2) = 176 in base 3, stored as ceil(176 * 256 / 243) = 186, in qs[0]:
     * weights 0, 32, 64, 96, 128. qs[32] covers weights 160 + 16n; qh[1] weights 241 + 4n. */
    /* an all-zero block: every byte holds trits (1,1,1,1,1) = 121 -> ceil(121*256/243) = 128;
     * qh holds (1,1,1,1,0) = 120 -> 127 (ceil(120*256/243) = 126.4 -> 127) */
    memset(buf, 128, 48);
    memset(buf + 48, 127, 4);
    memcpy(buf + 52, &one, 2);
    buf[0] = 186;
    buf[32] = 186;
    t.fmt = lt_format_by_type(LT_TYPE_TQ1_0); t.ne[0] = 256; t.nbytes = 54;
    lt_tensor_dequantize_row(&t, 0, out);
    CHECK(out[0] == 1.0f && out[32] == -1.0f && out[64] == 0.0f && out[96] == 0.0f && out[128] == 1.0f);
    CHECK(out[160] == 1.0f && out[176] == -1.0f && out[192] == 0.0f && out[224] == 1.0f);
    int zeros = 0;
    for (int i = 0; i < 256; i++) zeros += out[i] == 0.0f;
    CHECK(zeros == 256 - 6);

    /* I2_S: byte j of a block = weights j, j+32, j+64, j+96 at bits 6, 4, 2, 0; scale at n/4 */
    memset(buf, 0x55, 64);
    buf[1] = 0x24;           /* 00 10 01 00: weight 1 -> -1, 33 -> +1, 65 -> 0, 97 -> -1 */
    buf[32 + 31] = 0x95;     /* second block (weights 128..255), byte 31: weight 159 -> +1 */
    float scale = 0.25f;
    memcpy(buf + 64, &scale, 4);
    t.fmt = lt_format_by_type(LT_TYPE_I2_S); t.ne[0] = 256; t.nbytes = 96;
    lt_tensor_dequantize_row(&t, 0, out);
    CHECK(out[1] == -0.25f && out[33] == 0.25f && out[65] == 0.0f && out[97] == -0.25f && out[159] == 0.25f);
    CHECK(out[0] == 0.0f && out[255] == 0.0f);
}

static float block_amax(const float *x, int n) {
    float m = 0;
    for (int i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    return m;
}

/* Every decoded value within bound(block amax) of the source. */
static void check_error(const char *what, const float *src, const float *out, int64_t n, int block, double rel) {
    double worst = 0;
    for (int64_t b = 0; b < n; b += block) {
        float amax = block_amax(src + b, block);
        for (int64_t i = b; i < b + block; i++) {
            double err = fabs((double)out[i] - src[i]);
            if (err > worst) worst = err;
            if (err > rel * amax + 1e-30) {
                CHECKF(0, "%s: weight %lld: %g decoded as %g (bound %g)", what, (long long)i, src[i], out[i], rel * amax);
                return;
            }
        }
    }
    fprintf(stderr, "%-6s max abs error %.3g\n", what, worst);
}

static void test_roundtrip_random(void) {
    enum { K = 512, M = 6, N = K * M };
    static float src[N], out[N];
    for (int i = 0; i < N; i++) src[i] = frand() * (1 + (i % 7)); /* different block ranges */
    src[100] = 0; src[101] = -0.0f;

    CHECK(roundtrip(lt_format_by_type(LT_TYPE_F32), src, K, M, out) && !memcmp(src, out, sizeof src));
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_F16), src, K, M, out));
    check_error("f16", src, out, N, 1, 1.0 / 2048);
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_BF16), src, K, M, out));
    check_error("bf16", src, out, N, 1, 1.0 / 256);
    /* Q8_0: half a step (amax/254) plus the f16 rounding of d (relative 2^-11, times |q| <= 127) */
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_Q8_0), src, K, M, out));
    check_error("q8_0", src, out, N, 32, 0.5 / 127 + 1.0 / 2048);
    /* Q4_0: half a step (amax/16), except the far end clamps to 7/8: at most amax/8 */
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_Q4_0), src, K, M, out));
    check_error("q4_0", src, out, N, 32, 1.0 / 8 + 1.0 / 256);
    /* ternary formats on general data: rounding to {-d, 0, d} with d = amax, so amax/2 */
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_TQ2_0), src, K, M, out));
    check_error("tq2_0", src, out, N, 256, 0.5 + 1.0 / 2048);
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_TQ1_0), src, K, M, out));
    check_error("tq1_0", src, out, N, 256, 0.5 + 1.0 / 2048);

    /* I2_S / TERN2 on general data: absmean ternarization, t = clamp(round(w / s), -1, 1) */
    double s = 0;
    for (int i = 0; i < N; i++) s += fabs(src[i]);
    float scale = (float)(s / N);
    const uint32_t absmean_types[] = { LT_TYPE_I2_S, LT_TYPE_TERN2 };
    for (int f = 0; f < 2; f++) {
        CHECK(roundtrip(lt_format_by_type(absmean_types[f]), src, K, M, out));
        int bad = 0;
        for (int i = 0; i < N; i++) {
            float t = roundf(src[i] / scale);
            t = t > 1 ? 1 : t < -1 ? -1 : t;
            if (fabsf(out[i] - t * scale) > 1e-6f * scale) bad++;
        }
        CHECKF(bad == 0, "%s: %d weights differ from absmean ternarization", lt_format_by_type(absmean_types[f])->name, bad);
    }
}

/* Ternary inputs t * s must come back exactly: any s for I2_S/TERN2 (one scale per tensor), an
 * f16-representable s for TQ1_0/TQ2_0 (d is stored as f16 and is the block's amax). */
static void test_ternary_exact(void) {
    enum { K = 768, M = 5, N = K * M };
    static float src[N], out[N];
    const float tq_scale = 0.375f, any_scale = 0.0123456f;
    for (int i = 0; i < N; i++) src[i] = (float)trand() * tq_scale;
    for (int b = 0; b < N; b += 256) src[b] = tq_scale; /* every block has its amax */
    const uint32_t tq[] = { LT_TYPE_TQ2_0, LT_TYPE_TQ1_0, LT_TYPE_I2_S, LT_TYPE_TERN2 };
    for (size_t f = 0; f < LT_ARRAY_LEN(tq); f++) {
        CHECK(roundtrip(lt_format_by_type(tq[f]), src, K, M, out));
        CHECKF(!memcmp(src, out, sizeof src), "%s not exact on ternary input", lt_format_by_type(tq[f])->name);
    }
    /* all 3^5 trit patterns in every TQ1_0 position */
    for (int i = 0; i < N; i++) src[i] = (float)(((i * 7 + i / 243) % 3) - 1);
    for (int b = 0; b < N; b += 256) src[b] = 1.0f;
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_TQ1_0), src, K, M, out) && !memcmp(src, out, sizeof src));

    /* I2_S / TERN2 with an arbitrary scale, and odd row lengths for TERN2 */
    for (int i = 0; i < N; i++) src[i] = (float)trand() * any_scale;
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_I2_S), src, K, M, out) && !memcmp(src, out, sizeof src));
    const int64_t odd_k[] = { 1, 100, 127, 129, 300 };
    for (size_t k = 0; k < LT_ARRAY_LEN(odd_k); k++) {
        CHECK(roundtrip(lt_format_by_type(LT_TYPE_TERN2), src, odd_k[k], 7, out));
        CHECKF(!memcmp(src, out, (size_t)(odd_k[k] * 7) * sizeof(float)), "tern2 K=%lld not exact", (long long)odd_k[k]);
    }
    /* an all-zero tensor */
    for (int i = 0; i < N; i++) src[i] = 0;
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_TERN2), src, K, M, out) && !memcmp(src, out, sizeof src));
    CHECK(roundtrip(lt_format_by_type(LT_TYPE_TQ2_0), src, K, M, out) && !memcmp(src, out, sizeof src));
}

/* Quantizers refuse shapes their format cannot hold (with a message), never write past the end. */
static void test_quantize_shapes(void) {
    float src[64] = { 0 };
    uint8_t dst[256];
    CHECK(!lt_format_by_type(LT_TYPE_Q8_0)->quantize(src, 33, 1, dst));
    CHECK(!lt_format_by_type(LT_TYPE_I2_S)->quantize(src, 64, 1, dst));
    CHECK(!lt_format_by_type(LT_TYPE_TQ1_0)->quantize(src, 64, 1, dst));
    CHECK(strlen(lt_error()) > 0);
}

int main(void) {
    test_registry();
    test_sizes();
    test_known_layouts();
    test_roundtrip_random();
    test_ternary_exact();
    test_quantize_shapes();
    return TEST_DONE();
}
