/* AVX2 ternary group-LUT GEMM (see tlut.h and docs/kernels.md, "Ternary group LUT GEMM").
 * Results equal lt_gemv_ref bit for bit.
 *
 * Per parallel region (up to LT_TLUT_TOKENS tokens): the threads first build the tables of every
 * block of 32 tokens, tab[block][group][27 codes][32 tokens] int16 (each group 1728 bytes, each
 * code's row one 64-byte line), then take work units (a weight's 256-row chunk x one token block)
 * from a counter. A unit, per K-block of 16 groups (27 KB of tables, in L1 while all 256 rows use
 * them): decode the codes of each tile into bytes code * 8 [group][32 rows], then per row
 *   acc[0..31] += E_g[code] (2 x vpaddw with the table row as memory operand, 32 tokens)
 * over the 16 groups in registers, added into the row's int16 partials; every <= 80 groups these
 * are widened into int32 partials, and at the end y = (float)dot * (s * a) per row and token. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/spin.h"
#include "common/util.h"
#include "kernels/tlut.h"

#define NB LT_TLUT_NB
#define KG LT_TLUT_KG
#define GROUP_BYTES LT_TLUT_GROUP
#define UNIT_ROWS (LT_TLUT_TILES * LT_TILE)
_Static_assert(LT_TLUT_ENTRY == NB * 2, "a table row is the int16 entries of the block's tokens");
_Static_assert(LT_TLUT_WIDEN * 384 < 32768 && LT_TLUT_WIDEN >= KG, "int16 partials of LT_TLUT_WIDEN groups");
_Static_assert(KG % 4 == 0, "K-blocks start at a multiple of four groups (three code bytes)");

/* ---- tables ---- */

/* Tables of groups [g0, g1) for the nt tokens from tok0 (entries of the other tokens of the block
 * are zero): E_g[c][t] = (c0 - 1) x_t[3g] + (c1 - 1) x_t[3g+1] + (c2 - 1) x_t[3g+2] at
 * tab + g * GROUP_BYTES + c * 64, c = c0 + 3 c1 + 9 c2. xq is zero past k (and not read past kx). */
static void build_tables(const lt_act *a, int64_t tok0, int nt, int64_t g0, int64_t g1, uint8_t *tab) {
    const __m256i zero = _mm256_setzero_si256();
    for (int64_t g = g0; g < g1; g++) {
        _Alignas(32) int16_t x[3][NB];
        for (int i = 0; i < 3; i++) {
            int64_t k = 3 * g + i;
            for (int t = 0; t < NB; t++) x[i][t] = (t < nt && k < a->kx) ? a->xq[(tok0 + t) * a->kx + k] : 0;
        }
        __m256i *e = (__m256i *)(tab + g * GROUP_BYTES);
        for (int h = 0; h < 2; h++) { /* tokens 16h .. 16h + 15 */
            __m256i v[3][3];          /* v[i][c] = (c - 1) * x_i */
            for (int i = 0; i < 3; i++) {
                __m256i xi = _mm256_load_si256((const __m256i *)(x[i] + 16 * h));
                v[i][0] = _mm256_sub_epi16(zero, xi), v[i][1] = zero, v[i][2] = xi;
            }
            for (int c1 = 0; c1 < 3; c1++)
                for (int c0 = 0; c0 < 3; c0++) {
                    __m256i s01 = _mm256_add_epi16(v[0][c0], v[1][c1]);
                    for (int c2 = 0; c2 < 3; c2++)
                        _mm256_store_si256(e + 2 * (c0 + 3 * c1 + 9 * c2) + h, _mm256_add_epi16(s01, v[2][c2]));
                }
        }
    }
}

/* ---- codes ----
 * A row's code byte p holds weights 4p .. 4p+3 (c = t + 1 at bits 2i: the layout's slot pair
 * byte idx(2p) | idx(2p+1) << 4), so three bytes hold the 12 weights of four groups. With the
 * nibbles L = byte & 15, H = byte >> 4 of bytes v0, v1, v2 (c_j = weight j of the twelve):
 *   group 0 = c0 + 3c1 + 9c2  = A(L0) + B(H0)      A(n) = (n & 3) + 3 (n >> 2), B(n) = 9 (n & 3)
 *   group 1 = c3 + 3c4 + 9c5  = C(H0) + D(L1)      C(n) = n >> 2,  D(n) = 3 (n & 3) + 9 (n >> 2)
 *   group 2 = c6 + 3c7 + 9c8  = A(H1) + B(L2)
 *   group 3 = c9 + 3c10 + 9c11 = C(L2) + D(H2)
 * each function a vpshufb of a 16-entry table; the tables hold 8x the value (code * 8 <= 208 fits a
 * byte), so that the row loop addresses table row c (64 bytes) as base + byte * 8. */
