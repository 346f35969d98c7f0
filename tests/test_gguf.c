/* GGUF writer -> reader round trip, typed getters, value printing, and writer error handling.
 * With `--write-seeds DIR` it also writes the fuzzer's seed files (fuzz/seeds-fuzz_gguf/). */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/gguf_internal.h"
#include "test_gguf_fixture.h"
#include "test_util.h"

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static bool string_eq(const gguf_string *a, const gguf_string *b) {
    return a->len == b->len && memcmp(a->data, b->data, (size_t)a->len) == 0 && a->data[a->len] == 0;
}

/* Deep equality of two values (floats compared bit for bit through their stored width). */
static bool value_eq(const gguf_value *a, const gguf_value *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case GGUF_TYPE_STRING: return string_eq(&a->v.str, &b->v.str);
    case GGUF_TYPE_BOOL: return a->v.b == b->v.b;
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64: return memcmp(&a->v.f64, &b->v.f64, 8) == 0;
    case GGUF_TYPE_ARRAY: break;
    default: return a->v.u64 == b->v.u64;
    }
    if (a->v.arr.elem_type != b->v.arr.elem_type || a->v.arr.n != b->v.arr.n) return false;
    for (uint64_t i = 0; i < a->v.arr.n; i++) {
        if (a->v.arr.elem_type == GGUF_TYPE_STRING) {
            if (!string_eq(&((gguf_string *)a->v.arr.data)[i], &((gguf_string *)b->v.arr.data)[i])) return false;
        } else if (a->v.arr.elem_type == GGUF_TYPE_ARRAY) {
            if (!value_eq(&((gguf_value *)a->v.arr.data)[i], &((gguf_value *)b->v.arr.data)[i])) return false;
        }
    }
    if (a->v.arr.elem_type == GGUF_TYPE_STRING || a->v.arr.elem_type == GGUF_TYPE_ARRAY) return true;
    size_t nbytes = (size_t)a->v.arr.n * gguf_fixed_size(a->v.arr.elem_type);
    return nbytes == 0 || memcmp(a->v.arr.data, b->v.arr.data, nbytes) == 0;
}

/* Same keys (in order), values and tensors. */
static void check_same_file(const gguf_file *a, const gguf_file *b) {
    CHECK(a->n_kv == b->n_kv && a->n_tensors == b->n_tensors && a->alignment == b->alignment);
    for (uint64_t i = 0; i < LT_MIN(a->n_kv, b->n_kv); i++) {
        CHECKF(string_eq(&a->kv[i].key, &b->kv[i].key), "key %llu", (unsigned long long)i);
        CHECKF(value_eq(&a->kv[i].value, &b->kv[i].value), "value of %s", a->kv[i].key.data);
    }
    for (uint64_t i = 0; i < LT_MIN(a->n_tensors, b->n_tensors); i++) {
        const gguf_tensor_info *x = &a->tensors[i], *y = &b->tensors[i];
        CHECK(string_eq(&x->name, &y->name) && x->type == y->type && x->n_dims == y->n_dims);
        CHECK(memcmp(x->ne, y->ne, sizeof x->ne) == 0 && x->nbytes == y->nbytes);
        CHECK(x->nbytes == y->nbytes && memcmp(x->data, y->data, (size_t)x->nbytes) == 0);
    }
}

