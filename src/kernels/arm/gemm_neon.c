/* NEON int8 GEMM for many tokens: the AVX2 kernel (x86/gemm_avx2.c) with 128-bit vectors and
 * widening multiply-accumulate. Results equal lt_gemv_ref bit for bit.
 *
 * Codes are decoded per tile and K-block into the layout of gemm.h (shifts as on AVX2; TERN3 by
 * digit lookups, see decode_tern3). A 16-byte
 * load holds 4 rows x 4 weights; with x_t[4q .. 4q+3] broadcast to every 32-bit lane,
 *   acc16 += vmlal_s8(rows r, r+1) and vmlal_high_s8(rows r+2, r+3)
 * adds one product per int16 lane per kquad (|c x| <= 15 * 127: the chunk limits of gemm.h hold).
 * Half a tile (16 rows) x 2 tokens = 16 accumulators. At a chunk end vpaddlq_s16 + vpaddq_s32 sum
 * each row's 4 lanes into int32; group ends and outputs use the reference's float steps
 * (vfmaq_f32 = fmaf). */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on aarch64 only. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "common/util.h"
#include "kernels/arm/f16_neon.h"
#include "kernels/gemm.h"

#define NB LT_GEMM_NB
#define KQ LT_GEMM_KQ

static inline int8x16_t broadcast4(const int8_t *x) {
    int32_t v;
    memcpy(&v, x, 4);
    return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

/* b | b << s1 | b << s2 | b << s3 for the 8 index bytes at v, zero-extended: rows 0-3 and 4-7. */
static inline void spread8(const uint8_t *v, int s1, int s2, int s3, uint32x4_t e[2]) {
    uint16x8_t h = vmovl_u8(vld1_u8(v));
    uint32x4_t d[2] = { vmovl_u16(vget_low_u16(h)), vmovl_high_u16(h) };
    for (int i = 0; i < 2; i++)
        e[i] = vorrq_u32(vorrq_u32(d[i], vshlq_u32(d[i], vdupq_n_s32(s1))),
                         vorrq_u32(vshlq_u32(d[i], vdupq_n_s32(s2)), vshlq_u32(d[i], vdupq_n_s32(s3))));
}

enum { T3_PLANES = 4 * KQ + 2 }; /* code planes of a K-block: 4 KQ weights, from up to 2 before it */

/* TERN3: the codes c = t + 1 of weights [4 q0, 4 q1) of a tile into the kquad layout (as
 * x86/gemm_avx2.c). First per group g (the 3 weights 3g .. 3g+2 that meet the range) one plane
 * of 32 rows per weight, per half of 16 rows:
 *   m = |v| (nibble), mask = vtstq_u8(sign byte, g's bit) (0xFF where v < 0),
 *   c_i = (digit_i[m] ^ mask) + (1 - mask)   (x ^ 0xFF = -x - 1, so c_i = -digit_i + 1 there);
 * then per kquad vst4q_u8 interleaves its four planes into rows (4 bytes per row). Weights past
 * kp are c = 1 (t = 0; x is 0 there). */
static void decode_tern3(const uint8_t *wt, int64_t nslots, int64_t q0, int64_t q1, uint8_t *codes) {
    _Alignas(16) uint8_t planes[T3_PLANES + 2][LT_TILE];
    const uint8x16_t nib = vdupq_n_u8(15), one = vdupq_n_u8(1);
    const uint8x16_t d[3] = { vld1q_u8((const uint8_t *)lt_t3_digits[0]), vld1q_u8((const uint8_t *)lt_t3_digits[1]),
                              vld1q_u8((const uint8_t *)lt_t3_digits[2]) };
    int64_t gf = 4 * q0 / 3, gl = LT_MIN((4 * q1 + 2) / 3, nslots);
    for (int64_t g = gf; g < gl; g++) {
        const uint8_t *blk = wt + (size_t)(g / LT_T3_GROUPS) * LT_T3_VECS * LT_TILE;
        int j = (int)(g % LT_T3_GROUPS), half = j / 7, jj = j % 7;
        const uint8x16_t bit = vdupq_n_u8((uint8_t)(0x80 >> jj));
        uint8_t *out = planes[3 * (g - gf)];
        for (int h = 0; h < 2; h++) {
            uint8x16_t v = vld1q_u8(blk + (2 + jj) * LT_TILE + 16 * h);
            uint8x16_t m = half ? vshrq_n_u8(v, 4) : vandq_u8(v, nib);
            uint8x16_t mask = vtstq_u8(vld1q_u8(blk + half * LT_TILE + 16 * h), bit), add = vsubq_u8(one, mask);
            for (int i = 0; i < 3; i++)
                vst1q_u8(out + i * LT_TILE + 16 * h, vaddq_u8(veorq_u8(vqtbl1q_u8(d[i], m), mask), add));
        }
    }
    for (int64_t k = 3 * gl; k < 4 * q1; k++) memset(planes[k - 3 * gf], 1, LT_TILE); /* past kp */
    for (int64_t q = q0; q < q1; q++) {
        const uint8_t *pl = planes[4 * q - 3 * gf];
        for (int h = 0; h < 2; h++) {
            uint8x16x4_t r = { { vld1q_u8(pl + 16 * h), vld1q_u8(pl + LT_TILE + 16 * h), vld1q_u8(pl + 2 * LT_TILE + 16 * h),
                                 vld1q_u8(pl + 3 * LT_TILE + 16 * h) } };
            vst4q_u8(codes + (q - q0) * 128 + 64 * h, r); /* row 16 h + r at bytes 4 r .. 4 r + 3 */
        }
    }
}

/* The decoding of x86/gemm_avx2.c (see there why the shifts work): ternary fields of 2 bits
 * (shifts 6, 12, 18), or plane bits (shifts 7, 14, 21) gathered into nibbles; TERN3 above. */
static void decode_codes(const lt_qweight *w, int64_t tile, int64_t q0, int64_t q1, uint8_t *codes) {
    const uint8_t *wt = w->idx + (size_t)tile * lt_qw_tile_bytes(w);
    if (w->kind == LT_QK_TERN3) {
        decode_tern3(wt, w->nslots, q0, q1, codes);
        return;
    }
    if (w->kind == LT_QK_TERNARY) {
        const uint32x4_t m3 = vdupq_n_u32(0x03030303);
        for (int64_t q = q0; q < q1; q++)
            for (int r = 0; r < LT_TILE; r += 8) {
                uint32x4_t e[2];
                spread8(wt + q * LT_TILE + r, 6, 12, 18, e);
                uint8_t *out = codes + (q - q0) * 128 + 4 * r;
                vst1q_u32((uint32_t *)out, vandq_u32(e[0], m3));
                vst1q_u32((uint32_t *)(out + 16), vandq_u32(e[1], m3));
            }
        return;
    }
    const uint32x4_t m11 = vdupq_n_u32(0x11111111), m0f = vdupq_n_u32(0x0F0F0F0F);
    int P = w->planes;
    for (int64_t p = q0 / 2; p < q1 / 2; p++)
        for (int r = 0; r < LT_TILE; r += 8) {
            uint32x4_t x[2] = { vdupq_n_u32(0), vdupq_n_u32(0) };
            for (int j = 0; j < P; j++) {
                uint32x4_t e[2];
                spread8(wt + (p * P + j) * LT_TILE + r, 7, 14, 21, e);
                for (int i = 0; i < 2; i++) x[i] = vorrq_u32(x[i], vshlq_u32(vandq_u32(e[i], m11), vdupq_n_s32(j)));
            }
            uint8_t *lo = codes + (2 * p - q0) * 128 + 4 * r, *hi = lo + 128;
            for (int i = 0; i < 2; i++) {
                vst1q_u32((uint32_t *)(lo + 16 * i), vandq_u32(x[i], m0f));
                vst1q_u32((uint32_t *)(hi + 16 * i), vandq_u32(vshrq_n_u32(x[i], 4), m0f));
            }
        }
}

/* ip[t][0..31] += Σ_{q < nq} Σ_i codes[q][row][i] * x[t][4q + i] for T tokens (1 or 2). */
static inline __attribute__((always_inline)) void block_dot(const uint8_t *codes, int64_t nq, int64_t chunk,
                                                            const int8_t *const x[2], const int T, int32_t (*ip)[LT_TILE]) {
    for (int h = 0; h < 2; h++)
        for (int64_t c0 = 0; c0 < nq; c0 += chunk) {
            int64_t c1 = LT_MIN(c0 + chunk, nq);
            int16x8_t acc[2][8];
            for (int t = 0; t < T; t++)
                for (int i = 0; i < 8; i++) acc[t][i] = vdupq_n_s16(0);
            for (int64_t q = c0; q < c1; q++) {
                const int8_t *wq = (const int8_t *)codes + q * 128 + 64 * h;
                int8x16_t wv[4] = { vld1q_s8(wq), vld1q_s8(wq + 16), vld1q_s8(wq + 32), vld1q_s8(wq + 48) };
                for (int t = 0; t < T; t++) {
                    int8x16_t xb = broadcast4(x[t] + 4 * q);
                    for (int i = 0; i < 4; i++) {
                        acc[t][2 * i] = vmlal_s8(acc[t][2 * i], vget_low_s8(wv[i]), vget_low_s8(xb));
                        acc[t][2 * i + 1] = vmlal_high_s8(acc[t][2 * i + 1], wv[i], xb);
                    }
                }
            }
            for (int t = 0; t < T; t++)
                for (int i = 0; i < 4; i++) {
                    int32x4_t rows = vpaddq_s32(vpaddlq_s16(acc[t][2 * i]), vpaddlq_s16(acc[t][2 * i + 1]));
                    int32_t *d = ip[t] + 16 * h + 4 * i;
                    vst1q_s32(d, vaddq_s32(vld1q_s32(d), rows));
                }
        }
}

/* The block's tokens x0 + t * kx, two at a time. */
static void block_vmlal(const uint8_t *codes, int64_t nq, int64_t chunk, const int8_t *x0, int64_t kx, int nt,
                        int32_t (*ip)[LT_TILE]) {
    int t = 0;
    for (; t + 2 <= nt; t += 2) {
        const int8_t *x[2] = { x0 + t * kx, x0 + (t + 1) * kx };
        block_dot(codes, nq, chunk, x, 2, ip + t);
    }
    if (t < nt) {
        const int8_t *x[2] = { x0 + t * kx, NULL };
        block_dot(codes, nq, chunk, x, 1, ip + t);
    }
}

/* End of scale group g: f = fmaf(s, (float)dot, f) [+ fmaf(m, (float)Σx, f)], dot = ip (- Σx for
 * ternary codes); ip restarts at zero. */
static void group_end(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t g, int64_t tok0, int nt,
                      int32_t (*ip)[LT_TILE], float (*fp)[LT_TILE]) {
    const uint16_t *s = lt_qw_gsm(w, tile, g), *m = lt_qw_has_offset(w) ? s + LT_TILE : NULL;
    bool ternary = lt_qw_ternary(w);
    for (int t = 0; t < nt; t++) {
        int32_t sum = a->gsum[(tok0 + t) * a->gsum_ngroups + g];
        int32x4_t sub = vdupq_n_s32(ternary ? sum : 0);
        float32x4_t fsum = vdupq_n_f32((float)sum);
        for (int r = 0; r < LT_TILE; r += 4) {
            float32x4_t dot = vcvtq_f32_s32(vsubq_s32(vld1q_s32(ip[t] + r), sub));
            float32x4_t f = vfmaq_f32(vld1q_f32(fp[t] + r), load_f16x4(s + r), dot);
            if (m) f = vfmaq_f32(f, load_f16x4(m + r), fsum);
            vst1q_f32(fp[t] + r, f);
            vst1q_s32(ip[t] + r, vdupq_n_s32(0));
        }
    }
}

/* y for the block's tokens and the tile's rows: per row (float)(ip - Σx) * (s * a), else fp * a. */
static void store_outputs(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t tok0, int nt,
                          int32_t (*ip)[LT_TILE], float (*fp)[LT_TILE], float *y) {
    const float *s = w->per_row ? w->scale + tile * LT_TILE : NULL;
    int64_t row0 = tile * LT_TILE, rows = LT_MIN(LT_TILE, w->m - row0);
    for (int t = 0; t < nt; t++) {
        int64_t tok = tok0 + t;
        float32x4_t act = vdupq_n_f32(a->scale[tok]);
        float out[LT_TILE];
        for (int r = 0; r < LT_TILE; r += 4) {
            float32x4_t o;
            if (w->per_row) {
                int32x4_t d = vsubq_s32(vld1q_s32(ip[t] + r), vdupq_n_s32(a->gsum[tok * a->gsum_ngroups]));
                o = vmulq_f32(vcvtq_f32_s32(d), vmulq_f32(vld1q_f32(s + r), act));
            } else {
                o = vmulq_f32(vld1q_f32(fp[t] + r), act);
            }
            vst1q_f32(out + r, o);
        }
        memcpy(y + tok * w->m + row0, out, (size_t)rows * sizeof(float));
    }
}

/* Tiles [t0, t1) for every token, with `block` doing the integer dots of one decoded K-block. */
void lt_gemm_neon_tiles(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y, lt_gemm_block_fn block) {
    _Alignas(16) uint8_t codes[KQ * 128];
    _Alignas(16) int32_t ip[NB][LT_TILE];
    _Alignas(16) float fp[NB][LT_TILE];
    int64_t gq = (w->group + 3) / 4, chunk = lt_gemm_chunk(w); /* TERN3: kp = 42 n, the last kquad padded */
    for (int64_t tok0 = 0; tok0 < a->n; tok0 += NB) {
        int nt = (int)LT_MIN(NB, a->n - tok0);
        for (int64_t tile = t0; tile < t1; tile++) {
            memset(ip, 0, (size_t)nt * sizeof ip[0]);
            memset(fp, 0, (size_t)nt * sizeof fp[0]);
            for (int64_t g = 0; g < w->ngroups; g++) {
                for (int64_t q0 = g * gq; q0 < (g + 1) * gq; q0 += KQ) {
                    int64_t q1 = LT_MIN(q0 + KQ, (g + 1) * gq);
                    decode_codes(w, tile, q0, q1, codes);
                    block(codes, q1 - q0, chunk, a->xq + tok0 * a->kx + 4 * q0, a->kx, nt, ip);
                }
                if (!w->per_row) group_end(w, a, tile, g, tok0, nt, ip, fp);
            }
            store_outputs(w, a, tile, tok0, nt, ip, fp, y);
        }
    }
}

void lt_gemm_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    lt_gemm_neon_tiles(w, a, t0, t1, y, block_vmlal);
}

#endif
