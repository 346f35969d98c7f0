/* Huge-page memory for the repacked weights: see hugemem.h. */
#include "common/hugemem.h"

#include "common/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define LT_HUGEMEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LT_HUGEMEM_ASAN 1
#endif
#endif

#if defined(LT_HUGEMEM_ASAN)

void *lt_huge_alloc(size_t n) { return lt_aligned_alloc(64, n); }
void lt_huge_free(void *p) { lt_aligned_free(p); }

#else

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define CHUNK_BYTES ((size_t)64 << 20) /* a shared mapping */
#define OWN_MAPPING (CHUNK_BYTES / 4)  /* buffers above this get a mapping of their own */
#define ALIGNMENT ((size_t)64)

typedef struct {
    uint8_t *start;
    size_t len, used; /* bytes mapped; bytes handed out (from the start) */
    size_t live;      /* buffers not yet freed */
} mapping;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static mapping *maps;   /* every mapping with a live buffer, and the open one */
static int n_maps, cap_maps;
static int open_map = -1; /* the shared mapping that new small buffers come from, or -1 */

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* len bytes (a multiple of HUGE_PAGE) at a HUGE_PAGE-aligned address: map HUGE_PAGE more and
 * unmap what lies outside the aligned range. The advice is only advice: without it (or without
 * THP) the memory comes in 4 KiB pages and everything still works. */
static uint8_t *map_aligned(size_t len) {
    size_t span = len + HUGE_PAGE;
    uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uint8_t *start = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > p) munmap(p, (size_t)(start - p));
    if (p + span > start + len) munmap(start + len, (size_t)(p + span - (start + len)));
#ifdef MADV_HUGEPAGE
    madvise(start, len, MADV_HUGEPAGE);
#endif
    return start;
}

/* A new mapping of len bytes in the table (the lock held); its index, or -1. */
static int add_mapping(size_t len) {
    if (n_maps == cap_maps) {
        int cap = cap_maps ? 2 * cap_maps : 16;
        mapping *grown = realloc(maps, (size_t)cap * sizeof *maps);
        if (!grown) return -1;
        maps = grown, cap_maps = cap;
    }
    uint8_t *start = map_aligned(len);
    if (!start) return -1;
    maps[n_maps] = (mapping){ .start = start, .len = len };
    return n_maps++;
}

void *lt_huge_alloc(size_t n) {
    size_t need = round_up(n ? n : 1, ALIGNMENT);
    if (need < n) { /* n near SIZE_MAX */
        lt_set_error("out of memory allocating %zu bytes", n);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    int i;
    if (need > OWN_MAPPING) i = add_mapping(round_up(need, HUGE_PAGE));
    else if (open_map >= 0 && maps[open_map].len - maps[open_map].used >= need) i = open_map;
    else if ((i = add_mapping(CHUNK_BYTES)) >= 0) open_map = i; /* the old one stays until its buffers go */
    void *p = NULL;
    if (i >= 0) {
        p = maps[i].start + maps[i].used;
        maps[i].used += need;
        maps[i].live++;
    }
    pthread_mutex_unlock(&lock);
    if (!p) lt_set_error("out of memory allocating %zu bytes", n);
    return p;
}

void lt_huge_free(void *p) {
    if (!p) return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_maps; i++) {
        mapping *m = &maps[i];
        if ((uint8_t *)p < m->start || (uint8_t *)p >= m->start + m->len) continue;
        if (--m->live == 0) { /* its last buffer: back to the system (freed space is never reused) */
            munmap(m->start, m->len);
            if (i == open_map) open_map = -1;
            maps[i] = maps[--n_maps];
            if (open_map == n_maps) open_map = i; /* the last entry moved into slot i */
        }
        break;
    }
    pthread_mutex_unlock(&lock);
}

#endif