static void test_round_trip(void) {
    gguf_fixture fx;
    gguf_writer *w = gguf_writer_new();
    CHECK(gguf_fixture_build(w, &fx));
    const char *path = tmp_path("rt.gguf");
    CHECKF(gguf_writer_write(w, path), "%s", lt_error());
    uint8_t *img = NULL;
    size_t size = 0;
    CHECK(gguf_writer_write_memory(w, &img, &size));
    gguf_writer_free(w);

    gguf_file *f = gguf_open(path);
    CHECKF(f != NULL, "%s", lt_error());
    if (!f) { free(img); return; }
    CHECK(f->version == 3 && f->n_kv == 23 && f->n_tensors == 3 && f->alignment == 32);
    CHECK(f->size == size && memcmp(f->map, img, size) == 0); /* file and memory images agree */
    CHECK(f->data_offset % 32 == 0);
    CHECK(f->size == f->data_offset + 64 + 96 + 128); /* 48 -> 64, 68 -> 96, 128: no trailing padding */

    /* scalar values, through the typed getters */
    uint32_t u32;
    int64_t i64;
    float f32;
    bool b;
    CHECK(strcmp(gguf_get_str(f, "general.architecture"), "llama") == 0);
    CHECK(gguf_get_u32(f, "t.u8", &u32) && u32 == 200);
    CHECK(gguf_get_i64(f, "t.i8", &i64) && i64 == -100);
    CHECK(!gguf_get_u32(f, "t.i8", &u32)); /* negative: out of range */
    CHECK(gguf_get_u32(f, "t.u16", &u32) && u32 == 60000);
    CHECK(gguf_get_i64(f, "t.i16", &i64) && i64 == -30000);
    CHECK(gguf_get_u32(f, "t.u32", &u32) && u32 == 4000000000u);
    CHECK(gguf_get_i64(f, "t.i32", &i64) && i64 == -2000000000);
    CHECK(gguf_get_f32(f, "t.f32", &f32) && f32 == 1e-5f);
    CHECK(gguf_get_bool(f, "t.bool", &b) && b);
    CHECK(!gguf_get_u32(f, "t.u64", &u32));       /* too big for u32 */
    CHECK(!gguf_get_i64(f, "t.u64", &i64));       /* too big for i64 */
    CHECK(gguf_get_i64(f, "t.i64", &i64) && i64 == -9000000000000000000ll);
    CHECK(gguf_get_f32(f, "t.f64", &f32) && f32 == (float)3.141592653589793);
    CHECK(gguf_get_f32(f, "t.u32", &f32) && f32 == 4e9f);
    CHECK(!gguf_get_bool(f, "t.u8", &b) && !gguf_get_u32(f, "t.str", &u32) && !gguf_get_f32(f, "t.str", &f32));
    CHECK(!gguf_get_u32(f, "missing", &u32) && gguf_get_str(f, "t.u32") == NULL && gguf_get(f, "missing") == NULL);
    CHECK(strcmp(gguf_get_str(f, "t.empty_str"), "") == 0);
    CHECK(gguf_find_key(f, "t.nested") >= 0 && gguf_find_key(f, "t.neste") < 0);

    /* arrays */
    const gguf_value *tok = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    CHECK(tok && tok->v.arr.n == 5 && strcmp(((gguf_string *)tok->v.arr.data)[4].data, "wor\"ld\n") == 0);
    CHECK(gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_INT32) == NULL);
    const gguf_value *sc = gguf_get_array(f, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32);
    CHECK(sc && sc->v.arr.n == 5 && ((float *)sc->v.arr.data)[4] == -4.25f);
    const gguf_value *nested = gguf_get_array(f, "t.nested", GGUF_TYPE_ARRAY);
    CHECK(nested && nested->v.arr.n == 3);
    if (nested) {
        const gguf_value *in = nested->v.arr.data;
        CHECK(in[0].v.arr.elem_type == GGUF_TYPE_INT32 && ((int32_t *)in[0].v.arr.data)[2] == 3);
        CHECK(in[1].v.arr.elem_type == GGUF_TYPE_STRING && strcmp(((gguf_string *)in[1].v.arr.data)[1].data, "yz") == 0);
        CHECK(in[2].v.arr.elem_type == GGUF_TYPE_UINT64 && in[2].v.arr.n == 0);
    }

    /* tensors: zero-copy, data as written */
    const gguf_tensor_info *t = gguf_get_tensor(f, "tensor.b");
    CHECK(t && t->type == LT_TYPE_Q8_0 && t->n_dims == 2 && t->ne[0] == 32 && t->ne[1] == 2 && t->ne[2] == 1);
    CHECK(t && t->nbytes == 68 && memcmp(t->data, fx.q8_data, 68) == 0);
    CHECK(t && (const uint8_t *)t->data == f->map + f->data_offset + t->offset);
    t = gguf_get_tensor(f, "tensor.c");
    CHECK(t && t->n_dims == 3 && t->ne[2] == 2 && t->ne[3] == 1 && memcmp(t->data, fx.f16_data, 128) == 0);
    CHECK(gguf_find_tensor(f, "tensor.d") == -1 && gguf_find_tensor(f, "tensor.a") == 0);

    /* the memory image parses identically; copy_kv + the same tensors rebuilds the same file */
    gguf_file *m = gguf_open_memory(img, size, "mem");
    CHECKF(m != NULL, "%s", lt_error());
    if (m) check_same_file(f, m);
    gguf_writer *w2 = gguf_writer_new();
    gguf_writer_copy_kv(w2, f);
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor_info *ti = &f->tensors[i];
        CHECK(gguf_writer_add_tensor(w2, ti->name.data, ti->type, ti->n_dims, ti->ne, ti->data, ti->nbytes));
    }
    uint8_t *img2 = NULL;
    size_t size2 = 0;
    CHECK(gguf_writer_write_memory(w2, &img2, &size2));
    CHECK(size2 == size && img2 && memcmp(img, img2, size) == 0);
    gguf_writer_free(w2);
    free(img2);
    gguf_close(m);
    gguf_close(f);
    free(img);
}

