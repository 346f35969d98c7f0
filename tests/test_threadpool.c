/* Thread pool: every share 0 .. nth - 1 of every region runs exactly once, lt_pool_run returns only
 * after all have finished (their writes are visible), with more threads than cores (shares claimed
 * by whoever is free), with gaps long enough for workers to sleep, and pools made and freed often. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/threadpool.h"
#include "test_util.h"

typedef struct {
    int counts[64];     /* runs of each share in this region */
    atomic_int bad_nth; /* calls with the wrong nth */
    int nth;
    int spin;           /* busy work per share */
} region_job;

static void region_task(void *arg, int ith, int nth) {
    region_job *job = arg;
    if (nth != job->nth || ith < 0 || ith >= nth) {
        atomic_fetch_add(&job->bad_nth, 1);
        return;
    }
    volatile int sink = 0;
    for (int i = 0; i < job->spin; i++) sink += i;
    job->counts[ith]++; /* plain write: lt_pool_run must publish it */
}

static void run_regions(lt_pool *pool, int regions, int spin, bool sleep_between) {
    int nth = lt_pool_threads(pool);
    for (int r = 0; r < regions; r++) {
        region_job job = { .nth = nth, .spin = spin };
        lt_pool_run(pool, region_task, &job);
        int wrong = 0;
        for (int i = 0; i < nth; i++) wrong += job.counts[i] != 1;
        CHECKF(wrong == 0 && atomic_load(&job.bad_nth) == 0, "region %d of %d threads: %d shares not run once", r, nth,
               wrong);
        if (sleep_between && r % 8 == 0) nanosleep(&(struct timespec){ 0, 2000000 }, NULL); /* workers fall asleep */
    }
}

int main(void) {
    const int threads[] = { 1, 2, 3, 8 };
    for (int i = 0; i < 4; i++) {
        lt_pool *pool = lt_pool_create(threads[i]);
        CHECK(pool && lt_pool_threads(pool) == threads[i]);
        if (!pool) continue;
        run_regions(pool, 2000, 0, false);   /* back to back, empty shares */
        run_regions(pool, 200, 20000, false); /* some work per share */
        run_regions(pool, 40, 100, true);     /* workers sleep between some regions */
        lt_pool_free(pool);
    }
    for (int i = 0; i < 50; i++) { /* made and freed at once: a region may start before workers first run */
        lt_pool *pool = lt_pool_create(4);
        CHECK(pool != NULL);
        if (i % 2) run_regions(pool, 3, 0, false);
        lt_pool_free(pool);
    }
    region_job job = { .nth = 1 };
    lt_pool_run(NULL, region_task, &job); /* no pool: the caller, share 0 of 1 */
    CHECK(job.counts[0] == 1);
    return TEST_DONE();
}
