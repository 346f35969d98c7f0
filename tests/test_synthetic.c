/* Synthetic models: shapes and formats as asked, deterministic by seed, and the forward pass runs on
 * them (finite, non-degenerate logits) with no GGUF file and no tokenizer. */
#include <stdint.h>

#include "common/util.h"
#include "model/model.h"
#include "model/synthetic.h"
#include "test_util.h"

/* Logits of the last of a few tokens (malloc'd), or NULL. */
static float *logits_of(lutlm_model *m, int threads) {
    static const int32_t tokens[] = { 1, 17, 300, 42, 511, 7 };
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = 64;
    cp.n_threads = threads;
    lutlm_context *c = lutlm_context_new(m, &cp);
    if (!c) return NULL;
    float *out = NULL;
    /* a batched prompt, then one single-token step: both paths of the forward pass */
    if (lutlm_decode(c, tokens, 5, false) == LUTLM_OK && lutlm_decode(c, tokens + 5, 1, false) == LUTLM_OK) {
        int n = lutlm_model_n_vocab(m);
        out = malloc((size_t)n * sizeof(float));
        memcpy(out, lutlm_get_logits(c, -1), (size_t)n * sizeof(float));
    }
    lutlm_context_free(c);
    return out;
}

static void check_logits_healthy(const float *l, int n) {
    double sum = 0, sum2 = 0;
    bool finite = true;
    for (int i = 0; i < n; i++) {
        finite = finite && isfinite(l[i]);
        sum += l[i];
        sum2 += (double)l[i] * l[i];
    }
    double mean = sum / n, std = sqrt(fmax(sum2 / n - mean * mean, 0));
    CHECK(finite);
    CHECKF(std > 0.05 && std < 100, "logit std %g", std);
}

static void test_tiny_default(void) {
    lutlm_model *m = lt_model_synthetic("tiny", NULL, NULL, 7);
    CHECKF(m != NULL, "%s", lt_error());
    if (!m) return;
    CHECK(m->gguf == NULL && m->vocab == NULL);
    CHECK(m->hp.arch == LT_ARCH_BITNET_B158 && m->hp.n_embd == 256 && m->hp.n_layer == 4 && m->hp.n_head == 4 &&
          m->hp.n_head_kv == 2 && m->hp.n_ff == 768 && m->hp.n_vocab == 512 && m->hp.sub_norms &&
          m->hp.ffn_act == LT_FFN_RELU2 && m->hp.rope_neox);
    CHECK(!strcmp(m->layers[0].wq.w.fmt->name, "tern2") && !strcmp(m->layers[3].w_down.w.fmt->name, "tern2"));
    CHECK(m->layers[3].w_down.w.ne[0] == 768 && m->layers[3].w_down.w.ne[1] == 256);
    CHECK(m->layers[1].wk.w.ne[0] == 256 && m->layers[1].wk.w.ne[1] == 128);
    CHECK(!strcmp(m->tok_embd.fmt->name, "f16"));
    /* default head: a low-bit format the LUT kernels run, separate from the f16 embedding */
    const lt_format *head = lt_format_by_name("lut_int4_g64");
    if (head) CHECK(m->output.w.fmt == head && m->output.w.data != m->tok_embd.data && m->output.w.ne[1] == 512);
    lutlm_model *tied = lt_model_synthetic("tiny", NULL, "f16", 7);
    CHECK(tied && tied->output.w.data == tied->tok_embd.data); /* an f16 head is the embedding, as in the real file */
    lutlm_model_free(tied);
    CHECK(!strcmp(m->layers[2].w_up.w.name, "blk.2.ffn_up.weight"));
    /* every ternary weight decodes to {-s, 0, s}, with all three values present */
    float row[768];
    lt_tensor_dequantize_row(&m->layers[2].w_up.w, 100, row);
    int counts[3] = { 0 };
    float s = 0;
    for (int i = 0; i < 256; i++) s = fmaxf(s, fabsf(row[i]));
    for (int i = 0; i < 256; i++) counts[row[i] == 0 ? 1 : row[i] == s ? 2 : row[i] == -s ? 0 : 1000]++;
    CHECKF(counts[0] > 40 && counts[1] > 40 && counts[2] > 40, "%d %d %d", counts[0], counts[1], counts[2]);
    CHECK_NEAR(s, sqrtf(1.5f / 256), 1e-6);
    const char *d = lutlm_model_describe(m);
    CHECK(d && strstr(d, "bitnet-b1.58"));

    float *a = logits_of(m, 1), *b = logits_of(m, 2);
    CHECK(a && b);
    if (a) check_logits_healthy(a, 512);
    if (a && b) {
        double diff = 0;
        for (int i = 0; i < 512; i++) diff = fmax(diff, fabs(a[i] - b[i]));
        CHECKF(diff < 1e-3, "1 vs 2 threads differ by %g", diff);
    }
    lutlm_model_free(m);

    /* same seed, same weights; another seed, other weights */
    lutlm_model *m2 = lt_model_synthetic("tiny", "tern2", NULL, 7), *m3 = lt_model_synthetic("tiny", NULL, NULL, 8);
    CHECK(m2 && m3);
    float *a2 = m2 ? logits_of(m2, 2) : NULL, *a3 = m3 ? logits_of(m3, 2) : NULL;
    CHECK(a2 && a3);
    if (a && a2 && a3) {
        double same = 0, other = 0;
        for (int i = 0; i < 512; i++) {
            same = fmax(same, fabs(a[i] - a2[i]));
            other = fmax(other, fabs(a[i] - a3[i]));
        }
        CHECKF(same < 1e-3, "same seed differs by %g", same);
        CHECKF(other > 1e-2, "other seed differs only by %g", other);
    }
    free(a);
    free(b);
    free(a2);
    free(a3);
    lutlm_model_free(m2);
    lutlm_model_free(m3);
}

