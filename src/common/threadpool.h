/* A small persistent thread pool. One call = one parallel region: fn(ctx, ith, nth) runs once for
 * each share ith = 0 .. nth - 1 (nth = the pool's threads) and lt_pool_run returns when all have
 * finished. Shares are claimed by whichever thread is free (the caller included), so one thread may
 * run several shares one after the other, never two at once; fn must not wait for another share
 * (a spin on work that someone has already claimed is fine). Workers spin briefly between regions
 * (a decode step issues hundreds of small regions), yielding now and then, then sleep. */
#ifndef LUTLM_COMMON_THREADPOOL_H
#define LUTLM_COMMON_THREADPOOL_H

#include <stdint.h>

typedef struct lt_pool lt_pool;
typedef void (*lt_task_fn)(void *ctx, int ith, int nth);

lt_pool *lt_pool_create(int n_threads); /* n_threads <= 0: number of cores */
void lt_pool_free(lt_pool *pool);
int lt_pool_threads(const lt_pool *pool);
/* Run fn on all threads; pool may be NULL (runs fn(ctx, 0, 1) on the caller). */
void lt_pool_run(lt_pool *pool, lt_task_fn fn, void *ctx);

/* The [begin, end) share of n items for thread ith of nth, in chunks that are multiples of `align`. */
static inline void lt_split_range(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end) {
    int64_t chunks = (n + align - 1) / align;
    int64_t per = chunks / nth, extra = chunks % nth;
    int64_t c0 = ith * per + (ith < extra ? ith : extra);
    int64_t c1 = c0 + per + (ith < extra ? 1 : 0);
    *begin = c0 * align < n ? c0 * align : n;
    *end = c1 * align < n ? c1 * align : n;
}

#endif