#define N16(F) F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), F(8), F(9), F(10), F(11), F(12), F(13), F(14), F(15)
#define FA(n) (uint8_t)(8 * (((n) & 3) + 3 * ((n) >> 2)))
#define FB(n) (uint8_t)(72 * ((n) & 3))
#define FC(n) (uint8_t)(8 * ((n) >> 2))
#define FD(n) (uint8_t)(8 * (3 * ((n) & 3) + 9 * ((n) >> 2)))
static const uint8_t nib_a[32] __attribute__((aligned(32))) = { N16(FA), N16(FA) };
static const uint8_t nib_b[32] __attribute__((aligned(32))) = { N16(FB), N16(FB) };
static const uint8_t nib_c[32] __attribute__((aligned(32))) = { N16(FC), N16(FC) };
static const uint8_t nib_d[32] __attribute__((aligned(32))) = { N16(FD), N16(FD) };

/* codes[g - g0][r] = 8 * code(row r of the tile, group g) for groups [g0, g0 + ng), g0 and ng
 * multiples of 4; wt is the tile ([nbytes][32 rows]), bytes past nbytes read as zero weights. */
static void decode_codes(const uint8_t *wt, int64_t nbytes, int64_t g0, int ng, uint8_t *codes) {
    const __m256i m15 = _mm256_set1_epi8(15), ones = _mm256_set1_epi8(0x55); /* 0x55: four c = 1 */
    const __m256i ta = _mm256_load_si256((const __m256i *)nib_a), tb = _mm256_load_si256((const __m256i *)nib_b);
    const __m256i tc = _mm256_load_si256((const __m256i *)nib_c), td = _mm256_load_si256((const __m256i *)nib_d);
    for (int q = 0; q < ng / 4; q++) {
        int64_t p = (g0 / 4 + q) * 3;
        __m256i v[3];
        for (int i = 0; i < 3; i++)
            v[i] = p + i < nbytes ? _mm256_loadu_si256((const __m256i *)(wt + (p + i) * LT_TILE)) : ones;
        __m256i l0 = _mm256_and_si256(v[0], m15), h0 = _mm256_and_si256(_mm256_srli_epi16(v[0], 4), m15);
        __m256i l1 = _mm256_and_si256(v[1], m15), h1 = _mm256_and_si256(_mm256_srli_epi16(v[1], 4), m15);
        __m256i l2 = _mm256_and_si256(v[2], m15), h2 = _mm256_and_si256(_mm256_srli_epi16(v[2], 4), m15);
        __m256i *out = (__m256i *)(codes + 4 * q * LT_TILE);
        _mm256_store_si256(out, _mm256_add_epi8(_mm256_shuffle_epi8(ta, l0), _mm256_shuffle_epi8(tb, h0)));
        _mm256_store_si256(out + 1, _mm256_add_epi8(_mm256_shuffle_epi8(tc, h0), _mm256_shuffle_epi8(td, l1)));
        _mm256_store_si256(out + 2, _mm256_add_epi8(_mm256_shuffle_epi8(ta, h1), _mm256_shuffle_epi8(tb, l2)));
        _mm256_store_si256(out + 3, _mm256_add_epi8(_mm256_shuffle_epi8(tc, l2), _mm256_shuffle_epi8(td, h2)));
    }
}

/* ---- rows ---- */

/* p16[0..31] += Σ_{g < ng} E_g[code of group g] for one row: code = the row's byte of each group
 * (stride 32), tab = the K-block's first group. The sums stay in two registers (32 tokens). */
static inline __attribute__((always_inline)) void row_groups(const uint8_t *code, const uint8_t *tab, const int ng,
                                                             int16_t *p16) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (int g = 0; g < ng; g++) {
        const __m256i *e = (const __m256i *)(tab + g * GROUP_BYTES + (size_t)code[g * LT_TILE] * 8);
        a0 = _mm256_add_epi16(a0, _mm256_load_si256(e));
        a1 = _mm256_add_epi16(a1, _mm256_load_si256(e + 1));
    }
    __m256i *p = (__m256i *)p16;
    _mm256_store_si256(p, _mm256_add_epi16(_mm256_load_si256(p), a0));
    _mm256_store_si256(p + 1, _mm256_add_epi16(_mm256_load_si256(p + 1), a1));
}

