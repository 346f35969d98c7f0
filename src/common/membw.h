/* The machine's read bandwidth, measured the way the benchmarks use it: a streaming sum over a
 * buffer far larger than any cache, on the pool's threads, best of several passes. */
#ifndef LUTLM_COMMON_MEMBW_H
#define LUTLM_COMMON_MEMBW_H

#include <stddef.h>

#include "common/threadpool.h"

/* GB/s (1e9 bytes/s) reading `buffer` (bytes long, 64-byte aligned, contents irrelevant) on the
 * pool's threads; the best of `passes`. */
double lt_read_bandwidth_gbps(lt_pool *pool, const void *buffer, size_t bytes, int passes);

#endif
