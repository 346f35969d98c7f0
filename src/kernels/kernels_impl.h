/* Internals of the kernel library: the weight layout, the prepared activations and the per-ISA
 * kernel entry points. docs/kernels.md describes the layouts byte by byte. */
#ifndef LUTLM_KERNELS_KERNELS_IMPL_H
#define LUTLM_KERNELS_KERNELS_IMPL_H

#include "common/util.h"
#include "kernels/kernels.h"

#define LT_TILE 32          /* output rows per tile: one byte lane each in a 256-bit vector */
#define LT_CHUNK_SLOTS 64   /* slots added in int16 before widening: 64 * 508 < 32767 */
#define LT_VLUT_NB 32       /* tokens per vector-LUT block: 32 int16 = two 256-bit vectors */
#define LT_VLUT_KBLOCK 64   /* slots per K-block of the vector-LUT GEMM (int16 limit; 68 KB of table rows) */
#define LT_VLUT_SLOT 17     /* table rows per slot: 16 indices + 1 unused, so that the slots of a
                             * K-block spread over all L1 sets instead of 16 of every 64 */
#define LT_VLUT_ROWS 256    /* rows per pass of the vector-LUT GEMM (partial sums on the stack) */
#define LT_VLUT_MIN_N 32    /* AUTO picks the vector-LUT GEMM from this many tokens where there is no int8 GEMM
                             * (every SIMD level has one now: gemm.h, LT_GEMM_MIN_N) */

/* How a weight's codes become table indices.
 *  TERNARY: one slot = 2 weights, index = (t0 + 1) | (t1 + 1) << 2, one index plane;
 *  PLANES:  one slot = 4 weights, one index per bit plane j: index bit i = bit j of q[4s + i];
 *  TERN3:   1.71 bits per ternary weight (one scale per row only; docs/t3-spike.md): one slot = a
 *           group of 3 weights, sign-folded: v = t0 + 3 t1 + 9 t2 in [-13, 13] is stored as |v| (a
 *           nibble) and sign(v) (a bit). A block of LT_T3_BLOCK = 42 weights (LT_T3_GROUPS = 14
 *           groups: weights 42b + 3g .. 42b + 3g + 2) of a tile is LT_T3_VECS = 9 vectors of 32
 *           bytes, byte r = row r:
 *             0:           sign byte A: bit 7 - j = 1 if v of group j < 0 (j = 0..6); bit 0 = 1
 *             1:           sign byte B: the same for group 7 + j
 *             2 + j (j<7): |v| of group j | |v| of group 7 + j << 4
 *           (bit 0 = 1 keeps a sign byte nonzero for vpsignb; doubling the byte brings the next
 *           group's bit to the top). kp is a multiple of 42, kslot = 3, nslots = kp / 3 (groups). */
typedef enum { LT_QK_TERNARY, LT_QK_PLANES, LT_QK_TERN3, LT_QK_COUNT } lt_qkind;
#define LT_T3_BLOCK 42
#define LT_T3_GROUPS 14
#define LT_T3_VECS 9