/* Every registered format that can quantize and decode works as the weight type of tiny (or is
 * refused with a message), and a separate head in another format is used as the output layer. */
static void test_formats(void) {
    for (int i = 0; i < lt_format_count(); i++) {
        const lt_format *f = lt_format_at(i);
        if (!f->quantize || !f->dequantize_row) {
            CHECK(lt_model_synthetic("tiny", f->name, NULL, 1) == NULL && strstr(lt_error(), f->name));
            continue;
        }
        lutlm_model *m = lt_model_synthetic("tiny", f->name, "q8_0", 3);
        if (!m) {
            /* only a shape the format cannot store is a valid reason */
            fprintf(stderr, "tiny as %s: %s\n", f->name, lt_error());
            CHECKF(strstr(lt_error(), "cannot be stored") || strstr(lt_error(), "cannot tile"), "%s", lt_error());
            continue;
        }
        CHECK(m->layers[0].w_gate.w.fmt == f);
        CHECK(!strcmp(m->output.w.fmt->name, "q8_0") && m->output.w.data != m->tok_embd.data);
        CHECK(m->output.w.ne[0] == 256 && m->output.w.ne[1] == 512);
        float *l = logits_of(m, 1);
        CHECKF(l != NULL, "%s: %s", f->name, lt_error());
        if (l) check_logits_healthy(l, 512);
        free(l);
        lutlm_model_free(m);
    }
}

/* Layers 1.. repeat layer 0: views of its bytes when the kernels run the format (default), own
 * copies with distinct_sources or when the format runs on the reference path. */
static void test_layer_sources(void) {
    lutlm_model *shared = lt_model_synthetic("tiny", "tern2", NULL, 5);
    lt_synthetic_options o = { .distinct_sources = true };
    lutlm_model *own = lt_model_synthetic_ex("tiny", "tern2", NULL, 5, &o);
    lutlm_model *q8 = lt_model_synthetic("tiny", "q8_0", NULL, 5);
    CHECK(shared && own && q8);
    if (!shared || !own || !q8) return;
    const lt_tensor *a = &shared->layers[0].w_up.w, *b = &shared->layers[3].w_up.w;
    if (shared->layers[0].w_up.q) {
        CHECK(a->data == b->data);
        CHECK(shared->layers[3].w_up.q && shared->layers[3].w_up.q != shared->layers[0].w_up.q);
    }
    const lt_tensor *c = &own->layers[0].w_up.w, *d = &own->layers[3].w_up.w;
    CHECK(c->data != d->data && c->nbytes == d->nbytes && !memcmp(c->data, d->data, c->nbytes));
    CHECK(!memcmp(a->data, c->data, a->nbytes)); /* same seed, same weights either way */
    CHECK(q8->layers[0].w_up.w.data != q8->layers[3].w_up.w.data);
    CHECK(!memcmp(q8->layers[0].w_up.w.data, q8->layers[3].w_up.w.data, q8->layers[0].w_up.w.nbytes));
    lutlm_model_free(shared);
    lutlm_model_free(own);
    lutlm_model_free(q8);
}

static void test_errors(void) {
    CHECK(lt_model_synthetic("gpt-5", NULL, NULL, 1) == NULL);
    CHECK(strstr(lt_error(), "gpt-5") && strstr(lt_error(), "bitnet-2b4t"));
    CHECK(lt_model_synthetic("tiny", "no-such-format", NULL, 1) == NULL);
    CHECK(strstr(lt_error(), "no-such-format") != NULL);
    CHECK(lt_model_synthetic("tiny", NULL, "no-such-head", 1) == NULL);
    CHECK(strstr(lt_error(), "no-such-head") != NULL);
    CHECK(lt_model_synthetic(NULL, NULL, NULL, 1) == NULL);
}

int main(void) {
    test_tiny_default();
    test_formats();
    test_layer_sources();
    test_errors();
    return TEST_DONE();
}
