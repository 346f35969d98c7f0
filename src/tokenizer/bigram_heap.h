/* The priority queue of candidate merges shared by the SPM and BPE tokenizers: a binary heap of
 * adjacent symbol pairs, best first (higher priority, then the leftmost pair — llama.cpp's order).
 * SPM's priority is the merged token's score; BPE's is minus the merge rank. */
#ifndef LUTLM_TOKENIZER_BIGRAM_HEAP_H
#define LUTLM_TOKENIZER_BIGRAM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct bigram {
    int left, right;   /* symbol indices */
    float priority;
    size_t size;       /* bytes of the merged text (to notice a pair that changed since it was queued) */
} bigram;

typedef struct bigram_heap {
    bigram *items;
    int n, cap;
    bool oom;          /* a push failed for lack of memory */
} bigram_heap;

static inline bool bigram_before(const bigram *a, const bigram *b) {
    return a->priority > b->priority || (a->priority == b->priority && a->left < b->left);
}

static inline void bigram_heap_push(bigram_heap *h, bigram b) {
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 64;
        bigram *items = realloc(h->items, (size_t)cap * sizeof *items);
        if (!items) { h->oom = true; return; }
        h->items = items;
        h->cap = cap;
    }
    int i = h->n++;
    while (i > 0 && bigram_before(&b, &h->items[(i - 1) / 2])) {
        h->items[i] = h->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->items[i] = b;
}

static inline bigram bigram_heap_pop(bigram_heap *h) {
    bigram top = h->items[0], last = h->items[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_before(&h->items[c + 1], &h->items[c])) c++;
        if (!bigram_before(&h->items[c], &last)) break;
        h->items[i] = h->items[c];
        i = c;
    }
    if (h->n > 0) h->items[i] = last;
    return top;
}

#endif
