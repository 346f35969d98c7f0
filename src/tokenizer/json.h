/* A small strict JSON reader (RFC 8259) for Hugging Face tokenizer files: parses a whole document
 * into a tree. Bounds-checked, depth-limited, rejects trailing garbage, bad escapes and raw control
 * characters in strings; \uXXXX escapes (with surrogate pairs) become UTF-8. */
#ifndef LUTLM_TOKENIZER_JSON_H
#define LUTLM_TOKENIZER_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { LT_JSON_NULL, LT_JSON_BOOL, LT_JSON_NUMBER, LT_JSON_STRING, LT_JSON_ARRAY, LT_JSON_OBJECT } lt_json_type;

typedef struct lt_json lt_json;
struct lt_json {
    lt_json_type type;
    bool boolean;
    double number;
    char *str;       /* STRING: decoded, NUL-terminated (may contain NUL: use len) */
    size_t len;
    char *key;       /* set on the members of an OBJECT */
    size_t key_len;
    lt_json *items;  /* ARRAY elements / OBJECT members */
    size_t n;
};

/* Parse text[0..len). NULL and lt_error() (with the byte offset) on malformed input. */
lt_json *lt_json_parse(const char *text, size_t len);
void lt_json_free(lt_json *j);

/* Member of an object by key (NULL if j is not an object or has no such key). */
const lt_json *lt_json_get(const lt_json *j, const char *key);
/* The string of a STRING value, NULL otherwise. */
const char *lt_json_str(const lt_json *j);

#endif
