/* Runtime ISA selection and the matmul entry points: prepare the activations, build the tables
 * the chosen kernel needs (serially, before the parallel region), then split the output rows
 * over the pool's threads. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/thread_slot.h"
#include "common/util.h"
#include "kernels/gemm.h"
#include "kernels/kernels_impl.h"
#include "kernels/tlut.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "common/spin.h"

static lt_isa isa_detected = LT_ISA_SCALAR;
static _Atomic int isa_current = LT_ISA_SCALAR;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

#if defined(LUTLM_HAVE_X86_KERNELS)
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* AVX2 needs AVX2 + FMA + F16C + BMI2 and the OS saving YMM state; AVX-512 level needs F, BW, VL,
 * VBMI (vpermb) and VNNI (vpdpbusd) and the OS saving ZMM/opmask state (Ice Lake, Zen 4 and later). */
static lt_isa detect_x86(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return LT_ISA_SCALAR;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12), f16c = c & (1u << 29);
    if (!osxsave || !avx || !fma || !f16c) return LT_ISA_SCALAR;
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 6) != 6) return LT_ISA_SCALAR;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return LT_ISA_SCALAR;
    bool avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
    if (!avx2 || !bmi2) return LT_ISA_SCALAR;
    bool f = b & (1u << 16), bw = b & (1u << 30), vl = b & (1u << 31), vbmi = c & (1u << 1), vnni = c & (1u << 11);
    if (f && bw && vl && vbmi && vnni && (xcr0 & 0xE6) == 0xE6) return LT_ISA_AVX512;
    return LT_ISA_AVX2;
}
#endif

#if defined(LUTLM_HAVE_ARM_KERNELS)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
/* NEON is part of AArch64; dotprod (SDOT/UDOT) is optional. */
static lt_isa detect_arm(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? LT_ISA_NEON_DOTPROD : LT_ISA_NEON; }
#endif

static bool isa_from_name(const char *s, lt_isa *out) {
    static const char *names[] = { "scalar", "avx2", "avx512", "neon", "dotprod" };
    for (int i = 0; i < 5; i++)
        if (!strcasecmp(s, names[i])) { *out = (lt_isa)i; return true; }
    return false;
}

/* Can a CPU whose best level is det run level isa? The AVX-512 level runs its own kernels where it
 * has them and the AVX2 ones elsewhere, the dotprod level the NEON kernels but its own int8 GEMM
 * (kernels_for; docs/kernels.md). */
static bool level_runs(lt_isa det, lt_isa isa) {
    switch (isa) {
    case LT_ISA_SCALAR: return true;
    case LT_ISA_AVX2: return det == LT_ISA_AVX2 || det == LT_ISA_AVX512;
    case LT_ISA_AVX512: return det == LT_ISA_AVX512;
    case LT_ISA_NEON: return det == LT_ISA_NEON || det == LT_ISA_NEON_DOTPROD;
    case LT_ISA_NEON_DOTPROD: return det == LT_ISA_NEON_DOTPROD;
    }
    return false;
}

/* Runs once (pthread_once): must not call lt_isa_detect / lt_isa_available, which wait for it. */
static void isa_init(void) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    isa_detected = detect_x86();
#elif defined(LUTLM_HAVE_ARM_KERNELS)
    isa_detected = detect_arm();
#endif
    lt_isa isa = isa_detected;
    const char *env = getenv("LUTLM_ISA");
    lt_isa want;
    if (env && *env && isa_from_name(env, &want) && level_runs(isa_detected, want)) isa = want;
    atomic_store(&isa_current, (int)isa);
}

lt_isa lt_isa_detect(void) {
    pthread_once(&isa_once, isa_init);
    return isa_detected;
}

lt_isa lt_isa_active(void) {
    pthread_once(&isa_once, isa_init);
    return (lt_isa)atomic_load(&isa_current);
}

/* A level is available if this build has its kernels and the CPU can run them. */
bool lt_isa_available(lt_isa isa) { return level_runs(lt_isa_detect(), isa); }

bool lt_isa_set(lt_isa isa) {
    if (!lt_isa_available(isa)) return lt_set_error("ISA %s is not available on this CPU/build", lt_isa_name(isa));
    atomic_store(&isa_current, (int)isa);
    return true;
}

