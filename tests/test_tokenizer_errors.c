/* Bad or unsupported tokenizer metadata gives a clear error (never a crash or a silent fallback),
 * built as small in-memory GGUF vocabularies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

/* A byte-level BPE vocabulary "a", "b", "ab" with one merge; pre may be NULL (key absent). */
static gguf_file *bpe_vocab(const char *model, const char *pre, bool with_merges, uint8_t **mem) {
    gguf_writer *w = gguf_writer_new();
    const char *tokens[] = { "a", "b", "ab" };
    const char *merges[] = { "a b" };
    gguf_writer_set_str(w, "tokenizer.ggml.model", model);
    if (pre) gguf_writer_set_str(w, "tokenizer.ggml.pre", pre);
    gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, 3);
    if (with_merges) gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, 1);
    size_t size = 0;
    bool ok = gguf_writer_write_memory(w, mem, &size);
    gguf_writer_free(w);
    return ok ? gguf_open_memory(*mem, size, "test-vocab") : NULL;
}

static void expect_error(const char *model, const char *pre, bool merges, const char *needle) {
    uint8_t *mem = NULL;
    gguf_file *f = bpe_vocab(model, pre, merges, &mem);
    CHECKF(f != NULL, "%s", lt_error());
    if (f) {
        lt_clear_error();
        lt_vocab *v = lt_vocab_load(f);
        CHECKF(v == NULL, "model %s pre %s loaded", model, pre ? pre : "(none)");
        CHECKF(strstr(lt_error(), needle) != NULL, "error '%s' lacks '%s'", lt_error(), needle);
        lt_vocab_free(v);
        gguf_close(f);
    }
    free(mem);
}

int main(void) {
    expect_error("gpt2", "no-such-pre", true, "unknown pre-tokenizer");
    expect_error("gpt2", "llama-bpe", false, "merges");
    expect_error("t5", NULL, true, "unsupported tokenizer.ggml.model");

    /* a missing pre is the logged 'default' fallback llama.cpp also takes */
    uint8_t *mem = NULL;
    gguf_file *f = bpe_vocab("gpt2", NULL, true, &mem);
    lt_vocab *v = f ? lt_vocab_load(f) : NULL;
    CHECKF(v != NULL, "%s", lt_error());
    if (v) {
        int32_t ids[8];
        int n = lt_tokenize(v, "ab", 2, ids, 8, false, false);
        CHECK(n == 1 && ids[0] == 2);
        /* BPE's default BOS/EOS (11) does not exist in a 3-token vocabulary: none, never a bad id */
        CHECK(lt_vocab_bos(v) == -1 && lt_vocab_eos(v) == -1);
        n = lt_tokenize(v, "ab", 2, ids, 8, true, false);
        CHECK(n == 1 && ids[0] == 2);
        /* ids out of range are harmless */
        char buf[8];
        CHECK(lt_token_to_piece(v, 99, buf, sizeof buf, true) == 0);
        CHECK(lt_token_to_piece(v, -1, buf, sizeof buf, true) == 0);
    }
    lt_vocab_free(v);
    gguf_close(f);
    free(mem);
    return TEST_DONE();
}
