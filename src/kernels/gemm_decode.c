/* Portable decoding of a tile's table indices (w->idx) into the int8 GEMM's code bytes (gemm.h).
 *
 * Ternary: the index byte of row r and slot pair p holds weights 4p .. 4p+3 at bits 0-1, 2-3, 4-5,
 * 6-7 as t + 1 (index = (t0 + 1) | (t1 + 1) << 2, two slots per byte): kquad p is that byte with
 * each 2-bit field moved into its own byte. Planes: a pair covers 8 weights (kquads 2p, 2p+1); bit
 * i of plane j's byte is bit j of q[8p + i]. */
#include "kernels/gemm.h"

void lt_gemm_decode_ref(const lt_qweight *w, int64_t tile, int64_t q0, int64_t q1, uint8_t *codes) {
    const uint8_t *wt = w->idx + (size_t)tile * lt_qw_tile_bytes(w);
    if (w->kind == LT_QK_TERNARY) {
        for (int64_t q = q0; q < q1; q++)
            for (int r = 0; r < LT_TILE; r++) {
                unsigned b = wt[q * LT_TILE + r];
                for (int i = 0; i < 4; i++) codes[(q - q0) * 128 + 4 * r + i] = (uint8_t)((b >> (2 * i)) & 3);
            }
        return;
    }
    int P = w->planes;
    for (int64_t p = q0 / 2; p < q1 / 2; p++)
        for (int r = 0; r < LT_TILE; r++)
            for (int i = 0; i < 8; i++) {
                unsigned v = 0;
                for (int j = 0; j < P; j++) v |= ((wt[(p * P + j) * LT_TILE + r] >> i) & 1u) << j;
                codes[(2 * p + i / 4 - q0) * 128 + 4 * r + i % 4] = (uint8_t)v;
            }
}