const char *lt_isa_name(lt_isa isa) {
    switch (isa) {
    case LT_ISA_SCALAR: return "scalar";
    case LT_ISA_AVX2: return "avx2";
    case LT_ISA_AVX512: return "avx512";
    case LT_ISA_NEON: return "neon";
    case LT_ISA_NEON_DOTPROD: return "dotprod";
    }
    return "?";
}

#if defined(LUTLM_HAVE_X86_KERNELS)
static bool simd_x86(void) {
    lt_isa isa = lt_isa_active();
    return isa == LT_ISA_AVX2 || isa == LT_ISA_AVX512;
}
#endif

/* ---- parallel regions ---- */

enum { GEMV_RUNS_MAX = 64 }; /* shares beyond this many own no run: they only steal */

typedef struct {
    const lt_qweight *w;
    lt_act *a;
    const float *x;
    float *y;
    lt_lut_kernel lut;
    lt_row_kernel rows;
    lt_f32_kernel f32;
    lt_fill_fn fill;      /* tables to fill first (FILL_SHARES shares of the slots), or NULL */
    atomic_int next_fill; /* next share of the tables to fill */
    atomic_int filled;    /* shares of the tables filled */
    int64_t grain;        /* > 0: threads take tiles in grains of this many from next_tile (GEMM, GEMV) */
    atomic_llong next_tile;
    bool streams;         /* GEMV: tiles from the shares' runs (claim_run) instead of next_tile */
    int nruns;            /* GEMV: runs[i] = back << 32 | front, the global tiles [front, back) */
    _Atomic uint64_t runs[GEMV_RUNS_MAX]; /*   share i has not taken yet (it walks them forward) */
    /* Several weights of one kind sharing the activations (q/k/v, gate/up) in one region: the
     * tiles of weight i are the global tiles [first_tile[i], first_tile[i + 1]). */
    int count;
    const lt_qweight *ws[LT_MATMUL_MANY_MAX];
    float *ys[LT_MATMUL_MANY_MAX];
    int64_t first_tile[LT_MATMUL_MANY_MAX + 1];
} job;

/* The weights' bytes of global tile t (of the weights of one region). */
static const uint8_t *tile_bytes_at(const job *j, int64_t t) {
    for (int i = 0;; i++)
        if (t < j->first_tile[i + 1] || i + 1 == j->count)
            return j->ws[i]->idx + (size_t)(t - j->first_tile[i]) * lt_qw_tile_bytes(j->ws[i]);
}

/* GEMV (memory-bound): share i owns the i-th contiguous run of the tiles and takes it from the
 * front in grains, so that every thread reads one long forward stream (a stream that starts anew
 * pays the hardware prefetcher's ramp-up: a share that took grains backwards from the end read
 * ~1.5x fewer tiles than its forward partner on small matrices). Grains shrink as a run empties (a
 * sixteenth of what is left, at least j->grain); a share whose run is empty steals the back half
 * of the longest run left and walks that forward, so the threads still end together and a thread
 * the machine deschedules holds little. */
static uint64_t pack_run(int64_t front, int64_t back) { return (uint64_t)back << 32 | (uint64_t)front; }
static int64_t run_front(uint64_t r) { return (int64_t)(uint32_t)r; }
static int64_t run_back(uint64_t r) { return (int64_t)(r >> 32); }

