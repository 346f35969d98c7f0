/* NEON LUT kernels: the AVX2 kernels (x86/lut_avx2.c) with 128-bit vectors. Results equal
 * lt_gemv_ref bit for bit.
 *
 * GEMV: a 32-row tile is two halves of 16 rows. vqtbl1q_u8 looks up the 16 low and the 16 high
 * bytes of a slot's int16 entries (one table register each); vzip1q/vzip2q_u8 glue them into
 * int16 for rows 0-7 and 8-15 of the half (no lane split as on AVX2). Widening every 64 slots,
 * planes shifted by their index, then vfmaq_f32 (= fmaf) at group ends, as in the reference.
 * Vector-LUT GEMM: one index byte selects 32 int16 token sums, added with four 128-bit adds. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on aarch64 only. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "common/util.h"
#include "kernels/arm/f16_neon.h"
#include "kernels/kernels_impl.h"

#define CHUNK_PAIRS (LT_CHUNK_SLOTS / 2)

/* d[0..7] (int32, rows 4i..4i+3) += the int16 row sums acc[h][q] (rows 16h + 8q ..) << shift. */
static inline void widen_add(int32x4_t d[8], int16x8_t acc[2][2], int shift) {
    int32x4_t sh = vdupq_n_s32(shift);
    for (int h = 0; h < 2; h++)
        for (int q = 0; q < 2; q++) {
            int k = 4 * h + 2 * q;
            d[k] = vaddq_s32(d[k], vshlq_s32(vmovl_s16(vget_low_s16(acc[h][q])), sh));
            d[k + 1] = vaddq_s32(d[k + 1], vshlq_s32(vmovl_high_s16(acc[h][q]), sh));
        }
}

static inline __attribute__((always_inline)) void tile_dot(const uint8_t *wt, const uint8_t *tab, int64_t p0,
                                                           int64_t p1, const int P, int32x4_t d[8]) {
    const uint8x16_t nib = vdupq_n_u8(0x0F);
    for (int i = 0; i < 8; i++) d[i] = vdupq_n_s32(0);
    for (int64_t c0 = p0; c0 < p1; c0 += CHUNK_PAIRS) {
        int64_t c1 = LT_MIN(c0 + CHUNK_PAIRS, p1);
        int16x8_t acc[4][2][2];
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++)
            for (int h = 0; h < 2; h++) acc[j][h][0] = acc[j][h][1] = vdupq_n_s16(0);
        for (int64_t p = c0; p < c1; p++) {
            const uint8_t *t = tab + p * 64;
            uint8x16_t tl0 = vld1q_u8(t), th0 = vld1q_u8(t + 16), tl1 = vld1q_u8(t + 32), th1 = vld1q_u8(t + 48);
            const uint8_t *wp = wt + p * P * LT_TILE;
            _Pragma("GCC unroll 4")
            for (int j = 0; j < P; j++)
                for (int h = 0; h < 2; h++) {
                    uint8x16_t v = vld1q_u8(wp + j * LT_TILE + 16 * h);
                    uint8x16_t lo = vandq_u8(v, nib), hi = vshrq_n_u8(v, 4);
                    uint8x16_t a0 = vqtbl1q_u8(tl0, lo), b0 = vqtbl1q_u8(th0, lo);
                    uint8x16_t a1 = vqtbl1q_u8(tl1, hi), b1 = vqtbl1q_u8(th1, hi);
                    int16x8_t r0 = vaddq_s16(vreinterpretq_s16_u8(vzip1q_u8(a0, b0)), vreinterpretq_s16_u8(vzip1q_u8(a1, b1)));
                    int16x8_t r1 = vaddq_s16(vreinterpretq_s16_u8(vzip2q_u8(a0, b0)), vreinterpretq_s16_u8(vzip2q_u8(a1, b1)));
                    acc[j][h][0] = vaddq_s16(acc[j][h][0], r0);
                    acc[j][h][1] = vaddq_s16(acc[j][h][1], r1);
                }
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++) widen_add(d, acc[j], j);
    }
}

