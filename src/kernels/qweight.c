/* Repacking a weight tensor into the LUT kernel layout (and, on request, the baseline layouts).
 *
 * Sources: every ternary format with a decoder (I2_S, TERN2, TQ1_0, TQ2_0, lut_t16) and the INTn
 * formats lut_int<n>_g<G>. A ternary tensor is decoded row by row to floats w = t * s_b; the scale
 * s_b of each block (256 for TQ*, 320 for lut_t16, the row otherwise) is max|w| of the block. When
 * all blocks that hold a nonzero weight share one scale (BitNet models), the tensor collapses to
 * one scale per row: y = dot * s / a, the integer dot over the whole row. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/hugemem.h"
#include "common/util.h"
#include "formats/lut_formats.h"
#include "kernels/kernels_impl.h"

bool lt_kernels_supports(const lt_format *fmt) {
    if (!fmt) return false;
    if (lt_is_lut_int(fmt->type_id)) return true;
    return fmt->ternary && fmt->dequantize_row != NULL;
}

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* Scale-block length of a ternary format along a row (0: one scale for the row or tensor). */
static int64_t ternary_block(const lt_format *fmt) {
    if (fmt->type_id == LT_TYPE_TQ1_0 || fmt->type_id == LT_TYPE_TQ2_0) return 256;
    if (fmt->type_id == LT_TYPE_LUT_T16) return LT_T16_BLOCK;
    return 0;
}

/* Codes of the whole tensor before packing: [mp][kp] int8 (t or q), scales/offsets [mp][ngroups]. */
typedef struct {
    int8_t *codes;
    float *scale, *offset;
} unpacked;

static void unpacked_free(unpacked *u) {
    free(u->codes);
    free(u->scale);
    free(u->offset);
}

static bool alloc_unpacked(lt_qweight *w, unpacked *u, bool offsets) {
    size_t rows = (size_t)w->ntiles * LT_TILE;
    u->codes = lt_calloc(rows, (size_t)w->kp);
    u->scale = lt_calloc(rows * (size_t)w->ngroups, sizeof(float));
    u->offset = offsets ? lt_calloc(rows * (size_t)w->ngroups, sizeof(float)) : NULL;
    return u->codes && u->scale && (!offsets || u->offset);
}

static bool unpack_ternary(const lt_tensor *t, lt_qweight *w, unpacked *u) {
    int64_t k = t->ne[0], m = w->m, blk = ternary_block(t->fmt);
    int64_t bl = blk ? blk : k, nb = (k + bl - 1) / bl;
    float *row = lt_malloc((size_t)k * sizeof(float));
    float *bscale = lt_malloc((size_t)(m * nb) * sizeof(float));
    int8_t *codes = lt_malloc((size_t)(m * k));
    if (!row || !bscale || !codes) goto fail;
    /* Decode, find each block's scale, check that every weight is 0 or ±scale. */
    float common = 0.0f;
    bool uniform = true;
    for (int64_t r = 0; r < m; r++) {
        lt_tensor_dequantize_row(t, r, row);
        for (int64_t b = 0; b < nb; b++) {
            int64_t k0 = b * bl, k1 = LT_MIN(k, k0 + bl);
            float s = 0.0f;
            for (int64_t i = k0; i < k1; i++) s = fmaxf(s, fabsf(row[i]));
            for (int64_t i = k0; i < k1; i++) {
                float v = row[i];
                if (v != 0.0f && fabsf(v) != s) {
                    lt_set_error("%s: tensor %s is not ternary (row %lld holds %g and %g)", t->fmt->name,
                                 t->name ? t->name : "?", (long long)r, (double)v, (double)s);
                    goto fail;
                }
                codes[r * k + i] = (int8_t)(v > 0.0f ? 1 : v < 0.0f ? -1 : 0);
            }
            bscale[r * nb + b] = s;
            if (s != 0.0f) {
                if (common == 0.0f) common = s;
                else if (s != common) uniform = false;
            }
        }
    }
    w->per_row = uniform || blk == 0;
    w->group = w->per_row ? round_up(k, 8) : blk;
    w->kp = round_up(k, w->group);
    w->ngroups = w->kp / w->group;
    w->nslots = w->kp / w->kslot;
    if (!alloc_unpacked(w, u, false)) goto fail;
    for (int64_t r = 0; r < m; r++) {
        memcpy(u->codes + r * w->kp, codes + r * k, (size_t)k);
        for (int64_t g = 0; g < w->ngroups; g++) {
            float s = uniform ? common : blk == 0 ? bscale[r] : bscale[r * nb + g];
            u->scale[r * w->ngroups + g] = s;
        }
    }
    free(row);
    free(bscale);
    free(codes);
    return true;
fail:
    free(row);
    free(bscale);
    free(codes);
    return false;
}

