/* GGUF reader: maps a file and validates it completely before anything uses it.
 *
 * Layout (all little-endian, versions 2 and 3 are identical):
 *   header   u32 magic "GGUF", u32 version, u64 n_tensors, u64 n_kv
 *   kv[n_kv] string key, u32 value type, value
 *   info[n_tensors]  string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset
 *   padding to general.alignment (default 32), then the tensor data section.
 * A string is u64 length + bytes; an array value is u32 element type + u64 count + elements.
 *
 * Every count and length taken from the file is checked against the bytes that remain before it
 * is used to allocate or to index, with overflow-checked arithmetic. Each error names the file
 * and the byte offset of the field that was wrong: "FILE: byte OFFSET: what was wrong". */
#include "gguf/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf_internal.h"

/* Smallest possible encodings, used to bound counts by the bytes left before allocating. */
#define GGUF_MIN_KV_BYTES 13     /* key length (8) + empty key + value type (4) + a 1-byte value */
#define GGUF_MIN_TENSOR_BYTES 32 /* name length (8) + n_dims (4) + one ne (8) + type (4) + offset (8) */
#define GGUF_MIN_ARRAY_BYTES 12  /* element type (4) + count (8) of an empty nested array */

/* ---- the cursor: bounds-checked little-endian reads ---- */

typedef struct cursor {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;
    const char *name; /* file name for error messages */
} cursor;

