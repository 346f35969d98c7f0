/* GGUF type id 36 is ambiguous: bitnet.cpp's I2_S (x86: n/4 bytes of codes + one f32 scale, padded
 * to n/4 + 32), mainline ggml's retired IQ4_NL_4_4 (4.5 bits/weight), and other forks' own packings.
 * lutlm reads 36 as bitnet.cpp's x86 I2_S, and a file whose type-36 tensors do not occupy exactly
 * n/4 + 32 bytes (up to the alignment padding) is another fork's and must be refused with a message
 * that says so, not read as garbage. The files are written with the GGUF writer (placeholder I8
 * tensors of the wanted byte size, then the type and shape patched to 36). */
#include <unistd.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "lutlm.h"
#include "test_util.h"

enum { K = 128, ROWS = 4, N = K * ROWS, I2S_BYTES = N / 4 + 32 };

/* A GGUF image with tensor "w" of `bytes` bytes patched to type `type`, shape [K, ROWS] (k0 = K
 * unless shape_k0 > 0), and, if `then_f32`, an F32 tensor "b" of 8 values after it. */
static uint8_t *image(uint64_t bytes, uint32_t type, int64_t shape_k0, bool then_f32, size_t *size) {
    gguf_writer *w = gguf_writer_new();
    gguf_writer_set_str(w, "general.architecture", "bitnet-b1.58");
    uint8_t *data = calloc(1, bytes);
    for (uint64_t i = 0; i < N / 4 && i < bytes; i++) data[i] = (uint8_t)(0x55 + i); /* codes 0..2 mostly */
    const float scale = 0.5f;
    if (bytes >= N / 4 + 4) memcpy(data + N / 4, &scale, 4);
    float b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    /* placeholder: I8 [bytes / ROWS, ROWS] has `bytes` bytes */
    int64_t ne[2] = { (int64_t)bytes / ROWS, ROWS }, ne_b[1] = { 8 };
    CHECK(bytes % ROWS == 0);
    CHECK(gguf_writer_add_tensor(w, "w", LT_TYPE_I8, 2, ne, data, bytes));
    if (then_f32) CHECK(gguf_writer_add_tensor(w, "b", LT_TYPE_F32, 1, ne_b, b, sizeof b));
    uint8_t *img = NULL;
    CHECKF(gguf_writer_write_memory(w, &img, size), "%s", lt_error());
    gguf_writer_free(w);
    free(data);
    if (!img) return NULL;
    /* tensor info of "w": u64 name length 1, "w", u32 n_dims, u64 ne0, u64 ne1, u32 type, u64 offset */
    static const uint8_t name[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 'w' };
    uint8_t *info = memmem(img, *size, name, sizeof name);
    CHECK(info != NULL);
    if (!info) { free(img); return NULL; }
    uint8_t *p = info + sizeof name + 4;
    int64_t k0 = shape_k0 > 0 ? shape_k0 : K;
    memcpy(p, &k0, 8);
    memcpy(p + 16, &type, 4);
    return img;
}

/* Open the image; returns true if it opened. *msg gets the error otherwise. */
static bool opens(uint8_t *img, size_t size, char *msg, size_t cap) {
    gguf_file *f = gguf_open_memory(img, size, "id36.gguf");
    snprintf(msg, cap, "%s", f ? "" : lt_error());
    if (f) {
        const gguf_tensor_info *t = gguf_get_tensor(f, "w");
        CHECK(t && t->type == LT_TYPE_I2_S && t->nbytes == I2S_BYTES);
        if (t) {
            /* decodes as I2_S: the scale at byte n/4 */
            lt_tensor lt = { .name = "w", .fmt = lt_format_by_type(t->type), .n_dims = 2, .ne = { K, ROWS, 1, 1 },
                             .data = t->data, .nbytes = t->nbytes };
            float row[K];
            lt_tensor_dequantize_row(&lt, 0, row);
            float amax = 0;
            for (int i = 0; i < K; i++) amax = fmaxf(amax, fabsf(row[i]));
            CHECK(amax == 0.5f);
        }
    }
    gguf_close(f);
    return f != NULL;
}

static void expect_refused(const char *what, uint64_t bytes, int64_t k0, bool then_f32, const char *words[]) {
    size_t size = 0;
    uint8_t *img = image(bytes, LT_TYPE_I2_S, k0, then_f32, &size);
    if (!img) return;
    char msg[1024];
    bool ok = opens(img, size, msg, sizeof msg);
    CHECKF(!ok, "%s: a type-36 tensor of %llu bytes (I2_S needs %d) was accepted", what, (unsigned long long)bytes, I2S_BYTES);
    if (!ok) {
        fprintf(stderr, "%s: refused: %s\n", what, msg);
        for (int i = 0; words[i]; i++) CHECKF(strstr(msg, words[i]) != NULL, "%s: message lacks '%s': %s", what, words[i], msg);
    }
    free(img);
}

int main(void) {
    size_t size = 0;
    char msg[1024];
    /* bitnet.cpp's I2_S: n/4 + 32 bytes, alone or followed by another tensor */
    for (int then = 0; then < 2; then++) {
        uint8_t *img = image(I2S_BYTES, LT_TYPE_I2_S, 0, then, &size);
        CHECKF(img && opens(img, size, msg, sizeof msg), "a valid I2_S file is refused: %s", msg);
        free(img);
    }
    /* mainline ggml's IQ4_NL_4_4 under the same id: 4.5 bits/weight, larger than I2_S */
    const char *other_fork[] = { "'w'", "36", "I2_S", NULL };
    expect_refused("4.5 bits/weight (IQ4_NL_4_4), then a tensor", N * 9 / 16, 0, true, other_fork);
    expect_refused("4.5 bits/weight (IQ4_NL_4_4), last tensor", N * 9 / 16, 0, false, other_fork);
    /* a 2-bit packing without bitnet.cpp's scale (n/4 bytes): too small */
    const char *too_small[] = { "'w'", NULL };
    expect_refused("n/4 bytes without a scale, then a tensor", N / 4, 0, true, too_small);
    expect_refused("n/4 bytes without a scale, last tensor", N / 4, 0, false, too_small);
    /* a row that is not whole 128-weight I2_S blocks (the ARM build's 64-weight blocks) */
    const char *bad_row[] = { "'w'", "i2_s", NULL };
    expect_refused("row of 64 weights", I2S_BYTES, 64, true, bad_row);
    /* and through the public loader: the same refusal, no crash */
    uint8_t *img = image(N * 9 / 16, LT_TYPE_I2_S, 0, true, &size);
    const char *path = "lowbit-id36-iq4nl.gguf";
    FILE *f = img ? fopen(path, "wb") : NULL;
    if (f) {
        fwrite(img, 1, size, f);
        fclose(f);
        lutlm_model *m = lutlm_model_load(path, NULL);
        CHECK(m == NULL);
        CHECKF(m == NULL && strstr(lutlm_last_error(), "36"), "%s", m ? "(loaded)" : lutlm_last_error());
        lutlm_model_free(m);
        unlink(path);
    }
    free(img);
    return TEST_DONE();
}