/* One group of a full K-block in assembly: GCC recomputed every table address with three
 * instructions instead of a displacement (g * 1728) and the code byte as index (x 8). */
#define TLUT_STEP(g, i)                                          \
    "movzbl " #g "*32(%[c]), %k[" #i "]\n\t"                     \
    "vpaddw " #g "*1728(%[t],%[" #i "],8), %[a0], %[a0]\n\t"     \
    "vpaddw " #g "*1728+32(%[t],%[" #i "],8), %[a1], %[a1]\n\t"
#define TLUT_STEPS8 TLUT_STEP(0, i0) TLUT_STEP(1, i1) TLUT_STEP(2, i0) TLUT_STEP(3, i1) \
    TLUT_STEP(4, i0) TLUT_STEP(5, i1) TLUT_STEP(6, i0) TLUT_STEP(7, i1)
#if LT_TLUT_KG == 16
#define TLUT_STEPS TLUT_STEPS8 TLUT_STEP(8, i0) TLUT_STEP(9, i1) TLUT_STEP(10, i0) TLUT_STEP(11, i1) \
    TLUT_STEP(12, i0) TLUT_STEP(13, i1) TLUT_STEP(14, i0) TLUT_STEP(15, i1)
#elif LT_TLUT_KG == 8
#define TLUT_STEPS TLUT_STEPS8
#endif
_Static_assert(GROUP_BYTES == 1728 && LT_TILE == 32, "TLUT_STEP's constants");

/* The 32 rows of a tile over a full K-block (KG groups): p16[r] += Σ_g E_g[codes[g][r]]. */
static inline void tile_kblock(const uint8_t *codes, const uint8_t *tab, int16_t (*p16)[NB]) {
#if defined(__x86_64__)
    __m256i a0, a1;
    uint64_t i0, i1;
    int64_t n = LT_TILE;
    __asm__ volatile("1:\n\t" /* volatile: the results are in memory, not in the outputs */
            "vpxor %[a0], %[a0], %[a0]\n\t"
            "vpxor %[a1], %[a1], %[a1]\n\t"
            TLUT_STEPS
            "vpaddw (%[p]), %[a0], %[a0]\n\t"
            "vpaddw 32(%[p]), %[a1], %[a1]\n\t"
            "vmovdqa %[a0], (%[p])\n\t"
            "vmovdqa %[a1], 32(%[p])\n\t"
            "add $64, %[p]\n\t"
            "inc %[c]\n\t"
            "dec %[n]\n\t"
            "jnz 1b\n\t"
            : [a0] "=&x"(a0), [a1] "=&x"(a1), [i0] "=&r"(i0), [i1] "=&r"(i1), [c] "+r"(codes), [p] "+r"(p16), [n] "+r"(n)
            : [t] "r"(tab)
            : "memory", "cc");
#else
    for (int r = 0; r < LT_TILE; r++) row_groups(codes + r, tab, KG, p16[r]);
#endif
}

/* ip[i] += p16[i] (widened) and p16[i] = 0 for `rows` rows. */
static void widen(int16_t (*p16)[NB], int32_t (*ip)[NB], int64_t rows) {
    for (int64_t i = 0; i < rows; i++)
        for (int h = 0; h < 2; h++) {
            __m256i v = _mm256_load_si256((const __m256i *)(p16[i] + 16 * h));
            __m256i *d = (__m256i *)(ip[i] + 16 * h);
            _mm256_store_si256(d, _mm256_add_epi32(_mm256_load_si256(d), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v))));
            _mm256_store_si256(d + 1, _mm256_add_epi32(_mm256_load_si256(d + 1), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1))));
            _mm256_store_si256((__m256i *)(p16[i] + 16 * h), _mm256_setzero_si256());
        }
}

typedef struct {
    int16_t p16[UNIT_ROWS][NB];
    int32_t ip[UNIT_ROWS][NB];
    uint8_t codes[KG * LT_TILE];
} unit_scratch;

/* Tiles [t0, t1) of w (at most LT_TLUT_TILES) for the nt tokens from tok0, whose tables are tab
 * ([ngroups] groups): y[tok][row] = (float)dot * (s * a) as lt_gemv_ref. */
