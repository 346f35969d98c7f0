/* GGUF writer: collects metadata and tensors, then writes a version-3 file atomically
 * (a temporary file next to the target, fsync, rename), so a failed write never leaves a
 * half-written model under the final name.
 *
 * The setters return nothing (they are called in long sequences); the first problem they meet
 * (bad argument, out of memory) is remembered and reported by gguf_writer_write. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "gguf/gguf_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "packed GGUF arrays and tensor data are written in host order, which must be little-endian"
#endif

typedef struct writer_tensor {
    char *name;
    uint32_t type, n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    const void *data;
    uint64_t nbytes;
    uint64_t offset; /* assigned when writing */
} writer_tensor;

struct gguf_writer {
    gguf_kv *kv;
    uint64_t n_kv, cap_kv;
    writer_tensor *tensors;
    uint64_t n_tensors, cap_tensors;
    char error[512]; /* the first failure of a setter; empty if none */
};

/* Remember the first setter failure (later ones are usually consequences). */
static void writer_fail(gguf_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void writer_fail(gguf_writer *w, const char *fmt, ...) {
    if (w->error[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    if (!w->error[0]) snprintf(w->error, sizeof w->error, "gguf writer: error");
}

/* Grow *items (of item_size bytes, capacity *cap) to hold at least need items. */
static bool grow(void **items, uint64_t *cap, uint64_t need, size_t item_size) {
    if (need <= *cap) return true;
    uint64_t new_cap = *cap ? *cap * 2 : 16;
    if (new_cap < need) new_cap = need;
    void *p = realloc(*items, (size_t)new_cap * item_size);
    if (!p) return lt_set_error("out of memory growing the GGUF writer");
    *items = p;
    *cap = new_cap;
    return true;
}

gguf_writer *gguf_writer_new(void) { return lt_calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (uint64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key.data);
        gguf_value_release(&w->kv[i].value);
    }
    for (uint64_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->kv);
    free(w->tensors);
    free(w);
}

/* ---- metadata ---- */

/* A value the writer can serialize: known types, nested arrays made of arrays. */
static bool value_valid(const gguf_value *v, int depth) {
    if (!gguf_type_valid(v->type)) return false;
    if (v->type == GGUF_TYPE_STRING) return v->v.str.data || v->v.str.len == 0;
    if (v->type != GGUF_TYPE_ARRAY) return true;
    if (!gguf_type_valid(v->v.arr.elem_type) || (v->v.arr.n && !v->v.arr.data)) return false;
    if (v->v.arr.elem_type == GGUF_TYPE_STRING) {
        const gguf_string *s = v->v.arr.data;
        for (uint64_t i = 0; i < v->v.arr.n; i++)
            if (!s[i].data && s[i].len) return false;
    }
    if (v->v.arr.elem_type != GGUF_TYPE_ARRAY) return true;
    if (depth >= GGUF_MAX_ARRAY_DEPTH) return false;
    const gguf_value *items = v->v.arr.data;
    for (uint64_t i = 0; i < v->v.arr.n; i++)
        if (items[i].type != GGUF_TYPE_ARRAY || !value_valid(&items[i], depth + 1)) return false;
    return true;
}

void gguf_writer_set_value(gguf_writer *w, const char *key, const gguf_value *v) {
    if (!w) return;
    if (!key || !v || !value_valid(v, 0)) {
        writer_fail(w, "gguf writer: invalid value for key '%s'", key ? key : "(null)");
        return;
    }
    gguf_value copy;
    if (!gguf_value_copy(&copy, v)) {
        writer_fail(w, "gguf writer: key '%s': %s", key, lt_error());
        return;
    }
    for (uint64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key.data, key) == 0) { /* replace */
            gguf_value_release(&w->kv[i].value);
            w->kv[i].value = copy;
            return;
        }
    }
    char *name = lt_strdup(key);
    if (!name || !grow((void **)&w->kv, &w->cap_kv, w->n_kv + 1, sizeof *w->kv)) {
        free(name);
        gguf_value_release(&copy);
        writer_fail(w, "gguf writer: key '%s': %s", key, lt_error());
        return;
    }
    w->kv[w->n_kv].key.data = name;
    w->kv[w->n_kv].key.len = strlen(name);
    w->kv[w->n_kv].value = copy;
    w->n_kv++;
}

void gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v) {
    gguf_value x = { .type = GGUF_TYPE_UINT32, .v.u64 = v };
    gguf_writer_set_value(w, key, &x);
}

void gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v) {
    gguf_value x = { .type = GGUF_TYPE_INT32, .v.i64 = v };
    gguf_writer_set_value(w, key, &x);
}

void gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v) {
    gguf_value x = { .type = GGUF_TYPE_UINT64, .v.u64 = v };
    gguf_writer_set_value(w, key, &x);
}

void gguf_writer_set_f32(gguf_writer *w, const char *key, float v) {
    gguf_value x = { .type = GGUF_TYPE_FLOAT32, .v.f64 = v };
    gguf_writer_set_value(w, key, &x);
}

void gguf_writer_set_bool(gguf_writer *w, const char *key, bool v) {
    gguf_value x = { .type = GGUF_TYPE_BOOL, .v.b = v };
    gguf_writer_set_value(w, key, &x);
}

void gguf_writer_set_str(gguf_writer *w, const char *key, const char *v) {
    gguf_value x = { .type = GGUF_TYPE_STRING, .v.str = { v ? strlen(v) : 0, (char *)v } };
    if (!v) x.type = GGUF_TYPE_COUNT; /* rejected as invalid */
    gguf_writer_set_value(w, key, &x);
}

/* data is laid out as in gguf_value.arr: packed numbers, gguf_string[n] or gguf_value[n]. */
void gguf_writer_set_array(gguf_writer *w, const char *key, gguf_type elem_type, const void *data, uint64_t n) {
    gguf_value x = { .type = GGUF_TYPE_ARRAY, .v.arr = { elem_type, n, (void *)data } };
    gguf_writer_set_value(w, key, &x);
}

void gguf_writer_set_str_array(gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    if (!w) return;
    if (!strs && n) {
        writer_fail(w, "gguf writer: key '%s': no strings", key ? key : "(null)");
        return;
    }
    gguf_string *tmp = lt_calloc((size_t)n, sizeof *tmp);
    if (!tmp) {
        writer_fail(w, "gguf writer: key '%s': %s", key ? key : "(null)", lt_error());
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        tmp[i].data = (char *)strs[i];
        tmp[i].len = strs[i] ? strlen(strs[i]) : 1; /* a NULL string is rejected as invalid */
    }
    gguf_writer_set_array(w, key, GGUF_TYPE_STRING, tmp, n);
    free(tmp);
}

void gguf_writer_copy_kv(gguf_writer *w, const gguf_file *f) {
    for (uint64_t i = 0; f && i < f->n_kv; i++) gguf_writer_set_value(w, f->kv[i].key.data, &f->kv[i].value);
}

/* ---- tensors ---- */

