/* Strict recursive-descent JSON parser (see json.h). */
#include "tokenizer/json.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tokenizer/unicode.h"

#define JSON_MAX_DEPTH 128

typedef struct parser {
    const char *s;
    size_t len, pos;
    bool failed;
} parser;

static bool fail(parser *p, const char *what) {
    if (!p->failed) lt_set_error("JSON: %s at byte %zu", what, p->pos);
    p->failed = true;
    return false;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail(p, "invalid literal");
    p->pos += n;
    return true;
}

static int hex4(parser *p) {
    if (p->len - p->pos < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + (size_t)i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    p->pos += 4;
    return v;
}

/* A string starting at the opening quote; decoded into a new buffer. */
static bool parse_string(parser *p, char **out, size_t *out_len) {
    p->pos++; /* opening quote */
    size_t start = p->pos, cap = 0;
    /* decoded text is never longer than the source */
    while (p->pos < p->len && p->s[p->pos] != '"') {
        if (p->s[p->pos] == '\\') p->pos++;
        p->pos++;
    }
    if (p->pos >= p->len) return fail(p, "unterminated string");
    cap = p->pos - start + 1;
    char *buf = lt_malloc(cap);
    if (!buf) return fail(p, "out of memory");
    size_t n = 0;
    p->pos = start;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) { free(buf); return fail(p, "control character in string"); }
        if (c != '\\') { buf[n++] = (char)c; p->pos++; continue; }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            int hi = hex4(p);
            if (hi < 0) { free(buf); return fail(p, "bad \\u escape"); }
            uint32_t cp = (uint32_t)hi;
            if (hi >= 0xd800 && hi <= 0xdbff && p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                p->pos += 2;
                int lo = hex4(p);
                if (lo < 0xdc00 || lo > 0xdfff) { free(buf); return fail(p, "bad surrogate pair"); }
                cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            } else if (hi >= 0xd800 && hi <= 0xdfff) {
                cp = 0xfffd; /* lone surrogate */
            }
            n += (size_t)lt_utf8_encode(cp, buf + n); /* \uXXXX is 6 source bytes, at most 4 out */
            break;
        }
        default: free(buf); return fail(p, "invalid escape");
        }
    }
    p->pos++; /* closing quote */
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return true;
}

static bool parse_number(parser *p, double *out) {
    size_t start = p->pos;
    if (p->s[p->pos] == '-') p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == digits) return fail(p, "invalid number");
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        size_t frac = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == frac) return fail(p, "invalid number");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        size_t exp = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == exp) return fail(p, "invalid number");
    }
    char tmp[64];
    size_t n = p->pos - start;
    if (n >= sizeof tmp) { *out = 0; return true; } /* absurdly long: value unused by us */
    memcpy(tmp, p->s + start, n);
    tmp[n] = 0;
    *out = strtod(tmp, NULL);
    return true;
}

static bool parse_value(parser *p, lt_json *v, int depth);

/* Elements of an array or members of an object, until `close`. */
static bool parse_container(parser *p, lt_json *v, char close, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(p, "nesting too deep");
    p->pos++;
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return true; }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 4;
            lt_json *items = realloc(v->items, cap * sizeof *items);
            if (!items) return fail(p, "out of memory");
            v->items = items;
        }
        lt_json *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        v->n++;
        skip_ws(p);
        if (close == '}') {
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected a key");
            if (!parse_string(p, &item->key, &item->key_len)) return false;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, "expected ':'");
            p->pos++;
        }
        if (!parse_value(p, item, depth + 1)) return false;
        skip_ws(p);
        if (p->pos >= p->len) return fail(p, "unexpected end");
        if (p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->s[p->pos] == close) { p->pos++; return true; }
        return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool parse_value(parser *p, lt_json *v, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "unexpected end");
    char c = p->s[p->pos];
    switch (c) {
    case '{': v->type = LT_JSON_OBJECT; return parse_container(p, v, '}', depth);
    case '[': v->type = LT_JSON_ARRAY; return parse_container(p, v, ']', depth);
    case '"': v->type = LT_JSON_STRING; return parse_string(p, &v->str, &v->len);
    case 't': v->type = LT_JSON_BOOL; v->boolean = true; return literal(p, "true");
    case 'f': v->type = LT_JSON_BOOL; return literal(p, "false");
    case 'n': v->type = LT_JSON_NULL; return literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) { v->type = LT_JSON_NUMBER; return parse_number(p, &v->number); }
        return fail(p, "unexpected character");
    }
}

static void free_tree(lt_json *j) {
    for (size_t i = 0; i < j->n; i++) free_tree(&j->items[i]);
    free(j->items);
    free(j->str);
    free(j->key);
}

lt_json *lt_json_parse(const char *text, size_t len) {
    lt_json *root = lt_calloc(1, sizeof *root);
    if (!root) return NULL;
    parser p = { text, len, 0, false };
    if (parse_value(&p, root, 0)) {
        skip_ws(&p);
        if (p.pos != p.len) fail(&p, "trailing characters");
    }
    if (p.failed) { lt_json_free(root); return NULL; }
    return root;
}

void lt_json_free(lt_json *j) {
    if (!j) return;
    free_tree(j);
    free(j);
}

const lt_json *lt_json_get(const lt_json *j, const char *key) {
    if (!j || j->type != LT_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < j->n; i++)
        if (j->items[i].key_len == n && !memcmp(j->items[i].key, key, n)) return &j->items[i];
    return NULL;
}

const char *lt_json_str(const lt_json *j) { return j && j->type == LT_JSON_STRING ? j->str : NULL; }