static bool claim_run(job *j, int ith, int64_t *t0, int64_t *t1) {
    _Atomic uint64_t *own = ith < j->nruns ? &j->runs[ith] : NULL;
    for (uint64_t r = own ? atomic_load_explicit(own, memory_order_relaxed) : 0; own && run_front(r) < run_back(r);) {
        int64_t f = run_front(r), b = run_back(r);
        *t0 = f, *t1 = LT_MIN(f + LT_MAX(j->grain, (b - f) / 16), b);
        if (atomic_compare_exchange_weak_explicit(own, &r, pack_run(*t1, b), memory_order_relaxed, memory_order_relaxed))
            return true;
    }
    for (;;) {
        int victim = -1;
        uint64_t r = 0;
        for (int i = 0; i < j->nruns; i++) {
            uint64_t ri = atomic_load_explicit(&j->runs[i], memory_order_relaxed);
            if (run_back(ri) - run_front(ri) > run_back(r) - run_front(r)) victim = i, r = ri;
        }
        if (victim < 0) return false;
        int64_t f = run_front(r), b = run_back(r), mid = b - (b - f + 1) / 2;
        if (!atomic_compare_exchange_strong_explicit(&j->runs[victim], &r, pack_run(f, mid), memory_order_relaxed,
                                                     memory_order_relaxed))
            continue; /* the run changed: look again */
        *t0 = mid, *t1 = LT_MIN(mid + LT_MAX(j->grain, (b - mid) / 16), b);
        /* the rest of the stolen half becomes this share's run (its own was empty: no one else
         * writes an empty run, thieves skip it) */
        if (own) atomic_store_explicit(own, pack_run(*t1, b), memory_order_relaxed);
        else *t1 = b; /* a share without a run slot keeps the whole half */
        return true;
    }
}

/* Tiles [t0, t1) of the region's weights (global numbering), weight by weight. A run that does not
 * continue the thread's previous one (`cold`) has its first LT_GRAIN_PREFETCH bytes prefetched at
 * once: the kernel prefetches a fixed distance ahead, which leaves the start of a new stream to the
 * hardware prefetcher's ramp-up (a run that continues was covered by that distance). */
#define LT_GRAIN_PREFETCH 4096
static void run_tiles(const job *j, int64_t t0, int64_t t1, bool cold) {
    if (cold) {
        const char *p = (const char *)tile_bytes_at(j, t0);
        for (int b = 0; b < LT_GRAIN_PREFETCH; b += 64) __builtin_prefetch(p + b, 0, 2);
    }
    for (int i = 0; i < j->count; i++) { /* the part of [t0, t1) in each weight */
        int64_t a0 = LT_MAX(t0, j->first_tile[i]), a1 = LT_MIN(t1, j->first_tile[i + 1]);
        if (a0 < a1) j->lut(j->ws[i], j->a, a0 - j->first_tile[i], a1 - j->first_tile[i], j->ys[i]);
    }
}

/* One parallel region per matmul: each thread fills its share of the tables, waits until every
 * share is there (a spin: all threads are in this region), then runs its tiles. One region instead
 * of two halves the wake-ups, which dominate small matmuls on a busy machine. */
enum { FILL_SHARES = 8 }; /* shares of the table slots (threads take them from a counter) */

static void lut_task(void *ctx, int ith, int nth) {
    job *j = ctx;
    if (j->fill) {
        /* Shares handed out from a counter: a thread the (shared) machine has not scheduled yet
         * leaves its share to the others instead of holding them at the spin below. */
        for (int c; (c = atomic_fetch_add_explicit(&j->next_fill, 1, memory_order_relaxed)) < FILL_SHARES;) {
            j->fill(j->a, j->w->kind, j->w->nslots, c, FILL_SHARES);
            atomic_fetch_add_explicit(&j->filled, 1, memory_order_acq_rel);
        }
        /* Spin briefly, then yield: on an oversubscribed machine the thread we wait for may need
         * this very core. */
        for (int spins = 0; atomic_load_explicit(&j->filled, memory_order_acquire) < FILL_SHARES; spins++) {
            if (spins < 2000) lt_cpu_relax();
            else sched_yield();
        }
    }
    /* Compute-bound GEMM: tiles handed out in grains, so that a thread the (shared) machine
     * deschedules does not leave the other waiting with its fixed half. */
    if (j->streams) {
        int64_t t0, t1, end = -1;
        for (; claim_run(j, ith, &t0, &t1); end = t1) run_tiles(j, t0, t1, t0 != end);
        return;
    }
    if (j->grain > 0 && j->count > 1) {
        int64_t total = j->first_tile[j->count], t0;
        while ((t0 = atomic_fetch_add_explicit(&j->next_tile, j->grain, memory_order_relaxed)) < total)
            run_tiles(j, t0, LT_MIN(t0 + j->grain, total), false);
        return;
    }
    if (j->grain > 0) {
        int64_t ntiles = j->w->ntiles, t0;
        while ((t0 = atomic_fetch_add_explicit(&j->next_tile, j->grain, memory_order_relaxed)) < ntiles)
            j->lut(j->w, j->a, t0, LT_MIN(t0 + j->grain, ntiles), j->y);
        return;
    }
    int64_t t0, t1;
    lt_split_range(j->w->ntiles, 1, ith, nth, &t0, &t1);
    if (t0 < t1) j->lut(j->w, j->a, t0, t1, j->y);
}

