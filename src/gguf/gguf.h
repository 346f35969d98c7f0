/* GGUF reader and writer (versions 2 and 3).
 *
 * The reader maps the file and validates every count, length, offset and shape against the file
 * size with overflow-checked arithmetic before use; tensor data is used in place (zero-copy).
 * A bad file yields NULL and an error (lt_error()) naming the file, the problem and the byte offset.
 * Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md */
#ifndef LUTLM_GGUF_H
#define LUTLM_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4

typedef enum gguf_type {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_type;

typedef struct gguf_string {
    uint64_t len;
    char *data; /* NUL-terminated copy (the file's bytes may contain NUL; len is authoritative) */
} gguf_string;

typedef struct gguf_value gguf_value;
struct gguf_value {
    gguf_type type;
    union {
        uint64_t u64;   /* UINT8/16/32/64 */
        int64_t i64;    /* INT8/16/32/64 */
        double f64;     /* FLOAT32/64 */
        bool b;         /* BOOL */
        gguf_string str;
        struct {
            gguf_type elem_type;
            uint64_t n;
            /* numeric/bool elements: packed little-endian array of elem_type (n elements);
             * STRING: gguf_string[n]; ARRAY (nested): gguf_value[n] (each of type ARRAY) */
            void *data;
        } arr;
    } v;
};

typedef struct gguf_kv {
    gguf_string key;
    gguf_value value;
} gguf_kv;

typedef struct gguf_tensor_info {
    gguf_string name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the innermost (row length); unused dims are 1 */
    uint32_t type;             /* GGUF/ggml type id (see formats/formats.h) */
    uint64_t offset;           /* relative to the start of the data section */
    uint64_t nbytes;           /* size of the data, from the format registry */
    const void *data;          /* points into the mapping */
} gguf_tensor_info;

typedef struct gguf_file {
    char *path;
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor_info *tensors;
    uint64_t alignment;
    uint64_t data_offset; /* byte offset of the tensor data section in the file */
    const uint8_t *map;   /* the whole file */
    uint64_t size;
    bool owns_map;        /* true when mmapped by gguf_open */
} gguf_file;

/* Open and validate a GGUF file (mmap). NULL on error; see lt_error(). */
gguf_file *gguf_open(const char *path);
/* Parse a GGUF image already in memory (not copied; must outlive the result). name is used in
 * error messages. */
gguf_file *gguf_open_memory(const void *data, size_t size, const char *name);
void gguf_close(gguf_file *f);

/* Metadata lookup. find returns the index or -1. The typed getters accept any integer width
 * (value-checked for range), return false when the key is missing or of another kind. */
int64_t gguf_find_key(const gguf_file *f, const char *key);
const gguf_value *gguf_get(const gguf_file *f, const char *key);
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out);
const char *gguf_get_str(const gguf_file *f, const char *key); /* NULL if missing/not a string */
/* An array value whose elements are of elem_type; NULL otherwise. */
const gguf_value *gguf_get_array(const gguf_file *f, const char *key, gguf_type elem_type);

int64_t gguf_find_tensor(const gguf_file *f, const char *name);
const gguf_tensor_info *gguf_get_tensor(const gguf_file *f, const char *name);

const char *gguf_type_name(gguf_type t);
/* Print a value in a compact human form (arrays abbreviated), for `lutlm info`. */
void gguf_format_value(const gguf_value *v, char *buf, size_t buflen);

/* ---- writer ---- */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);
/* Setting a key that exists replaces it. Strings and arrays are copied. */
void gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_writer_set_f32(gguf_writer *w, const char *key, float v);
void gguf_writer_set_bool(gguf_writer *w, const char *key, bool v);
void gguf_writer_set_str(gguf_writer *w, const char *key, const char *v);
void gguf_writer_set_value(gguf_writer *w, const char *key, const gguf_value *v); /* deep copy */
/* data is laid out as gguf_value.arr holds it: packed numbers/bools, gguf_string[n], or gguf_value[n]. */
void gguf_writer_set_array(gguf_writer *w, const char *key, gguf_type elem_type, const void *data, uint64_t n);
void gguf_writer_set_str_array(gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
/* Copy every key of a file (e.g. to re-quantize it). */
void gguf_writer_copy_kv(gguf_writer *w, const gguf_file *f);
/* Add a tensor; `data` is referenced (not copied) and must stay valid until gguf_writer_write. */
bool gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                            const int64_t *ne, const void *data, uint64_t nbytes);
/* Write version 3, aligned to general.alignment if set (else 32), atomically (temporary file +
 * rename). false + lt_error() on failure, including any earlier setter failure. */
bool gguf_writer_write(gguf_writer *w, const char *path);
/* The same file image in memory (*out is malloc'ed; free it). For tests and fuzz seeds. */
bool gguf_writer_write_memory(gguf_writer *w, uint8_t **out, size_t *size);

#endif
