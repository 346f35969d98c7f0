/* libFuzzer target for the GGUF reader: parse arbitrary bytes, and when they are accepted, use
 * everything the reader returned (every key through every getter, every value printed, every
 * tensor's data touched at both ends), so that ASan/UBSan see any inconsistency it let through.
 * Seeds: fuzz/seeds-fuzz_gguf/ (written by `test_gguf --write-seeds DIR`). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"

static volatile uint64_t sink; /* keeps the reads below from being optimized away */

static void use_key(const gguf_file *f, const gguf_kv *kv) {
    char buf[512];
    uint32_t u32;
    int64_t i64;
    float f32;
    bool b;
    const char *key = kv->key.data;
    gguf_format_value(&kv->value, buf, sizeof buf);
    sink += strlen(buf);
    sink += gguf_get_u32(f, key, &u32) ? u32 : 0;
    sink += gguf_get_i64(f, key, &i64) ? (uint64_t)i64 : 0;
    sink += gguf_get_f32(f, key, &f32) ? (uint64_t)(f32 == f32) : 0;
    sink += gguf_get_bool(f, key, &b) ? b : 0;
    const char *s = gguf_get_str(f, key);
    sink += s ? strlen(s) : 0;
    for (int t = 0; t < GGUF_TYPE_COUNT; t++) {
        const gguf_value *a = gguf_get_array(f, key, (gguf_type)t);
        if (a && a->v.arr.n && t == GGUF_TYPE_STRING) sink += strlen(((const gguf_string *)a->v.arr.data)[a->v.arr.n - 1].data);
    }
    sink += (uint64_t)gguf_find_key(f, key);
}

static void use_tensor(const gguf_file *f, const gguf_tensor_info *t) {
    const uint8_t *data = t->data;
    sink += (uint64_t)gguf_find_tensor(f, t->name.data);
    sink += (uint64_t)(t->ne[0] + t->ne[1] + t->ne[2] + t->ne[3]);
    const lt_format *fmt = lt_format_by_type(t->type);
    sink += fmt ? strlen(fmt->name) : 0;
    if (t->nbytes) sink += data[0] + data[t->nbytes - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *f = gguf_open_memory(data, size, "fuzz.gguf");
    if (!f) {
        sink += strlen(lt_error());
        return 0;
    }
    /* The lookups are linear scans: look up only the first keys/tensors by name so that inputs with
     * thousands of entries stay fast, but print every value and touch every tensor. */
    char buf[512];
    for (uint64_t i = 0; i < f->n_kv; i++) {
        if (i < 64) use_key(f, &f->kv[i]);
        gguf_format_value(&f->kv[i].value, buf, sizeof buf);
        sink += strlen(buf);
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor_info *t = &f->tensors[i];
        if (i < 64) use_tensor(f, t);
        if (t->nbytes) sink += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->nbytes - 1];
    }
    sink += gguf_get(f, "general.architecture") != NULL;
    gguf_close(f);
    return 0;
}
