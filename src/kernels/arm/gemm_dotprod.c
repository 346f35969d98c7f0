/* int8 GEMM with SDOT (Armv8.2 dotprod, compiled with +dotprod; the dotprod ISA level): the NEON
 * tile loop (arm/gemm_neon.c) with another inner kernel. Results equal lt_gemv_ref bit for bit.
 *
 * A 16-byte load of decoded codes is 4 rows x 4 weights (kquad q), exactly SDOT's layout; the 4
 * weights of 4 tokens sit in one register (token l in lane l) and
 *   acc[i][l] += vdotq_laneq_s32(codes of rows 4i..4i+3, x, l)
 * adds 4 products per int32 lane: 16 rows x 4 tokens = 16 accumulators, no int16 limit. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on aarch64 only. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "common/util.h"
#include "kernels/gemm.h"

static inline int32_t load4(const int8_t *x) {
    int32_t v;
    memcpy(&v, x, 4);
    return v;
}

/* ip[t][0..31] += the dots of the K-block for the block's tokens, 4 at a time (a short last group
 * repeats its last token and drops the copies). */
static void block_sdot(const uint8_t *codes, int64_t nq, int64_t chunk, const int8_t *x0, int64_t kx, int nt,
                       int32_t (*ip)[LT_TILE]) {
    (void)chunk; /* int32 accumulators */
    for (int t = 0; t < nt; t += 4) {
        const int8_t *x[4];
        for (int l = 0; l < 4; l++) x[l] = x0 + LT_MIN(t + l, nt - 1) * kx;
        for (int h = 0; h < 2; h++) {
            int32x4_t acc[4][4];
            for (int i = 0; i < 4; i++)
                for (int l = 0; l < 4; l++) acc[i][l] = vdupq_n_s32(0);
            for (int64_t q = 0; q < nq; q++) {
                const int8_t *wq = (const int8_t *)codes + q * 128 + 64 * h;
                int32x4_t xv = vdupq_n_s32(load4(x[0] + 4 * q));
                xv = vsetq_lane_s32(load4(x[1] + 4 * q), xv, 1);
                xv = vsetq_lane_s32(load4(x[2] + 4 * q), xv, 2);
                xv = vsetq_lane_s32(load4(x[3] + 4 * q), xv, 3);
                int8x16_t xb = vreinterpretq_s8_s32(xv);
                for (int i = 0; i < 4; i++) {
                    int8x16_t wv = vld1q_s8(wq + 16 * i);
                    acc[i][0] = vdotq_laneq_s32(acc[i][0], wv, xb, 0);
                    acc[i][1] = vdotq_laneq_s32(acc[i][1], wv, xb, 1);
                    acc[i][2] = vdotq_laneq_s32(acc[i][2], wv, xb, 2);
                    acc[i][3] = vdotq_laneq_s32(acc[i][3], wv, xb, 3);
                }
            }
            for (int l = 0; l < 4 && t + l < nt; l++)
                for (int i = 0; i < 4; i++) {
                    int32_t *d = ip[t + l] + 16 * h + 4 * i;
                    vst1q_s32(d, vaddq_s32(vld1q_s32(d), acc[i][l]));
                }
        }
    }
}

void lt_gemm_dotprod(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    lt_gemm_neon_tiles(w, a, t0, t1, y, block_sdot);
}

#endif
