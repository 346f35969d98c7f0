/* t3_spike: would a true 1.67-bit ternary layout ("t3") beat tern2's 2-bit LUT GEMV at decode?
 * A standalone prototype and benchmark; docs/t3-spike.md has the design, the numbers and the verdict.
 *
 * t3 layout. Groups of 3 ternary weights, combo v = 9 t0 + 3 t1 + t2 in [-13, 13] (balanced
 * ternary: unique), stored sign-folded: |v| in a 4-bit nibble, sign(v) as one bit. A block is 42
 * weights (14 groups) of 32 rows, [9][32] bytes (a 32-byte load serves 32 rows, as in tern2):
 *   vector 0: sign byte A, bit 7 - j = sign of group j (j = 0..6), bit 0 = 1 (the byte is never 0)
 *   vector 1: sign byte B, likewise for group 7 + j
 *   vector 2 + j (j = 0..6): |v| of group j (low nibble) | |v| of group 7 + j << 4
 * 9 bytes per 42 weights = 1.714 bits per weight (tern2: 2; K = 2560 pads to 2562, 6912 to 6930).
 *
 * Tables. Activations q = 16 qh + ql with a SIGNED low nibble ql = ((q + 8) & 15) - 8 in [-8, 7],
 * qh = (q - ql) / 16 in [-8, 8], so a group's entries L[m] = Σ t_i ql_i and H[m] = Σ t_i qh_i are
 * both in [-24, 24] (m = 0..13 the magnitude pattern; entries 14, 15 unused) and five groups still
 * sum in a signed byte (<= 120). Per block 7 x 64 bytes: L_j, H_j, L_{7+j}, H_{7+j}.
 *
 * Kernel, per group and 32 rows: two vpshufb (L, H) on the nibble, two vpsignb with the sign byte
 * (vpsignb negates where the byte's MSB is set; the bit 0 = 1 keeps it non-zero): the sign of
 * group j is brought to the MSB by doubling the sign byte j times (vpaddb, any vector pipe,
 * instead of a shift on the two shuffle pipes). Byte sums over units of 5, 5 and 4 groups; each
 * unit is widened to int16: l and h interleaved (vpunpckl/hbw), vpmaddubsw against the unsigned
 * coefficients (1, 16) (the signed operand is the sums), words l + 16 h per row (|unit| <= 120 +
 * 16 * 120 = 2040), and every 5 blocks (15 units < 32767 / 2040) the word sums go to int32.
 *
 * The benchmark: random ternary weights through lutlm's tern2 format, the four bitnet-2b4t decode
 * shapes (K x M) times 30 layers, one decode step = 4 activation preparations + 4 GEMVs per layer;
 * tern2 through lt_qweight_matmul_path (GEMV, 1 token), t3 through the kernel below on the same
 * lt_pool with the same tile claims (front / back runs, as dispatch.c). Exactness is checked
 * against a scalar Σ t q for every shape (exit 1 on failure).
 *   usage: t3_spike [LAYERS [REPS]]   (default 30 layers, 15 alternated repetitions)
 * Variants measured in docs/t3-spike.md (build by hand with -D): T3_SIGN_SHIFT, T3_WIDEN_4MADD,
 * T3_UNIT=4, T3_DUPTAB, T3_PREFETCH=n; T3_DIAG_NOSIGN / T3_DIAG_NOWIDEN time parts of the kernel
 * and give wrong results on purpose. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,bmi2,f16c")
#include <immintrin.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/threadpool.h"
#include "common/util.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "kernels/kernels_impl.h"
#include "micro.h"

#define T3_KB 42                     /* weights per block */
#define T3_BLOCK_BYTES (9 * LT_TILE) /* per block and tile: 2 sign vectors + 7 nibble vectors */
#ifdef T3_DUPTAB /* tables stored twice (both 128-bit lanes): a plain load instead of vbroadcasti128 */
#define T3_TAB_ENTRY 32
#else
#define T3_TAB_ENTRY 16
#endif
#define T3_TAB_BLOCK (7 * 4 * T3_TAB_ENTRY) /* table bytes per block and token */
#ifndef T3_UNIT
#define T3_UNIT 5 /* groups summed in bytes before widening: 5 * 24 <= 127 */
#endif
/* Blocks per int16 chunk: |unit| <= T3_UNIT * 24 * 17, at most 32767 / 2040 = 16 units of 5. */
#define T3_FLUSH_BLOCKS (16 / ((14 + T3_UNIT - 1) / T3_UNIT))
#ifndef T3_PREFETCH
#define T3_PREFETCH 4096 /* bytes ahead, as tern2's LT_PREFETCH */
#endif
#define LT_PF_HINT_T3 _MM_HINT_T1
#if defined(T3_DIAG_NOSIGN) || defined(T3_DIAG_NOWIDEN)
#define T3_DIAG 1 /* a timing diagnosis: results are wrong on purpose */
#else
#define T3_DIAG 0
#endif
#define AI static inline __attribute__((always_inline))

