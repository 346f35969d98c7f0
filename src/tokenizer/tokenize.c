/* Tokenize entry point (special-token partition, then the model's algorithm per raw fragment),
 * token -> piece and the (streaming) detokenizer. Mirrors llama.cpp's llama_vocab::impl::tokenize,
 * tokenizer_st_partition and token_to_piece. */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tokenizer/unicode.h"

/* A piece of the input: raw text [off, off+len) or an already-recognised token. */
typedef struct fragment {
    int32_t token; /* -1 for raw text */
    size_t off, len;
} fragment;

typedef struct fraglist {
    fragment *f;
    int n, cap;
} fraglist;

static bool frag_push(fraglist *l, int32_t token, size_t off, size_t len) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        fragment *f = realloc(l->f, (size_t)cap * sizeof *f);
        if (!f) return lt_set_error("tokenizer: out of memory");
        l->f = f;
        l->cap = cap;
    }
    l->f[l->n++] = (fragment){ token, off, len };
    return true;
}

static bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Split every raw fragment at each occurrence of special token `id` (left to right). */
static bool split_on_token(const lt_vocab *v, int32_t id, const char *text, fraglist *in, fraglist *out) {
    const char *tok = v->text[id];
    size_t tlen = v->text_len[id];
    uint32_t attr = v->attr[id];
    out->n = 0;
    for (int i = 0; i < in->n; i++) {
        fragment fr = in->f[i];
        if (fr.token >= 0) { if (!frag_push(out, fr.token, 0, 0)) return false; continue; }
        size_t base = fr.off, blen = fr.len;
        for (;;) {
            const char *hit = blen >= tlen ? memmem(text + base, blen, tok, tlen) : NULL;
            if (!hit) { if (blen && !frag_push(out, -1, base, blen)) return false; break; }
            size_t match = (size_t)(hit - text);
            size_t left_len = match - base;
            if (attr & LT_ATTR_LSTRIP)
                while (left_len > 0 && is_c_space(text[base + left_len - 1])) left_len--;
            if (left_len && !frag_push(out, -1, base, left_len)) return false;
            if (!frag_push(out, id, 0, 0)) return false;
            size_t right = match + tlen, right_len = base + blen - right;
            if (right_len == 0) break;
            if (attr & LT_ATTR_RSTRIP)
                while (right_len > 0 && is_c_space(text[right])) { right++; right_len--; }
            base = right;
            blen = right_len;
            if (blen == 0) break;
        }
    }
    return true;
}

/* The input as fragments: special tokens recognised (control/unknown ones only if parse_special;
 * user-defined ones always, as llama.cpp and HF tokenizers do). */
static bool partition(const lt_vocab *v, const char *text, size_t len, bool parse_special, fraglist *result) {
    fraglist a = { 0 }, b = { 0 };
    if (!frag_push(&a, -1, 0, len)) return false;
    for (int s = 0; s < v->n_special; s++) {
        int32_t id = v->special_ids[s];
        if (!parse_special && (v->attr[id] & (LT_ATTR_CONTROL | LT_ATTR_UNKNOWN))) continue;
        if (!split_on_token(v, id, text, &a, &b)) { free(a.f); free(b.f); return false; }
        fraglist t = a; a = b; b = t;
    }
    free(b.f);
    *result = a;
    return true;
}

