/* The pool hands out the shares of a region, not the threads: fn(ctx, i, nth) runs once for each
 * share i = 0 .. nth - 1, and each participant (the caller and every awake worker) claims shares
 * from a counter until none is left. So a region never waits for a worker that the (shared)
 * machine has not scheduled yet: the caller runs that worker's share itself, and the worker, when
 * it wakes, finds the region over. The caller waits only for shares that someone has claimed.
 *
 * The counter and the region's generation share one 64-bit word (generation << 32 | next share),
 * so a late worker can never claim a share of a newer region with an older region's view. */
#include "common/threadpool.h"
#include "common/util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/spin.h"

/* How long a worker spins for the next region before it sleeps (iterations of pause, ~32 ns each
 * here: ~0.25 ms): long enough to bridge the serial gaps of a decode step (norms, RoPE, sampling
 * between tokens), short enough not to hold a core of a busy machine for long. */
#define SPIN_ITERATIONS 8192
/* Every waiting loop yields its core this often (in pause iterations, ~8 µs): when the machine
 * is oversubscribed, the thread waited for (or the caller that will start the next region) may
 * need this very core. A yield costs ~0.6 µs when nothing else wants the core. */
#define YIELD_EVERY 256

struct lt_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    _Atomic uint64_t work;    /* generation << 32 | next share to claim */
    atomic_int done;          /* shares of the current region finished */
    atomic_int sleepers;      /* workers blocked on `wake` */
    atomic_bool stop;
    lt_task_fn fn;            /* the current region (written before its generation is published) */
    void *ctx;
};

typedef struct { lt_pool *pool; int ith; uint32_t generation; } worker_arg;

static uint32_t generation_of(uint64_t work) { return (uint32_t)(work >> 32); }

/* Claim and run shares of region `generation` until none is left (or a newer region started). */
static void run_shares(lt_pool *pool, uint32_t generation) {
    int nth = pool->n_threads;
    uint64_t w = atomic_load_explicit(&pool->work, memory_order_acquire);
    while (generation_of(w) == generation && (int)(uint32_t)w < nth) {
        if (!atomic_compare_exchange_weak_explicit(&pool->work, &w, w + 1, memory_order_acq_rel, memory_order_acquire))
            continue; /* w reloaded */
        pool->fn(pool->ctx, (int)(uint32_t)w, nth);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
        w = atomic_load_explicit(&pool->work, memory_order_acquire);
    }
}

/* A spin step of a waiting loop: pause, and every YIELD_EVERY steps give the core away. */
static void wait_step(unsigned spins) {
    if (spins % YIELD_EVERY == 0) sched_yield();
    else lt_cpu_relax();
}

/* Wait until a region newer than `seen` is published: spin, then sleep on the condition. */
static uint32_t wait_region(lt_pool *pool, uint32_t seen) {
    for (unsigned spins = 1; spins < SPIN_ITERATIONS; spins++) {
        uint32_t g = generation_of(atomic_load_explicit(&pool->work, memory_order_acquire));
        if (g != seen) return g;
        wait_step(spins);
    }
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add(&pool->sleepers, 1);
    while (generation_of(atomic_load(&pool->work)) == seen) pthread_cond_wait(&pool->wake, &pool->mutex);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->mutex);
    return generation_of(atomic_load(&pool->work));
}

static void *worker_main(void *p) {
    worker_arg *arg = p;
    lt_pool *pool = arg->pool;
    /* the generation when the pool was made: a region may start before this thread first runs */
    uint32_t seen = arg->generation;
    free(arg);
    for (;;) {
        seen = wait_region(pool, seen);
        if (atomic_load(&pool->stop)) return NULL;
        run_shares(pool, seen);
    }
}

lt_pool *lt_pool_create(int n_threads) {
    if (n_threads <= 0) n_threads = lt_default_threads();
    lt_pool *pool = lt_calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    /* generation 0, nothing to claim */
    atomic_init(&pool->work, (uint64_t)(uint32_t)n_threads);
    pool->threads = lt_calloc((size_t)n_threads, sizeof(pthread_t));
    if (!pool->threads) { free(pool); return NULL; }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *arg = lt_malloc(sizeof *arg);
        if (!arg) { pool->n_threads = i; lt_pool_free(pool); return NULL; }
        arg->pool = pool;
        arg->ith = i;
        arg->generation = generation_of(atomic_load(&pool->work));
        if (pthread_create(&pool->threads[i], NULL, worker_main, arg) != 0) {
            free(arg);
            pool->n_threads = i;
            lt_pool_free(pool);
            lt_set_error("cannot start thread %d", i);
            return NULL;
        }
    }
    return pool;
}

/* Publish a new region (generation + 1, share 0 next; `next` = n_threads: nothing to claim) and
 * wake sleeping workers. Sequentially consistent with the sleepers count (see wait_region): either
 * the worker sees the new generation or this sees the sleeper. */
static void publish(lt_pool *pool, uint32_t next) {
    uint32_t g = generation_of(atomic_load_explicit(&pool->work, memory_order_relaxed)) + 1;
    atomic_store(&pool->work, (uint64_t)g << 32 | next);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
}

void lt_pool_free(lt_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, true);
    publish(pool, (uint32_t)pool->n_threads);
    pthread_mutex_lock(&pool->mutex); /* a worker between its check and its wait holds the mutex */
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool);
}

int lt_pool_threads(const lt_pool *pool) { return pool ? pool->n_threads : 1; }

void lt_pool_run(lt_pool *pool, lt_task_fn fn, void *ctx) {
    if (!pool || pool->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    /* No share of the previous region is running (we waited for all): these are ours to write. */
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    publish(pool, 0);
    run_shares(pool, generation_of(atomic_load_explicit(&pool->work, memory_order_relaxed)));
    /* Every share is claimed: wait for those the workers are still running. */
    for (unsigned spins = 1; atomic_load_explicit(&pool->done, memory_order_acquire) < pool->n_threads; spins++)
        wait_step(spins);
}