typedef struct {
    int64_t k, m, kp, nblk, ntiles;
    uint8_t *idx;       /* [ntiles][nblk][9][32] */
    const float *scale; /* per row, borrowed from the tern2 qweight */
} t3_weight;

static size_t t3_tile_bytes(const t3_weight *w) { return (size_t)w->nblk * T3_BLOCK_BYTES; }

/* ---- packing ---- */

/* codes[m][k] (t in {-1, 0, 1}) into the t3 layout (see the top). */
static bool t3_pack(t3_weight *w, const int8_t *codes, int64_t k, int64_t m, const float *scale) {
    w->k = k, w->m = m, w->kp = (k + T3_KB - 1) / T3_KB * T3_KB, w->nblk = w->kp / T3_KB;
    w->ntiles = (m + LT_TILE - 1) / LT_TILE, w->scale = scale;
    w->idx = lt_aligned_alloc(64, (size_t)w->ntiles * t3_tile_bytes(w));
    if (!w->idx) return false;
    for (int64_t row = 0; row < w->ntiles * LT_TILE; row++) {
        uint8_t *tile = w->idx + (size_t)(row / LT_TILE) * t3_tile_bytes(w);
        int r = (int)(row % LT_TILE);
        for (int64_t b = 0; b < w->nblk; b++) {
            uint8_t *blk = tile + (size_t)b * T3_BLOCK_BYTES;
            uint8_t sign[2] = { 1, 1 }, nib[7] = { 0 };
            for (int g = 0; g < 14; g++) {
                int t[3];
                for (int i = 0; i < 3; i++) {
                    int64_t kk = b * T3_KB + 3 * g + i;
                    t[i] = row < m && kk < k ? codes[row * k + kk] : 0;
                }
                int v = 9 * t[0] + 3 * t[1] + t[2], j = g % 7, hi = g / 7;
                nib[j] |= (uint8_t)((v < 0 ? -v : v) << (4 * hi));
                if (v < 0) sign[hi] |= (uint8_t)(1 << (7 - j));
            }
            blk[r] = sign[0], blk[LT_TILE + r] = sign[1];
            for (int j = 0; j < 7; j++) blk[(2 + j) * LT_TILE + r] = nib[j];
        }
    }
    return true;
}

/* ---- tables ---- */

/* Balanced-ternary digits of the magnitudes m = 0..15 (14, 15 unused: all digits 0) as int16
 * lanes: m = 9 d0 + 3 d1 + d2. */
static void t3_digits(__m256i d[3]) {
    int16_t dig[3][16] = { { 0 } };
    for (int mag = 0; mag < 14; mag++) {
        int t2 = (mag + 1) % 3 - 1, m1 = (mag - t2) / 3, t1 = (m1 + 1) % 3 - 1, t0 = (m1 - t1) / 3;
        dig[0][mag] = (int16_t)t0, dig[1][mag] = (int16_t)t1, dig[2][mag] = (int16_t)t2;
    }
    for (int i = 0; i < 3; i++) d[i] = _mm256_loadu_si256((const __m256i *)dig[i]);
}