static void store_rows(const lt_qweight *w, int64_t tile, float *yn, const float32x4_t out[8]) {
    int64_t row0 = tile * LT_TILE;
    float tmp[LT_TILE];
    for (int i = 0; i < 8; i++) vst1q_f32(tmp + 4 * i, out[i]);
    memcpy(yn + row0, tmp, (size_t)LT_MIN(LT_TILE, w->m - row0) * sizeof(float));
}

static inline __attribute__((always_inline)) void gemv_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const int P) {
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t stride = a->gemv_slots[w->kind] * 32, gpairs = lt_qw_group_slots(w) / 2;
    for (int64_t tile = t0; tile < t1; tile++) {
        const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
        for (int64_t n = 0; n < a->n; n++) {
            const uint8_t *tab = a->gemv_tab[w->kind] + n * stride;
            float32x4_t act = vdupq_n_f32(a->scale[n]), out[8];
            int32x4_t d[8];
            if (w->per_row) {
                tile_dot(wt, tab, 0, w->nslots / 2, P, d);
                const float *sc = w->scale + tile * LT_TILE;
                for (int i = 0; i < 8; i++) out[i] = vmulq_f32(vcvtq_f32_s32(d[i]), vmulq_f32(vld1q_f32(sc + 4 * i), act));
            } else {
                float32x4_t f[8];
                for (int i = 0; i < 8; i++) f[i] = vdupq_n_f32(0.0f);
                for (int64_t g = 0; g < w->ngroups; g++) {
                    tile_dot(wt, tab, g * gpairs, (g + 1) * gpairs, P, d);
                    const uint16_t *sm = lt_qw_gsm(w, tile, g);
                    for (int i = 0; i < 8; i++) f[i] = vfmaq_f32(f[i], load_f16x4(sm + 4 * i), vcvtq_f32_s32(d[i]));
                    if (lt_qw_has_offset(w)) {
                        float32x4_t sum = vdupq_n_f32((float)a->gsum[n * a->gsum_ngroups + g]);
                        for (int i = 0; i < 8; i++) f[i] = vfmaq_f32(f[i], load_f16x4(sm + LT_TILE + 4 * i), sum);
                    }
                }
                for (int i = 0; i < 8; i++) out[i] = vmulq_f32(f[i], act);
            }
            store_rows(w, tile, y + n * w->m, out);
        }
    }
}

void lt_gemv_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    switch (w->planes) {
    case 1: gemv_tiles(w, a, t0, t1, y, 1); break;
    case 2: gemv_tiles(w, a, t0, t1, y, 2); break;
    case 3: gemv_tiles(w, a, t0, t1, y, 3); break;
    default: gemv_tiles(w, a, t0, t1, y, 4); break;
    }
}

/* ---- vector-LUT GEMM (same loop structure as lt_vlut_avx2) ---- */

#define NB LT_VLUT_NB
#define SLOT_BYTES (LT_VLUT_SLOT * NB * 2)

