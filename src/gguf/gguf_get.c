/* GGUF metadata and tensor lookup, typed getters, value printing, and value copy/release. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "gguf/gguf_internal.h"

size_t gguf_fixed_size(gguf_type t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

const char *gguf_type_name(gguf_type t) {
    static const char *const names[GGUF_TYPE_COUNT] = {
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
        "bool", "string", "array", "uint64", "int64", "float64",
    };
    return (unsigned)t < GGUF_TYPE_COUNT ? names[t] : "unknown";
}

char *gguf_strndup(const char *s, uint64_t len) {
    if (len >= SIZE_MAX) {
        lt_set_error("string of %" PRIu64 " bytes is too long", len);
        return NULL;
    }
    char *d = lt_malloc((size_t)len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, s, (size_t)len);
    d[len] = 0;
    return d;
}

void gguf_value_release(gguf_value *v) {
    if (v->type == GGUF_TYPE_STRING) {
        free(v->v.str.data);
    } else if (v->type == GGUF_TYPE_ARRAY) {
        if (v->v.arr.data && v->v.arr.elem_type == GGUF_TYPE_STRING) {
            gguf_string *s = v->v.arr.data;
            for (uint64_t i = 0; i < v->v.arr.n; i++) free(s[i].data);
        } else if (v->v.arr.data && v->v.arr.elem_type == GGUF_TYPE_ARRAY) {
            gguf_value *items = v->v.arr.data;
            for (uint64_t i = 0; i < v->v.arr.n; i++) gguf_value_release(&items[i]);
        }
        free(v->v.arr.data);
    }
    memset(v, 0, sizeof *v);
}

static bool copy_array(gguf_value *dst, const gguf_value *src) {
    uint64_t n = src->v.arr.n;
    gguf_type elem = src->v.arr.elem_type;
    size_t fixed = gguf_fixed_size(elem);
    dst->type = GGUF_TYPE_ARRAY;
    dst->v.arr.elem_type = elem;
    dst->v.arr.n = 0;
    if (fixed) {
        uint64_t nbytes;
        if (!lt_mul_u64(n, fixed, &nbytes) || nbytes > SIZE_MAX) return lt_set_error("array of %" PRIu64 " elements is too large", n);
        if (!(dst->v.arr.data = lt_malloc((size_t)nbytes))) return false;
        if (nbytes) memcpy(dst->v.arr.data, src->v.arr.data, (size_t)nbytes);
        dst->v.arr.n = n;
        return true;
    }
    size_t item = elem == GGUF_TYPE_STRING ? sizeof(gguf_string) : sizeof(gguf_value);
    if (!(dst->v.arr.data = lt_calloc((size_t)n, item))) return false;
    dst->v.arr.n = n; /* zeroed items release cleanly if a copy below fails */
    for (uint64_t i = 0; i < n; i++) {
        if (elem == GGUF_TYPE_STRING) {
            const gguf_string *s = &((const gguf_string *)src->v.arr.data)[i];
            gguf_string *d = &((gguf_string *)dst->v.arr.data)[i];
            if (!(d->data = gguf_strndup(s->data, s->len))) return false;
            d->len = s->len;
        } else if (!gguf_value_copy(&((gguf_value *)dst->v.arr.data)[i], &((const gguf_value *)src->v.arr.data)[i])) {
            return false;
        }
    }
    return true;
}

bool gguf_value_copy(gguf_value *dst, const gguf_value *src) {
    memset(dst, 0, sizeof *dst);
    if (src->type == GGUF_TYPE_STRING) {
        if (!(dst->v.str.data = gguf_strndup(src->v.str.data, src->v.str.len))) return false;
        dst->v.str.len = src->v.str.len;
        dst->type = GGUF_TYPE_STRING;
        return true;
    }
    if (src->type == GGUF_TYPE_ARRAY) {
        if (copy_array(dst, src)) return true;
        gguf_value_release(dst);
        return false;
    }
    *dst = *src;
    return true;
}

/* ---- lookup ---- */

static bool string_equals(const gguf_string *s, const char *c) {
    size_t n = strlen(c);
    return s->len == n && memcmp(s->data, c, n) == 0;
}