/* Tables of blocks [b0, b1) of one token's int8 values q (zero past K). */
static void t3_tables(const int8_t *q, uint8_t *tab, int64_t b0, int64_t b1) {
    __m256i d[3];
    t3_digits(d);
    for (int64_t b = b0; b < b1; b++)
        for (int g = 0; g < 14; g++) {
            __m256i l = _mm256_setzero_si256(), h = _mm256_setzero_si256();
            for (int i = 0; i < 3; i++) {
                int x = q[b * T3_KB + 3 * g + i], ql = ((x + 8) & 15) - 8, qh = (x - ql) / 16;
                l = _mm256_add_epi16(l, _mm256_sign_epi16(_mm256_set1_epi16((short)ql), d[i]));
                h = _mm256_add_epi16(h, _mm256_sign_epi16(_mm256_set1_epi16((short)qh), d[i]));
            }
            __m256i packed = _mm256_packs_epi16(l, h); /* quads L 0..7, H 0..7, L 8..15, H 8..15 */
            uint8_t *dst = tab + b * T3_TAB_BLOCK + ((g % 7) * 4 + (g / 7) * 2) * T3_TAB_ENTRY;
#ifdef T3_DUPTAB
            _mm256_storeu_si256((__m256i *)dst, _mm256_permute4x64_epi64(packed, 0x88));
            _mm256_storeu_si256((__m256i *)(dst + 32), _mm256_permute4x64_epi64(packed, 0xDD));
#else
            _mm256_storeu_si256((__m256i *)dst, _mm256_permute4x64_epi64(packed, 0xD8));
#endif
        }
}

/* ---- kernel ---- */

#ifdef T3_DUPTAB
AI __m256i bcast16(const uint8_t *p) { return _mm256_load_si256((const __m256i *)p); }
#else
AI __m256i bcast16(const uint8_t *p) { return _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)p)); }
#endif

/* One group: l += sign(L[idx]), h += sign(H[idx]) (first: l, h = ...). */
AI void t3_group(__m256i idx, const uint8_t *tab, __m256i s, const bool first, __m256i *l, __m256i *h) {
#ifdef T3_DIAG_NOSIGN /* timing diagnosis only (wrong results): without the sign operations */
    __m256i gl = _mm256_shuffle_epi8(bcast16(tab), idx), gh = _mm256_shuffle_epi8(bcast16(tab + T3_TAB_ENTRY), idx);
    (void)s;
#else
    __m256i gl = _mm256_sign_epi8(_mm256_shuffle_epi8(bcast16(tab), idx), s);
    __m256i gh = _mm256_sign_epi8(_mm256_shuffle_epi8(bcast16(tab + T3_TAB_ENTRY), idx), s);
#endif
    *l = first ? gl : _mm256_add_epi8(*l, gl);
    *h = first ? gh : _mm256_add_epi8(*h, gh);
}

/* A unit's byte sums into the word sums l + 16 h per row: l and h interleaved by two byte unpacks,
 * then vpmaddubsw against (1, 16): a = rows 0-7|16-23, b = rows 8-15|24-31 (6 operations; measured
 * 6% faster per weight than -DT3_WIDEN_4MADD: four vpmaddubsw against (1, 0), (16, 0), (0, 1),
 * (0, 16) and four adds, even rows in a, odd rows in b, no shuffle-pipe operations). */
