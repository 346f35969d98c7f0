#include "common/membw.h"

#include "common/util.h"

typedef uint64_t u64x2 __attribute__((vector_size(16)));

typedef struct {
    const u64x2 *data;
    int64_t n;          /* vectors */
    uint64_t sums[64];  /* written so the loads cannot be optimized away */
} stream_job;

/* Eight independent accumulators so that the loads, not the adds, are the limit. */
static void stream_sum_task(void *arg, int ith, int nth) {
    stream_job *job = arg;
    int64_t i0, i1;
    lt_split_range(job->n, 64, ith, nth, &i0, &i1);
    u64x2 a0 = { 0, 0 }, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t i = i0; i < i1; i += 8) {
        const u64x2 *p = job->data + i;
        a0 += p[0]; a1 += p[1]; a2 += p[2]; a3 += p[3];
        a4 += p[4]; a5 += p[5]; a6 += p[6]; a7 += p[7];
    }
    u64x2 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    job->sums[ith & 63] = s[0] + s[1];
}

double lt_read_bandwidth_gbps(lt_pool *pool, const void *buffer, size_t bytes, int passes) {
    stream_job job = { .data = buffer, .n = (int64_t)(bytes / sizeof(u64x2)) / 64 * 64 };
    double best = 0.0;
    for (int pass = 0; pass < passes; pass++) {
        double t0 = lt_time_now();
        lt_pool_run(pool, stream_sum_task, &job);
        double dt = lt_time_now() - t0;
        if (dt > 0.0 && (double)bytes / dt / 1e9 > best) best = (double)bytes / dt / 1e9;
    }
    return best;
}
