/* lutlm quantize (lt_quantize_model): clear errors, exact ternary re-encoding, and the re-encoded
 * BitNet 3M model reproduces the bitllama2.c reference text.
 * Usage: test_quantize CASE   (each case is its own CTest entry). */
#include <stdint.h>
#include <unistd.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "lutlm.h"
#include "model/quantize_model.h"
#include "golden_util.h"
#include "test_util.h"

#define BITLLAMA_F32 "models/bitllama2c-ternary/bitllama2c-3M-f32.gguf"

static bool quantize(const char *in, const char *out, const char *type, const char *output_type) {
    lt_quantize_params p = { .type = type, .output_type = output_type };
    unlink(out);
    bool ok = lt_quantize_model(in, out, &p);
    if (!ok) fprintf(stderr, "quantize %s -> %s: %s\n", type, out, lt_error());
    return ok;
}

static void case_errors(void) {
    const char *out = "test-quantize-errors.gguf";
    CHECK(!quantize(shared_path(BITLLAMA_F32), out, "no-such-type", NULL));
    CHECK(strstr(lt_error(), "no-such-type") && strstr(lt_error(), "tern2"));
    CHECK(!quantize(shared_path(BITLLAMA_F32), out, "tern2", "bogus"));
    CHECK(strstr(lt_error(), "output type 'bogus'"));
    CHECK(!quantize(shared_path("models/no-such-file.gguf"), out, "tern2", NULL));
    /* stories260K's FFN is 172 wide: not a whole number of Q4_0 blocks */
    CHECK(!quantize(shared_path("models/stories260K/stories260K-f32.gguf"), out, "q4_0", NULL));
    CHECKF(strstr(lt_error(), "cannot be stored as q4_0") && strstr(lt_error(), "172"), "%s", lt_error());
    CHECK(access(out, F_OK) != 0); /* nothing written on failure */
    CHECK(lt_quantize_file_type("q8_0") == 7 && lt_quantize_file_type("tq2_0") == 37 &&
          lt_quantize_file_type("tern2") == LT_TYPE_TERN2);
}

/* Every tensor of `out` has the expected type, and each linear weight decodes exactly to the F32
 * file's values (the 3M model's weights are ternary × scale, which ternary formats store exactly). */
static void check_file(const char *out, const char *type, bool exact) {
    gguf_file *src = gguf_open(shared_path(BITLLAMA_F32)), *dst = gguf_open(out);
    CHECKF(src && dst, "%s", lt_error());
    if (!src || !dst) return;
    const lt_format *want = lt_format_by_name(type);
    uint32_t ftype = 0;
    CHECK(gguf_get_u32(dst, "general.file_type", &ftype) && ftype == lt_quantize_file_type(type));
    CHECK(gguf_get_str(dst, "general.architecture") && !strcmp(gguf_get_str(dst, "general.architecture"), "bitnet"));
    CHECK(dst->n_tensors == src->n_tensors && dst->n_kv >= src->n_kv);
    int linears = 0;
    double worst = 0;
    for (uint64_t i = 0; i < dst->n_tensors; i++) {
        const gguf_tensor_info *d = &dst->tensors[i];
        const gguf_tensor_info *s = gguf_get_tensor(src, d->name.data);
        CHECK(s != NULL);
        if (!s) continue;
        bool linear = strstr(d->name.data, "blk.") && !strstr(d->name.data, "norm");
        CHECKF(d->type == (linear ? want->type_id : s->type), "%s: type %u", d->name.data, d->type);
        if (!linear) continue;
        linears++;
        lt_tensor ts = { .name = s->name.data, .fmt = lt_format_by_type(s->type), .n_dims = 2, .ne = { s->ne[0], s->ne[1], 1, 1 }, .data = s->data, .nbytes = s->nbytes };
        lt_tensor td = ts;
        td.fmt = want;
        td.data = d->data;
        td.nbytes = d->nbytes;
        float a[1024], b[1024];
        for (int64_t r = 0; r < s->ne[1] && s->ne[0] <= 1024; r++) {
            lt_tensor_dequantize_row(&ts, r, a);
            lt_tensor_dequantize_row(&td, r, b);
            for (int64_t j = 0; j < s->ne[0]; j++) worst = fmax(worst, fabs((double)a[j] - b[j]) / fmax(fabs(a[j]), 1e-30));
        }
    }
    CHECK(linears == 56);
    fprintf(stderr, "%s: largest relative difference of a linear weight vs F32: %.3g\n", type, worst);
    if (exact) CHECKF(worst == 0, "%s is not exact: %g", type, worst);
    gguf_close(src);
    gguf_close(dst);
}

static void case_bitllama3m(const char *type, bool exact, bool kernels, int min_tokens) {
    char out[256];
    snprintf(out, sizeof out, "test-quantize-3M-%s%s.gguf", type, kernels ? "" : "-ref");
    CHECK(quantize(shared_path(BITLLAMA_F32), out, type, NULL));
    check_file(out, type, exact);

    size_t golden_size;
    char *golden = lt_read_file(shared_path("golden/bitllama2c-3M/runbit-3M-greedy256-prompt.txt"), &golden_size);
    CHECK(golden != NULL);
    lutlm_model_params mp = lutlm_model_default_params();
    mp.use_kernels = kernels;
    lutlm_model *m = lutlm_model_load(out, &mp);
    CHECKF(m != NULL, "%s", lutlm_last_error());
    if (!m || !golden) { free(golden); lutlm_model_free(m); return; }
    while (golden_size > 0 && golden[golden_size - 1] == '\n') golden[--golden_size] = 0;
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = 512;
    cp.n_threads = 2;
    cp.type_k = cp.type_v = LUTLM_CACHE_F32; /* the reference runner's cache */
    lutlm_context *c = lutlm_context_new(m, &cp);
    static const int32_t prompt[] = { 1, 403, 407, 261, 378 }; /* <s> Once upon a time */
    enum { STEPS = 256 };
    int32_t gen[STEPS];
    int n = 0;
    if (c && lutlm_decode(c, prompt, 5, false) == LUTLM_OK) {
        for (; n < STEPS; n++) {
            const float *l = lutlm_get_logits(c, -1);
            int best = 0;
            for (int i = 1; i < lutlm_model_n_vocab(m); i++)
                if (l[i] > l[best]) best = i;
            gen[n] = best;
            if (n + 1 < STEPS && lutlm_decode(c, &gen[n], 1, false) != LUTLM_OK) { n++; break; }
        }
    }
    int matched = tokens_matching_text(m, prompt, 5, gen, n, golden);
    fprintf(stderr, "%s: %d greedy tokens reproduce the bitllama2.c reference text (%s)\n", type, matched,
            strstr(lutlm_model_describe(m), "repacked") ? "LUT kernels" : "reference path");
    CHECKF(matched >= min_tokens, "%s: only %d tokens match (want >= %d)", type, matched, min_tokens);
    lutlm_context_free(c);
    lutlm_model_free(m);
    free(golden);
    unlink(out);
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "errors")) case_errors();
    else if (!strcmp(c, "bitllama3m_tern2")) case_bitllama3m("tern2", true, true, 200);
    else if (!strcmp(c, "bitllama3m_tern2_ref")) case_bitllama3m("tern2", true, false, 200);
    else if (!strcmp(c, "bitllama3m_i2_s")) case_bitllama3m("i2_s", true, true, 200);
    else if (!strcmp(c, "bitllama3m_lut_t16")) case_bitllama3m("lut_t16", true, true, 200);
    else { fprintf(stderr, "unknown case '%s'\n", c); return 2; }
    return TEST_DONE();
}