static void tokenize_fragments(const lt_vocab *v, const char *text, const fraglist *frags,
                               bool add_special, lt_tokbuf *out) {
    bool add_bos = add_special && v->add_bos && v->bos >= 0;
    if (v->type == LT_VOCAB_WPM && add_special && v->cls >= 0) lt_tokbuf_push(out, v->cls);
    else if (add_bos) lt_tokbuf_push(out, v->bos);
    bool prev_special = true; /* SPM: a space prefix goes before the first raw text and after tokens */
    for (int i = 0; i < frags->n; i++) {
        const fragment *fr = &frags->f[i];
        if (fr->token >= 0) { lt_tokbuf_push(out, fr->token); prev_special = true; continue; }
        if (v->type == LT_VOCAB_SPM) {
            /* SPM works on the text with ' ' escaped to U+2581 and an optional leading space */
            size_t cap = 3 * (fr->len + 1);
            char *esc = malloc(cap);
            if (!esc) { out->oom = true; return; }
            size_t n = 0;
            if (v->add_space_prefix && prev_special) { memcpy(esc, "\xe2\x96\x81", 3); n = 3; }
            for (size_t k = 0; k < fr->len; k++) {
                char c = text[fr->off + k];
                if (c == ' ') { memcpy(esc + n, "\xe2\x96\x81", 3); n += 3; } else esc[n++] = c;
            }
            lt_spm_tokenize(v, esc, n, out);
            free(esc);
        } else if (v->type == LT_VOCAB_BPE) {
            lt_bpe_tokenize(v, text + fr->off, fr->len, out);
        } else {
            lt_wpm_tokenize(v, text + fr->off, fr->len, out);
        }
        prev_special = false;
    }
    if (v->type == LT_VOCAB_WPM) {
        if (add_special && v->add_sep && v->sep >= 0) lt_tokbuf_push(out, v->sep);
    } else if (add_special && v->add_eos && v->eos >= 0) {
        lt_tokbuf_push(out, v->eos);
    }
}

int lt_tokenize(const lt_vocab *v, const char *text, size_t len, int32_t *tokens, int max_tokens,
                bool add_special, bool parse_special) {
    if (!v || (!text && len)) { lt_set_error("lt_tokenize: invalid argument"); return -1; }
    fraglist frags = { 0 };
    if (len > 0 && !partition(v, text, len, parse_special, &frags)) return -1;
    lt_tokbuf out = { 0 };
    tokenize_fragments(v, text, &frags, add_special, &out);
    free(frags.f);
    if (out.oom) { free(out.ids); lt_set_error("tokenizer: out of memory"); return -1; }
    if (out.n > 0 && tokens && max_tokens > 0) memcpy(tokens, out.ids, sizeof *tokens * (size_t)LT_MIN(out.n, max_tokens));
    int n = out.n;
    free(out.ids);
    return n;
}

/* ---- token -> bytes ---- */

/* The bytes a token stands for, written to buf (cap bytes); returns the length (may exceed cap). */
static int piece_bytes(const lt_vocab *v, int32_t id, char *buf, int cap, bool special) {
    if (id < 0 || id >= v->n_tokens) return 0;
    uint32_t attr = v->attr[id];
    const char *t = v->text[id];
    int tlen = (int)v->text_len[id];
    if (!special && (attr & (LT_ATTR_CONTROL | LT_ATTR_UNKNOWN))) return 0;
    int n = 0;
    if (attr & (LT_ATTR_CONTROL | LT_ATTR_UNKNOWN | LT_ATTR_USER_DEFINED)) {
        if (tlen <= cap) memcpy(buf, t, (size_t)tlen);
        return tlen;
    }
    if (v->type == LT_VOCAB_BPE) {
        if (!(attr & LT_ATTR_NORMAL)) return 0;
        /* byte-level: each code point of the token text stands for one byte */
        size_t pos = 0;
        while (pos < (size_t)tlen) {
            size_t at = pos;
            int byte = lt_cpt_to_byte(lt_utf8_next(t, (size_t)tlen, &pos));
            if (byte >= 0) { if (n < cap) buf[n] = (char)byte; n++; continue; }
            for (size_t k = at; k < pos; k++) { if (n < cap) buf[n] = t[k]; n++; } /* not in the alphabet: as is */
        }
        return n;
    }
    if (attr & LT_ATTR_BYTE) { /* <0xNN> */
        unsigned byte = (unsigned)strtoul(t + 3, NULL, 16);
        if (cap >= 1) buf[0] = (char)byte;
        return 1;
    }
    if (!(attr & LT_ATTR_NORMAL)) return 0;
    for (int k = 0; k < tlen; k++) { /* SPM and WordPiece: U+2581 -> ' ' */
        if (k + 2 < tlen && !memcmp(t + k, "\xe2\x96\x81", 3)) { if (n < cap) buf[n] = ' '; n++; k += 2; continue; }
        if (n < cap) buf[n] = t[k];
        n++;
    }
    return n;
}

