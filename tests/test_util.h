/* Minimal test helpers: CHECK macros that count failures, and paths into ../shared. */
#ifndef LUTLM_TESTS_TEST_UTIL_H
#define LUTLM_TESTS_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(cond) do { test_checks++; if (!(cond)) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { test_checks++; if (!(cond)) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_NEAR(a, b, tol) CHECKF(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a), (double)(b), (double)(tol))

/* A xorshift generator for test data: uniform 21-bit integers and floats in [-1, 1). Each test
 * program has its own state; test_rng_seed makes its data its own. */
static uint64_t test_rng_state = 0x9E3779B97F4A7C15ull;
static inline void test_rng_seed(uint64_t seed) { test_rng_state = seed; }
static inline uint32_t test_rnd(void) {
    test_rng_state ^= test_rng_state << 13;
    test_rng_state ^= test_rng_state >> 7;
    test_rng_state ^= test_rng_state << 17;
    return (uint32_t)(test_rng_state >> 11);
}
static inline float test_frand(void) { return (float)(test_rnd() >> 8) / 16777216.0f * 2.0f - 1.0f; }

/* End of main: print the summary and return the exit code. */
#define TEST_DONE() (fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures), test_failures ? 1 : 0)

/* Token ids separated by spaces in line[0..len) (not NUL-terminated). Returns how many were read. */
static inline int parse_ids(const char *line, size_t len, int32_t *ids, int max) {
    int n = 0;
    const char *p = line, *end = line + len;
    while (p < end && n < max) {
        while (p < end && *p == ' ') p++;
        if (p >= end) break;
        ids[n++] = (int32_t)strtol(p, (char **)&p, 10);
    }
    return n;
}

/* Path of a file under ../shared (env LUTLM_SHARED overrides the compiled-in default). */
static inline const char *shared_path(const char *rel) {
    static char buf[4][4096];
    static int slot = 0;
    const char *root = getenv("LUTLM_SHARED");
#ifdef LUTLM_SHARED_DIR
    if (!root) root = LUTLM_SHARED_DIR;
#endif
    if (!root) root = "../shared";
    char *b = buf[slot++ & 3];
    snprintf(b, 4096, "%s/%s", root, rel);
    return b;
}

#endif