/* Set "NAME: byte AT: message" and return false. */
static bool fail_at(const cursor *c, uint64_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_at(const cursor *c, uint64_t at, const char *fmt, ...) {
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lt_set_error("%s: byte %" PRIu64 ": %s", c->name, at, what);
}

static uint64_t bytes_left(const cursor *c) { return c->size - c->pos; }

/* Make sure n more bytes exist, else fail naming the field being read. */
static bool need(const cursor *c, uint64_t n, const char *what) {
    if (bytes_left(c) >= n) return true;
    return fail_at(c, c->pos, "file truncated: %s needs %" PRIu64 " bytes, only %" PRIu64 " left",
                   what, n, bytes_left(c));
}

static uint64_t load_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static bool read_le(cursor *c, int n, const char *what, uint64_t *out) {
    if (!need(c, (uint64_t)n, what)) return false;
    *out = load_le(c->data + c->pos, n);
    c->pos += (uint64_t)n;
    return true;
}

static bool read_u32(cursor *c, const char *what, uint32_t *out) {
    uint64_t v;
    if (!read_le(c, 4, what, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static bool read_u64(cursor *c, const char *what, uint64_t *out) { return read_le(c, 8, what, out); }

/* A string: u64 length, then that many bytes (copied and NUL-terminated). */
static bool read_str(cursor *c, const char *what, gguf_string *out) {
    uint64_t at = c->pos, len;
    if (!read_u64(c, what, &len)) return false;
    if (len > bytes_left(c))
        return fail_at(c, at, "%s length %" PRIu64 " exceeds the %" PRIu64 " bytes left in the file",
                       what, len, bytes_left(c));
    out->data = gguf_strndup((const char *)c->data + c->pos, len);
    if (!out->data) return false;
    out->len = len;
    c->pos += len;
    return true;
}

/* A count of items that each take at least min_bytes must fit in what is left of the file. */
static bool check_count(const cursor *c, uint64_t at, uint64_t count, uint64_t min_bytes, const char *what) {
    if (count <= bytes_left(c) / min_bytes) return true;
    return fail_at(c, at, "%s %" PRIu64 " exceeds what the file can hold (%" PRIu64 " bytes left)",
                   what, count, bytes_left(c));
}

/* ---- metadata values ---- */

static bool read_value(cursor *c, gguf_type type, gguf_value *out, int depth);

/* A single number or bool, stored widened in the value's union. */
static bool read_scalar(cursor *c, gguf_type type, gguf_value *out) {
    uint64_t at = c->pos, raw;
    int n = (int)gguf_fixed_size(type);
    char what[32];
    snprintf(what, sizeof what, "%s value", gguf_type_name(type));
    if (!read_le(c, n, what, &raw)) return false;
    out->type = type;
    switch (type) {
    case GGUF_TYPE_INT8: out->v.i64 = (int8_t)raw; break;
    case GGUF_TYPE_INT16: out->v.i64 = (int16_t)raw; break;
    case GGUF_TYPE_INT32: out->v.i64 = (int32_t)raw; break;
    case GGUF_TYPE_INT64: out->v.i64 = (int64_t)raw; break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof f);
        out->v.f64 = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: memcpy(&out->v.f64, &raw, sizeof raw); break;
    case GGUF_TYPE_BOOL:
        if (raw > 1) return fail_at(c, at, "bool value %" PRIu64 " is neither 0 nor 1", raw);
        out->v.b = raw != 0;
        break;
    default: out->v.u64 = raw; break; /* the unsigned widths */
    }
    return true;
}

/* An array: u32 element type, u64 count, elements. Numbers are kept packed (copied so they are
 * aligned), strings as gguf_string[n], nested arrays as gguf_value[n]. The value is releasable by
 * gguf_value_release at every point of failure. */
static bool read_array(cursor *c, gguf_value *out, int depth) {
    uint64_t at_type = c->pos, at_count, n;
    uint32_t elem;
    out->type = GGUF_TYPE_ARRAY;
    out->v.arr.n = 0;
    out->v.arr.data = NULL;
    if (!read_u32(c, "array element type", &elem)) return false;
    if (!gguf_type_valid(elem)) return fail_at(c, at_type, "unknown array element type %" PRIu32, elem);
    out->v.arr.elem_type = (gguf_type)elem;
    if (elem == GGUF_TYPE_ARRAY && depth >= GGUF_MAX_ARRAY_DEPTH)
        return fail_at(c, at_type, "arrays nested deeper than %d levels", GGUF_MAX_ARRAY_DEPTH);
    at_count = c->pos;
    if (!read_u64(c, "array count", &n)) return false;

    size_t fixed = gguf_fixed_size((gguf_type)elem);
    uint64_t min_bytes = fixed ? fixed : elem == GGUF_TYPE_STRING ? 8 : GGUF_MIN_ARRAY_BYTES;
    if (!check_count(c, at_count, n, min_bytes, "array count")) return false;

    if (fixed) {
        uint64_t nbytes = n * fixed; /* cannot overflow: n * fixed <= bytes left */
        out->v.arr.data = lt_malloc((size_t)nbytes);
        if (!out->v.arr.data) return false;
        memcpy(out->v.arr.data, c->data + c->pos, (size_t)nbytes);
        if (elem == GGUF_TYPE_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (c->data[c->pos + i] > 1)
                    return fail_at(c, c->pos + i, "bool value %u is neither 0 nor 1", c->data[c->pos + i]);
        out->v.arr.n = n;
        c->pos += nbytes;
        return true;
    }
    if (elem == GGUF_TYPE_STRING) {
        gguf_string *strs = lt_calloc((size_t)n, sizeof *strs);
        if (!strs) return false;
        out->v.arr.data = strs;
        out->v.arr.n = n; /* zeroed entries release cleanly if we stop early */
        for (uint64_t i = 0; i < n; i++)
            if (!read_str(c, "array string", &strs[i])) return false;
        return true;
    }
    gguf_value *items = lt_calloc((size_t)n, sizeof *items);
    if (!items) return false;
    out->v.arr.data = items;
    out->v.arr.n = n;
    for (uint64_t i = 0; i < n; i++)
        if (!read_value(c, GGUF_TYPE_ARRAY, &items[i], depth + 1)) return false;
    return true;
}

static bool read_value(cursor *c, gguf_type type, gguf_value *out, int depth) {
    if (type == GGUF_TYPE_STRING) {
        out->type = GGUF_TYPE_STRING;
        return read_str(c, "string value", &out->v.str);
    }
    if (type == GGUF_TYPE_ARRAY) return read_array(c, out, depth);
    return read_scalar(c, type, out);
}

/* ---- sections ---- */

typedef struct parser {
    cursor c;
    gguf_file *f;
    uint64_t *key_at;       /* byte offset of each key, for errors found after the kv section */
    uint64_t *name_at;      /* byte offset of each tensor name */
    uint64_t *offset_at;    /* byte offset of each tensor's data offset field */
} parser;

static bool read_header(parser *p) {
    cursor *c = &p->c;
    gguf_file *f = p->f;
    uint32_t magic;
    if (!read_u32(c, "magic", &magic)) return false;
    if (magic != GGUF_MAGIC) return fail_at(c, 0, "not a GGUF file (magic 0x%08" PRIx32 ")", magic);
    if (!read_u32(c, "version", &f->version)) return false;
    if (f->version == 1) return fail_at(c, 4, "unsupported GGUF version 1 (lutlm reads versions 2 and 3)");
    if (f->version != 2 && f->version != 3)
        return fail_at(c, 4, "unsupported GGUF version %" PRIu32 "%s", f->version,
                       (f->version & 0xffff) == 0 ? " (a big-endian file?)" : "");
    uint64_t at_tensors = c->pos, at_kv;
    if (!read_u64(c, "tensor count", &f->n_tensors)) return false;
    at_kv = c->pos;
    if (!read_u64(c, "metadata key count", &f->n_kv)) return false;
    if (!check_count(c, at_tensors, f->n_tensors, GGUF_MIN_TENSOR_BYTES, "tensor count")) return false;
    if (!check_count(c, at_kv, f->n_kv, GGUF_MIN_KV_BYTES, "metadata key count")) return false;
    /* both fit separately; together too? (no overflow: each product is at most the bytes left) */
    if (f->n_kv * GGUF_MIN_KV_BYTES + f->n_tensors * GGUF_MIN_TENSOR_BYTES > bytes_left(c))
        return fail_at(c, at_tensors, "%" PRIu64 " tensors and %" PRIu64 " metadata keys exceed what the file can hold"
                       " (%" PRIu64 " bytes left)", f->n_tensors, f->n_kv, bytes_left(c));
    return true;
}

static bool read_kv_section(parser *p) {
    cursor *c = &p->c;
    gguf_file *f = p->f;
    f->kv = lt_calloc((size_t)f->n_kv, sizeof *f->kv);
    p->key_at = lt_calloc((size_t)f->n_kv, sizeof *p->key_at);
    if (!f->kv || !p->key_at) return false;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        uint32_t type;
        p->key_at[i] = c->pos;
        if (!read_str(c, "metadata key", &kv->key)) return false;
        uint64_t at_type = c->pos;
        if (!read_u32(c, "value type", &type)) return false;
        if (!gguf_type_valid(type))
            return fail_at(c, at_type, "key '%s': unknown value type %" PRIu32, kv->key.data, type);
        if (!read_value(c, (gguf_type)type, &kv->value, 0)) return false;
    }
    return true;
}

/* general.alignment: an unsigned integer (the spec says uint32; any width is accepted), a non-zero
 * power of two; default 32. */
static bool read_alignment(parser *p) {
    gguf_file *f = p->f;
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t i = gguf_find_key(f, "general.alignment");
    if (i < 0) return true;
    const gguf_value *v = &f->kv[i].value;
    uint64_t at_type = p->key_at[i] + 8 + f->kv[i].key.len, at_value = at_type + 4; /* key: u64 length + bytes */
    if (!gguf_type_is_int(v->type) || gguf_type_is_signed(v->type))
        return fail_at(&p->c, at_type, "general.alignment must be an unsigned integer, not %s", gguf_type_name(v->type));
    uint64_t a = v->v.u64;
    if (a == 0 || (a & (a - 1)) != 0)
        return fail_at(&p->c, at_value, "general.alignment %" PRIu64 " is not a non-zero power of two", a);
    f->alignment = a;
    return true;
}

/* ne[] must be non-negative and their product must fit in int64. */
static bool check_shape(parser *p, const gguf_tensor_info *t, uint64_t at_dims) {
    uint64_t count = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->ne[d] < 0)
            return fail_at(&p->c, at_dims + 8 * d, "tensor '%s': dimension %" PRIu32 " is negative (%" PRId64 ")",
                           t->name.data, d, t->ne[d]);
        if (!lt_mul_u64(count, (uint64_t)t->ne[d], &count) || count > (uint64_t)INT64_MAX)
            return fail_at(&p->c, at_dims, "tensor '%s': element count overflows (dimension %" PRIu32 " = %" PRId64 ")",
                           t->name.data, d, t->ne[d]);
    }
    return true;
}

/* Byte size from the format registry; an empty tensor (some ne = 0) has none. */
static bool tensor_size(parser *p, gguf_tensor_info *t, uint64_t at_type) {
    const lt_format *fmt = lt_format_by_type(t->type);
    if (!fmt) return fail_at(&p->c, at_type, "tensor '%s': unknown tensor type %" PRIu32, t->name.data, t->type);
    for (uint32_t d = 0; d < t->n_dims; d++)
        if (t->ne[d] == 0) {
            t->nbytes = 0;
            return true;
        }
    if (!lt_format_tensor_bytes(fmt, t->ne, (int)t->n_dims, &t->nbytes)) {
        char why[512];
        snprintf(why, sizeof why, "%s", lt_error());
        return fail_at(&p->c, at_type, "tensor '%s': invalid shape for type %s: %s", t->name.data, fmt->name, why);
    }
    return true;
}

static bool read_tensor_info(parser *p, uint64_t i) {
    cursor *c = &p->c;
    gguf_tensor_info *t = &p->f->tensors[i];
    uint64_t at_dims, at_type;
    p->name_at[i] = c->pos;
    if (!read_str(c, "tensor name", &t->name)) return false;
    at_dims = c->pos;
    if (!read_u32(c, "tensor n_dims", &t->n_dims)) return false;
    if (t->n_dims == 0 || t->n_dims > GGUF_MAX_DIMS)
        return fail_at(c, at_dims, "tensor '%s': n_dims %" PRIu32 " is not in 1..%d", t->name.data, t->n_dims, GGUF_MAX_DIMS);
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    at_dims = c->pos;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        if (!read_u64(c, "tensor dimension", &ne)) return false;
        t->ne[d] = (int64_t)ne;
    }
    if (!check_shape(p, t, at_dims)) return false;
    at_type = c->pos;
    if (!read_u32(c, "tensor type", &t->type)) return false;
    if (!tensor_size(p, t, at_type)) return false;
    p->offset_at[i] = c->pos;
    if (!read_u64(c, "tensor data offset", &t->offset)) return false;
    if (t->offset % p->f->alignment != 0)
        return fail_at(c, p->offset_at[i], "tensor '%s': data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                       t->name.data, t->offset, p->f->alignment);
    return true;
}

static bool read_tensor_infos(parser *p) {
    gguf_file *f = p->f;
    size_t n = (size_t)f->n_tensors;
    f->tensors = lt_calloc(n, sizeof *f->tensors);
    p->name_at = lt_calloc(n, sizeof *p->name_at);
    p->offset_at = lt_calloc(n, sizeof *p->offset_at);
    if (!f->tensors || !p->name_at || !p->offset_at) return false;
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (!read_tensor_info(p, i)) return false;
    return true;
}

/* The data section starts at the next multiple of the alignment; each tensor must lie inside it. */
static bool place_tensor_data(parser *p) {
    cursor *c = &p->c;
    gguf_file *f = p->f;
    uint64_t end_of_infos = c->pos, start;
    if (!lt_add_u64(end_of_infos, f->alignment - 1, &start))
        return fail_at(c, end_of_infos, "data section offset overflows with alignment %" PRIu64, f->alignment);
    start -= start % f->alignment;
    if (start > c->size) {
        if (f->n_tensors > 0)
            return fail_at(c, end_of_infos, "file truncated: the tensor data section would start at byte %" PRIu64
                           ", past the end of the file (%" PRIu64 " bytes)", start, c->size);
        start = c->size; /* vocab-only files may end without padding */
    }
    f->data_offset = start;
    uint64_t data_size = c->size - start;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor_info *t = &f->tensors[i];
        uint64_t end;
        if (!lt_add_u64(t->offset, t->nbytes, &end) || end > data_size)
            return fail_at(c, p->offset_at[i], "tensor '%s': data [%" PRIu64 ", +%" PRIu64 ") extends past the end of the"
                           " file (data section holds %" PRIu64 " bytes)", t->name.data, t->offset, t->nbytes, data_size);
        t->data = f->map + start + t->offset;
    }
    return true;
}