static bool unpack_int(const lt_tensor *t, lt_qweight *w, unpacked *u) {
    int bits = lt_lut_int_bits(t->fmt->type_id), group = lt_lut_int_group(t->fmt->type_id);
    int64_t k = t->ne[0], m = w->m;
    w->per_row = false;
    w->group = group;
    w->kp = round_up(k, group);
    w->ngroups = w->kp / group;
    w->nslots = w->kp / w->kslot;
    w->planes = bits;
    if (!alloc_unpacked(w, u, true)) return false;
    size_t row_bytes = lt_format_row_bytes(t->fmt, k), block_bytes = lt_lut_int_block_bytes(bits, group);
    uint8_t q[128];
    for (int64_t r = 0; r < m; r++) {
        const uint8_t *row = (const uint8_t *)t->data + (size_t)r * row_bytes;
        for (int64_t g = 0; g < w->ngroups; g++) {
            float s, off;
            lt_lut_int_decode_block(row + (size_t)g * block_bytes, bits, group, q, &s, &off);
            for (int i = 0; i < group; i++) u->codes[r * w->kp + g * group + i] = (int8_t)q[i];
            u->scale[r * w->ngroups + g] = s;
            u->offset[r * w->ngroups + g] = off;
        }
    }
    return true;
}

/* Index of slot s, plane j, of a row of codes (see lt_qkind). */
static int slot_index(const lt_qweight *w, const int8_t *c, int64_t s, int j) {
    if (w->kind == LT_QK_TERNARY) return (c[2 * s] + 1) | (c[2 * s + 1] + 1) << 2;
    const int8_t *q = c + 4 * s;
    return ((q[0] >> j) & 1) | ((q[1] >> j) & 1) << 1 | ((q[2] >> j) & 1) << 2 | ((q[3] >> j) & 1) << 3;
}

/* f16 bits of x if the conversion is exact (per-group scales of every source are f16 values). */
static bool exact_f16(float x, uint16_t *out) {
    *out = lt_fp32_to_fp16(x);
    return lt_fp16_to_fp32(*out) == x || isnan(x);
}

static bool pack_scales(lt_qweight *w, const unpacked *u) {
    size_t rows = (size_t)w->ntiles * LT_TILE;
    if (w->per_row) {
        w->scale = lt_huge_alloc(rows * sizeof(float));
        if (!w->scale) return false;
        for (size_t r = 0; r < rows; r++) w->scale[r] = u->scale[r];
        return true;
    }
    w->nsm = lt_qw_has_offset(w) ? 2 : 1;
    w->gsm = lt_huge_alloc(rows * (size_t)w->ngroups * (size_t)w->nsm * sizeof(uint16_t));
    if (!w->gsm) return false;
    for (int64_t tile = 0; tile < w->ntiles; tile++)
        for (int64_t g = 0; g < w->ngroups; g++) {
            uint16_t *dst = (uint16_t *)lt_qw_gsm(w, tile, g);
            for (int r = 0; r < LT_TILE; r++) {
                size_t src = (size_t)(tile * LT_TILE + r) * (size_t)w->ngroups + (size_t)g;
                bool ok = exact_f16(u->scale[src], &dst[r]) && (w->nsm == 1 || exact_f16(u->offset[src], &dst[LT_TILE + r]));
                if (!ok)
                    return lt_set_error("lt_qweight_from_tensor: group scale %g / offset %g of row %lld is not an f16 value",
                                        (double)u->scale[src], (double)(u->offset ? u->offset[src] : 0.0f),
                                        (long long)(tile * LT_TILE + r));
            }
        }
    return true;
}