int64_t gguf_find_key(const gguf_file *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (string_equals(&f->kv[i].key, key)) return (int64_t)i;
    return -1;
}

const gguf_value *gguf_get(const gguf_file *f, const char *key) {
    int64_t i = gguf_find_key(f, key);
    return i < 0 ? NULL : &f->kv[i].value;
}

/* Any integer value as magnitude bits + sign: *neg tells whether it is below zero (then *mag holds
 * the two's complement i64). */
static bool get_integer(const gguf_file *f, const char *key, uint64_t *mag, bool *neg) {
    const gguf_value *v = gguf_get(f, key);
    if (!v || !gguf_type_is_int(v->type)) return false;
    *neg = gguf_type_is_signed(v->type) && v->v.i64 < 0;
    *mag = v->v.u64;
    return true;
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    uint64_t m;
    bool neg;
    if (!get_integer(f, key, &m, &neg) || neg || m > UINT32_MAX) return false;
    *out = (uint32_t)m;
    return true;
}

bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out) {
    uint64_t m;
    bool neg;
    if (!get_integer(f, key, &m, &neg)) return false;
    if (!neg && m > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)m; /* a negative value was stored as i64 already */
    return true;
}

/* Floats of either width; integers are accepted too (some converters write e.g. rope bases as ints). */
bool gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    const gguf_value *v = gguf_get(f, key);
    if (!v) return false;
    if (v->type == GGUF_TYPE_FLOAT32 || v->type == GGUF_TYPE_FLOAT64) *out = (float)v->v.f64;
    else if (gguf_type_is_int(v->type)) *out = gguf_type_is_signed(v->type) ? (float)v->v.i64 : (float)v->v.u64;
    else return false;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_value *v = gguf_get(f, key);
    if (!v || v->type != GGUF_TYPE_BOOL) return false;
    *out = v->v.b;
    return true;
}

const char *gguf_get_str(const gguf_file *f, const char *key) {
    const gguf_value *v = gguf_get(f, key);
    return v && v->type == GGUF_TYPE_STRING ? v->v.str.data : NULL;
}

const gguf_value *gguf_get_array(const gguf_file *f, const char *key, gguf_type elem_type) {
    const gguf_value *v = gguf_get(f, key);
    return v && v->type == GGUF_TYPE_ARRAY && v->v.arr.elem_type == elem_type ? v : NULL;
}

int64_t gguf_find_tensor(const gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (string_equals(&f->tensors[i].name, name)) return (int64_t)i;
    return -1;
}

const gguf_tensor_info *gguf_get_tensor(const gguf_file *f, const char *name) {
    int64_t i = gguf_find_tensor(f, name);
    return i < 0 ? NULL : &f->tensors[i];
}

/* ---- printing ---- */

/* An output buffer that truncates safely (with "..." when full). */
typedef struct outbuf {
    char *buf;
    size_t cap, len;
    bool full;
} outbuf;