/* qsort comparators over tensor/kv indices (the file is passed through a file-scope pointer
 * because qsort has no context argument; parsing is not re-entrant per thread otherwise). */
static _Thread_local const gguf_file *sort_file;

static int cmp_string(const gguf_string *a, const gguf_string *b) {
    int r = memcmp(a->data, b->data, (size_t)LT_MIN(a->len, b->len));
    if (r) return r;
    return a->len < b->len ? -1 : a->len > b->len;
}
static int cmp_key(const void *a, const void *b) {
    return cmp_string(&sort_file->kv[*(const uint64_t *)a].key, &sort_file->kv[*(const uint64_t *)b].key);
}
static int cmp_tensor_name(const void *a, const void *b) {
    return cmp_string(&sort_file->tensors[*(const uint64_t *)a].name, &sort_file->tensors[*(const uint64_t *)b].name);
}
static int cmp_tensor_offset(const void *a, const void *b) {
    const gguf_tensor_info *x = &sort_file->tensors[*(const uint64_t *)a], *y = &sort_file->tensors[*(const uint64_t *)b];
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1; /* empty tensors first */
    uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;
    return (i > j) - (i < j);
}

/* Indices 0..n-1 sorted by cmp; NULL on allocation failure. */
static uint64_t *sorted_indices(const gguf_file *f, uint64_t n, int (*cmp)(const void *, const void *)) {
    uint64_t *idx = lt_malloc((size_t)n * sizeof *idx);
    if (!idx) return NULL;
    for (uint64_t i = 0; i < n; i++) idx[i] = i;
    sort_file = f;
    qsort(idx, (size_t)n, sizeof *idx, cmp);
    return idx;
}