/* TERN3: group g of row c (codes t) into the block layout of lt_qkind. */
static void pack_tern3_group(uint8_t *tile, int r, int64_t g, const int8_t *c) {
    int v = c[3 * g] + 3 * c[3 * g + 1] + 9 * c[3 * g + 2], mag = v < 0 ? -v : v;
    uint8_t *blk = tile + (size_t)(g / LT_T3_GROUPS) * LT_T3_VECS * LT_TILE;
    int j = (int)(g % LT_T3_GROUPS), half = j / 7, jj = j % 7;
    blk[(2 + jj) * LT_TILE + r] |= (uint8_t)(mag << (4 * half));
    blk[half * LT_TILE + r] |= (uint8_t)((v < 0) << (7 - jj) | 1);
}

static bool pack(lt_qweight *w, const unpacked *u) {
    size_t tile_bytes = lt_qw_tile_bytes(w);
    w->idx = lt_huge_alloc((size_t)w->ntiles * tile_bytes);
    if (!w->idx) return false;
    if (w->kind == LT_QK_TERN3) {
        memset(w->idx, 0, (size_t)w->ntiles * tile_bytes);
        for (int64_t tile = 0; tile < w->ntiles; tile++)
            for (int r = 0; r < LT_TILE; r++)
                for (int64_t g = 0; g < w->nslots; g++)
                    pack_tern3_group(w->idx + (size_t)tile * tile_bytes, r, g, u->codes + (tile * LT_TILE + r) * w->kp);
        return pack_scales(w, u);
    }
    for (int64_t tile = 0; tile < w->ntiles; tile++) {
        uint8_t *dst = w->idx + (size_t)tile * tile_bytes;
        for (int64_t p = 0; p < w->nslots / 2; p++)
            for (int j = 0; j < w->planes; j++)
                for (int r = 0; r < LT_TILE; r++, dst++) {
                    const int8_t *c = u->codes + (tile * LT_TILE + r) * w->kp;
                    *dst = (uint8_t)(slot_index(w, c, 2 * p, j) | slot_index(w, c, 2 * p + 1, j) << 4);
                }
    }
    return pack_scales(w, u);
}

int lt_qw_code(const lt_qweight *w, int64_t row, int64_t k) {
    int64_t tile = row / LT_TILE, r = row % LT_TILE, s = k / w->kslot, p = s / 2;
    if (w->kind == LT_QK_TERN3) { /* digit k % 3 of v = t0 + 3 t1 + 9 t2 (balanced ternary) */
        int v = lt_t3_group_v(w->idx + (size_t)tile * lt_qw_tile_bytes(w), (int)r, s);
        for (int64_t i = 0; i < k % 3; i++) v = (v - ((v % 3 + 4) % 3 - 1)) / 3;
        return (v % 3 + 4) % 3 - 1;
    }
    const uint8_t *pair = w->idx + (size_t)tile * lt_qw_tile_bytes(w) + (size_t)p * (size_t)w->planes * LT_TILE;
    int i = (int)(k % w->kslot);
    if (w->kind == LT_QK_TERNARY) {
        int index = (pair[r] >> (4 * (s & 1))) & 15;
        return ((index >> (2 * i)) & 3) - 1;
    }
    int q = 0;
    for (int j = 0; j < w->planes; j++) q |= ((pair[j * LT_TILE + r] >> (4 * (s & 1) + i)) & 1) << j;
    return q;
}

static _Atomic int tern3_on = -1; /* -1: not read from the environment yet */

bool lt_tern3_enabled(void) {
    int on = atomic_load_explicit(&tern3_on, memory_order_relaxed);
    if (on < 0) {
        const char *env = getenv("LUTLM_TERN3");
        on = !(env && env[0] == '0'); /* on; LUTLM_TERN3=0 keeps TERNARY, for comparisons in one build */
        atomic_store_explicit(&tern3_on, on, memory_order_relaxed);
    }
    return on;
}

/* Which layout repack gives ternary weights: TERNARY always, TERN3 where they have one scale per
 * row (TERNARY otherwise), or TERN3 only (an error otherwise). */
typedef enum { TERN3_NEVER, TERN3_PER_ROW, TERN3_ONLY } tern3_mode;