static void out_printf(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(outbuf *o, const char *fmt, ...) {
    if (o->full || o->cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        o->len = o->cap - 1;
        if (o->cap >= 4) memcpy(o->buf + o->cap - 4, "...", 4);
    } else {
        o->len += (size_t)n;
    }
}

#define GGUF_PRINT_STRING_MAX 64 /* longer strings are cut (chat templates are kilobytes) */
#define GGUF_PRINT_ARRAY_MAX 4   /* array elements shown before "..." */

/* A quoted string with control characters escaped, cut after GGUF_PRINT_STRING_MAX bytes. */
static void out_string(outbuf *o, const gguf_string *s) {
    out_printf(o, "\"");
    uint64_t shown = LT_MIN(s->len, (uint64_t)GGUF_PRINT_STRING_MAX);
    for (uint64_t i = 0; i < shown && !o->full; i++) {
        unsigned char ch = (unsigned char)s->data[i];
        if (ch == '"' || ch == '\\') out_printf(o, "\\%c", ch);
        else if (ch == '\n') out_printf(o, "\\n");
        else if (ch < 0x20 || ch == 0x7f) out_printf(o, "\\x%02x", ch);
        else out_printf(o, "%c", ch);
    }
    if (shown < s->len) out_printf(o, "\"... (%" PRIu64 " bytes)", s->len);
    else out_printf(o, "\"");
}

/* Element i of a packed numeric/bool array, as a scalar value. */
static gguf_value array_element(const gguf_value *a, uint64_t i) {
    gguf_value e = { .type = a->v.arr.elem_type };
    const uint8_t *p = (const uint8_t *)a->v.arr.data + i * gguf_fixed_size(a->v.arr.elem_type);
    switch (e.type) {
    case GGUF_TYPE_UINT8: e.v.u64 = p[0]; break;
    case GGUF_TYPE_INT8: { int8_t x; memcpy(&x, p, 1); e.v.i64 = x; break; }
    case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); e.v.u64 = x; break; }
    case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); e.v.i64 = x; break; }
    case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); e.v.u64 = x; break; }
    case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); e.v.i64 = x; break; }
    case GGUF_TYPE_UINT64: memcpy(&e.v.u64, p, 8); break;
    case GGUF_TYPE_INT64: memcpy(&e.v.i64, p, 8); break;
    case GGUF_TYPE_FLOAT32: { float x; memcpy(&x, p, 4); e.v.f64 = x; break; }
    case GGUF_TYPE_FLOAT64: memcpy(&e.v.f64, p, 8); break;
    case GGUF_TYPE_BOOL: e.v.b = p[0] != 0; break;
    default: break;
    }
    return e;
}

static void out_value(outbuf *o, const gguf_value *v);

/* The shortest %g form that reads back as the same float32 (or float64): 1e-05, not 9.99999975e-06. */
static void out_float(outbuf *o, double x, bool single) {
    char tmp[40];
    for (int digits = single ? 6 : 15; digits <= 17; digits++) {
        snprintf(tmp, sizeof tmp, "%.*g", digits, x);
        double back = strtod(tmp, NULL);
        if (single ? (float)back == (float)x : back == x) break;
    }
    out_printf(o, "%s", tmp);
}

static void out_array(outbuf *o, const gguf_value *v) {
    uint64_t n = v->v.arr.n;
    gguf_type elem = v->v.arr.elem_type;
    const char *plural = elem == GGUF_TYPE_STRING ? "strings" : elem == GGUF_TYPE_ARRAY ? "arrays" : gguf_type_name(elem);
    out_printf(o, "[%" PRIu64 " %s%s", n, plural, n ? ": " : "");
    uint64_t shown = LT_MIN(n, (uint64_t)GGUF_PRINT_ARRAY_MAX);
    for (uint64_t i = 0; i < shown && !o->full; i++) {
        if (i) out_printf(o, ", ");
        if (elem == GGUF_TYPE_STRING) {
            out_string(o, &((const gguf_string *)v->v.arr.data)[i]);
        } else if (elem == GGUF_TYPE_ARRAY) {
            out_value(o, &((const gguf_value *)v->v.arr.data)[i]);
        } else {
            gguf_value e = array_element(v, i);
            out_value(o, &e);
        }
    }
    out_printf(o, "%s]", shown < n ? ", ..." : "");
}

static void out_value(outbuf *o, const gguf_value *v) {
    switch (v->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        out_printf(o, "%" PRIu64, v->v.u64);
        break;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        out_printf(o, "%" PRId64, v->v.i64);
        break;
    case GGUF_TYPE_FLOAT32: out_float(o, v->v.f64, true); break;
    case GGUF_TYPE_FLOAT64: out_float(o, v->v.f64, false); break;
    case GGUF_TYPE_BOOL: out_printf(o, "%s", v->v.b ? "true" : "false"); break;
    case GGUF_TYPE_STRING: out_string(o, &v->v.str); break;
    case GGUF_TYPE_ARRAY: out_array(o, v); break;
    default: out_printf(o, "<unknown type %d>", (int)v->type); break;
    }
}

void gguf_format_value(const gguf_value *v, char *buf, size_t buflen) {
    outbuf o = { buf, buflen, 0, false };
    if (buflen == 0) return;
    buf[0] = 0;
    out_value(&o, v);
}