static void check_format(const gguf_file *f, const char *key, const char *expected) {
    char buf[256];
    gguf_format_value(gguf_get(f, key), buf, sizeof buf);
    CHECKF(strcmp(buf, expected) == 0, "%s: got '%s', expected '%s'", key, buf, expected);
}

static void test_format_value(void) {
    gguf_fixture fx;
    size_t size;
    uint8_t *img = gguf_fixture_image(&fx, &size);
    gguf_file *f = img ? gguf_open_memory(img, size, "fmt") : NULL;
    CHECK(f != NULL);
    if (!f) { free(img); return; }
    check_format(f, "t.i8", "-100");
    check_format(f, "t.u64", "18000000000000000000");
    check_format(f, "t.f32", "1e-05");
    check_format(f, "t.f64", "3.141592653589793");
    check_format(f, "t.bool", "true");
    check_format(f, "t.str", "\"a string with \\\"quotes\\\"\"");
    check_format(f, "tokenizer.ggml.tokens", "[5 strings: \"<unk>\", \"<s>\", \"</s>\", \"hello\", ...]");
    check_format(f, "tokenizer.ggml.scores", "[5 float32: 0, -1, -2, -3.5, ...]");
    check_format(f, "t.bools", "[3 bool: true, false, true]");
    check_format(f, "t.empty_arr", "[0 int32]");
    check_format(f, "t.nested", "[3 arrays: [3 int32: 1, 2, 3], [2 strings: \"x\", \"yz\"], [0 uint64]]");
    char small[12];
    gguf_format_value(gguf_get(f, "tokenizer.ggml.tokens"), small, sizeof small);
    CHECK(strlen(small) == sizeof small - 1 && strcmp(small + sizeof small - 4, "...") == 0);
    gguf_close(f);
    free(img);
}

/* Nothing named *.tmp.* may be left in the directory after a write, failed or not. */
static bool no_temp_files(void) {
    DIR *d = opendir(tmpdir);
    bool clean = true;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) clean &= strstr(e->d_name, ".tmp.") == NULL;
    if (d) closedir(d);
    return clean;
}

static void test_writer_errors(void) {
    float data[64] = { 0 };
    const int64_t ne[2] = { 8, 8 };
    gguf_writer *w = gguf_writer_new();
    CHECK(gguf_writer_add_tensor(w, "x", LT_TYPE_F32, 2, ne, data, sizeof data));
    CHECK(!gguf_writer_add_tensor(w, "x", LT_TYPE_F32, 2, ne, data, sizeof data));     /* duplicate */
    CHECK(!gguf_writer_add_tensor(w, "y", LT_TYPE_F32, 2, ne, data, sizeof data - 4)); /* wrong size */
    CHECK(!gguf_writer_add_tensor(w, "y", 9999, 2, ne, data, sizeof data));            /* unknown type */
    CHECK(!gguf_writer_add_tensor(w, "y", LT_TYPE_Q8_0, 2, ne, data, 8 * 34));         /* 8 is not a multiple of 32 */
    CHECK(!gguf_writer_add_tensor(w, "y", LT_TYPE_F32, 5, ne, data, sizeof data));     /* n_dims */
    const int64_t neg[2] = { -8, -8 };
    CHECK(!gguf_writer_add_tensor(w, "y", LT_TYPE_F32, 2, neg, data, sizeof data));

    /* replacing a key keeps one entry; alignment 64 is honoured */
    gguf_writer_set_u32(w, "general.alignment", 7);
    gguf_writer_set_u32(w, "general.alignment", 64);
    gguf_writer_set_str(w, "general.architecture", "llama");
    const int64_t ne1[1] = { 3 };
    CHECK(gguf_writer_add_tensor(w, "z", LT_TYPE_F32, 1, ne1, data, 12));
    CHECKF(gguf_writer_write(w, tmp_path("a64.gguf")), "%s", lt_error());
    gguf_file *f = gguf_open(tmp_path("a64.gguf"));
    CHECKF(f != NULL, "%s", lt_error());
    if (f) {
        CHECK(f->n_kv == 2 && f->alignment == 64 && f->data_offset % 64 == 0 && f->tensors[1].offset == 256);
        gguf_close(f);
    }

    /* I/O error: the directory does not exist; the message names the path */
    CHECK(!gguf_writer_write(w, "/nonexistent-dir/x.gguf"));
    CHECK(strstr(lt_error(), "/nonexistent-dir/x.gguf") != NULL);

    /* a bad alignment or a failed setter makes the write fail and leaves no file behind */
    gguf_writer_set_u32(w, "general.alignment", 48);
    CHECK(!gguf_writer_write(w, tmp_path("bad.gguf")) && access(tmp_path("bad.gguf"), F_OK) != 0);
    gguf_writer_set_u32(w, "general.alignment", 32);
    gguf_writer_set_str(w, "bad", NULL);
    CHECK(!gguf_writer_write(w, tmp_path("bad.gguf")) && access(tmp_path("bad.gguf"), F_OK) != 0);
    CHECK(strstr(lt_error(), "bad") != NULL);
    CHECK(no_temp_files());
    gguf_writer_free(w);

    /* open errors name the file */
    CHECK(gguf_open(tmp_path("missing.gguf")) == NULL && strstr(lt_error(), "missing.gguf") != NULL);
    CHECK(gguf_open(tmpdir) == NULL);
}

