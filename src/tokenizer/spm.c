/* SentencePiece-style tokenizer ("llama" vocabularies), as llama.cpp's llm_tokenizer_spm:
 * start from UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is the
 * vocabulary token with the highest score (ties: the leftmost pair), then map each symbol to its
 * token, or to byte tokens <0xNN> when the symbol is not in the vocabulary (byte fallback). */
#include "tokenizer/bigram_heap.h"
#include "tokenizer/tok_internal.h"

#include <stdlib.h>

#include "tokenizer/unicode.h"

typedef struct symbol {
    int prev, next;
    const char *text;
    size_t n; /* 0 once merged into its left neighbour */
} symbol;


static void try_add_bigram(const lt_vocab *v, const symbol *syms, int left, int right, bigram_heap *h) {
    if (left < 0 || right < 0) return;
    size_t len = syms[left].n + syms[right].n;
    int32_t id = lt_strmap_get(&v->token_ids, syms[left].text, (uint32_t)len);
    if (id < 0) return;
    bigram_heap_push(h, (bigram){ left, right, v->score[id], len });
}

/* A symbol's token, or its bytes as byte tokens (then the single-byte token, then UNK). */
static void emit_symbol(const lt_vocab *v, const symbol *s, lt_tokbuf *out) {
    int32_t id = lt_strmap_get(&v->token_ids, s->text, (uint32_t)s->n);
    if (id >= 0) { lt_tokbuf_push(out, id); return; }
    for (size_t j = 0; j < s->n; j++) {
        uint8_t byte = (uint8_t)s->text[j];
        int32_t b = v->byte_ids[byte];
        if (b < 0) b = lt_strmap_get(&v->token_ids, s->text + j, 1);
        if (b < 0) b = v->unk;
        if (b >= 0) lt_tokbuf_push(out, b);
    }
}

void lt_spm_tokenize(const lt_vocab *v, const char *text, size_t len, lt_tokbuf *out) {
    if (len == 0) return;
    symbol *syms = malloc(len * sizeof *syms);
    if (!syms) { out->oom = true; return; }
    int n = 0;
    for (size_t off = 0; off < len;) {
        size_t cl = (size_t)lt_utf8_len((uint8_t)text[off]);
        if (cl > len - off) cl = len - off;
        syms[n] = (symbol){ n - 1, off + cl == len ? -1 : n + 1, text + off, cl };
        off += cl;
        n++;
    }
    bigram_heap h = { 0 };
    for (int i = 1; i < n; i++) try_add_bigram(v, syms, i - 1, i, &h);
    while (h.n > 0 && !h.oom) {
        bigram b = bigram_heap_pop(&h);
        symbol *l = &syms[b.left], *r = &syms[b.right];
        /* stale entry: one side was merged since this pair was queued */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        try_add_bigram(v, syms, l->prev, b.left, &h);
        try_add_bigram(v, syms, b.left, l->next, &h);
    }
    if (h.oom) out->oom = true;
    for (int i = 0; i != -1 && !out->oom; i = syms[i].next) emit_symbol(v, &syms[i], out);
    free(h.items);
    free(syms);
}