/* No key and no tensor name may appear twice; the later occurrence is reported. */
static bool check_duplicates(parser *p) {
    gguf_file *f = p->f;
    bool ok = true;
    uint64_t *idx = sorted_indices(f, f->n_kv, cmp_key);
    if (!idx) return false;
    for (uint64_t i = 1; ok && i < f->n_kv; i++)
        if (cmp_key(&idx[i - 1], &idx[i]) == 0)
            ok = fail_at(&p->c, LT_MAX(p->key_at[idx[i - 1]], p->key_at[idx[i]]), "duplicate metadata key '%s'",
                         f->kv[idx[i]].key.data);
    free(idx);
    if (!ok) return false;
    idx = sorted_indices(f, f->n_tensors, cmp_tensor_name);
    if (!idx) return false;
    for (uint64_t i = 1; ok && i < f->n_tensors; i++)
        if (cmp_tensor_name(&idx[i - 1], &idx[i]) == 0)
            ok = fail_at(&p->c, LT_MAX(p->name_at[idx[i - 1]], p->name_at[idx[i]]), "duplicate tensor name '%s'",
                         f->tensors[idx[i]].name.data);
    free(idx);
    return ok;
}

/* Sorted by offset, each tensor must end before the next begins. */
static bool check_overlaps(parser *p) {
    gguf_file *f = p->f;
    bool ok = true;
    uint64_t *idx = sorted_indices(f, f->n_tensors, cmp_tensor_offset);
    if (!idx) return false;
    for (uint64_t i = 1; ok && i < f->n_tensors; i++) {
        const gguf_tensor_info *a = &f->tensors[idx[i - 1]], *b = &f->tensors[idx[i]];
        if (a->offset + a->nbytes > b->offset) /* no overflow: both were checked against the file */
            ok = fail_at(&p->c, p->offset_at[idx[i]], "tensor '%s' [%" PRIu64 ", +%" PRIu64 ") overlaps tensor '%s' [%"
                         PRIu64 ", +%" PRIu64 ")", b->name.data, b->offset, b->nbytes, a->name.data, a->offset, a->nbytes);
    }
    free(idx);
    return ok;
}