struct lt_qweight {
    lt_qkind kind;
    int planes;          /* index planes: 1 (ternary) or n (INTn) */
    int64_t k, m;        /* logical shape: K inputs, M outputs */
    int64_t kp;          /* K padded to the group (and to 8): zero weights past k */
    int64_t ntiles;      /* ceil(m / 32); rows past m are zero */
    int64_t kslot;       /* weights per slot: 2 (ternary) or 4 (planes) */
    int64_t nslots;      /* kp / kslot, always even */
    int64_t group;       /* weights per scale group along K (kp when one scale per row) */
    int64_t ngroups;
    bool per_row;        /* one scale per row: y = dot * (s * a) (BitNet); else fmaf over groups */
    uint8_t *idx;        /* [ntiles][nslots/2][planes][32]: byte r = idx(slot 2p) | idx(slot 2p+1) << 4;
                          * TERN3: [ntiles][kp / 42][9][32] (see lt_qkind) */
    float *scale;        /* per row: [ntiles * 32] f32 (row r at r), else NULL */
    /* Per group: [ntiles][ngroups][nsm][32] f16, s_g of the tile's 32 rows then (INTn) m_g: one
     * 64- or 128-byte line per tile and group. Every per-group source stores f16 (lut_int<n>,
     * TQ1_0/TQ2_0), so the values are exact, and the stream is half of what f32 copies read. */
    uint16_t *gsm;
    int nsm;             /* f16 rows per group in gsm: 1 (ternary) or 2 (INTn: scale and offset) */
    /* Baseline layout (lt_qweight_add_baseline): per row, codes c (ternary t + 1, INTn q) packed
     * 2 bits (128 weights in 32 bytes, byte j = c[j], c[j+32], c[j+64], c[j+96] at bits 6,4,2,0)
     * or 4 bits (32 weights in 16 bytes, byte j = c[j] | c[j+16] << 4), rows of kb weights. */
    int base_bits;       /* 0 = no baseline layout */
    int64_t kb;
    uint8_t *base;
    float *f32;          /* [m][k] dequantized weights (lt_qweight_add_f32) or NULL */
};

static inline size_t lt_qw_tile_bytes(const lt_qweight *w) {
    if (w->kind == LT_QK_TERN3) return (size_t)(w->nslots / LT_T3_GROUPS) * LT_T3_VECS * LT_TILE;
    return (size_t)(w->nslots / 2) * (size_t)w->planes * LT_TILE;
}
/* Ternary codes t in {-1, 0, 1} (TERNARY or TERN3), or INTn codes q (PLANES). */
static inline bool lt_qw_ternary(const lt_qweight *w) { return w->kind != LT_QK_PLANES; }
/* Repack a per-row ternary tensor (BitNet: one scale per row) into the TERN3 layout; NULL with
 * lt_error() otherwise. lt_qweight_from_tensor picks TERN3 by itself where lt_tern3_enabled() (on
 * unless env LUTLM_TERN3=0) and the active ISA is the AVX2, AVX-512 or a NEON level. */
lt_qweight *lt_qweight_from_tensor_tern3(const lt_tensor *t);
bool lt_tern3_enabled(void);
/* TERN3: |v| and sign of group g (0 .. nslots-1) of row r of a tile (the layout of lt_qkind). */
static inline int lt_t3_group_v(const uint8_t *tile, int r, int64_t g) {
    const uint8_t *blk = tile + (size_t)(g / LT_T3_GROUPS) * LT_T3_VECS * LT_TILE;
    int j = (int)(g % LT_T3_GROUPS), half = j / 7, jj = j % 7;
    int mag = (blk[(2 + jj) * LT_TILE + r] >> (4 * half)) & 15;
    int neg = (blk[half * LT_TILE + r] >> (7 - jj)) & 1;
    return neg ? -mag : mag;
}
/* INTn weights add m_g · Σx per group (ternary weights have no offsets). */
static inline bool lt_qw_has_offset(const lt_qweight *w) { return w->kind == LT_QK_PLANES; }
/* Group g of tile `tile` in gsm: s_g of rows 0..31 at [0, 32), m_g (INTn) at [32, 64). */
static inline const uint16_t *lt_qw_gsm(const lt_qweight *w, int64_t tile, int64_t g) {
    return w->gsm + (size_t)(tile * w->ngroups + g) * (size_t)w->nsm * LT_TILE;
}
/* s_g and m_g (0 for ternary) of one row as floats, for the scalar group ends. */
static inline void lt_qw_group_sm(const lt_qweight *w, int64_t row, int64_t g, float *s, float *m) {
    const uint16_t *sm = lt_qw_gsm(w, row / LT_TILE, g) + row % LT_TILE;
    *s = lt_fp16_to_fp32(sm[0]);
    *m = lt_qw_has_offset(w) ? lt_fp16_to_fp32(sm[LT_TILE]) : 0.0f;
}
static inline int64_t lt_qw_group_slots(const lt_qweight *w) { return w->group / w->kslot; }
/* The code of weight (row, k) read back from the LUT layout: t (ternary) or q (planes). */
int lt_qw_code(const lt_qweight *w, int64_t row, int64_t k);