AI void t3_widen(__m256i l, __m256i h, __m256i *a, __m256i *b) {
#ifdef T3_DIAG_NOWIDEN /* timing diagnosis only (wrong results): one byte add instead of the widening */
    *a = _mm256_add_epi8(*a, _mm256_add_epi8(l, h));
#elif defined(T3_WIDEN_4MADD)
    const __m256i e1 = _mm256_set1_epi16(1), e16 = _mm256_set1_epi16(16);
    const __m256i o1 = _mm256_set1_epi16(1 << 8), o16 = _mm256_set1_epi16(16 << 8);
    *a = _mm256_add_epi16(*a, _mm256_add_epi16(_mm256_maddubs_epi16(e1, l), _mm256_maddubs_epi16(e16, h)));
    *b = _mm256_add_epi16(*b, _mm256_add_epi16(_mm256_maddubs_epi16(o1, l), _mm256_maddubs_epi16(o16, h)));
#else
    const __m256i c = _mm256_set1_epi16(1 | 16 << 8);
    *a = _mm256_add_epi16(*a, _mm256_maddubs_epi16(c, _mm256_unpacklo_epi8(l, h)));
    *b = _mm256_add_epi16(*b, _mm256_maddubs_epi16(c, _mm256_unpackhi_epi8(l, h)));
#endif
}

/* One block of one tile: 14 groups in units of 5, 5 and 4 (group order: j lo, j hi, j + 1 lo, ...). */
AI void t3_block(const uint8_t *wb, const uint8_t *tb, __m256i *e, __m256i *o) { /* e, o: t3_widen's a, b */
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < T3_BLOCK_BYTES; c += 64) _mm_prefetch((const char *)(wb + T3_PREFETCH + c), LT_PF_HINT_T3);
    __m256i sa = _mm256_load_si256((const __m256i *)wb), sb = _mm256_load_si256((const __m256i *)(wb + 32));
    __m256i l, h;
    int n = 0; /* groups in the current unit (a constant once unrolled) */
    _Pragma("GCC unroll 7")
    for (int j = 0; j < 7; j++) {
        __m256i v = _mm256_load_si256((const __m256i *)(wb + 64 + 32 * j));
        __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
#ifdef T3_SIGN_SHIFT /* the brief's variant: a word shift per group (on the shuffle pipes) */
        __m256i s0 = _mm256_slli_epi16(sa, j), s1 = _mm256_slli_epi16(sb, j);
#else
        __m256i s0 = sa, s1 = sb;
#endif
        t3_group(lo, tb + 4 * T3_TAB_ENTRY * j, s0, n == 0, &l, &h);
        if (++n == T3_UNIT) t3_widen(l, h, e, o), n = 0;
        t3_group(hi, tb + 4 * T3_TAB_ENTRY * j + 2 * T3_TAB_ENTRY, s1, n == 0, &l, &h);
        if (++n == T3_UNIT) t3_widen(l, h, e, o), n = 0;
#ifndef T3_SIGN_SHIFT
        sa = _mm256_add_epi8(sa, sa), sb = _mm256_add_epi8(sb, sb); /* next group's sign to the MSB */
#endif
    }
    if (n) t3_widen(l, h, e, o); /* the last groups */
}

/* d[0..3] (int32, rows 0-7, 8-15, 16-23, 24-31) += the signed word sums of t3_widen. */
AI void t3_flush(__m256i d[4], __m256i a, __m256i b) {
#ifdef T3_WIDEN_4MADD /* a = even rows, b = odd rows */
    __m256i ea = a;
    a = _mm256_unpacklo_epi16(ea, b), b = _mm256_unpackhi_epi16(ea, b); /* rows 0-7|16-23, 8-15|24-31 */
#endif
    d[0] = _mm256_add_epi32(d[0], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)));
    d[1] = _mm256_add_epi32(d[1], _mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)));
    d[2] = _mm256_add_epi32(d[2], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)));
    d[3] = _mm256_add_epi32(d[3], _mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)));
}

/* Integer dots of one tile (32 rows) with one token's tables. */
static __attribute__((noinline)) void t3_tile_dot(const uint8_t *wt, const uint8_t *tab, int64_t nblk, __m256i d[4]) {
    for (int i = 0; i < 4; i++) d[i] = _mm256_setzero_si256();
    for (int64_t c0 = 0; c0 < nblk; c0 += T3_FLUSH_BLOCKS) {
        int64_t c1 = LT_MIN(c0 + T3_FLUSH_BLOCKS, nblk);
        __m256i e = _mm256_setzero_si256(), o = _mm256_setzero_si256();
        for (int64_t b = c0; b < c1; b++) t3_block(wt + b * T3_BLOCK_BYTES, tab + b * T3_TAB_BLOCK, &e, &o);
        t3_flush(d, e, o);
    }
}