/* lt_qweight_from_tensor's repack; ternary per-row weights go to TERN3 as `mode` says (kp a
 * multiple of 42), otherwise TERNARY. */
static lt_qweight *repack(const lt_tensor *t, tern3_mode mode) {
    if (!t || !t->fmt || !t->data) return lt_set_error("lt_qweight_from_tensor: no tensor"), NULL;
    if (!lt_kernels_supports(t->fmt))
        return lt_set_error("lt_qweight_from_tensor: format %s has no LUT kernel", t->fmt->name), NULL;
    if (t->ne[0] <= 0 || lt_tensor_rows(t) <= 0)
        return lt_set_error("lt_qweight_from_tensor: empty tensor %s", t->name ? t->name : "?"), NULL;
    lt_qweight *w = lt_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->k = t->ne[0];
    w->m = lt_tensor_rows(t);
    w->ntiles = (w->m + LT_TILE - 1) / LT_TILE;
    bool is_int = lt_is_lut_int(t->fmt->type_id);
    w->kind = is_int ? LT_QK_PLANES : LT_QK_TERNARY;
    w->kslot = is_int ? 4 : 2;
    w->planes = 1;
    unpacked u = { 0 };
    bool ok = is_int ? unpack_int(t, w, &u) : unpack_ternary(t, w, &u);
    if (ok && mode != TERN3_NEVER && !is_int && w->per_row) { /* the same codes, regrouped: kp to a multiple of 42 */
        int64_t kp = round_up(w->k, LT_T3_BLOCK), rows = w->ntiles * LT_TILE;
        int8_t *codes = lt_calloc((size_t)rows, (size_t)kp);
        ok = codes != NULL;
        for (int64_t r = 0; ok && r < rows; r++) memcpy(codes + r * kp, u.codes + r * w->kp, (size_t)w->k); /* zeros past k */
        if (ok) {
            free(u.codes);
            u.codes = codes;
            w->kind = LT_QK_TERN3;
            w->kslot = 3;
            w->kp = w->group = kp;
            w->nslots = kp / 3;
        }
    } else if (ok && mode == TERN3_ONLY) {
        ok = lt_set_error("lt_qweight_from_tensor_tern3: %s is not ternary with one scale per row", t->fmt->name);
    }
    ok = ok && pack(w, &u);
    unpacked_free(&u);
    if (!ok) {
        lt_qweight_free(w);
        return NULL;
    }
    return w;
}

/* TERN3 where it is enabled and the active ISA has its GEMV (AVX2, AVX-512 and NEON levels; the reference
 * elsewhere). */
static bool tern3_preferred(void) {
    lt_isa isa = lt_isa_active();
    return lt_tern3_enabled() &&
           (isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512 || isa == LT_ISA_NEON || isa == LT_ISA_NEON_DOTPROD);
}

lt_qweight *lt_qweight_from_tensor(const lt_tensor *t) { return repack(t, tern3_preferred() ? TERN3_PER_ROW : TERN3_NEVER); }

lt_qweight *lt_qweight_from_tensor_tern3(const lt_tensor *t) { return repack(t, TERN3_ONLY); }

const char *lt_kernels_ternary_layout(void) {
    return tern3_preferred() ? "groups of 3 (TERN3, 1.71 bits) where one scale per row, else ternary-pair"
                             : "ternary-pair";
}

void lt_qweight_free(lt_qweight *w) {
    if (!w) return;
    lt_huge_free(w->idx);
    lt_huge_free(w->scale);
    lt_huge_free(w->gsm);
    lt_huge_free(w->base);
    lt_huge_free(w->f32);
    free(w);
}

static size_t scale_bytes(const lt_qweight *w) {
    size_t rows = (size_t)w->ntiles * LT_TILE;
    return w->per_row ? rows * sizeof(float) : rows * (size_t)w->ngroups * (size_t)w->nsm * sizeof(uint16_t);
}

size_t lt_qweight_bytes(const lt_qweight *w) { return (size_t)w->ntiles * lt_qw_tile_bytes(w) + scale_bytes(w); }
int64_t lt_qweight_k(const lt_qweight *w) { return w->k; }
int64_t lt_qweight_m(const lt_qweight *w) { return w->m; }

