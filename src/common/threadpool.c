#include "common/threadpool.h"
#include "common/util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/spin.h"

/* How long a worker spins on the generation counter before it sleeps (iterations of pause, about
 * a quarter of a millisecond): long enough to bridge the gaps between the matmuls of a decode step,
 * short enough not to steal a core from other processes on a busy machine. */
#define SPIN_ITERATIONS 8192
/* While waiting for the other threads, the caller yields its core every this many spins, so a
 * descheduled worker gets to run when the machine is oversubscribed. */
#define YIELD_EVERY 256

struct lt_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    atomic_uint generation;   /* bumped once per parallel region */
    atomic_int remaining;     /* workers still running the current region */
    atomic_int sleepers;      /* workers blocked on `wake` */
    atomic_bool stop;
    lt_task_fn fn;
    void *ctx;
};

typedef struct { lt_pool *pool; int ith; unsigned generation; } worker_arg;

static void *worker_main(void *p) {
    worker_arg *arg = p;
    lt_pool *pool = arg->pool;
    int ith = arg->ith;
    /* the generation when the pool was made: a region may start before this thread first runs */
    unsigned seen = arg->generation;
    free(arg);
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen) {
            if (++spins < SPIN_ITERATIONS) { lt_cpu_relax(); continue; }
            pthread_mutex_lock(&pool->mutex);
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen) pthread_cond_wait(&pool->wake, &pool->mutex);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mutex);
        }
        seen = atomic_load(&pool->generation);
        if (atomic_load(&pool->stop)) return NULL;
        pool->fn(pool->ctx, ith, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_release);
    }
}

lt_pool *lt_pool_create(int n_threads) {
    if (n_threads <= 0) n_threads = lt_default_threads();
    lt_pool *pool = lt_calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = lt_calloc((size_t)n_threads, sizeof(pthread_t));
    if (!pool->threads) { free(pool); return NULL; }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *arg = lt_malloc(sizeof *arg);
        if (!arg) { pool->n_threads = i; lt_pool_free(pool); return NULL; }
        arg->pool = pool;
        arg->ith = i;
        arg->generation = atomic_load(&pool->generation);
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

static void wake_workers(lt_pool *pool) {
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
}

void lt_pool_free(lt_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, true);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add(&pool->generation, 1);
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
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store(&pool->remaining, pool->n_threads - 1);
    wake_workers(pool);
    fn(ctx, 0, pool->n_threads);
    for (unsigned spins = 1; atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0; spins++) {
        if (spins % YIELD_EVERY == 0) sched_yield();
        else lt_cpu_relax();
    }
}
