/* Formats against files made by llama.cpp and bitnet.cpp (../shared):
 *  - every tensor of every quantized file decodes to its F32 original within the format's error
 *    (exactly for I2_S, and for the ternary formats up to the f16 rounding of the scale);
 *  - lutlm's reference quantizers reproduce llama.cpp's bytes exactly (F16, Q8_0, Q4_0, TQ1_0,
 *    TQ2_0), which pins the block layouts and the rounding rules. */
#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "test_util.h"

static lt_tensor view_of(const gguf_tensor_info *ti) {
    lt_tensor t = { .name = ti->name.data, .fmt = lt_format_by_type(ti->type), .n_dims = (int)ti->n_dims,
                    .data = ti->data, .nbytes = ti->nbytes };
    for (int d = 0; d < 4; d++) t.ne[d] = d < (int)ti->n_dims ? ti->ne[d] : 1;
    return t;
}

/* Decode a whole tensor into a new float array. */
static float *decode_all(const lt_tensor *t) {
    int64_t rows = lt_tensor_rows(t);
    float *out = malloc((size_t)(t->ne[0] * rows) * sizeof(float));
    for (int64_t r = 0; r < rows; r++) lt_tensor_dequantize_row(t, r, out + r * t->ne[0]);
    return out;
}

typedef struct {
    int tensors, exact, requantized_identical;
    double worst_rel;
} file_stats;