bool gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                            const int64_t *ne, const void *data, uint64_t nbytes) {
    if (!w || !name || !ne) return lt_set_error("gguf writer: add_tensor: missing argument");
    if (n_dims == 0 || n_dims > GGUF_MAX_DIMS)
        return lt_set_error("gguf writer: tensor '%s': n_dims %" PRIu32 " is not in 1..%d", name, n_dims, GGUF_MAX_DIMS);
    for (uint64_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0) return lt_set_error("gguf writer: duplicate tensor name '%s'", name);
    const lt_format *fmt = lt_format_by_type(type);
    if (!fmt) return lt_set_error("gguf writer: tensor '%s': unknown tensor type %" PRIu32, name, type);
    writer_tensor t = { .type = type, .n_dims = n_dims, .data = data, .nbytes = nbytes };
    uint64_t count = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t.ne[d] = d < n_dims ? ne[d] : 1;
        if (t.ne[d] < 0 || !lt_mul_u64(count, (uint64_t)t.ne[d], &count) || count > (uint64_t)INT64_MAX)
            return lt_set_error("gguf writer: tensor '%s': invalid shape", name);
    }
    uint64_t expected = 0;
    if (count > 0 && !lt_format_tensor_bytes(fmt, t.ne, (int)n_dims, &expected)) return false;
    if (expected != nbytes)
        return lt_set_error("gguf writer: tensor '%s': %" PRIu64 " bytes given, type %s needs %" PRIu64,
                            name, nbytes, fmt->name, expected);
    if (nbytes && !data) return lt_set_error("gguf writer: tensor '%s': no data", name);
    if (!(t.name = lt_strdup(name))) return false;
    if (!grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors + 1, sizeof *w->tensors)) {
        free(t.name);
        return false;
    }
    w->tensors[w->n_tensors++] = t;
    return true;
}

/* ---- serialization ---- */

/* A FILE that remembers whether any write failed. */
typedef struct sink {
    FILE *fp;
    uint64_t pos;
    bool ok;
} sink;

static void put(sink *s, const void *p, uint64_t n) {
    if (s->ok && n && fwrite(p, 1, (size_t)n, s->fp) != n) s->ok = false;
    s->pos += n;
}

static void put_le(sink *s, uint64_t v, int n) {
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(s, b, (uint64_t)n);
}

static void put_str(sink *s, const char *data, uint64_t len) {
    put_le(s, len, 8);
    put(s, data, len);
}

static void put_zeros(sink *s, uint64_t n) {
    static const uint8_t zeros[64];
    while (n) {
        uint64_t k = LT_MIN(n, (uint64_t)sizeof zeros);
        put(s, zeros, k);
        n -= k;
    }
}

static void put_value_body(sink *s, const gguf_value *v);

static void put_array_body(sink *s, const gguf_value *v) {
    gguf_type elem = v->v.arr.elem_type;
    put_le(s, (uint64_t)elem, 4);
    put_le(s, v->v.arr.n, 8);
    if (elem == GGUF_TYPE_STRING) {
        const gguf_string *strs = v->v.arr.data;
        for (uint64_t i = 0; i < v->v.arr.n; i++) put_str(s, strs[i].data, strs[i].len);
    } else if (elem == GGUF_TYPE_ARRAY) {
        const gguf_value *items = v->v.arr.data;
        for (uint64_t i = 0; i < v->v.arr.n; i++) put_array_body(s, &items[i]);
    } else {
        put(s, v->v.arr.data, v->v.arr.n * gguf_fixed_size(elem)); /* packed little-endian already */
    }
}

/* The value without its type tag (the tag precedes it in a kv, not inside arrays). */
static void put_value_body(sink *s, const gguf_value *v) {
    switch (v->type) {
    case GGUF_TYPE_FLOAT32: {
        float f = (float)v->v.f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        put_le(s, bits, 4);
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &v->v.f64, 8);
        put_le(s, bits, 8);
        break;
    }
    case GGUF_TYPE_BOOL: put_le(s, v->v.b ? 1 : 0, 1); break;
    case GGUF_TYPE_STRING: put_str(s, v->v.str.data, v->v.str.len); break;
    case GGUF_TYPE_ARRAY: put_array_body(s, v); break;
    default: put_le(s, v->v.u64, (int)gguf_fixed_size(v->type)); break; /* integers: low bytes, two's complement */
    }
}

/* general.alignment if set (an integer power of two), else 32. */
static bool writer_alignment(const gguf_writer *w, uint64_t *out) {
    *out = GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key.data, "general.alignment") != 0) continue;
        const gguf_value *v = &w->kv[i].value;
        uint64_t a = v->v.u64;
        if (!gguf_type_is_int(v->type) || (gguf_type_is_signed(v->type) && v->v.i64 < 0) || a == 0 || (a & (a - 1)))
            return lt_set_error("gguf writer: general.alignment must be a non-zero power of two");
        *out = a;
    }
    return true;
}

