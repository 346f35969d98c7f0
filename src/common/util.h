/* Small shared utilities: error messages, checked arithmetic, allocation, time, half floats. */
#ifndef LUTLM_COMMON_UTIL_H
#define LUTLM_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors are reported as a message in a thread-local buffer (read with lt_error()) plus a failing
 * return value. lt_set_error() returns false so that `return lt_set_error(...)` reads naturally. */
bool lt_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *lt_error(void);
void lt_clear_error(void);

/* Overflow-checked arithmetic on sizes and counts taken from files. They return false on overflow. */
static inline bool lt_mul_u64(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool lt_add_u64(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_add_overflow(a, b, out); }

/* Allocation that sets an error message on failure (never aborts). */
void *lt_malloc(size_t n);
void *lt_calloc(size_t count, size_t size);
void *lt_aligned_alloc(size_t alignment, size_t n); /* free with lt_aligned_free */
void lt_aligned_free(void *p);
char *lt_strdup(const char *s);

/* Monotonic wall-clock time in seconds. */
double lt_time_now(void);

/* Number of cores this process may use (the default thread count). */
int lt_default_threads(void);

/* IEEE half and bfloat16 conversions (exact, round-to-nearest-even on the way down). */
float lt_fp16_to_fp32(uint16_t h);
uint16_t lt_fp32_to_fp16(float f);
static inline float lt_bf16_to_fp32(uint16_t h) {
    union { uint32_t u; float f; } v = { (uint32_t)h << 16 };
    return v.f;
}
uint16_t lt_fp32_to_bf16(float f);

/* Read a whole file into memory (NUL-terminated). Returns NULL and sets the error on failure. */
char *lt_read_file(const char *path, size_t *size_out);

#define LT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LT_MAX(a, b) ((a) > (b) ? (a) : (b))
#define LT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