static inline __attribute__((always_inline)) void vlut_row(const uint8_t *wt, int r, const int16_t *tab, int64_t s0,
                                                           int64_t s1, const int P, int32_t *ip) {
    int16x8_t acc[4][4];
    _Pragma("GCC unroll 4")
    for (int j = 0; j < P; j++)
        for (int i = 0; i < 4; i++) acc[j][i] = vdupq_n_s16(0);
    const uint8_t *tp = (const uint8_t *)(tab + s0 * LT_VLUT_SLOT * NB);
    const uint8_t *wp = wt + (s0 / 2) * P * LT_TILE + r;
    for (int64_t s = s0; s < s1; s += 2, tp += 2 * SLOT_BYTES, wp += P * LT_TILE) {
        _Pragma("GCC unroll 4")
        for (int j = 0; j < P; j++) {
            unsigned b = wp[j * LT_TILE];
            const int16_t *e0 = (const int16_t *)(tp + ((b & 15) << 6));
            const int16_t *e1 = (const int16_t *)(tp + SLOT_BYTES + ((b >> 4) << 6));
            for (int i = 0; i < 4; i++) acc[j][i] = vaddq_s16(acc[j][i], vaddq_s16(vld1q_s16(e0 + 8 * i), vld1q_s16(e1 + 8 * i)));
        }
    }
    _Pragma("GCC unroll 4")
    for (int j = 0; j < P; j++) {
        int32x4_t sh = vdupq_n_s32(j);
        for (int i = 0; i < 4; i++) {
            vst1q_s32(ip + 8 * i, vaddq_s32(vld1q_s32(ip + 8 * i), vshlq_s32(vmovl_s16(vget_low_s16(acc[j][i])), sh)));
            vst1q_s32(ip + 8 * i + 4, vaddq_s32(vld1q_s32(ip + 8 * i + 4), vshlq_s32(vmovl_high_s16(acc[j][i]), sh)));
        }
    }
}

static inline __attribute__((always_inline)) void vlut_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const int P) {
    enum { CHUNK_TILES = LT_VLUT_ROWS / LT_TILE };
    static _Thread_local int32_t ipart[LT_VLUT_ROWS][NB];
    static _Thread_local float fpart[LT_VLUT_ROWS][NB];
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t per_block = a->vlut_slots[w->kind] * LT_VLUT_SLOT * NB, gslots = lt_qw_group_slots(w);
    for (int64_t b = 0; b < lt_act_blocks(a); b++) {
        const int16_t *tab = a->vlut_tab[w->kind] + b * per_block;
        for (int64_t c0 = t0; c0 < t1; c0 += CHUNK_TILES) {
            int64_t c1 = LT_MIN(c0 + CHUNK_TILES, t1), rows = (c1 - c0) * LT_TILE;
            memset(ipart, 0, sizeof ipart);
            memset(fpart, 0, sizeof fpart);
            for (int64_t g = 0; g < w->ngroups; g++) {
                for (int64_t s0 = g * gslots; s0 < (g + 1) * gslots; s0 += LT_VLUT_KBLOCK) {
                    int64_t s1 = LT_MIN(s0 + LT_VLUT_KBLOCK, (g + 1) * gslots);
                    for (int64_t tile = c0; tile < c1; tile++) {
                        const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
                        for (int r = 0; r < LT_TILE; r++) vlut_row(wt, r, tab, s0, s1, P, ipart[(tile - c0) * LT_TILE + r]);
                    }
                }
                if (w->per_row) continue;
                const float *gs = a->gsumf ? a->gsumf + (b * a->gsum_ngroups + g) * NB : NULL;
                for (int64_t i = 0; i < rows; i++) {
                    float sg, mg;
                    lt_qw_group_sm(w, c0 * LT_TILE + i, g, &sg, &mg);
                    float32x4_t s = vdupq_n_f32(sg);
                    for (int q = 0; q < NB; q += 4) {
                        float32x4_t f = vfmaq_f32(vld1q_f32(fpart[i] + q), s, vcvtq_f32_s32(vld1q_s32(ipart[i] + q)));
                        if (gs) f = vfmaq_f32(f, vdupq_n_f32(mg), vld1q_f32(gs + q));
                        vst1q_f32(fpart[i] + q, f);
                        vst1q_s32(ipart[i] + q, vdupq_n_s32(0));
                    }
                }
            }
            lt_vlut_store_outputs(w, a, c0 * LT_TILE, rows, b * NB, ipart, fpart, y);
        }
    }
}

void lt_vlut_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    switch (w->planes) {
    case 1: vlut_tiles(w, a, t0, t1, y, 1); break;
    case 2: vlut_tiles(w, a, t0, t1, y, 2); break;
    case 3: vlut_tiles(w, a, t0, t1, y, 3); break;
    default: vlut_tiles(w, a, t0, t1, y, 4); break;
    }
}

#endif