/* y[row] = dot * (s_row * a) for tiles [t0, t1), the float steps of lutlm's reference. */
static void t3_gemv_tiles(const t3_weight *w, const uint8_t *tab, float a, int64_t t0, int64_t t1, float *y) {
    __m256 act = _mm256_set1_ps(a);
    for (int64_t tile = t0; tile < t1; tile++) {
        __m256i d[4];
        t3_tile_dot(w->idx + (size_t)tile * t3_tile_bytes(w), tab, w->nblk, d);
        float out[LT_TILE];
        for (int i = 0; i < 4; i++)
            _mm256_storeu_ps(out + 8 * i, _mm256_mul_ps(_mm256_cvtepi32_ps(d[i]),
                                                         _mm256_mul_ps(_mm256_loadu_ps(w->scale + tile * LT_TILE + 8 * i), act)));
        int64_t row0 = tile * LT_TILE;
        memcpy(y + row0, out, (size_t)LT_MIN(LT_TILE, w->m - row0) * sizeof(float));
    }
}

/* ---- the parallel region: tables in shares, then tiles claimed as dispatch.c's GEMV does ---- */

enum { FILL_SHARES = 8, COLD_PREFETCH = 4096 };

typedef struct {
    const t3_weight *w;
    const int8_t *q; /* one token's int8 values (lt_act) */
    float a;         /* its step */
    uint8_t *tab;
    float *y;
    atomic_int next_fill, filled;
    _Atomic uint64_t ends; /* back << 32 | front: tiles [front, back) not yet taken */
} t3_job;

/* dispatch.c's claim_stream: share 0 takes grains from the front, the others from the back,
 * a sixteenth of what is left (at least one tile). */
