/* A small GGUF built with the writer, used by the round-trip, corrupted-file and fuzz-seed tests:
 * a key of every value type, string/number/empty/nested arrays, and 3 tensors of different types.
 * The last tensor's size is a multiple of 32 bytes, so the file ends exactly where its data ends
 * (no trailing padding): truncating it anywhere must fail. */
#ifndef LUTLM_TESTS_GGUF_FIXTURE_H
#define LUTLM_TESTS_GGUF_FIXTURE_H

#include <string.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"

typedef struct gguf_fixture {
    float f32_data[4 * 3];        /* "tensor.a": F32 [4, 3] = 48 bytes */
    uint8_t q8_data[2 * 34];      /* "tensor.b": Q8_0 [32, 2] = 2 blocks of 34 bytes */
    uint16_t f16_data[16 * 4];    /* "tensor.c": F16 [16, 2, 2] = 128 bytes, last in the file */
} gguf_fixture;

static const char *const fixture_vocab[] = { "<unk>", "<s>", "</s>", "hello", "wor\"ld\n" };

/* Fill w with the fixture's metadata and tensors (data lives in fx, which must outlive the write). */
static inline bool gguf_fixture_build(gguf_writer *w, gguf_fixture *fx) {
    gguf_writer_set_str(w, "general.architecture", "llama");
    gguf_writer_set_str(w, "general.name", "fixture");
    gguf_writer_set_u32(w, "general.alignment", 32);
    gguf_value v;
    memset(&v, 0, sizeof v);
    v.type = GGUF_TYPE_UINT8; v.v.u64 = 200; gguf_writer_set_value(w, "t.u8", &v);
    v.type = GGUF_TYPE_INT8; v.v.i64 = -100; gguf_writer_set_value(w, "t.i8", &v);
    v.type = GGUF_TYPE_UINT16; v.v.u64 = 60000; gguf_writer_set_value(w, "t.u16", &v);
    v.type = GGUF_TYPE_INT16; v.v.i64 = -30000; gguf_writer_set_value(w, "t.i16", &v);
    gguf_writer_set_u32(w, "t.u32", 4000000000u);
    gguf_writer_set_i32(w, "t.i32", -2000000000);
    gguf_writer_set_f32(w, "t.f32", 1e-5f);
    gguf_writer_set_bool(w, "t.bool", true);
    gguf_writer_set_u64(w, "t.u64", 18000000000000000000ull);
    v.type = GGUF_TYPE_INT64; v.v.i64 = -9000000000000000000ll; gguf_writer_set_value(w, "t.i64", &v);
    v.type = GGUF_TYPE_FLOAT64; v.v.f64 = 3.141592653589793; gguf_writer_set_value(w, "t.f64", &v);
    gguf_writer_set_str(w, "t.str", "a string with \"quotes\"");
    gguf_writer_set_str(w, "t.empty_str", "");
    gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", fixture_vocab, 5);
    const float scores[5] = { 0.f, -1.f, -2.f, -3.5f, -4.25f };
    gguf_writer_set_array(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, 5);
    const uint8_t flags[3] = { 1, 0, 1 };
    gguf_writer_set_array(w, "t.bools", GGUF_TYPE_BOOL, flags, 3);
    gguf_writer_set_array(w, "t.empty_arr", GGUF_TYPE_INT32, NULL, 0);
    /* nested: [[1, 2, 3], ["x", "yz"], []] */
    const int32_t ints[3] = { 1, 2, 3 };
    gguf_string strs[2] = { { 1, (char *)"x" }, { 2, (char *)"yz" } };
    gguf_value inner[3];
    memset(inner, 0, sizeof inner);
    inner[0].type = GGUF_TYPE_ARRAY; inner[0].v.arr.elem_type = GGUF_TYPE_INT32; inner[0].v.arr.n = 3; inner[0].v.arr.data = (void *)ints;
    inner[1].type = GGUF_TYPE_ARRAY; inner[1].v.arr.elem_type = GGUF_TYPE_STRING; inner[1].v.arr.n = 2; inner[1].v.arr.data = strs;
    inner[2].type = GGUF_TYPE_ARRAY; inner[2].v.arr.elem_type = GGUF_TYPE_UINT64; inner[2].v.arr.n = 0; inner[2].v.arr.data = NULL;
    gguf_writer_set_array(w, "t.nested", GGUF_TYPE_ARRAY, inner, 3);
    gguf_writer_set_str(w, "dup.a", "first");
    gguf_writer_set_str(w, "dup.b", "second");

    for (int i = 0; i < 12; i++) fx->f32_data[i] = 0.5f * (float)i - 2.0f;
    for (int b = 0; b < 2; b++) { /* Q8_0 block: f16 scale, then 32 int8 */
        uint16_t d = lt_fp32_to_fp16(0.25f * (float)(b + 1));
        memcpy(fx->q8_data + 34 * b, &d, 2);
        for (int j = 0; j < 32; j++) fx->q8_data[34 * b + 2 + j] = (uint8_t)(int8_t)(j - 16);
    }
    for (int i = 0; i < 64; i++) fx->f16_data[i] = lt_fp32_to_fp16((float)i / 8.0f);
    const int64_t ne_a[2] = { 4, 3 }, ne_b[2] = { 32, 2 }, ne_c[3] = { 16, 2, 2 };
    return gguf_writer_add_tensor(w, "tensor.a", LT_TYPE_F32, 2, ne_a, fx->f32_data, sizeof fx->f32_data) &&
           gguf_writer_add_tensor(w, "tensor.b", LT_TYPE_Q8_0, 2, ne_b, fx->q8_data, sizeof fx->q8_data) &&
           gguf_writer_add_tensor(w, "tensor.c", LT_TYPE_F16, 3, ne_c, fx->f16_data, sizeof fx->f16_data);
}

/* The fixture as a file image in memory (malloc'ed). */
static inline uint8_t *gguf_fixture_image(gguf_fixture *fx, size_t *size) {
    gguf_writer *w = gguf_writer_new();
    uint8_t *img = NULL;
    if (!w || !gguf_fixture_build(w, fx) || !gguf_writer_write_memory(w, &img, size)) img = NULL;
    gguf_writer_free(w);
    return img;
}

#endif
