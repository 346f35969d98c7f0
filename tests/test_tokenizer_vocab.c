/* llama.cpp's tokenizer test vectors: every ../shared/models/llamacpp-vocab/ggml-vocab-*.gguf with
 * .inp (strings separated by "\n__ggml_vocab_test__\n") and .out (expected ids, one line per
 * string), tokenized without BOS/EOS and without special-token parsing (as test-tokenizer-0).
 * Also the round trip detokenize(tokenize(s)) == s for the lossless (SPM, byte-level BPE) vocabs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

static const char *const VOCABS[] = { "llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact",
                                      "deepseek-coder", "deepseek-llm", "bert-bge" };

static void print_ids(const char *what, const int32_t *ids, int n) {
    fprintf(stderr, "    %s:", what);
    for (int i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

/* Returns true if every string of this vocabulary tokenizes as expected. */
static bool run_vocab(const char *name, int *n_strings, int *n_ok, int *n_roundtrip) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/llamacpp-vocab/ggml-vocab-%s.gguf", name);
    gguf_file *f = gguf_open(shared_path(rel));
    if (!f) { fprintf(stderr, "%s: %s\n", name, lt_error()); return false; }
    lt_vocab *v = lt_vocab_load(f);
    if (!v) { fprintf(stderr, "%s: %s\n", name, lt_error()); gguf_close(f); return false; }
    snprintf(rel, sizeof rel, "models/llamacpp-vocab/ggml-vocab-%s.gguf.inp", name);
    char *inp = lt_read_file(shared_path(rel), NULL);
    snprintf(rel, sizeof rel, "models/llamacpp-vocab/ggml-vocab-%s.gguf.out", name);
    char *out = lt_read_file(shared_path(rel), NULL);
    bool lossless = strcmp(name, "bert-bge") != 0;
    bool all_ok = inp && out;
    const char *sep = "\n__ggml_vocab_test__\n";
    char *s = inp, *line = out;
    int32_t got[4096], want[4096];
    char back[16384];
    while (all_ok && s && *s) {
        char *e = strstr(s, sep);
        if (!e) break;
        size_t slen = (size_t)(e - s);
        char *nl = strchr(line, '\n');
        size_t llen = nl ? (size_t)(nl - line) : strlen(line);
        int n_want = parse_ids(line, llen, want, 4096);
        int n_got = lt_tokenize(v, s, slen, got, 4096, false, false);
        (*n_strings)++;
        if (n_got == n_want && !memcmp(got, want, sizeof *got * (size_t)n_got)) {
            (*n_ok)++;
        } else {
            all_ok = all_ok && false;
            fprintf(stderr, "  %s: mismatch for \"%.*s\"\n", name, (int)slen, s);
            print_ids("want", want, n_want);
            print_ids("got ", got, n_got < 0 ? 0 : LT_MIN(n_got, 4096));
        }
        if (lossless && n_got >= 0) {
            int n = lt_detokenize(v, got, n_got, back, (int)sizeof back, false);
            bool same = (size_t)n == slen && !memcmp(back, s, slen);
            CHECKF(same, "%s: round trip of \"%.*s\" gave \"%s\"", name, (int)slen, s, back);
            if (same) (*n_roundtrip)++;
        }
        s = e + strlen(sep);
        line = nl ? nl + 1 : line + llen;
    }
    /* robustness: random bytes (mostly invalid UTF-8, stray special-token fragments) must tokenize
     * and detokenize without crashing, giving only valid ids */
    uint32_t seed = 12345;
    for (int r = 0; r < 200; r++) {
        char junk[96];
        int jl = 1 + r % 95;
        for (int k = 0; k < jl; k++) {
            seed = seed * 1103515245u + 12345u;
            uint8_t b = (uint8_t)(seed >> 16);
            junk[k] = (char)(r % 3 == 0 ? "<|> \n\xe2\x96\x81sa'"[b % 12] : b);
        }
        int n = lt_tokenize(v, junk, (size_t)jl, got, 4096, r & 1, r & 2);
        CHECKF(n >= 0 && n <= 4096, "%s: random input %d", name, r);
        if (n < 0) continue;
        for (int k = 0; k < n; k++) CHECK(got[k] >= 0 && got[k] < lt_vocab_size(v));
        int m = lt_detokenize(v, got, n, back, (int)sizeof back, true);
        CHECK(m >= 0 && m < (int)sizeof back);
    }
    /* random valid UTF-8 round-trips through every lossless vocabulary */
    static const char *const parts[] = { "a", "Z", " ", "  ", "\n", "\t", "\xc3\xa9", "\xf0\x9f\x98\x80", "<", "|>",
                                         "'s", "\xe4\xb8\xad", "7", "\xd0\xb6", "..." };
    for (int r = 0; lossless && r < 100; r++) {
        char text[256];
        size_t tl = 0;
        for (int k = 0; k < 1 + r % 20; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = parts[(seed >> 16) % LT_ARRAY_LEN(parts)];
            memcpy(text + tl, p, strlen(p));
            tl += strlen(p);
        }
        int n = lt_tokenize(v, text, tl, got, 4096, false, false);
        int m = n >= 0 ? lt_detokenize(v, got, n, back, (int)sizeof back, false) : -1;
        CHECKF(m == (int)tl && !memcmp(back, text, tl), "%s: random round trip %d", name, r);
    }
    free(inp);
    free(out);
    lt_vocab_free(v);
    gguf_close(f);
    return all_ok;
}

int main(void) {
    int passed = 0, total_strings = 0, total_ok = 0, total_rt = 0;
    for (size_t i = 0; i < LT_ARRAY_LEN(VOCABS); i++) {
        int n = 0, ok = 0, rt = 0;
        bool pass = run_vocab(VOCABS[i], &n, &ok, &rt);
        fprintf(stderr, "vocab %-15s %s  %d/%d strings, %d round trips\n", VOCABS[i], pass ? "PASS" : "FAIL", ok, n, rt);
        CHECKF(pass, "vocab %s", VOCABS[i]);
        passed += pass;
        total_strings += n;
        total_ok += ok;
        total_rt += rt;
    }
    fprintf(stderr, "llama.cpp vocab tests: %d/%zu vocabularies pass (%d/%d strings; %d round trips)\n", passed,
            LT_ARRAY_LEN(VOCABS), total_ok, total_strings, total_rt);
    return TEST_DONE();
}