static void row_task(void *ctx, int ith, int nth) {
    job *j = ctx;
    int64_t r0, r1;
    lt_split_range(j->w->m, 8, ith, nth, &r0, &r1);
    if (r0 >= r1) return;
    if (j->rows) j->rows(j->w, j->a, r0, r1, j->y);
    else j->f32(j->w, j->x, j->a->n, r0, r1, j->y);
}

/* The kernels of the active level for w's layout; NULL where it has none (the reference runs). */
typedef struct {
    lt_lut_kernel gemv, vlut, gemm;
    lt_fill_fn gemv_fill; /* the tables gemv reads */
} kernel_set;

static kernel_set kernels_for(const lt_qweight *w) {
    kernel_set k = { .gemv_fill = lt_act_fill_gemv };
    bool t3 = w->kind == LT_QK_TERN3; /* its own GEMV and tables (every int8 GEMM reads TERN3; no vector-LUT) */
    lt_isa isa = lt_isa_active();
    switch (isa) {
#if defined(LUTLM_HAVE_X86_KERNELS)
    case LT_ISA_AVX512: /* its own GEMVs (TERN3, INTn), GEMM; the AVX2 vector-LUT and pair GEMV */
        k.gemm = lt_gemm_avx512;
        if (t3) k.gemv = lt_gemv_t3_avx512, k.gemv_fill = lt_gemv_t3_tables_avx512;
        else k.vlut = lt_vlut_avx2, k.gemv_fill = lt_gemv_tables_avx2, /* INTn: vpermb on the AVX2 tables */
            k.gemv = w->kind == LT_QK_PLANES ? lt_gemv_avx512 : lt_gemv_avx2;
        break;
    case LT_ISA_AVX2:
        k.gemm = lt_gemm_avx2;
        if (t3) k.gemv = lt_gemv_t3_avx2, k.gemv_fill = lt_gemv_t3_tables_avx2;
        else k.gemv = lt_gemv_avx2, k.vlut = lt_vlut_avx2, k.gemv_fill = lt_gemv_tables_avx2;
        break;
#endif
#if defined(LUTLM_HAVE_ARM_KERNELS)
    case LT_ISA_NEON:
    case LT_ISA_NEON_DOTPROD:
        k.gemm = isa == LT_ISA_NEON_DOTPROD ? lt_gemm_dotprod : lt_gemm_neon;
        if (t3) k.gemv = lt_gemv_t3_neon, k.gemv_fill = lt_gemv_t3_tables_neon;
        else k.gemv = lt_gemv_neon, k.vlut = lt_vlut_neon; /* the portable tables */
        break;
#endif
    default: break;
    }
    return k;
}

/* Weights that can share one region: same layout kind, slots and groups (then the same
 * tables and per-group sums serve all of them). */
static bool same_shape(const lt_qweight *a, const lt_qweight *b) {
    return a->kind == b->kind && a->nslots == b->nslots && a->group == b->group && a->ngroups == b->ngroups &&
           a->k == b->k;
}

