#include "common/util.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char lt_error_buffer[1024];

bool lt_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lt_error_buffer, sizeof lt_error_buffer, fmt, ap);
    va_end(ap);
    return false;
}

const char *lt_error(void) { return lt_error_buffer[0] ? lt_error_buffer : "unknown error"; }
void lt_clear_error(void) { lt_error_buffer[0] = 0; }

void *lt_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) lt_set_error("out of memory allocating %zu bytes", n);
    return p;
}

void *lt_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) lt_set_error("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *lt_aligned_alloc(size_t alignment, size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, alignment, n ? n : alignment) != 0) {
        lt_set_error("out of memory allocating %zu aligned bytes", n);
        return NULL;
    }
    return p;
}

void lt_aligned_free(void *p) { free(p); }

char *lt_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = lt_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

double lt_time_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int lt_default_threads(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

float lt_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: value = mant * 2^-24 */
            float v = (float)mant * 5.9604644775390625e-8f;
            union { float f; uint32_t u; } c = { v };
            bits = sign | c.u;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    union { uint32_t u; float f; } r = { bits };
    return r.f;
}

uint16_t lt_fp32_to_fp16(float f) {
    union { float f; uint32_t u; } v = { f };
    uint32_t x = v.u;
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or nan */
        return sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0);
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return sign | 0x7c00;
    if (absx < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        union { uint32_t u; float f; } a = { absx };
        /* value / 2^-24, rounded to nearest even by the FPU */
        float scaled = a.f * 16777216.0f;
        return sign | (uint16_t)lrintf(scaled);
    }
    uint32_t mant = absx & 0x7fffff;
    uint32_t exp = (absx >> 23) - 112;
    uint32_t half = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return sign | (uint16_t)half;
}

uint16_t lt_fp32_to_bf16(float f) {
    union { float f; uint32_t u; } v = { f };
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 64); /* quiet nan */
    return (uint16_t)((v.u + (0x7fff + ((v.u >> 16) & 1))) >> 16);
}

char *lt_read_file(const char *path, size_t *size_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        lt_set_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = lt_malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger) { free(buf); buf = NULL; lt_set_error("%s: out of memory", path); break; }
        buf = bigger;
        cap *= 2;
    }
    if (buf && ferror(f)) { free(buf); buf = NULL; lt_set_error("%s: read error", path); }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    if (size_out) *size_out = n;
    return buf;
}