/* A table builder: this thread's share (ith of nth) of the tables of `kind` for every token. */
typedef void (*lt_fill_fn)(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);

/* Prepared activations. xq rows have stride kx >= every padded K, zero past k. */
struct lt_act {
    int64_t n, k, kx;
    int64_t first_token; /* the int8 GEMM starts here: tokens before it were done by the tlut GEMM
                          * (dispatch.c sets it for one region; 0 otherwise) */
    int8_t *xq;          /* [n][kx] */
    float *scale;        /* [n]: a = max|x| / 127, the value of one int8 step (0 if x is all zero) */
    /* GEMV tables, per kind: [n][nslots][32]: 16 low bytes then 16 high bytes of int16 entries
     * (portable/NEON), or 16 bytes L + BL then 16 bytes H + BH of nibble-split entries (AVX2,
     * x86/gemv_avx2.c; see docs/kernels.md) */
    uint8_t *gemv_tab[LT_QK_COUNT];
    int64_t gemv_slots[LT_QK_COUNT];  /* slots built (0 = not built) */
    lt_fill_fn gemv_fill[LT_QK_COUNT]; /* the builder of gemv_tab's layout: one ISA level's tables
                                        * are not another's (AVX2 and AVX-512 run on one machine) */
    /* Vector-LUT tables, per kind: [nblocks][nslots][LT_VLUT_SLOT][LT_VLUT_NB] int16 (row 16 unused),
     * padded tokens zero */
    int16_t *vlut_tab[LT_QK_COUNT];
    int64_t vlut_slots[LT_QK_COUNT];
    /* Sums of xq per group for INTn offsets: [n][ngroups] and, for the GEMM, floats [nblocks][ngroups][NB] */
    int32_t *gsum;
    float *gsumf;
    int64_t gsum_group, gsum_ngroups;
    size_t cap_xq, cap_gemv[LT_QK_COUNT], cap_vlut[LT_QK_COUNT], cap_gsum, cap_gsumf;
};

static inline int64_t lt_act_blocks(const lt_act *a) { return (a->n + LT_VLUT_NB - 1) / LT_VLUT_NB; }

/* Table builders (act.c). reserve (before the parallel region): 0 = tables already built for
 * nslots (GEMV: by `fill`, the builder of the kernel's layout), 1 = allocated and to be filled,
 * -1 = out of memory. fill: this thread's share of the slots, inside the kernel's region (the
 * kernel waits for all shares: see dispatch.c). The caller records the size (gemv_slots /
 * vlut_slots, the kernels' table stride) before the region. */
int lt_act_reserve_gemv(lt_act *a, lt_qkind kind, int64_t nslots, lt_fill_fn fill);
int lt_act_reserve_vlut(lt_act *a, lt_qkind kind, int64_t nslots);
void lt_act_fill_gemv(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);
void lt_act_fill_vlut(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);
bool lt_act_build_gsum(lt_act *a, int64_t group, int64_t ngroups);

