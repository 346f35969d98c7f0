/* BPE pre-tokenizers: the regular expressions llama.cpp applies for each tokenizer.ggml.pre,
 * written as small hand-made matchers over code points (no regex engine).
 *
 * llama.cpp applies a list of expressions in turn; each one splits every current piece into its
 * matches and the unmatched gaps between them (both kept), searching left to right with
 * leftmost-first alternation, and the end of a piece counts as the end of the text for `$` and
 * `(?!\S)`. Character classes come from the generated Unicode tables: \p{L}, \p{N}, \p{P} by general
 * category, \s = White_Space. */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tokenizer/unicode.h"

/* ---- character classes ---- */

static bool is_L(uint32_t c) { return c < 0x80 ? ((c | 32) >= 'a' && (c | 32) <= 'z') : lt_ucat(c) == LT_UCAT_L; }
static bool is_N(uint32_t c) { return c < 0x80 ? (c >= '0' && c <= '9') : lt_ucat(c) == LT_UCAT_N; }
static bool is_P(uint32_t c) { return lt_ucat(c) == LT_UCAT_P; }
static bool is_ws(uint32_t c) { return lt_is_whitespace(c); }
static bool is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }
static bool is_other(uint32_t c) { return !is_ws(c) && !is_L(c) && !is_N(c); } /* [^\s\p{L}\p{N}] */

static bool in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n) {
    for (size_t i = 0; i < n; i++)
        if (c >= r[i][0] && c <= r[i][1]) return true;
    return false;
}

/* Expressions without \p{..} run in llama.cpp on std::wregex over text whose non-ASCII
 * whitespace was replaced by U+000B; that code point is what their classes see. */
static uint32_t wide(uint32_t c) { return c > 0x7f && is_ws(c) ? 0x0b : c; }

/* [一-龥ࠀ-一가-퟿] (deepseek) */
static bool is_cjk(uint32_t c) {
    static const uint32_t r[][2] = { { 0x4e00, 0x9fa5 }, { 0x0800, 0x4e00 }, { 0xac00, 0xd7ff } };
    return in_ranges(wide(c), r, LT_ARRAY_LEN(r));
}