static void run_unit(const lt_qweight *w, const lt_act *a, const uint8_t *tab, int64_t ngroups, int64_t tok0, int nt,
                     int64_t t0, int64_t t1, float *y) {
    _Alignas(64) unit_scratch sc;
    int64_t rows = (t1 - t0) * LT_TILE, nbytes = w->nslots / 2, pending = 0;
    size_t tile_bytes = lt_qw_tile_bytes(w);
    memset(sc.p16, 0, (size_t)rows * sizeof sc.p16[0]);
    memset(sc.ip, 0, (size_t)rows * sizeof sc.ip[0]);
    for (int64_t g0 = 0; g0 < ngroups; g0 += KG) {
        int ng = (int)LT_MIN(KG, ngroups - g0);
        const uint8_t *tk = tab + g0 * GROUP_BYTES, *next = g0 + KG < ngroups ? tk + KG * GROUP_BYTES : NULL;
        int64_t pf_bytes = LT_MIN(KG, ngroups - g0 - KG) * GROUP_BYTES, pf_share = (pf_bytes / (t1 - t0) + 63) & ~63;
        for (int64_t tile = t0; tile < t1; tile++) {
            decode_codes(w->idx + (size_t)tile * tile_bytes, nbytes, g0, ng, sc.codes);
            int16_t (*p16)[NB] = sc.p16 + (tile - t0) * LT_TILE;
            if (next) /* the next K-block's tables into L2, a share per tile (the accesses are random) */
                for (int64_t b = (tile - t0) * pf_share; b < LT_MIN((tile - t0 + 1) * pf_share, pf_bytes); b += 64)
                    _mm_prefetch((const char *)next + b, _MM_HINT_T1);
            if (ng == KG) tile_kblock(sc.codes, tk, p16);
            else
                for (int r = 0; r < LT_TILE; r++) row_groups(sc.codes + r, tk, ng, p16[r]);
        }
        pending += ng;
        if (pending + KG > LT_TLUT_WIDEN || g0 + KG >= ngroups) {
            widen(sc.p16, sc.ip, rows);
            pending = 0;
        }
    }
    int64_t row0 = t0 * LT_TILE, nrows = LT_MIN(rows, w->m - row0);
    for (int t = 0; t < nt; t++) {
        float act = a->scale[tok0 + t], *yt = y + (tok0 + t) * w->m + row0;
        for (int64_t i = 0; i < nrows; i++) yt[i] = (float)sc.ip[i][t] * (w->scale[row0 + i] * act);
    }
}

/* ---- parallel regions ---- */

enum { FILL_SHARES = 8 }; /* shares of the table groups (threads take them from a counter) */

typedef struct {
    const lt_qweight *const *ws;
    float *const *ys;
    int count;
    const lt_act *a;
    uint8_t *tabs;   /* [nblocks][ngroups][27][32] int16 */
    int64_t ngroups, tok0;
    int ntok, nblocks;
    int64_t first_unit[LT_MATMUL_MANY_MAX + 1]; /* units of weight i: [first_unit[i], first_unit[i + 1]) */
    atomic_int next_fill, filled;
    atomic_llong next_unit;
} tlut_job;

/* Each thread fills shares of the tables (all token blocks, a range of groups), waits until every
 * share is there, then takes units: unit u of weight i is its chunk (u - first) / nblocks of
 * LT_TLUT_TILES tiles for token block (u - first) % nblocks (a chunk's code bytes are read for its
 * token blocks one after the other, while they are still in L2). */