/* Type id 36 means different things in different forks (bitnet.cpp's I2_S, mainline's retired
 * IQ4_NL_4_4, other projects' packings; see docs/formats.md). lutlm reads it as bitnet.cpp's x86
 * I2_S, whose size the registry gives (n/4 + 32). A type-36 tensor whose room in the file (up to the
 * next tensor or the end of the data) is not that size plus at most the alignment padding is another
 * fork's: refuse the file with a message that says so rather than read it as garbage. */
static bool check_ambiguous_type_ids(parser *p) {
    gguf_file *f = p->f;
    uint64_t start = (p->c.pos + f->alignment - 1) / f->alignment * f->alignment; /* as place_tensor_data */
    if (start > p->c.size || f->n_tensors == 0) return true; /* place_tensor_data reports it */
    uint64_t data_size = p->c.size - start;
    uint64_t *idx = sorted_indices(f, f->n_tensors, cmp_tensor_offset);
    if (!idx) return false;
    bool ok = true;
    for (uint64_t i = 0; ok && i < f->n_tensors; i++) {
        const gguf_tensor_info *t = &f->tensors[idx[i]];
        if (t->type != LT_TYPE_I2_S || t->nbytes == 0 || t->offset > data_size) continue;
        uint64_t room = data_size - t->offset;
        for (uint64_t j = i + 1; j < f->n_tensors; j++)
            if (f->tensors[idx[j]].offset > t->offset) {
                room = f->tensors[idx[j]].offset - t->offset;
                break;
            }
        if (room < t->nbytes || room - t->nbytes >= f->alignment)
            ok = fail_at(&p->c, p->offset_at[idx[i]], "tensor '%s': type id 36 is ambiguous across forks; lutlm reads it as "
                         "bitnet.cpp's I2_S, which needs n/4 + 32 = %" PRIu64 " bytes, but the file gives it %" PRIu64
                         ": another fork's type 36 (e.g. ggml's IQ4_NL_4_4), not supported", t->name.data, t->nbytes, room);
    }
    free(idx);
    return ok;
}