/* A vocab-only file (no tensors, no trailing padding) and a version-2 file both parse. */
static void test_no_tensors_and_v2(void) {
    gguf_writer *w = gguf_writer_new();
    gguf_writer_set_str(w, "general.architecture", "llama");
    gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", fixture_vocab, 5);
    uint8_t *img = NULL;
    size_t size = 0;
    CHECK(gguf_writer_write_memory(w, &img, &size));
    gguf_writer_free(w);
    gguf_file *f = gguf_open_memory(img, size, "vocab");
    CHECKF(f && f->n_tensors == 0 && f->data_offset <= size, "%s", lt_error());
    gguf_close(f);
    if (img) img[4] = 2; /* version 2 has the same layout */
    f = gguf_open_memory(img, size, "v2");
    CHECKF(f && f->version == 2, "%s", lt_error());
    gguf_close(f);
    free(img);
}

static bool write_bytes(const char *dir, const char *name, const uint8_t *data, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    bool ok = fp && fwrite(data, 1, n, fp) == n;
    if (fp) ok &= fclose(fp) == 0;
    return ok;
}

/* Seeds for fuzz/fuzz_gguf.c: the fixture, a vocab-only file, a file with no keys. */
static int write_seeds(const char *dir) {
    gguf_fixture fx;
    size_t size;
    uint8_t *img = gguf_fixture_image(&fx, &size);
    bool ok = img && write_bytes(dir, "fixture.seed", img, size);
    free(img);
    gguf_writer *w = gguf_writer_new();
    gguf_writer_set_str(w, "general.architecture", "llama");
    gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", fixture_vocab, 5);
    ok = ok && gguf_writer_write_memory(w, &img, &size) && write_bytes(dir, "vocab-only.seed", img, size);
    free(img);
    gguf_writer_free(w);
    w = gguf_writer_new();
    const int64_t ne[1] = { 8 };
    const uint16_t h[8] = { 0 };
    ok = ok && gguf_writer_add_tensor(w, "t", LT_TYPE_F16, 1, ne, h, sizeof h) &&
         gguf_writer_write_memory(w, &img, &size) && write_bytes(dir, "one-tensor.seed", img, size);
    free(img);
    gguf_writer_free(w);
    fprintf(stderr, ok ? "seeds written to %s\n" : "writing seeds to %s failed\n", dir);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
    snprintf(tmpdir, sizeof tmpdir, "%s/lutlm-gguf-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_format_value();
    test_writer_errors();
    test_no_tensors_and_v2();
    const char *files[] = { "rt.gguf", "a64.gguf" };
    for (size_t i = 0; i < LT_ARRAY_LEN(files); i++) unlink(tmp_path(files[i]));
    rmdir(tmpdir);
    return TEST_DONE();
}