int lt_token_to_piece(const lt_vocab *v, int32_t id, char *buf, int buflen, bool special) {
    char tmp[1024];
    int n = piece_bytes(v, id, tmp, (int)sizeof tmp, special);
    if (n > (int)sizeof tmp) { /* very long token: go straight to the caller's buffer */
        if (n <= buflen) piece_bytes(v, id, buf, buflen, special);
        return n;
    }
    if (n <= buflen) memcpy(buf, tmp, (size_t)n);
    return n;
}

int lt_detokenize(const lt_vocab *v, const int32_t *tokens, int n, char *buf, int buflen, bool special) {
    int total = 0;
    bool strip_space = v->add_space_prefix; /* the space SPM added in front of the text */
    char piece[1024];
    for (int i = 0; i < n; i++) {
        int len = lt_token_to_piece(v, tokens[i], piece, (int)sizeof piece, special);
        int skip = 0;
        if (strip_space && len > 0 && len <= (int)sizeof piece && piece[0] == ' ') skip = 1;
        if (len > 0 || i == 0) strip_space = false;
        if (len > (int)sizeof piece) { /* long token: copy directly */
            if (buf && total + len < buflen) lt_token_to_piece(v, tokens[i], buf + total, len, special);
            total += len;
            continue;
        }
        for (int k = skip; k < len; k++) {
            if (buf && total < buflen - 1) buf[total] = piece[k];
            total++;
        }
    }
    if (buf && buflen > 0) buf[LT_MIN(total, buflen - 1)] = 0;
    return total;
}

/* ---- streaming detokenizer ---- */

void lt_detok_init(lt_detok *d, const lt_vocab *v, bool special) {
    memset(d, 0, sizeof *d);
    d->vocab = v;
    d->special = special;
    d->first = v->add_space_prefix;
}

/* Length of the longest prefix of s[0..n) that ends on a complete UTF-8 character. */
static int complete_utf8_prefix(const char *s, int n) {
    /* walk back over up to 3 continuation bytes to the lead byte of the last character */
    int i = n, back = 0;
    while (i > 0 && back < 3 && ((uint8_t)s[i - 1] & 0xc0) == 0x80) { i--; back++; }
    if (i == 0) return n; /* only stray continuation bytes: nothing to wait for */
    uint8_t lead = (uint8_t)s[i - 1];
    if (lead < 0xc0) return n; /* ASCII or a stray byte: complete as far as UTF-8 goes */
    if (back + 1 >= lt_utf8_len(lead)) return n;
    return i - 1; /* hold back the incomplete character */
}

int lt_detok_push(lt_detok *d, int32_t id, const char **out) {
    char piece[sizeof d->out];
    int len = lt_token_to_piece(d->vocab, id, piece, (int)sizeof piece - (int)sizeof d->pending, d->special);
    if (len < 0 || len > (int)sizeof piece - (int)sizeof d->pending) len = 0; /* absurdly long token: dropped */
    int skip = 0;
    if (d->first && len > 0) {
        /* SPM: drop the space the tokenizer put in front of the text; a printed control token
         * (e.g. "<s>" with special) comes first instead and keeps it, as llama.cpp prints "<s> Once" */
        bool ctrl = d->vocab->attr[id] & (LT_ATTR_CONTROL | LT_ATTR_UNKNOWN);
        if (!ctrl && piece[0] == ' ') skip = 1;
        d->first = false;
    }
    int n = 0;
    memcpy(d->out, d->pending, (size_t)d->n_pending);
    n = d->n_pending;
    memcpy(d->out + n, piece + skip, (size_t)(len - skip));
    n += len - skip;
    int ready = complete_utf8_prefix(d->out, n);
    d->n_pending = n - ready;
    if (d->n_pending > (int)sizeof d->pending) { ready = n; d->n_pending = 0; }
    memcpy(d->pending, d->out + ready, (size_t)d->n_pending);
    *out = d->out;
    return ready;
}

int lt_detok_flush(lt_detok *d, const char **out) {
    memcpy(d->out, d->pending, (size_t)d->n_pending);
    int n = d->n_pending;
    d->n_pending = 0;
    *out = d->out;
    return n;
}
