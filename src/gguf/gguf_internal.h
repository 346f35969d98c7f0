/* Internals shared by the GGUF reader (gguf.c), the getters (gguf_get.c) and the writer
 * (gguf_write.c): value sizes, deep copy and release of values. Not part of the contract. */
#ifndef LUTLM_GGUF_INTERNAL_H
#define LUTLM_GGUF_INTERNAL_H

#include "gguf/gguf.h"

/* Nested arrays deeper than this are rejected (each level costs a stack frame while parsing). */
#define GGUF_MAX_ARRAY_DEPTH 8

/* Bytes of one element of a fixed-size type (numbers, bool); 0 for STRING, ARRAY and unknown. */
size_t gguf_fixed_size(gguf_type t);
static inline bool gguf_type_valid(uint32_t t) { return t < GGUF_TYPE_COUNT; }
static inline bool gguf_type_is_int(gguf_type t) {
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_INT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_INT16 ||
           t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}
static inline bool gguf_type_is_signed(gguf_type t) {
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

/* Release what a value owns (strings, array payloads, nested arrays); the value itself is not freed. */
void gguf_value_release(gguf_value *v);
/* Deep copy src into dst. false (with lt_error) on allocation failure; dst is then empty. */
bool gguf_value_copy(gguf_value *dst, const gguf_value *src);
/* A NUL-terminated heap copy of len bytes. */
char *gguf_strndup(const char *s, uint64_t len);

#endif
