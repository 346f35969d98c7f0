/* The corrupted-file corpus: a small valid GGUF (tests/test_gguf_fixture.h) is damaged in every
 * way the reader must catch, and each damaged image must be rejected (NULL) with a message that
 * names the file and the byte offset ("corrupt.gguf: byte N: ..."). Run under ASan/UBSan by
 * scripts/test.sh, which also catches any out-of-bounds read or leak on these paths. */
#include <stdint.h>

#include "test_gguf_fixture.h"
#include "test_util.h"

#define NAME "corrupt.gguf"

/* ---- where each field of the fixture lies (a trusted walk over the valid image) ---- */

typedef struct layout {
    uint64_t counts[32];   int n_counts;   /* n_tensors, n_kv, every array count */
    uint64_t lengths[64];  int n_lengths;  /* every string length (keys, values, array items, names) */
    uint64_t vtypes[40];   int n_vtypes;   /* every value type and array element type */
    uint64_t n_dims[3], ne[3], ttype[3], offset[3]; /* per tensor: field positions */
    uint64_t alignment_value, bool_value, bools_array, dup_b_key, tensor_c_name;
    uint64_t data_offset;
} layout;

static const uint8_t *img;
static size_t img_size;

static uint64_t rd(uint64_t at, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | img[at + (uint64_t)i];
    return v;
}

static uint64_t walk_string(layout *L, uint64_t at) {
    L->lengths[L->n_lengths++] = at;
    return at + 8 + rd(at, 8);
}

static uint64_t walk_value(layout *L, uint64_t at, uint32_t type);

static uint64_t walk_array(layout *L, uint64_t at) {
    uint32_t elem = (uint32_t)rd(at, 4);
    L->vtypes[L->n_vtypes++] = at;
    L->counts[L->n_counts++] = at + 4;
    uint64_t n = rd(at + 4, 8);
    at += 12;
    for (uint64_t i = 0; i < n; i++) at = walk_value(L, at, elem);
    return at;
}