static bool t3_claim(t3_job *j, bool front, int64_t *t0, int64_t *t1) {
    uint64_t e = atomic_load_explicit(&j->ends, memory_order_relaxed);
    for (;;) {
        int64_t f = (int64_t)(uint32_t)e, b = (int64_t)(e >> 32);
        if (f >= b) return false;
        int64_t g = LT_MAX(1, (b - f) / 16);
        if (front) *t0 = f, *t1 = f = LT_MIN(f + g, b);
        else *t1 = b, *t0 = b = LT_MAX(b - g, f);
        if (atomic_compare_exchange_weak_explicit(&j->ends, &e, (uint64_t)b << 32 | (uint64_t)f, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}

static void t3_task(void *ctx, int ith, int nth) {
    t3_job *j = ctx;
    for (int c; (c = atomic_fetch_add_explicit(&j->next_fill, 1, memory_order_relaxed)) < FILL_SHARES;) {
        int64_t b0, b1;
        lt_split_range(j->w->nblk, 1, c, FILL_SHARES, &b0, &b1);
        t3_tables(j->q, j->tab, b0, b1);
        atomic_fetch_add_explicit(&j->filled, 1, memory_order_acq_rel);
    }
    for (int spins = 0; atomic_load_explicit(&j->filled, memory_order_acquire) < FILL_SHARES; spins++) {
        if (spins < 2000) _mm_pause();
        else sched_yield();
    }
    int64_t t0, t1, end = -1;
    while (t3_claim(j, ith == 0, &t0, &t1)) {
        if (t0 != end) { /* a new run: its start is not covered by the kernel's prefetch distance */
            const char *p = (const char *)(j->w->idx + (size_t)t0 * t3_tile_bytes(j->w));
            for (int b = 0; b < COLD_PREFETCH; b += 64) __builtin_prefetch(p + b, 0, 2);
        }
        t3_gemv_tiles(j->w, j->tab, j->a, t0, t1, j->y);
        end = t1;
    }
}

/* y = W x for the one token of a (prepared by lt_act_prepare: int8 values and step). */
static void t3_matmul(const t3_weight *w, const lt_act *a, uint8_t *tab, float *y, lt_pool *pool) {
    t3_job j = { .w = w, .q = a->xq, .a = a->scale[0], .tab = tab, .y = y };
    atomic_init(&j.next_fill, 0);
    atomic_init(&j.filled, 0);
    atomic_init(&j.ends, (uint64_t)w->ntiles << 32);
    lt_pool_run(pool, t3_task, &j);
}

/* ---- benchmark ---- */

typedef struct {
    const char *name;
    int64_t k, m;
} shape;
static const shape SHAPES[4] = { { "qkv", 2560, 3840 }, { "wo", 2560, 2560 }, { "gate+up", 2560, 13824 }, { "down", 6912, 2560 } };

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Core clock from a chain of dependent adds (one per cycle), in thread CPU time. */
static double measure_ghz(void) {
    uint64_t iters = 50000000, x = 0;
    double t0 = cpu_now();
    __asm__ volatile("1:\n\t"
                     "add $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\t"
                     "add $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\tadd $1, %1\n\t"
                     "sub $1, %0\n\tjnz 1b\n\t"
                     : "+r"(iters), "+r"(x));
    return 10.0 * 50000000.0 / (cpu_now() - t0) / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The codes of a LUT-layout ternary weight, [m][k]. */
static int8_t *codes_of(const lt_qweight *w, int64_t k, int64_t m) {
    int8_t *c = malloc((size_t)(k * m));
    if (c)
        for (int64_t r = 0; r < m; r++)
            for (int64_t i = 0; i < k; i++) c[r * k + i] = (int8_t)lt_qw_code(w, r, i);
    return c;
}

/* t3's integer dots against Σ t q, and its floats against tern2's GEMV; false on any difference. */
static bool check_shape(const shape *s, const t3_weight *w3, const lt_qweight *w2, const int8_t *codes, const float *x,
                        lt_act *a, uint8_t *tab) {
    lt_act_prepare(a, x, 1, s->k);
    t3_tables(a->xq, tab, 0, w3->nblk);
    int64_t bad = 0, bad_float = 0;
    for (int64_t tile = 0; tile < w3->ntiles; tile++) {
        __m256i d[4];
        int32_t dot[LT_TILE];
        t3_tile_dot(w3->idx + (size_t)tile * t3_tile_bytes(w3), tab, w3->nblk, d);
        for (int i = 0; i < 4; i++) _mm256_storeu_si256((__m256i *)(dot + 8 * i), d[i]);
        for (int r = 0; r < LT_TILE && tile * LT_TILE + r < s->m; r++) {
            const int8_t *c = codes + (tile * LT_TILE + r) * s->k;
            int32_t ref = 0;
            for (int64_t i = 0; i < s->k; i++) ref += c[i] * a->xq[i];
            bad += dot[r] != ref;
        }
    }
    float *y2 = malloc((size_t)s->m * sizeof(float)), *y3 = malloc((size_t)s->m * sizeof(float));
    lt_qweight_matmul_path(w2, a, y2, NULL, LT_PATH_GEMV);
    t3_matmul(w3, a, tab, y3, NULL);
    for (int64_t r = 0; r < s->m; r++) bad_float += memcmp(&y2[r], &y3[r], sizeof(float)) != 0;
    free(y2);
    free(y3);
    printf("check %-8s K=%-5lld M=%-6lld int dots vs scalar: %s (%lld bad)   floats vs tern2 GEMV: %s\n", s->name,
           (long long)s->k, (long long)s->m, bad ? "FAIL" : "PASS", (long long)bad, bad_float ? "FAIL" : "PASS");
    return bad == 0 && bad_float == 0;
}

/* One decode step: per layer and shape, prepare the token's activations and run the GEMV. */
static double step(bool t3, int layers, lt_qweight *const *w2, const t3_weight *w3, float *const *x, lt_act *a,
                   uint8_t *tab, float *y, lt_pool *pool) {
    double t0 = wall_now();
    for (int l = 0; l < layers; l++)
        for (int s = 0; s < 4; s++) {
            lt_act_prepare(a, x[s], 1, SHAPES[s].k);
            if (t3) t3_matmul(&w3[l * 4 + s], a, tab, y, pool);
            else lt_qweight_matmul_path(w2[l * 4 + s], a, y, pool, LT_PATH_GEMV);
        }
    return wall_now() - t0;
}

/* Single thread, weights in L2 (K 2560, M 512): kernel time per 32 weight bytes and per weight. */
static void in_l2(double ghz) {
    micro_case mc;
    if (!micro_setup("tern2", 2560, 512, 1, &mc)) return;
    int8_t *codes = codes_of(mc.w, 2560, 512);
    t3_weight w3;
    if (!codes || !t3_pack(&w3, codes, 2560, 512, mc.w->scale)) return;
    lt_act *a = lt_act_new();
    uint8_t *tab = lt_aligned_alloc(64, (size_t)w3.nblk * T3_TAB_BLOCK);
    lt_act_prepare(a, mc.x, 1, 2560);
    lt_qweight_matmul_path(mc.w, a, mc.y, NULL, LT_PATH_GEMV); /* builds the tables once */
    t3_tables(a->xq, tab, 0, w3.nblk);
    double bytes[2] = { (double)mc.w->ntiles * (double)lt_qw_tile_bytes(mc.w), (double)w3.ntiles * (double)t3_tile_bytes(&w3) };
    double best[2] = { 1e30, 1e30 };
    const int calls = 400;
    for (int rep = 0; rep < 10; rep++)
        for (int which = 0; which < 2; which++) {
            double t0 = cpu_now();
            for (int c = 0; c < calls; c++) {
                if (which == 0) lt_qweight_matmul_path(mc.w, a, mc.y, NULL, LT_PATH_GEMV);
                else t3_gemv_tiles(&w3, tab, a->scale[0], 0, w3.ntiles, mc.y);
            }
            double dt = (cpu_now() - t0) / calls;
            if (dt < best[which]) best[which] = dt;
        }
    for (int which = 0; which < 2; which++)
        printf("in-L2 1 thread %-5s: %6.1f us/GEMV  %.2f cycles per 32 weight bytes  %.3f ns per 1k weights\n",
               which ? "t3" : "tern2", best[which] * 1e6, best[which] * ghz * 1e9 / (bytes[which] / 32),
               best[which] * 1e9 / (2560.0 * 512 / 1000));
    lt_aligned_free(tab);
    lt_aligned_free(w3.idx);
    free(codes);
    lt_act_free(a);
    micro_free(&mc);
}

int main(int argc, char **argv) {
    int layers = argc > 1 ? atoi(argv[1]) : 30, reps = argc > 2 ? atoi(argv[2]) : 15;
    if (layers < 1 || reps < 1 || reps > 1000) return fprintf(stderr, "usage: t3_spike [LAYERS [REPS]]\n"), 2;
    if (lt_isa_active() != LT_ISA_AVX2 && lt_isa_active() != LT_ISA_AVX512)
        return fprintf(stderr, "needs AVX2 (LUTLM_ISA=%s)\n", lt_isa_name(lt_isa_active())), 2;
    double ghz = measure_ghz();
    printf("core clock (dependent adds): %.2f GHz\n", ghz);
    lt_act *a = lt_act_new();
    uint8_t *tab = lt_aligned_alloc(64, (size_t)(6912 / T3_KB + 1) * T3_TAB_BLOCK);
    lt_qweight **w2 = calloc((size_t)layers * 4, sizeof *w2);
    t3_weight *w3 = calloc((size_t)layers * 4, sizeof *w3);
    float *x[4], *y = malloc(13824 * sizeof(float));
    micro_case mc[4];
    bool ok = a && tab && w2 && w3 && y;
    double bytes2 = 0, bytes3 = 0, weights = 0;
    for (int s = 0; s < 4 && ok; s++) {
        const shape *sh = &SHAPES[s];
        if (!micro_setup("tern2", sh->k, sh->m, 1, &mc[s])) return 1;
        x[s] = mc[s].x;
        int8_t *codes = codes_of(mc[s].w, sh->k, sh->m);
        ok = codes && t3_pack(&w3[s], codes, sh->k, sh->m, mc[s].w->scale);
        if (!ok || (!check_shape(sh, &w3[s], mc[s].w, codes, x[s], a, tab) && !T3_DIAG)) return free(codes), 1;
        free(codes);
        for (int l = 0; l < layers; l++) {
            w2[l * 4 + s] = l ? lt_qweight_clone(mc[s].w) : mc[s].w;
            t3_weight *c = &w3[l * 4 + s];
            if (l) {
                *c = w3[s];
                c->idx = lt_aligned_alloc(64, (size_t)c->ntiles * t3_tile_bytes(c));
                if (!c->idx || !w2[l * 4 + s]) return fprintf(stderr, "out of memory\n"), 1;
                memcpy(c->idx, w3[s].idx, (size_t)c->ntiles * t3_tile_bytes(c));
            }
        }
        bytes2 += (double)layers * (double)lt_qweight_bytes(mc[s].w);
        bytes3 += (double)layers * ((double)w3[s].ntiles * (double)t3_tile_bytes(&w3[s]) + 4.0 * (double)sh->m);
        weights += (double)layers * (double)sh->k * (double)sh->m;
    }
    if (!ok) return fprintf(stderr, "out of memory\n"), 1;
    printf("%d layers: tern2 %.1f MB, t3 %.1f MB of weights (+ scales) per step (t3/tern2 = %.3f)\n", layers,
           bytes2 / 1e6, bytes3 / 1e6, bytes3 / bytes2);
    in_l2(ghz);
    for (int threads = 1; threads <= 2; threads++) {
        lt_pool *pool = lt_pool_create(threads);
        double *t[2] = { malloc(sizeof(double) * (size_t)reps), malloc(sizeof(double) * (size_t)reps) };
        step(false, layers, w2, w3, x, a, tab, y, pool); /* warm-up */
        step(true, layers, w2, w3, x, a, tab, y, pool);
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < 2; i++) { /* alternate, and alternate which goes first */
                int which = (r + i) % 2;
                t[which][r] = step(which == 1, layers, w2, w3, x, a, tab, y, pool);
            }
        for (int which = 0; which < 2; which++) {
            double lo = 1e30;
            for (int r = 0; r < reps; r++) lo = t[which][r] < lo ? t[which][r] : lo;
            double med = median(t[which], reps), bytes = which ? bytes3 : bytes2;
            printf("%d thread%s %-5s: median %7.2f ms/step (min %7.2f)  %5.1f GB/s  %5.1f Gweights/s\n", threads,
                   threads > 1 ? "s" : " ", which ? "t3" : "tern2", med * 1e3, lo * 1e3, bytes / med / 1e9,
                   weights / med / 1e9);
        }
        free(t[0]);
        free(t[1]);
        lt_pool_free(pool);
    }
    for (int i = 0; i < layers * 4; i++) {
        if (i >= 4) lt_qweight_free(w2[i]); /* layer 0: the micro cases' own */
        lt_aligned_free(w3[i].idx);
    }
    for (int s = 0; s < 4; s++) micro_free(&mc[s]);
    free(w2);
    free(w3);
    free(y);
    lt_aligned_free(tab);
    lt_act_free(a);
    return 0;
}

#else /* the prototype is AVX2 only */
#include <stdio.h>

int main(void) {
    fprintf(stderr, "t3_spike: an x86-64 AVX2 prototype, nothing to run here\n");
    return 0;
}
#endif