/* Compare every tensor of `quant` with the same tensor of `ref` (an F32 file). */
static void compare_files(const char *quant_rel, const char *ref_rel, uint32_t expect_type, int expect_count) {
    gguf_file *q = gguf_open(shared_path(quant_rel));
    gguf_file *r = gguf_open(shared_path(ref_rel));
    CHECKF(q && r, "%s / %s: %s", quant_rel, ref_rel, lt_error());
    if (!q || !r) { gguf_close(q); gguf_close(r); return; }
    file_stats st = { 0 };
    int of_type = 0;
    for (uint64_t i = 0; i < q->n_tensors; i++) {
        const gguf_tensor_info *qi = &q->tensors[i];
        const gguf_tensor_info *ri = gguf_get_tensor(r, qi->name.data);
        CHECKF(ri && ri->type == LT_TYPE_F32, "%s: %s missing in the F32 file", quant_rel, qi->name.data);
        if (!ri) continue;
        lt_tensor qt = view_of(qi);
        CHECKF(qt.fmt && qt.fmt->dequantize_row, "%s: %s: type %u not decodable", quant_rel, qi->name.data, qi->type);
        if (!qt.fmt || !qt.fmt->dequantize_row) continue;
        uint64_t expect_bytes;
        CHECK(lt_format_tensor_bytes(qt.fmt, qt.ne, qt.n_dims, &expect_bytes) && expect_bytes == qi->nbytes);
        of_type += qi->type == expect_type;
        st.tensors++;

        const int64_t n = qt.ne[0] * lt_tensor_rows(&qt);
        float *got = decode_all(&qt);
        const float *want = ri->data;
        /* Error relative to the block's largest magnitude (the tensor's for per-tensor scales and
         * for plain floats). */
        const bool whole = qt.fmt->block_size == 1 || qt.fmt->type_id == LT_TYPE_I2_S;
        const int64_t block = whole ? n : qt.fmt->block_size;
        bool exact = true;
        double worst = 0;
        for (int64_t b = 0; b < n; b += block) {
            float amax = 0;
            for (int64_t j = b; j < b + block; j++) amax = fmaxf(amax, fabsf(want[j]));
            for (int64_t j = b; j < b + block; j++) {
                if (got[j] != want[j]) exact = false;
                double rel = amax > 0 ? fabs((double)got[j] - want[j]) / amax : fabs((double)got[j]);
                if (rel > worst) worst = rel;
            }
        }
        st.exact += exact;
        if (worst > st.worst_rel) st.worst_rel = worst;

        /* Tolerance per format: these models' linear weights are ternary * one scale per tensor. */
        double tol;
        switch (qt.fmt->type_id) {
        case LT_TYPE_F32: case LT_TYPE_I2_S: tol = 0; break;
        case LT_TYPE_F16: tol = 1.0 / 1024; break;
        case LT_TYPE_Q8_0: tol = 0.5 / 127 + 1.0 / 1024; break;
        case LT_TYPE_Q4_0: tol = 0.25 + 1.0 / 1024; break; /* ternary: opposite sign decodes to 7/8 */
        default: tol = 1.0 / 1024; break;                  /* TQ1_0/TQ2_0: f16 rounding of the scale */
        }
        CHECKF(worst <= tol, "%s: %s (%s): max error %g of the block max (tolerance %g)", quant_rel, qi->name.data,
               qt.fmt->name, worst, tol);
        if (qt.fmt->ternary) { /* same sign pattern as the F32 weights */
            int64_t flips = 0;
            for (int64_t j = 0; j < n; j++) flips += (got[j] > 0) != (want[j] > 0) || (got[j] < 0) != (want[j] < 0);
            CHECKF(flips == 0, "%s: %s: %lld ternary values differ in sign", quant_rel, qi->name.data, (long long)flips);
        }

        /* Re-quantize the F32 tensor with lutlm's quantizer: llama.cpp's bytes exactly. For I2_S
         * (bitnet.cpp: scale = max|w|, codes = sign) lutlm's lossless-ternary rule gives the same
         * codes and scale; the 28 padding bytes after the scale are not compared. */
        if (qt.fmt->quantize && qt.fmt->type_id != LT_TYPE_F32) {
            void *mine = malloc(qi->nbytes);
            bool ok = qt.fmt->quantize(want, qt.ne[0], lt_tensor_rows(&qt), mine);
            CHECK(ok);
            if (qt.fmt->type_id == LT_TYPE_I2_S) {
                lt_tensor mt = qt;
                mt.data = mine;
                float *again = decode_all(&mt);
                CHECKF(ok && !memcmp(again, got, (size_t)n * sizeof(float)), "%s: %s: i2_s re-quantized differs",
                       quant_rel, qi->name.data);
                /* codes and scale (not the padding after it) are bitnet.cpp's bytes */
                bool same = ok && !memcmp(mine, qi->data, (size_t)n / 4 + 4);
                CHECKF(same, "%s: %s: i2_s codes/scale differ from bitnet.cpp's", quant_rel, qi->name.data);
                st.requantized_identical += same;
                free(again);
            } else {
                bool same = ok && !memcmp(mine, qi->data, qi->nbytes);
                CHECKF(same, "%s: %s: lutlm's %s quantizer differs from the file's bytes", quant_rel, qi->name.data,
                       qt.fmt->name);
                st.requantized_identical += same;
            }
            free(mine);
        }
        free(got);
    }
    CHECKF(of_type == expect_count, "%s: %d tensors of type %u, expected %d", quant_rel, of_type, expect_type, expect_count);
    fprintf(stderr, "%-42s %3d tensors (%d of %s), %d decode exactly, %d re-quantized byte-identical, worst %.3g\n",
            quant_rel, st.tensors, of_type, lt_format_by_type(expect_type)->name, st.exact, st.requantized_identical,
            st.worst_rel);
    gguf_close(q);
    gguf_close(r);
}

int main(void) {
    const char *bit3m = "models/bitllama2c-ternary/bitllama2c-3M-f32.gguf";
    compare_files("models/bitllama2c-ternary/bitllama2c-3M-tq2_0.gguf", bit3m, LT_TYPE_TQ2_0, 56);
    compare_files("models/bitllama2c-ternary/bitllama2c-3M-tq1_0.gguf", bit3m, LT_TYPE_TQ1_0, 56);
    compare_files("models/bitllama2c-ternary/bitllama2c-3M-i2_s.gguf", bit3m, LT_TYPE_I2_S, 56);
    compare_files("models/bitllama2c-ternary/bitllama2c-3M-q8_0.gguf", bit3m, LT_TYPE_Q8_0, 57);
    compare_files("models/bitllama2c-ternary/bitllama2c-3M-q4_0.gguf", bit3m, LT_TYPE_Q4_0, 56);
    compare_files("models/bitnet-b158-tiny/bitnet-b158-tiny-i2_s.gguf", "models/bitnet-b158-tiny/bitnet-b158-tiny-f32.gguf",
                  LT_TYPE_I2_S, 28);
    compare_files("models/stories260K/stories260K-f16.gguf", "models/stories260K/stories260K-f32.gguf", LT_TYPE_F16, 37);
    return TEST_DONE();
}