static bool parse(parser *p) {
    return read_header(p) && read_kv_section(p) && read_alignment(p) && read_tensor_infos(p) &&
           check_ambiguous_type_ids(p) && place_tensor_data(p) && check_duplicates(p) && check_overlaps(p);
}

/* ---- open / close ---- */

static gguf_file *parse_image(const uint8_t *data, uint64_t size, const char *name, bool owns_map) {
    gguf_file *f = lt_calloc(1, sizeof *f);
    if (!f) return NULL;
    f->map = data;
    f->size = size;
    f->owns_map = owns_map;
    f->path = lt_strdup(name);
    parser p = { .c = { data, size, 0, name }, .f = f };
    bool ok = f->path && parse(&p);
    free(p.key_at);
    free(p.name_at);
    free(p.offset_at);
    if (!ok) {
        f->owns_map = false; /* the caller unmaps on failure */
        gguf_close(f);
        return NULL;
    }
    return f;
}

gguf_file *gguf_open_memory(const void *data, size_t size, const char *name) {
    if (!name) name = "<memory>";
    if (!data && size) {
        lt_set_error("%s: no data", name);
        return NULL;
    }
    return parse_image(data, size, name, false);
}

gguf_file *gguf_open(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lt_set_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        lt_set_error("%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    uint64_t size = (uint64_t)st.st_size;
    void *map = NULL;
    if (size > 0) { /* mmap cannot map 0 bytes; an empty file fails in the parser */
        map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            lt_set_error("%s: cannot map %" PRIu64 " bytes: %s", path, size, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    close(fd); /* the mapping stays valid */
    gguf_file *f = parse_image(map, size, path, size > 0);
    if (!f && map) munmap(map, (size_t)size);
    return f;
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    for (uint64_t i = 0; f->kv && i < f->n_kv; i++) {
        free(f->kv[i].key.data);
        gguf_value_release(&f->kv[i].value);
    }
    for (uint64_t i = 0; f->tensors && i < f->n_tensors; i++) free(f->tensors[i].name.data);
    free(f->kv);
    free(f->tensors);
    if (f->owns_map && f->map) munmap((void *)f->map, (size_t)f->size);
    free(f->path);
    free(f);
}
