/* WordPiece ("bert" vocabularies), as llama.cpp's llm_tokenizer_wpm: split the text into words
 * (lower-cased, accents dropped via the first code point of NFD, punctuation and CJK characters
 * as single-character words), then greedily take the longest vocabulary token at each position
 * of "▁word"; a word with an unmatched position becomes UNK. */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tokenizer/unicode.h"

static bool is_chinese_char(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
           (c >= 0x2B920 && c <= 0x2CEAF) || /* sic: HF's range */
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Longest-match WordPiece of one word (already prefixed with U+2581). */
static void wordpiece(const lt_vocab *v, const char *w, int n, lt_tokbuf *out) {
    int start_count = out->n;
    for (int i = 0; i < n; i++) {
        bool matched = false;
        int max_j = (int)LT_MIN((long long)n, (long long)i + v->max_token_len + 1);
        for (int j = max_j; j > i; j--) {
            int32_t id = lt_strmap_get(&v->token_ids, w + i, (uint32_t)(j - i));
            if (id >= 0) { lt_tokbuf_push(out, id); matched = true; i = j - 1; break; }
        }
        if (!matched) { out->n = start_count; break; }
    }
    if (out->n == start_count && v->unk >= 0) lt_tokbuf_push(out, v->unk);
}

void lt_wpm_tokenize(const lt_vocab *v, const char *text, size_t len, lt_tokbuf *out) {
    uint32_t *cps = NULL;
    int n = lt_utf8_decode(text, len, &cps);
    char *word = malloc(4 * (size_t)n + 8);
    if (n < 0 || !word) { free(cps); free(word); out->oom = true; return; }
    int wl = 0;
    memcpy(word, "\xe2\x96\x81", 3);
#define FLUSH() do { if (wl) wordpiece(v, word, 3 + wl, out); wl = 0; } while (0)
    for (int i = 0; i < n; i++) {
        uint32_t c = lt_nfd_first(cps[i]);
        if (lt_is_whitespace(c)) { FLUSH(); continue; }
        int cat = lt_ucat(c);
        if (c == 0 || c == 0xFFFD || cat == LT_UCAT_C) continue;
        char utf8[4];
        int nb = lt_utf8_encode(lt_to_lower(c), utf8);
        if (cat == LT_UCAT_P || (c < 0x7f && cat == LT_UCAT_S) || is_chinese_char(c)) {
            FLUSH();
            memcpy(word + 3, utf8, (size_t)nb);
            wl = nb;
            FLUSH();
        } else {
            memcpy(word + 3 + wl, utf8, (size_t)nb);
            wl += nb;
        }
    }
    FLUSH();
#undef FLUSH
    free(word);
    free(cps);
}