/* deepseek-llm's letter class [A-Za-zµÀ-ÖØ-ö...𞤀-𞥃] (the cased letters) */
static bool is_ds_letter(uint32_t c) {
    static const uint32_t r[][2] = {
        {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA}, {0x1BC, 0x1BF},
        {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377}, {0x37B, 0x37D}, {0x37F, 0x37F},
        {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481},
        {0x48A, 0x52F}, {0x531, 0x556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
        {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A},
        {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
        {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4},
        {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3},
        {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102},
        {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124},
        {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139},
        {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B},
        {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B},
        {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06},
        {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3},
        {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
    };
    return in_ranges(wide(c), r, LT_ARRAY_LEN(r));
}

/* deepseek-llm's punctuation class [!-/:-~！-／：-～‘-‟　-。] */
static bool is_ds_punct(uint32_t c) {
    static const uint32_t r[][2] = { { 0x21, 0x2f }, { 0x3a, 0x7e }, { 0xff01, 0xff0f },
                                     { 0xff1a, 0xff5e }, { 0x2018, 0x201f }, { 0x3000, 0x3002 } };
    return in_ranges(wide(c), r, LT_ARRAY_LEN(r));
}

static bool is_wide_crlf(uint32_t c) { return is_crlf(wide(c)); }
static bool is_wide_ws(uint32_t c) { return is_ws(c); } /* U+000B is \s too */
static bool is_ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
/* [\p{P}\$\+<=>\^~\|`] (falcon) and [\p{P}\$\+<=>\^~\|] (default) */
static bool is_falcon_punct(uint32_t c) { return is_P(c) || (c < 0x80 && strchr("$+<=>^~|`", (int)c) && c); }
static bool is_default_punct(uint32_t c) { return is_P(c) || (c < 0x80 && strchr("$+<=>^~|", (int)c) && c); }

typedef bool (*cls_fn)(uint32_t c);

static int run_of(cls_fn cls, const uint32_t *c, int pos, int end, int max) {
    int n = 0;
    while (pos + n < end && n < max && cls(c[pos + n])) n++;
    return n;
}

/* ---- matchers: length of the match at pos (leftmost-first semantics), 0 if none ---- */

typedef struct pattern pattern;
typedef int (*match_fn)(const pattern *p, const uint32_t *c, int pos, int end);

/* "PREFIX?BODY{min,max}" with an optional `$`; PREFIX is \s or absent. */
struct pattern {
    match_fn match;
    cls_fn prefix, body;
    int min, max;
    bool at_end;
};

static int match_simple(const pattern *p, const uint32_t *c, int pos, int end) {
    for (int with_prefix = p->prefix && p->prefix(c[pos]) ? 1 : 0; with_prefix >= 0; with_prefix--) {
        int start = pos + with_prefix;
        int n = run_of(p->body, c, start, end, p->max);
        if (n >= p->min && (!p->at_end || start + n == end)) return with_prefix + n;
    }
    return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d (case-insensitive for the llama3 family) */
static int match_contraction(const uint32_t *c, int pos, int end, bool any_case) {
    if (c[pos] != '\'' || pos + 1 >= end) return 0;
    uint32_t a = c[pos + 1], b = pos + 2 < end ? c[pos + 2] : 0;
    if (any_case) { if (a < 0x80) a |= 32; if (b && b < 0x80) b |= 32; }
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* \s+(?!\S): the whitespace run, minus its last character unless it reaches the end */
static int match_ws_not_before_nonws(const uint32_t *c, int pos, int end) {
    int n = run_of(is_ws, c, pos, end, end);
    if (n == 0) return 0;
    if (pos + n == end) return n;
    return n >= 2 ? n - 1 : 0;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static int match_gpt2(const pattern *p, const uint32_t *c, int pos, int end) {
    (void)p;
    int n = match_contraction(c, pos, end, false);
    if (n) return n;
    int q = c[pos] == ' ' && pos + 1 < end ? pos + 1 : pos; /* ' ?' (a space never starts the classes) */
    if (is_L(c[q])) return q - pos + run_of(is_L, c, q, end, end);
    if (is_N(c[q])) return q - pos + run_of(is_N, c, q, end, end);
    if (is_other(c[q])) return q - pos + run_of(is_other, c, q, end, end);
    return match_ws_not_before_nonws(c, pos, end);
}

/* Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
 * \s*[\r\n]+|\s+(?!\S)|\s+ */
static int match_llama3(const pattern *p, const uint32_t *c, int pos, int end) {
    int n = match_contraction(c, pos, end, true);
    if (n) return n;
    uint32_t c0 = c[pos];
    if (!is_crlf(c0) && !is_L(c0) && !is_N(c0) && pos + 1 < end && is_L(c[pos + 1]))
        return 1 + run_of(is_L, c, pos + 1, end, end);
    if (is_L(c0)) return run_of(is_L, c, pos, end, end);
    if (is_N(c0)) return run_of(is_N, c, pos, end, p->max);
    int q = c0 == ' ' && pos + 1 < end ? pos + 1 : pos;
    if (is_other(c[q])) {
        int k = q + run_of(is_other, c, q, end, end);
        return k + run_of(is_crlf, c, k, end, end) - pos;
    }
    int ws = run_of(is_ws, c, pos, end, end);
    if (ws == 0) return 0;
    for (int k = pos + ws - 1; k >= pos; k--) /* \s*[\r\n]+: up to the last newline of the run */
        if (is_crlf(c[k])) return k + 1 - pos;
    n = match_ws_not_before_nonws(c, pos, end);
    return n ? n : ws;
}

#define SIMPLE(pre, cls, mn, mx, end_) { match_simple, pre, cls, mn, mx, end_ }
static const pattern P_GPT2 = { match_gpt2, NULL, NULL, 0, 0, false };
static const pattern P_LLAMA3 = { match_llama3, NULL, NULL, 0, 3, false };
static const pattern P_QWEN2 = { match_llama3, NULL, NULL, 0, 1, false };
static const pattern P_DIGIT = SIMPLE(NULL, is_N, 1, 1, false);            /* \p{N} */
static const pattern P_DIGITS = SIMPLE(NULL, is_N, 1, 1 << 30, false);     /* \p{N}+ */
static const pattern P_DIGIT3 = SIMPLE(NULL, is_ascii_digit, 3, 3, false); /* [0-9][0-9][0-9] */
static const pattern P_FALCON_PUNCT = SIMPLE(NULL, is_falcon_punct, 1, 1 << 30, false);
static const pattern P_DEFAULT_PUNCT = SIMPLE(NULL, is_default_punct, 1, 1 << 30, false);
static const pattern P_NEWLINE = SIMPLE(NULL, is_wide_crlf, 1, 1, false);  /* [\r\n] */
static const pattern P_WS_LETTERS = SIMPLE(is_ws, is_L, 1, 1 << 30, false); /* \s?\p{L}+ */
static const pattern P_WS_PUNCT = SIMPLE(is_ws, is_P, 1, 1 << 30, false);   /* \s?\p{P}+ */
static const pattern P_CJK = SIMPLE(NULL, is_cjk, 1, 1 << 30, false);
static const pattern P_DS_LETTERS = SIMPLE(is_wide_ws, is_ds_letter, 1, 1 << 30, false);
static const pattern P_DS_PUNCT = SIMPLE(is_wide_ws, is_ds_punct, 1, 1 << 30, false);
static const pattern P_WS_AT_END = SIMPLE(NULL, is_wide_ws, 1, 1 << 30, true); /* \s+$ */

/* The expression list of each pre-tokenizer, as in llama.cpp's llm_tokenizer_bpe. */
static int patterns_for(int pre, const pattern **list) {
    int n = 0;
    switch (pre) {
    case LT_PRE_LLAMA3: case LT_PRE_DBRX: case LT_PRE_SMAUG:
        list[n++] = &P_LLAMA3; break;
    case LT_PRE_QWEN2: case LT_PRE_STABLELM2:
        list[n++] = &P_QWEN2; break;
    case LT_PRE_DEEPSEEK_LLM:
        list[n++] = &P_NEWLINE; list[n++] = &P_DS_LETTERS; list[n++] = &P_DS_PUNCT;
        list[n++] = &P_WS_AT_END; list[n++] = &P_CJK; list[n++] = &P_DIGITS; break;
    case LT_PRE_DEEPSEEK_CODER:
        list[n++] = &P_NEWLINE; list[n++] = &P_WS_LETTERS; list[n++] = &P_WS_PUNCT;
        list[n++] = &P_CJK; list[n++] = &P_DIGIT; break;
    case LT_PRE_FALCON:
        list[n++] = &P_FALCON_PUNCT; list[n++] = &P_GPT2; list[n++] = &P_DIGIT3; break;
    case LT_PRE_STARCODER: case LT_PRE_REFACT: case LT_PRE_COMMAND_R: case LT_PRE_SMOLLM:
        list[n++] = &P_DIGIT; list[n++] = &P_GPT2; break;
    case LT_PRE_GPT2: case LT_PRE_MPT: case LT_PRE_OLMO:
        list[n++] = &P_GPT2; break;
    default: /* LT_PRE_DEFAULT */
        list[n++] = &P_DEFAULT_PUNCT; list[n++] = &P_GPT2; list[n++] = &P_DIGITS; list[n++] = &P_DIGIT3; break;
    }
    return n;
}

int lt_pre_from_name(const char *name) {
    static const struct { const char *name; int pre; } names[] = {
        { "default", LT_PRE_DEFAULT }, { "llama3", LT_PRE_LLAMA3 }, { "llama-v3", LT_PRE_LLAMA3 },
        { "llama-bpe", LT_PRE_LLAMA3 }, { "falcon3", LT_PRE_LLAMA3 },
        { "deepseek-llm", LT_PRE_DEEPSEEK_LLM }, { "deepseek-coder", LT_PRE_DEEPSEEK_CODER },
        { "falcon", LT_PRE_FALCON }, { "mpt", LT_PRE_MPT }, { "starcoder", LT_PRE_STARCODER },
        { "gpt-2", LT_PRE_GPT2 }, { "phi-2", LT_PRE_GPT2 }, { "jina-es", LT_PRE_GPT2 },
        { "jina-de", LT_PRE_GPT2 }, { "gigachat", LT_PRE_GPT2 }, { "roberta-bpe", LT_PRE_GPT2 },
        { "refact", LT_PRE_REFACT }, { "command-r", LT_PRE_COMMAND_R }, { "qwen2", LT_PRE_QWEN2 },
        { "deepseek-r1-qwen", LT_PRE_QWEN2 }, { "stablelm2", LT_PRE_STABLELM2 }, { "olmo", LT_PRE_OLMO },
        { "dbrx", LT_PRE_DBRX }, { "smaug-bpe", LT_PRE_SMAUG }, { "smollm", LT_PRE_SMOLLM },
        { "gpt-neox", LT_PRE_GPT2 },
    };
    for (size_t i = 0; i < LT_ARRAY_LEN(names); i++)
        if (!strcmp(name, names[i].name)) return names[i].pre;
    return -1;
}

/* Split each piece [start, start+len) of `in` by one expression into `out` (matches and gaps). */
static int split_by(const pattern *p, const uint32_t *c, const int *in, int n_in, int *out) {
    int n_out = 0, start = 0;
    for (int i = 0; i < n_in; i++) {
        int end = start + in[i], pos = start, gap = start;
        while (pos < end) {
            int m = p->match(p, c, pos, end);
            if (m <= 0) { pos++; continue; }
            if (gap < pos) out[n_out++] = pos - gap;
            out[n_out++] = m;
            pos += m;
            gap = pos;
        }
        if (gap < end) out[n_out++] = end - gap;
        start = end;
    }
    return n_out;
}

int lt_pretokenize(int pre, const uint32_t *cps, int n, int **lens) {
    const pattern *list[8];
    int n_pat = patterns_for(pre, list);
    /* every piece has at least one code point, so n (+1) entries always suffice */
    int *a = lt_malloc(sizeof *a * (size_t)(n + 1)), *b = lt_malloc(sizeof *b * (size_t)(n + 1));
    if (!a || !b) { free(a); free(b); return -1; }
    int count = 0;
    if (n > 0) a[count++] = n;
    for (int i = 0; i < n_pat; i++) {
        count = split_by(list[i], cps, a, count, b);
        int *t = a; a = b; b = t;
    }
    free(b);
    *lens = a;
    return count;
}
