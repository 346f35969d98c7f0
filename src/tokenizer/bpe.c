/* Byte-level BPE ("gpt2" vocabularies), as llama.cpp's llm_tokenizer_bpe_session:
 * pre-tokenize into words, map each byte of a word to its printable stand-in (GPT-2's
 * bytes_to_unicode), then repeatedly merge the adjacent pair with the lowest merge rank
 * (ties: the leftmost pair) and look the symbols up in the vocabulary. */
#include "tokenizer/bigram_heap.h"
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/unicode.h"

/* GPT-2 bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes get
 * the code points 256, 257, ... in byte order. */
static bool byte_is_printable(uint8_t b) {
    return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
}

uint32_t lt_byte_to_cpt(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 256 + b;               /* 0x00..0x20 -> 256..288 */
    if (b <= 0xa0) return 256 + 33 + (b - 0x7f); /* 0x7f..0xa0 -> 289..322 */
    return 256 + 67;                             /* 0xad -> 323 */
}

int lt_cpt_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_printable((uint8_t)cp) ? (int)cp : -1;
    if (cp <= 288) return (int)(cp - 256);
    if (cp <= 322) return (int)(cp - 289 + 0x7f);
    if (cp == 323) return 0xad;
    return -1;
}

typedef struct symbol {
    int prev, next;
    const char *text;
    size_t n;
} symbol;


/* Rank of merging symbols left and right ("left right" in tokenizer.ggml.merges), -1 if none. */
static int merge_rank(const lt_vocab *v, const symbol *l, const symbol *r, char *key) {
    memcpy(key, l->text, l->n);
    key[l->n] = ' ';
    memcpy(key + l->n + 1, r->text, r->n);
    return lt_strmap_get(&v->merge_ranks, key, (uint32_t)(l->n + 1 + r->n));
}

static void add_bigram(const lt_vocab *v, const symbol *syms, int left, int right, char *key, bigram_heap *h) {
    if (left < 0 || right < 0) return;
    int rank = merge_rank(v, &syms[left], &syms[right], key);
    if (rank < 0) return;
    bigram_heap_push(h, (bigram){ left, right, -(float)rank, syms[left].n + syms[right].n }); /* lower rank first */
}

static void emit_symbol(const lt_vocab *v, const char *text, size_t n, lt_tokbuf *out) {
    int32_t id = lt_strmap_get(&v->token_ids, text, (uint32_t)n);
    if (id >= 0) { lt_tokbuf_push(out, id); return; }
    /* llama.cpp falls back to single-byte tokens of the encoded text (usually none exist) */
    for (size_t j = 0; j < n; j++) {
        int32_t b = lt_strmap_get(&v->token_ids, text + j, 1);
        if (b >= 0) lt_tokbuf_push(out, b);
    }
}

/* BPE on one byte-encoded word. key: scratch of at least 2*len+2 bytes. */
static void bpe_word(const lt_vocab *v, const char *word, size_t len, char *key, lt_tokbuf *out) {
    if (v->ignore_merges && lt_strmap_get(&v->token_ids, word, (uint32_t)len) >= 0) {
        emit_symbol(v, word, len, out);
        return;
    }
    symbol *syms = malloc(len * sizeof *syms);
    if (!syms) { out->oom = true; return; }
    int n = 0;
    for (size_t off = 0; off < len;) {
        size_t cl = (size_t)lt_utf8_len((uint8_t)word[off]);
        if (cl > len - off) cl = len - off;
        syms[n] = (symbol){ n - 1, off + cl == len ? -1 : n + 1, word + off, cl };
        off += cl;
        n++;
    }
    bigram_heap h = { 0 };
    for (int i = 1; i < n; i++) add_bigram(v, syms, i - 1, i, key, &h);
    while (h.n > 0 && !h.oom) {
        bigram b = bigram_heap_pop(&h);
        symbol *l = &syms[b.left], *r = &syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* outdated pair */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        add_bigram(v, syms, l->prev, b.left, key, &h);
        add_bigram(v, syms, b.left, l->next, key, &h);
    }
    if (h.oom) out->oom = true;
    for (int i = 0; i != -1 && !out->oom && n > 0; i = syms[i].next)
        if (syms[i].n) emit_symbol(v, syms[i].text, syms[i].n, out);
    free(h.items);
    free(syms);
}

void lt_bpe_tokenize(const lt_vocab *v, const char *text, size_t len, lt_tokbuf *out) {
    uint32_t *cps = NULL;
    int *lens = NULL;
    int n = lt_utf8_decode(text, len, &cps);
    if (n < 0) { out->oom = true; return; }
    int n_words = lt_pretokenize(v->pre, cps, n, &lens);
    /* a word of k code points has at most 4k bytes, each encoded in at most 2 bytes */
    char *word = malloc(8 * (size_t)n + 8), *key = malloc(16 * (size_t)n + 16);
    if (n_words < 0 || !word || !key) { out->oom = true; n_words = 0; }
    int start = 0;
    for (int w = 0; w < n_words && !out->oom; w++) {
        size_t wl = 0;
        for (int k = start; k < start + lens[w]; k++) {
            char utf8[4];
            int nb = lt_utf8_encode(cps[k], utf8);
            for (int b = 0; b < nb; b++) wl += (size_t)lt_utf8_encode(lt_byte_to_cpt((uint8_t)utf8[b]), word + wl);
        }
        start += lens[w];
        if (wl) bpe_word(v, word, wl, key, out);
    }
    free(word); free(key); free(lens); free(cps);
}