/* y_i = W_i · x for `count` weights of the same shape (see same_shape) in one parallel region. */
static void matmul_region(const lt_qweight *const *ws, int count, lt_act *a, float *const *ys, lt_pool *pool,
                          lt_kernel_path path) {
    const lt_qweight *w = ws[0];
    for (int i = 0; i < count; i++)
        if (a->k != ws[i]->k) {
            lt_set_error("lt_qweight_matmul: activations have K=%lld, weight K=%lld", (long long)a->k, (long long)ws[i]->k);
            return;
        }
    if (a->n == 0) return;
#if defined(LUTLM_HAVE_X86_KERNELS)
    /* Per-row ternary weights (BitNet) and many tokens: the group-of-3 LUT GEMM (tlut.h) for all
     * tokens, or, when the last 32-token block would be mostly padding, for the whole blocks and
     * the int8 GEMM for the rest (every kernel gives the same bits, token by token). */
    int64_t n_all = a->n, n_tlut = 0;
    const int64_t candidates[2] = { n_all, n_all / LT_TLUT_NB * LT_TLUT_NB };
    for (int c = 0; c < 2 && !n_tlut && simd_x86() && path == LT_PATH_AUTO; c++) {
        bool ok = candidates[c] > 0;
        for (int i = 0; i < count; i++) ok = ok && lt_tlut_auto(ws[i], candidates[c]);
        if (ok) n_tlut = candidates[c];
    }
    if (n_tlut > 0) {
        a->n = n_tlut; /* the tlut GEMM sees the leading tokens only */
        lt_qweight_matmul_tlut(ws, count, a, ys, pool);
        a->n = n_all;
        if (n_tlut == n_all) return;
        a->first_token = n_tlut; /* the int8 GEMM below does the rest */
        path = LT_PATH_GEMM;
    }
#endif
    job j = { .w = w, .a = a, .y = ys[0], .lut = lt_gemv_ref, .count = count };
    j.first_tile[0] = 0;
    for (int i = 0; i < count; i++) {
        j.ws[i] = ws[i];
        j.ys[i] = ys[i];
        j.first_tile[i + 1] = j.first_tile[i] + ws[i]->ntiles;
    }
    kernel_set ks = kernels_for(w);
    lt_lut_kernel gemv = ks.gemv, vlut = ks.vlut, gemm = ks.gemm;
    lt_fill_fn gemv_fill = ks.gemv_fill;
    if (path == LT_PATH_AUTO && gemm) path = a->n >= LT_GEMM_MIN_N ? LT_PATH_GEMM : LT_PATH_GEMV;
    if (path == LT_PATH_AUTO) path = a->n >= LT_VLUT_MIN_N ? LT_PATH_VLUT : LT_PATH_GEMV;
    if (path == LT_PATH_VLUT && !vlut) path = LT_PATH_GEMV; /* TERN3 has no vector-LUT: its GEMV */
    int reserve = 0;
    int64_t all_tiles = j.first_tile[count];
    if (gemm && path == LT_PATH_GEMM) {
        j.lut = gemm; /* no tables: reads a->xq and the per-group sums */
        j.grain = LT_MAX(1, all_tiles / 32);
    } else if (gemv && path == LT_PATH_VLUT) {
        reserve = lt_act_reserve_vlut(a, w->kind, w->nslots);
        j.lut = vlut;
        j.fill = reserve > 0 ? lt_act_fill_vlut : NULL;
    } else if (gemv) {
        reserve = lt_act_reserve_gemv(a, w->kind, w->nslots, gemv_fill);
        j.lut = gemv;
        j.fill = reserve > 0 ? gemv_fill : NULL;
        j.grain = 1; /* GEMV: the smallest grain of claim_stream (one tile: the threads end together) */
        j.streams = all_tiles < ((int64_t)1 << 31);
    }
    bool ok = reserve >= 0;
    if (ok && (lt_qw_has_offset(w) || j.lut == gemm)) ok = lt_act_build_gsum(a, w->group, w->ngroups);
    if (!ok) {
        for (int i = 0; i < count; i++) memset(ys[i], 0, (size_t)a->n * (size_t)ws[i]->m * sizeof(float));
        a->first_token = 0;
        return;
    }
    if (j.grain == 0) j.count = 1; /* the reference and the vector-LUT split one weight: one region each */
    /* The kernels read the table stride from these; the region fills the tables before any use. */
    if (j.fill && path == LT_PATH_VLUT) a->vlut_slots[w->kind] = w->nslots;
    else if (j.fill) a->gemv_slots[w->kind] = w->nslots;
    for (int i = 0; i < (j.count == 1 ? count : 1); i++) {
        if (i > 0) { /* one region per weight (tables already built by the first) */
            j.w = ws[i];
            j.y = ys[i];
            j.fill = NULL;
        }
        atomic_init(&j.next_fill, 0);
        atomic_init(&j.filled, 0);
        atomic_init(&j.next_tile, 0);
        j.nruns = LT_MIN(lt_pool_threads(pool), GEMV_RUNS_MAX);
        for (int r = 0; r < j.nruns; r++)
            atomic_init(&j.runs[r], pack_run(all_tiles * r / j.nruns, all_tiles * (r + 1) / j.nruns));
        lt_pool_run(pool, lut_task, &j);
    }
    a->first_token = 0;
}