/* Tensor offsets in the data section: each starts at a multiple of the alignment. */
static bool assign_offsets(gguf_writer *w, uint64_t alignment) {
    uint64_t off = 0;
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        w->tensors[i].offset = off;
        if (!lt_add_u64(off, w->tensors[i].nbytes, &off) || !lt_add_u64(off, alignment - 1, &off))
            return lt_set_error("gguf writer: tensor data too large");
        off -= off % alignment;
    }
    return true;
}

static void write_all(gguf_writer *w, sink *s, uint64_t alignment) {
    put_le(s, GGUF_MAGIC, 4);
    put_le(s, 3, 4);
    put_le(s, w->n_tensors, 8);
    put_le(s, w->n_kv, 8);
    for (uint64_t i = 0; i < w->n_kv; i++) {
        put_str(s, w->kv[i].key.data, w->kv[i].key.len);
        put_le(s, (uint64_t)w->kv[i].value.type, 4);
        put_value_body(s, &w->kv[i].value);
    }
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        const writer_tensor *t = &w->tensors[i];
        put_str(s, t->name, strlen(t->name));
        put_le(s, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) put_le(s, (uint64_t)t->ne[d], 8);
        put_le(s, t->type, 4);
        put_le(s, t->offset, 8);
    }
    put_zeros(s, (alignment - s->pos % alignment) % alignment);
    uint64_t data_start = s->pos;
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        const writer_tensor *t = &w->tensors[i];
        put_zeros(s, data_start + t->offset - s->pos);
        put(s, t->data, t->nbytes);
    }
    if (w->n_tensors) put_zeros(s, (alignment - s->pos % alignment) % alignment);
}

/* Everything a write needs before the first byte: no setter failed, alignment, offsets. */
static bool prepare(gguf_writer *w, const char *name, uint64_t *alignment) {
    if (w->error[0]) return lt_set_error("%s: %s", name, w->error);
    return writer_alignment(w, alignment) && assign_offsets(w, *alignment);
}

bool gguf_writer_write_memory(gguf_writer *w, uint8_t **out, size_t *size) {
    uint64_t alignment;
    char *buf = NULL;
    size_t len = 0;
    if (!w || !out || !size) return lt_set_error("gguf writer: missing argument");
    if (!prepare(w, "<memory>", &alignment)) return false;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return lt_set_error("gguf writer: cannot open a memory stream: %s", strerror(errno));
    sink s = { fp, 0, true };
    write_all(w, &s, alignment);
    if (fclose(fp) != 0 || !s.ok) {
        free(buf);
        return lt_set_error("gguf writer: out of memory");
    }
    *out = (uint8_t *)buf;
    *size = len;
    return true;
}

bool gguf_writer_write(gguf_writer *w, const char *path) {
    uint64_t alignment;
    if (!w || !path) return lt_set_error("gguf writer: missing argument");
    if (!prepare(w, path, &alignment)) return false;

    size_t tmp_len = strlen(path) + 32;
    char *tmp = lt_malloc(tmp_len);
    if (!tmp) return false;
    snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!fp) {
        lt_set_error("%s: cannot create: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        free(tmp);
        return false;
    }
    sink s = { fp, 0, true };
    write_all(w, &s, alignment);
    int err = s.ok ? 0 : errno ? errno : EIO;
    if (!err && fflush(fp) != 0) err = errno;
    if (!err && fsync(fileno(fp)) != 0 && errno != EINVAL) err = errno; /* EINVAL: fsync unsupported (pipes, some fs) */
    if (fclose(fp) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        lt_set_error("%s: write failed: %s", path, strerror(err));
        unlink(tmp);
    }
    free(tmp);
    return err == 0;
}