static void tlut_task(void *ctx, int ith, int nth) {
    (void)ith, (void)nth;
    tlut_job *j = ctx;
    for (int c; (c = atomic_fetch_add_explicit(&j->next_fill, 1, memory_order_relaxed)) < FILL_SHARES;) {
        int64_t g0, g1;
        lt_split_range(j->ngroups, 4, c, FILL_SHARES, &g0, &g1);
        for (int b = 0; b < j->nblocks; b++)
            build_tables(j->a, j->tok0 + b * NB, (int)LT_MIN(NB, j->ntok - b * NB), g0, g1,
                         j->tabs + (size_t)b * (size_t)j->ngroups * GROUP_BYTES);
        atomic_fetch_add_explicit(&j->filled, 1, memory_order_acq_rel);
    }
    /* Spin briefly, then yield: on an oversubscribed machine the thread we wait for may need this core. */
    for (int spins = 0; atomic_load_explicit(&j->filled, memory_order_acquire) < FILL_SHARES; spins++) {
        if (spins < 2000) lt_cpu_relax();
        else sched_yield();
    }
    int64_t total = j->first_unit[j->count], u;
    while ((u = atomic_fetch_add_explicit(&j->next_unit, 1, memory_order_relaxed)) < total) {
        int i = 0;
        while (u >= j->first_unit[i + 1]) i++;
        const lt_qweight *w = j->ws[i];
        int64_t local = u - j->first_unit[i], chunk = local / j->nblocks, b = local % j->nblocks;
        int64_t t0 = chunk * LT_TLUT_TILES, t1 = LT_MIN(t0 + LT_TLUT_TILES, w->ntiles);
        run_unit(w, j->a, j->tabs + (size_t)b * (size_t)j->ngroups * GROUP_BYTES, j->ngroups, j->tok0 + b * NB,
                 (int)LT_MIN(NB, j->ntok - b * NB), t0, t1, j->ys[i]);
    }
}

/* The calling thread's table buffer, kept for its next call (a prompt makes hundreds). */
static _Thread_local uint8_t *tl_tabs;
static _Thread_local size_t tl_cap;

static uint8_t *table_buffer(size_t bytes) {
    if (tl_cap >= bytes) return tl_tabs;
    lt_aligned_free(tl_tabs);
    tl_tabs = lt_aligned_alloc(64, bytes);
    tl_cap = tl_tabs ? bytes : 0;
    return tl_tabs;
}

void lt_qweight_matmul_tlut(const lt_qweight *const *ws, int count, lt_act *a, float *const *ys, lt_pool *pool) {
    for (int i0 = 0; i0 < count; i0 += LT_MATMUL_MANY_MAX) { /* at most LT_MATMUL_MANY_MAX weights per region */
        int cnt = (int)LT_MIN(LT_MATMUL_MANY_MAX, count - i0);
        const lt_qweight *w = ws[i0];
        int64_t ngroups = lt_tlut_groups(w);
        int max_blocks = (int)((LT_MIN(a->n, LT_TLUT_TOKENS) + NB - 1) / NB);
        uint8_t *tabs = table_buffer((size_t)LT_MAX(max_blocks, 1) * (size_t)ngroups * GROUP_BYTES);
        if (!tabs) {
            lt_set_error("lt_qweight_matmul_tlut: out of memory for the tables");
            for (int i = i0; i < i0 + cnt; i++) memset(ys[i], 0, (size_t)a->n * (size_t)ws[i]->m * sizeof(float));
            continue;
        }
        for (int64_t tok0 = 0; tok0 < a->n; tok0 += LT_TLUT_TOKENS) {
            tlut_job j = { .ws = ws + i0, .ys = ys + i0, .count = cnt, .a = a, .tabs = tabs, .ngroups = ngroups, .tok0 = tok0 };
            j.ntok = (int)LT_MIN(LT_TLUT_TOKENS, a->n - tok0);
            j.nblocks = (j.ntok + NB - 1) / NB;
            j.first_unit[0] = 0;
            for (int i = 0; i < cnt; i++) {
                int64_t chunks = (ws[i0 + i]->ntiles + LT_TLUT_TILES - 1) / LT_TLUT_TILES;
                j.first_unit[i + 1] = j.first_unit[i] + chunks * j.nblocks;
            }
            atomic_init(&j.next_fill, 0);
            atomic_init(&j.filled, 0);
            atomic_init(&j.next_unit, 0);
            lt_pool_run(pool, tlut_task, &j);
        }
    }
}

/* ---- AUTO ---- */

static _Atomic int auto_on = -1; /* -1: not read from the environment yet */

bool lt_tlut_auto(const lt_qweight *w, int64_t n) {
    int on = atomic_load_explicit(&auto_on, memory_order_relaxed);
    if (on < 0) {
        const char *env = getenv("LUTLM_TLUT");
        on = env && env[0] == '1'; /* off until it beats the int8 GEMM */
        atomic_store_explicit(&auto_on, on, memory_order_relaxed);
    }
    return on && n >= LT_TLUT_MIN_N && lt_tlut_supports(w);
}

void lt_tlut_set_auto(bool on) { atomic_store_explicit(&auto_on, on ? 1 : 0, memory_order_relaxed); }

#endif