void lt_qweight_matmul_path(const lt_qweight *w, lt_act *a, float *y, lt_pool *pool, lt_kernel_path path) {
    matmul_region(&w, 1, a, &y, pool, path);
}

void lt_qweight_matmul_many(const lt_qweight *const *ws, int count, lt_act *a, float *const *ys, lt_pool *pool) {
    int i = 0;
    while (i < count) { /* runs of weights of the same shape, up to LT_MATMUL_MANY_MAX at a time */
        int run = 1;
        while (i + run < count && run < LT_MATMUL_MANY_MAX && same_shape(ws[i], ws[i + run])) run++;
        matmul_region(ws + i, run, a, ys + i, pool, LT_PATH_AUTO);
        i += run;
    }
}

void lt_qweight_matmul_act(const lt_qweight *w, lt_act *a, float *y, lt_pool *pool) {
    lt_qweight_matmul_path(w, a, y, pool, LT_PATH_AUTO);
}

/* One lt_act per calling thread, kept for the next call (a decode step makes hundreds of calls) and
 * freed when the thread exits. */
static void free_act(void *a) { lt_act_free(a); }
static lt_thread_slot thread_act = LT_THREAD_SLOT(free_act);

static lt_act *prepared(const float *x, int64_t n, int64_t k) {
    lt_act *a = lt_thread_slot_get(&thread_act);
    if (!a && (a = lt_act_new()) && !lt_thread_slot_set(&thread_act, a)) {
        lt_act_free(a);
        a = NULL;
    }
    if (!a || !lt_act_prepare(a, x, n, k)) return NULL;
    return a;
}

void lt_qweight_matmul(const lt_qweight *w, const float *x, int64_t n, float *y, lt_pool *pool) {
    lt_act *a = prepared(x, n, w->k);
    if (!a) {
        memset(y, 0, (size_t)n * (size_t)w->m * sizeof(float));
        return;
    }
    lt_qweight_matmul_path(w, a, y, pool, LT_PATH_AUTO);
}

void lt_qweight_matmul_baseline(const lt_qweight *w, const float *x, int64_t n, float *y, lt_pool *pool) {
    lt_act *a = prepared(x, n, w->k);
    if (!w->base || !a || !lt_act_build_gsum(a, w->group, w->ngroups)) {
        if (!w->base) lt_set_error("lt_qweight_matmul_baseline: no baseline layout (lt_qweight_add_baseline)");
        memset(y, 0, (size_t)n * (size_t)w->m * sizeof(float));
        return;
    }
    job j = { .w = w, .a = a, .y = y, .rows = lt_baseline_ref };
#if defined(LUTLM_HAVE_X86_KERNELS)
    if (simd_x86()) j.rows = lt_baseline_avx2;
#endif
    lt_pool_run(pool, row_task, &j);
}

void lt_qweight_matmul_f32(const lt_qweight *w, const float *x, int64_t n, float *y, lt_pool *pool) {
    if (!w->f32) {
        lt_set_error("lt_qweight_matmul_f32: no f32 layout (lt_qweight_add_f32)");
        memset(y, 0, (size_t)n * (size_t)w->m * sizeof(float));
        return;
    }
    lt_act shape = { .n = n, .k = w->k };
    job j = { .w = w, .a = &shape, .x = x, .y = y, .f32 = lt_f32_ref };
#if defined(LUTLM_HAVE_X86_KERNELS)
    if (simd_x86()) j.f32 = lt_f32_avx2;
#endif
    lt_pool_run(pool, row_task, &j);
}
