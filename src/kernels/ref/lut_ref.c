/* Scalar reference kernels. They define the results every SIMD kernel must reproduce bit for bit:
 * integer dot products per scale group, then the float combination (see kernels.h):
 *   per row:   y = (float)dot * (s * a)
 *   per group: f = fmaf(s_g, (float)dot_g, f) [; f = fmaf(m_g, (float)Σ_{k∈g} q_k, f)]  in group order; y = f * a
 * They read the codes back from the layout (lt_qw_code / the baseline packing), so they also check
 * the packing. */
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "kernels/kernels_impl.h"

/* y for one row given its codes c[kp] (t or q) and the int8 activations of one token. */
static float row_output(const lt_qweight *w, int64_t row, const int8_t *c, const int8_t *xq, float a) {
    if (w->per_row) {
        int32_t dot = 0;
        for (int64_t k = 0; k < w->kp; k++) dot += c[k] * xq[k];
        return (float)dot * (w->scale[row] * a);
    }
    float f = 0.0f;
    for (int64_t g = 0; g < w->ngroups; g++) {
        int32_t dot = 0, sum = 0;
        for (int64_t k = g * w->group; k < (g + 1) * w->group; k++) {
            dot += c[k] * xq[k];
            sum += xq[k];
        }
        float s, m;
        lt_qw_group_sm(w, row, g, &s, &m);
        f = fmaf(s, (float)dot, f);
        if (lt_qw_has_offset(w)) f = fmaf(m, (float)sum, f);
    }
    return f * a;
}

/* Codes of one row (kp of them), read back from the LUT layout (the inverse of the packing
 * described in docs/kernels.md; lt_qw_code is the same for one weight). */
static void lut_row_codes(const lt_qweight *w, int64_t row, int8_t *c) {
    if (w->kind == LT_QK_TERN3) { /* v = t0 + 3 t1 + 9 t2: balanced-ternary digits */
        const uint8_t *tile = w->idx + (size_t)(row / LT_TILE) * lt_qw_tile_bytes(w);
        for (int64_t g = 0; g < w->nslots; g++) {
            int v = lt_t3_group_v(tile, (int)(row % LT_TILE), g);
            for (int i = 0; i < 3; i++) {
                int d = (v % 3 + 4) % 3 - 1; /* v ≡ d (mod 3), d in {-1, 0, 1} */
                c[3 * g + i] = (int8_t)d;
                v = (v - d) / 3;
            }
        }
        return;
    }
    const uint8_t *tile = w->idx + (size_t)(row / LT_TILE) * lt_qw_tile_bytes(w) + (size_t)(row % LT_TILE);
    for (int64_t p = 0; p < w->nslots / 2; p++) {
        const uint8_t *pair = tile + (size_t)p * (size_t)w->planes * LT_TILE;
        for (int half = 0; half < 2; half++) {
            int64_t slot = 2 * p + half;
            if (w->kind == LT_QK_TERNARY) {
                int index = (pair[0] >> (4 * half)) & 15;
                c[2 * slot] = (int8_t)((index & 3) - 1);
                c[2 * slot + 1] = (int8_t)((index >> 2) - 1);
                continue;
            }
            for (int i = 0; i < 4; i++) {
                int q = 0;
                for (int j = 0; j < w->planes; j++) q |= ((pair[j * LT_TILE] >> (4 * half + i)) & 1) << j;
                c[4 * slot + i] = (int8_t)q;
            }
        }
    }
}

void lt_gemv_ref(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    int8_t c[w->kp];
    for (int64_t row = t0 * LT_TILE; row < LT_MIN(t1 * LT_TILE, w->m); row++) {
        lut_row_codes(w, row, c);
        for (int64_t n = 0; n < a->n; n++)
            y[n * w->m + row] = row_output(w, row, c, a->xq + n * a->kx, a->scale[n]);
    }
}

/* Codes of one row read from the baseline packing (ternary codes stored as t + 1). */
static void baseline_row_codes(const lt_qweight *w, int64_t row, int8_t *c) {
    const uint8_t *src = w->base + (size_t)row * (size_t)w->kb * (size_t)w->base_bits / 8;
    int bias = lt_qw_ternary(w) ? 1 : 0;
    for (int64_t k = 0; k < w->kp; k++) {
        int code = w->base_bits == 2 ? (src[(k / 128) * 32 + k % 32] >> (6 - 2 * ((k % 128) / 32))) & 3
                                     : (src[(k / 32) * 16 + k % 16] >> (4 * ((k % 32) / 16))) & 15;
        c[k] = (int8_t)(code - bias);
    }
}

void lt_baseline_ref(const lt_qweight *w, const lt_act *a, int64_t r0, int64_t r1, float *y) {
    int8_t c[w->kp];
    for (int64_t row = r0; row < r1; row++) {
        baseline_row_codes(w, row, c);
        for (int64_t n = 0; n < a->n; n++)
            y[n * w->m + row] = row_output(w, row, c, a->xq + n * a->kx, a->scale[n]);
    }
}

void lt_f32_ref(const lt_qweight *w, const float *x, int64_t n, int64_t r0, int64_t r1, float *y) {
    for (int64_t row = r0; row < r1; row++) {
        const float *wr = w->f32 + row * w->k;
        for (int64_t t = 0; t < n; t++) {
            const float *xr = x + t * w->k;
            float acc = 0.0f;
            for (int64_t k = 0; k < w->k; k++) acc += wr[k] * xr[k];
            y[t * w->m + row] = acc;
        }
    }
}

/* TERN3's GEMV outer loop (kernels_impl.h): tokens the inner loop, so a tile's weights stay in
 * cache; the float steps of lt_gemv_ref on the ISA kernel's integer dots. */
void lt_gemv_t3_tiles(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y, lt_t3_tile_dots dots) {
    int64_t nblk = w->nslots / LT_T3_GROUPS;
    size_t tile_bytes = lt_qw_tile_bytes(w);
    for (int64_t tile = t0; tile < t1; tile++) {
        const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
        const float *sc = w->scale + tile * LT_TILE;
        int64_t row0 = tile * LT_TILE, rows = LT_MIN(LT_TILE, w->m - row0);
        for (int64_t n = 0; n < a->n; n++) {
            const uint8_t *tab = a->gemv_tab[LT_QK_TERN3] + (size_t)n * (size_t)a->gemv_slots[LT_QK_TERN3] * 32;
            int32_t dot[LT_TILE];
            dots(wt, tab, nblk, dot);
            for (int64_t i = 0; i < rows; i++) y[n * w->m + row0 + i] = (float)dot[i] * (sc[i] * a->scale[n]);
        }
    }
}
