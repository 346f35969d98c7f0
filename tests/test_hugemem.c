/* lt_huge_alloc / lt_huge_free: 64-byte alignment, no two live buffers overlap (across the shared
 * 64 MiB mappings and the buffers with a mapping of their own), any free order, several threads
 * at once, and mappings given back and made anew. */
#include <pthread.h>

#include "common/hugemem.h"
#include "test_util.h"

enum { PER_THREAD = 40, THREADS = 3 };

typedef struct {
    int id;
    uint8_t *buf[PER_THREAD];
    size_t len[PER_THREAD];
} worker;

/* Sizes from 0 bytes to a buffer above the shared mappings' limit (16 MiB). */
static size_t size_of(int id, int i) {
    static const size_t sizes[] = { 0, 1, 63, 64, 65, 4096, 100000, (size_t)1 << 20, 3800000, 7000000 };
    if (i == 7 && id == 0) return (size_t)20 << 20; /* its own mapping */
    return sizes[(i + id) % 10];
}

/* Each buffer is filled with its own byte (the 120 live ones of a round differ). */
static uint8_t pattern(int id, int i) { return (uint8_t)(1 + (id % 10) * PER_THREAD + i); }

static void *fill(void *arg) {
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        w->len[i] = size_of(w->id, i);
        w->buf[i] = lt_huge_alloc(w->len[i]);
        if (!w->buf[i]) continue;
        memset(w->buf[i], pattern(w->id, i), w->len[i]);
    }
    return NULL;
}

static void check_all(worker *w, int n) {
    for (int t = 0; t < n; t++)
        for (int i = 0; i < PER_THREAD; i++) {
            if (!w[t].buf[i]) continue;
            CHECKF(((uintptr_t)w[t].buf[i] & 63) == 0, "thread %d buffer %d not 64-byte aligned", t, i);
            size_t bad = 0;
            for (size_t j = 0; j < w[t].len[i]; j++) bad += w[t].buf[i][j] != pattern(w[t].id, i);
            CHECKF(bad == 0, "thread %d buffer %d: %zu bytes overwritten", t, i, bad);
        }
}

int main(void) {
    for (int round = 0; round < 2; round++) { /* the second round maps anew what the first gave back */
        worker w[THREADS];
        pthread_t th[THREADS];
        for (int t = 0; t < THREADS; t++) {
            w[t].id = t + 10 * round;
            pthread_create(&th[t], NULL, fill, &w[t]);
        }
        for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
        for (int t = 0; t < THREADS; t++)
            for (int i = 0; i < PER_THREAD; i++) CHECKF(w[t].buf[i] != NULL, "thread %d buffer %d not allocated", t, i);
        check_all(w, THREADS);
        /* free every third buffer, check the rest, then free the others in reverse */
        for (int t = 0; t < THREADS; t++)
            for (int i = 0; i < PER_THREAD; i += 3) lt_huge_free(w[t].buf[i]), w[t].buf[i] = NULL;
        check_all(w, THREADS);
        for (int t = THREADS - 1; t >= 0; t--)
            for (int i = PER_THREAD - 1; i >= 0; i--) lt_huge_free(w[t].buf[i]);
    }
    lt_huge_free(NULL);
    return TEST_DONE();
}
