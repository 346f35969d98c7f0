/* UTF-8 coding and lookups in the generated Unicode tables (binary searches over sorted runs). */
#include "tokenizer/unicode.h"

#include <stdlib.h>

#include "common/util.h"

/* One code point at text[*pos]; llama.cpp's unicode_cpt_from_utf8: lead byte decides the length,
 * continuation bytes must be 10xxxxxx, no overlong/surrogate checks. Returns -1 if invalid. */
static int64_t decode_one(const uint8_t *s, size_t len, size_t *pos) {
    size_t i = *pos;
    uint8_t c = s[i];
    if (!(c & 0x80)) { *pos = i + 1; return c; }
    if (!(c & 0x40)) return -1;
    int n = !(c & 0x20) ? 2 : !(c & 0x10) ? 3 : !(c & 0x08) ? 4 : 0;
    if (n == 0 || i + (size_t)n > len) return -1;
    uint32_t cp = c & (0x7f >> n);
    for (int k = 1; k < n; k++) {
        if ((s[i + k] & 0xc0) != 0x80) return -1;
        cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    *pos = i + (size_t)n;
    return cp;
}

int lt_utf8_decode(const char *text, size_t len, uint32_t **out) {
    uint32_t *cps = lt_malloc((len + 1) * sizeof *cps);
    if (!cps) return -1;
    const uint8_t *s = (const uint8_t *)text;
    size_t pos = 0;
    int n = 0;
    while (pos < len) {
        int64_t cp = decode_one(s, len, &pos);
        if (cp < 0) { cp = 0xFFFD; pos++; }
        cps[n++] = (uint32_t)cp;
    }
    *out = cps;
    return n;
}

uint32_t lt_utf8_next(const char *text, size_t len, size_t *pos) {
    int64_t cp = decode_one((const uint8_t *)text, len, pos);
    if (cp < 0) { (*pos)++; return 0xFFFD; }
    return (uint32_t)cp;
}

int lt_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int lt_ucat(uint32_t cp) {
    if (cp >= 0x110000) return LT_UCAT_UNASSIGNED;
    /* the last run whose first code point is <= cp */
    int lo = 0, hi = lt_ucat_n_runs - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (lt_ucat_runs[mid][0] <= cp) lo = mid; else hi = mid - 1;
    }
    return (int)lt_ucat_runs[lo][1];
}

bool lt_is_whitespace(uint32_t cp) {
    for (int i = 0; i < lt_whitespace_n_ranges; i++)
        if (cp >= lt_whitespace_ranges[i][0] && cp <= lt_whitespace_ranges[i][1]) return true;
    return false;
}

uint32_t lt_to_lower(uint32_t cp) {
    int lo = 0, hi = lt_lower_map_n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (lt_lower_map[mid][0] == cp) return lt_lower_map[mid][1];
        if (lt_lower_map[mid][0] < cp) lo = mid + 1; else hi = mid - 1;
    }
    return cp;
}

uint32_t lt_nfd_first(uint32_t cp) {
    int lo = 0, hi = lt_nfd_first_n_ranges - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < lt_nfd_first_ranges[mid][0]) hi = mid - 1;
        else if (cp > lt_nfd_first_ranges[mid][1]) lo = mid + 1;
        else return lt_nfd_first_ranges[mid][2];
    }
    return cp;
}