size_t lt_qweight_baseline_bytes(const lt_qweight *w) {
    return (size_t)w->m * (size_t)w->kb * (size_t)w->base_bits / 8 + scale_bytes(w);
}

/* Code of (row, k) as the baseline stores it: unsigned c = t + 1 (ternary) or q. */
static int baseline_code(const lt_qweight *w, int64_t row, int64_t k) {
    if (k >= w->kp) return lt_qw_ternary(w) ? 1 : 0;
    int c = lt_qw_code(w, row, k);
    return lt_qw_ternary(w) ? c + 1 : c;
}

bool lt_qweight_add_baseline(lt_qweight *w) {
    if (w->base) return true;
    int bits = (lt_qw_ternary(w) || w->planes <= 2) ? 2 : 4;
    int64_t kb = round_up(w->kp, bits == 2 ? 128 : 32);
    size_t row_bytes = (size_t)kb * (size_t)bits / 8;
    uint8_t *base = lt_huge_alloc((size_t)w->m * row_bytes + 64);
    if (!base) return false;
    memset(base, 0, (size_t)w->m * row_bytes + 64);
    for (int64_t r = 0; r < w->m; r++) {
        uint8_t *dst = base + (size_t)r * row_bytes;
        if (bits == 2) {
            for (int64_t b = 0; b < kb / 128; b++)
                for (int j = 0; j < 32; j++) {
                    int64_t k0 = b * 128 + j;
                    dst[b * 32 + j] = (uint8_t)(baseline_code(w, r, k0) << 6 | baseline_code(w, r, k0 + 32) << 4 |
                                                baseline_code(w, r, k0 + 64) << 2 | baseline_code(w, r, k0 + 96));
                }
        } else {
            for (int64_t b = 0; b < kb / 32; b++)
                for (int j = 0; j < 16; j++)
                    dst[b * 16 + j] = (uint8_t)(baseline_code(w, r, b * 32 + j) | baseline_code(w, r, b * 32 + j + 16) << 4);
        }
    }
    w->base = base;
    w->base_bits = bits;
    w->kb = kb;
    return true;
}

bool lt_qweight_add_f32(lt_qweight *w) {
    if (w->f32) return true;
    float *f = lt_huge_alloc((size_t)w->m * (size_t)w->k * sizeof(float) + 64);
    if (!f) return false;
    for (int64_t r = 0; r < w->m; r++) {
        int64_t tile = r / LT_TILE, lane = r % LT_TILE;
        for (int64_t k = 0; k < w->k; k++) {
            float q = (float)lt_qw_code(w, r, k);
            if (w->per_row) {
                f[r * w->k + k] = q * w->scale[r];
                continue;
            }
            const uint16_t *sm = lt_qw_gsm(w, tile, k / w->group) + lane;
            float s = lt_fp16_to_fp32(sm[0]);
            f[r * w->k + k] = w->nsm == 2 ? s * q + lt_fp16_to_fp32(sm[LT_TILE]) : q * s;
        }
    }
    w->f32 = f;
    return true;
}

static void *dup(const void *src, size_t bytes, bool *ok) {
    if (!src) return NULL;
    void *p = lt_huge_alloc(bytes);
    if (!p) { *ok = false; return NULL; }
    memcpy(p, src, bytes);
    return p;
}

lt_qweight *lt_qweight_clone(const lt_qweight *w) {
    lt_qweight *c = lt_malloc(sizeof *c);
    if (!c) return NULL;
    *c = *w;
    bool ok = true;
    c->idx = dup(w->idx, (size_t)w->ntiles * lt_qw_tile_bytes(w), &ok);
    c->scale = dup(w->scale, scale_bytes(w), &ok);
    c->gsm = dup(w->gsm, scale_bytes(w), &ok);
    c->base = dup(w->base, (size_t)w->m * (size_t)w->kb * (size_t)w->base_bits / 8 + 64, &ok);
    c->f32 = dup(w->f32, (size_t)w->m * (size_t)w->k * sizeof(float) + 64, &ok);
    if (!ok) {
        lt_qweight_free(c);
        return NULL;
    }
    return c;
}