/* Kernels: tiles [t0, t1) of w for all tokens of a, writing y[n][m]. */
typedef void (*lt_lut_kernel)(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_gemv_ref(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
/* Baseline kernels: rows [r0, r1). */
typedef void (*lt_row_kernel)(const lt_qweight *w, const lt_act *a, int64_t r0, int64_t r1, float *y);
void lt_baseline_ref(const lt_qweight *w, const lt_act *a, int64_t r0, int64_t r1, float *y);
/* F32 baseline: rows [r0, r1) of y = W x with float x[n][k]. */
typedef void (*lt_f32_kernel)(const lt_qweight *w, const float *x, int64_t n, int64_t r0, int64_t r1, float *y);
void lt_f32_ref(const lt_qweight *w, const float *x, int64_t n, int64_t r0, int64_t r1, float *y);

/* TERN3 GEMV, shared outer loop: per tile and token, `dots` gives the 32 rows' integer dots with
 * that token's tables (nblk blocks), then y = (float)dot * (s_row * a) as lt_gemv_ref. */
typedef void (*lt_t3_tile_dots)(const uint8_t *tile, const uint8_t *tab, int64_t nblk, int32_t dot[LT_TILE]);
void lt_gemv_t3_tiles(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y, lt_t3_tile_dots dots);
#ifdef LUTLM_HAVE_X86_KERNELS
void lt_gemv_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_gemv_tables_avx2(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);
/* TERN3 GEMV (x86/gemv_t3_avx2.c): per-row TERN3 weights only; its tables (lt_fill_fn) in
 * gemv_tab[LT_QK_TERN3], nslots * 32 bytes per token (16 L + 16 H bytes per group). */
void lt_gemv_t3_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_gemv_t3_tables_avx2(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);
/* INTn (PLANES) GEMV for the AVX-512 level (x86/gemv_avx512.c, vpermb on a slot pair's 64 table
 * bytes, two planes per zmm): the AVX2 tables (lt_gemv_tables_avx2). */
void lt_gemv_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
/* TERN3 GEMV for the AVX-512 level (x86/gemv_t3_avx512.c: two blocks of a tile per zmm, VBMI
 * vpermb): its own tables (the AVX2 kernel's entries, two blocks interleaved), nslots * 32 bytes
 * per token. */
void lt_gemv_t3_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_gemv_t3_tables_avx512(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);
void lt_vlut_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_baseline_avx2(const lt_qweight *w, const lt_act *a, int64_t r0, int64_t r1, float *y);
void lt_f32_avx2(const lt_qweight *w, const float *x, int64_t n, int64_t r0, int64_t r1, float *y);
#endif
#ifdef LUTLM_HAVE_ARM_KERNELS
void lt_gemv_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_vlut_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
/* TERN3 GEMV (arm/gemv_t3_neon.c): per-row TERN3 weights only; its tables (lt_fill_fn) are the
 * bytes lt_gemv_t3_tables_avx2 builds. lt_t3_digits[i][m]: balanced-ternary digit i of the
 * magnitude m = d0 + 3 d1 + 9 d2 (0 for m = 14, 15), shared with arm/gemm_neon.c's TERN3 decode. */
void lt_gemv_t3_neon(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y);
void lt_gemv_t3_tables_neon(lt_act *a, lt_qkind kind, int64_t nslots, int ith, int nth);
extern const int8_t lt_t3_digits[3][16];
#endif

/* The vector-LUT GEMM's outputs for `rows` rows from row0 and the LT_VLUT_NB tokens from tok0, in the
 * reference's float operations (per row: dot * (s * a); per group: the float sum times a). Shared by
 * the SIMD kernels so they cannot drift apart. */
static inline void lt_vlut_store_outputs(const lt_qweight *w, const lt_act *a, int64_t row0, int64_t rows, int64_t tok0,
                                         const int32_t (*ipart)[LT_VLUT_NB], const float (*fpart)[LT_VLUT_NB], float *y) {
    for (int64_t i = 0; i < rows && row0 + i < w->m; i++) {
        int64_t row = row0 + i;
        float s = w->per_row ? w->scale[row] : 0.0f;
        for (int64_t t = 0; t < LT_VLUT_NB && tok0 + t < a->n; t++) {
            int64_t tok = tok0 + t;
            y[tok * w->m + row] = w->per_row ? (float)ipart[i][t] * (s * a->scale[tok]) : fpart[i][t] * a->scale[tok];
        }
    }
}

#endif