static uint64_t walk_value(layout *L, uint64_t at, uint32_t type) {
    if (type == GGUF_TYPE_STRING) return walk_string(L, at);
    if (type == GGUF_TYPE_ARRAY) return walk_array(L, at);
    static const int size[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
    return at + (uint64_t)size[type];
}

static bool key_is(uint64_t at, const char *key) {
    return rd(at, 8) == strlen(key) && memcmp(img + at + 8, key, strlen(key)) == 0;
}

static void walk(layout *L) {
    memset(L, 0, sizeof *L);
    uint64_t n_tensors = rd(8, 8), n_kv = rd(16, 8), at = 24;
    L->counts[L->n_counts++] = 8;
    L->counts[L->n_counts++] = 16;
    for (uint64_t i = 0; i < n_kv; i++) {
        uint64_t key = at;
        at = walk_string(L, at);
        uint32_t type = (uint32_t)rd(at, 4);
        L->vtypes[L->n_vtypes++] = at;
        at += 4;
        if (key_is(key, "general.alignment")) L->alignment_value = at;
        if (key_is(key, "t.bool")) L->bool_value = at;
        if (key_is(key, "t.bools")) L->bools_array = at;
        if (key_is(key, "dup.b")) L->dup_b_key = key;
        at = walk_value(L, at, type);
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        if (i == 2) L->tensor_c_name = at;
        at = walk_string(L, at);
        L->n_dims[i] = at;
        uint32_t nd = (uint32_t)rd(at, 4);
        L->ne[i] = at + 4;
        at += 4 + 8 * (uint64_t)nd;
        L->ttype[i] = at;
        L->offset[i] = at + 4;
        at += 12;
    }
    L->data_offset = (at + 31) / 32 * 32;
}

/* ---- mutate, parse, check ---- */

static uint8_t *work;
static int n_rejected = 0;

static void put(uint64_t at, uint64_t v, int n) {
    for (int i = 0; i < n; i++) work[at + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}

/* The image in `work` (of `size` bytes) must be rejected with a located message. */
static void expect_reject(size_t size, const char *what) {
    lt_clear_error();
    gguf_file *f = gguf_open_memory(work, size, NAME);
    CHECKF(f == NULL, "%s: accepted", what);
    gguf_close(f);
    const char *msg = lt_error();
    CHECKF(strstr(msg, NAME) && strstr(msg, "byte "), "%s: message '%s'", what, msg);
    if (getenv("GGUF_CORRUPT_VERBOSE")) fprintf(stderr, "%-50s -> %s\n", what, msg);
    n_rejected++;
}

/* Patch n bytes at `at` with v, expect rejection, restore. */
static void expect_patch_rejected(uint64_t at, uint64_t v, int n, const char *what) {
    char desc[160];
    snprintf(desc, sizeof desc, "%s (byte %llu = %llu)", what, (unsigned long long)at, (unsigned long long)v);
    put(at, v, n);
    expect_reject(img_size, desc);
    memcpy(work + at, img + at, (size_t)n);
}

/* The same, and the message must point at the patched field itself. */
static void expect_patch_located(uint64_t at, uint64_t v, int n, const char *what) {
    char where[48];
    expect_patch_rejected(at, v, n, what);
    snprintf(where, sizeof where, ": byte %llu: ", (unsigned long long)at);
    CHECKF(strstr(lt_error(), where) != NULL, "%s: '%s' does not point at byte %llu", what, lt_error(), (unsigned long long)at);
}

static void test_truncation(void) {
    for (size_t len = 0; len < img_size; len++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", len);
        expect_reject(len, what);
    }
}

static void test_counts_and_lengths(const layout *L) {
    const uint64_t huge[] = { 1ull << 60, UINT64_MAX, (uint64_t)INT64_MAX + 1, img_size };
    for (int i = 0; i < L->n_counts; i++)
        for (size_t h = 0; h < LT_ARRAY_LEN(huge); h++) expect_patch_located(L->counts[i], huge[h], 8, "huge count");
    for (int i = 0; i < L->n_lengths; i++)
        for (size_t h = 0; h < LT_ARRAY_LEN(huge); h++) expect_patch_located(L->lengths[i], huge[h], 8, "huge length");
    /* counts that fit the file each on its own, but not together */
    put(16, (img_size - 24) / 13, 8);
    expect_patch_located(8, (img_size - 24) / 32, 8, "tensor and key counts together too large");
    memcpy(work + 16, img + 16, 8);
}

static void test_types(const layout *L) {
    const uint64_t bad_value_types[] = { GGUF_TYPE_COUNT, 100, UINT32_MAX };
    for (int i = 0; i < L->n_vtypes; i++)
        for (size_t k = 0; k < LT_ARRAY_LEN(bad_value_types); k++)
            expect_patch_located(L->vtypes[i], bad_value_types[k], 4, "unknown value type");
    const uint64_t bad_tensor_types[] = { 1023, 9999, UINT32_MAX, 4 /* ggml's removed Q4_2 */ };
    for (int t = 0; t < 3; t++)
        for (size_t k = 0; k < LT_ARRAY_LEN(bad_tensor_types); k++)
            if (!lt_format_by_type((uint32_t)bad_tensor_types[k]))
                expect_patch_located(L->ttype[t], bad_tensor_types[k], 4, "unknown tensor type");
    /* a known type whose size does not fit the shape: Q8_0 needs ne[0] % 32 == 0, tensor.a has 4 */
    expect_patch_located(L->ttype[0], LT_TYPE_Q8_0, 4, "shape invalid for type");
    expect_patch_located(L->bool_value, 2, 1, "bool value 2");
    expect_patch_located(L->bools_array + 12 + 1, 255, 1, "bool array element 255");
}

static void test_tensor_infos(const layout *L) {
    uint64_t data_size = img_size - L->data_offset;
    for (int t = 0; t < 3; t++) {
        uint64_t off = rd(L->offset[t], 8);
        expect_patch_located(L->offset[t], off + 1, 8, "misaligned offset");
        expect_patch_located(L->offset[t], off + 16, 8, "misaligned offset");
        expect_patch_located(L->offset[t], data_size + 32 - data_size % 32, 8, "offset past EOF");
        expect_patch_located(L->offset[t], UINT64_MAX - 31, 8, "offset + size overflows");
        expect_patch_located(L->n_dims[t], 0, 4, "n_dims 0");
        expect_patch_located(L->n_dims[t], 5, 4, "n_dims 5");
        expect_patch_located(L->n_dims[t], UINT32_MAX, 4, "n_dims huge");
        expect_patch_located(L->ne[t], UINT64_MAX, 8, "ne -1");
        expect_patch_located(L->ne[t], (uint64_t)INT64_MIN, 8, "ne INT64_MIN");
        expect_patch_rejected(L->ne[t], 1ull << 40, 8, "data past EOF (large ne)");
        expect_patch_rejected(L->ne[t] + 8, (uint64_t)INT64_MAX, 8, "ne product overflows int64");
    }
    /* overlaps: tensor.b and tensor.c starting where tensor.a starts */
    expect_patch_rejected(L->offset[1], rd(L->offset[0], 8), 8, "overlapping tensors");
    expect_patch_rejected(L->offset[2], rd(L->offset[1], 8), 8, "overlapping tensors");
    expect_patch_rejected(L->offset[0], rd(L->offset[2], 8), 8, "overlapping tensors");

    /* element counts that overflow uint64 (2^32 * 2^32) and int64 only (2^40 * 2^23 = 2^63) */
    put(L->ne[0], 1ull << 32, 8);
    expect_patch_rejected(L->ne[0] + 8, 1ull << 32, 8, "ne product overflows uint64");
    put(L->ne[0], 1ull << 40, 8);
    expect_patch_rejected(L->ne[0] + 8, 1ull << 23, 8, "ne product overflows int64");
    memcpy(work + L->ne[0], img + L->ne[0], 8);
    /* tensor.c has 3 dims: 2^21 * 2^21 * 2^22 = 2^64 */
    put(L->ne[2], 1ull << 21, 8);
    put(L->ne[2] + 8, 1ull << 21, 8);
    expect_patch_rejected(L->ne[2] + 16, 1ull << 22, 8, "3-d ne product overflows uint64");
    memcpy(work + L->ne[2], img + L->ne[2], 16);
}

static void test_header_and_alignment(const layout *L) {
    for (int i = 0; i < 4; i++) expect_patch_rejected((uint64_t)i, img[i] ^ 0x20u, 1, "bad magic");
    const uint64_t versions[] = { 0, 1, 4, 0x03000000, UINT32_MAX };
    for (size_t i = 0; i < LT_ARRAY_LEN(versions); i++) expect_patch_located(4, versions[i], 4, "bad version");
    const uint64_t aligns[] = { 0, 3, 48, UINT32_MAX };
    for (size_t i = 0; i < LT_ARRAY_LEN(aligns); i++) expect_patch_located(L->alignment_value, aligns[i], 4, "bad alignment");
    expect_patch_rejected(L->alignment_value, 1u << 31, 4, "alignment 2^31: tensor offsets misaligned");
    expect_patch_located(L->alignment_value - 4, GGUF_TYPE_INT32, 4, "alignment of a signed type");
    expect_patch_located(L->alignment_value - 4, GGUF_TYPE_FLOAT32, 4, "alignment of a float type");
    /* duplicates: "dup.b" -> "dup.a", "tensor.c" -> "tensor.a" */
    expect_patch_rejected(L->dup_b_key + 8 + 4, 'a', 1, "duplicate key");
    expect_patch_rejected(L->tensor_c_name + 8 + 7, 'a', 1, "duplicate tensor name");
}

/* Arrays nested deeper than the reader allows (built by hand: the writer refuses them). */
static void test_deep_nesting(void) {
    uint8_t buf[1024];
    size_t n = 0;
    const int depth = 64;
    uint64_t fields[] = { GGUF_MAGIC, 3 };
    for (int i = 0; i < 2; i++) for (int b = 0; b < 4; b++) buf[n++] = (uint8_t)(fields[i] >> (8 * b));
    for (int b = 0; b < 8; b++) buf[n++] = 0;            /* n_tensors 0 */
    for (int b = 0; b < 8; b++) buf[n++] = b == 0;       /* n_kv 1 */
    for (int b = 0; b < 8; b++) buf[n++] = b == 0;       /* key length 1 */
    buf[n++] = 'k';
    for (int b = 0; b < 4; b++) buf[n++] = b == 0 ? GGUF_TYPE_ARRAY : 0;
    for (int level = 0; level < depth; level++) {
        for (int b = 0; b < 4; b++) buf[n++] = b == 0 ? (level + 1 < depth ? GGUF_TYPE_ARRAY : GGUF_TYPE_UINT8) : 0;
        for (int b = 0; b < 8; b++) buf[n++] = b == 0 && level + 1 < depth; /* one element, the last level empty */
    }
    work = buf;
    expect_reject(n, "arrays nested 64 deep");
}

int main(void) {
    gguf_fixture fx;
    img = gguf_fixture_image(&fx, &img_size);
    CHECKF(img != NULL, "%s", lt_error());
    if (!img) return TEST_DONE();
    gguf_file *ok = gguf_open_memory(img, img_size, NAME);
    CHECKF(ok != NULL, "the fixture itself must parse: %s", lt_error());
    layout L;
    walk(&L);
    CHECK(ok && L.data_offset == ok->data_offset && L.n_lengths > 30 && L.n_counts == 10 && L.n_vtypes > 25);
    CHECK(L.alignment_value && L.bool_value && L.bools_array && L.dup_b_key && L.tensor_c_name);
    gguf_close(ok);

    uint8_t *copy = malloc(img_size);
    work = copy;
    memcpy(work, img, img_size);
    test_truncation();
    test_counts_and_lengths(&L);
    test_types(&L);
    test_tensor_infos(&L);
    test_header_and_alignment(&L);
    CHECK(memcmp(work, img, img_size) == 0); /* every patch was undone */
    gguf_file *again = gguf_open_memory(work, img_size, NAME);
    CHECK(again != NULL);
    gguf_close(again);
    test_deep_nesting();
    fprintf(stderr, "%d corrupted images rejected (file of %zu bytes)\n", n_rejected, img_size);
    free(copy);
    free((void *)img);
    return TEST_DONE();
}
