/* Hugging Face tokenizer.json import: convert the shared Llama-3 and Qwen3 tokenizer.json files to
 * vocab-only GGUFs and tokenize multilingual strings; the expected ids were produced once by HF
 * `tokenizers` (scripts/gen_tokenizer_fixtures.py -> tests/fixtures/tokenizer/). Also the JSON
 * reader's strictness on malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/json.h"
#include "tokenizer/tokenizer.h"

#ifndef LUTLM_FIXTURE_DIR
#define LUTLM_FIXTURE_DIR "tests/fixtures/tokenizer"
#endif

static void check_import(const char *name, const char *json_rel, const char *pre, const char *eot_text) {
    char gguf_path[] = "/tmp/lutlm-tok-XXXXXX";
    int fd = mkstemp(gguf_path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    double t0 = lt_time_now();
    bool ok = lt_convert_hf_tokenizer(shared_path(json_rel), gguf_path);
    CHECKF(ok, "%s: %s", name, lt_error());
    gguf_file *f = ok ? gguf_open(gguf_path) : NULL;
    lt_vocab *v = f ? lt_vocab_load(f) : NULL;
    CHECKF(v != NULL, "%s: %s", name, lt_error());
    fprintf(stderr, "%s: converted and loaded in %.2f s\n", name, lt_time_now() - t0);
    if (!v) { gguf_close(f); unlink(gguf_path); return; }
    CHECK(!strcmp(gguf_get_str(f, "tokenizer.ggml.pre"), pre));
    int32_t eot = lt_vocab_find(v, eot_text);
    CHECKF(eot >= 0 && lt_vocab_token_type(v, eot) == LT_TOKEN_CONTROL && lt_vocab_is_eog(v, eot), "%s: %s", name, eot_text);
    CHECK(lt_vocab_chat_template(v) != NULL);

    char path[512];
    snprintf(path, sizeof path, "%s/hf-strings.inp", LUTLM_FIXTURE_DIR);
    char *inp = lt_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/hf-%s.out", LUTLM_FIXTURE_DIR, name);
    char *out = lt_read_file(path, NULL);
    CHECKF(inp && out, "fixtures: %s", lt_error());
    const char *sep = "\n__ggml_vocab_test__\n";
    int n_ok = 0, n_all = 0;
    char *s = inp, *line = out;
    static int32_t got[4096], want[4096];
    char back[8192];
    while (inp && out && *s) {
        char *e = strstr(s, sep);
        if (!e) break;
        size_t slen = (size_t)(e - s);
        char *nl = strchr(line, '\n');
        size_t llen = nl ? (size_t)(nl - line) : strlen(line);
        int n_want = parse_ids(line, llen, want, 4096);
        int n_got = lt_tokenize(v, s, slen, got, 4096, false, false);
        bool same = n_got == n_want && !memcmp(got, want, sizeof *got * (size_t)n_want);
        CHECKF(same, "%s: \"%.*s\": %d tokens, expected %d", name, (int)slen, s, n_got, n_want);
        n_ok += same;
        n_all++;
        int m = lt_detokenize(v, got, n_got, back, (int)sizeof back, false); /* byte-level BPE is lossless */
        CHECKF((size_t)m == slen && !memcmp(back, s, slen), "%s: round trip of \"%.*s\"", name, (int)slen, s);
        s = e + strlen(sep);
        line = nl ? nl + 1 : line + llen;
    }
    free(inp);
    free(out);
    fprintf(stderr, "%s: %d/%d strings match HF tokenizers\n", name, n_ok, n_all);
    CHECK(n_all >= 30);

    /* special tokens are recognised only when asked */
    char text[64];
    snprintf(text, sizeof text, "Hi%s", eot_text);
    int n = lt_tokenize(v, text, strlen(text), got, 16, false, true);
    CHECK(n >= 2 && got[n - 1] == eot);
    n = lt_tokenize(v, text, strlen(text), got, 16, false, false);
    CHECK(n > 2 && got[n - 1] != eot);
    lt_vocab_free(v);
    gguf_close(f);
    unlink(gguf_path);
}

static void check_json(void) {
    const char *good = "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {}}";
    lt_json *j = lt_json_parse(good, strlen(good));
    CHECKF(j != NULL, "%s", lt_error());
    if (j) {
        const lt_json *a = lt_json_get(j, "a");
        CHECK(a && a->type == LT_JSON_ARRAY && a->n == 6);
        CHECK(a && a->items[1].number == -2500);
        CHECK(a && !strcmp(a->items[5].str, "x\xc3\xa9\xf0\x9f\x98\x80\n"));
        lt_json_free(j);
    }
    const char *bad[] = { "", "{", "[1,]", "{\"a\" 1}", "\"abc", "\"a\\x\"", "[1] x", "01x", "\"\\u12\"",
                          "{\"a\":\"tab\there\"}", "tru", "[-]", "\"\\ud800\\u0041\"" };
    for (size_t i = 0; i < LT_ARRAY_LEN(bad); i++) {
        lt_json *b = lt_json_parse(bad[i], strlen(bad[i]));
        CHECKF(b == NULL, "accepted malformed JSON '%s'", bad[i]);
        lt_json_free(b);
    }
    /* every truncation and many single-byte corruptions of a valid document: no crash, and a
     * truncated document is always rejected */
    const char *doc = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"\\u0120b\": 1}, "
                      "\"merges\": [\"a b\", [\"x\", \"y\"]]}, \"n\": -1.5e-3, \"t\": [true, false, null]}";
    size_t dl = strlen(doc);
    lt_json *whole = lt_json_parse(doc, dl);
    CHECKF(whole != NULL, "%s", lt_error());
    lt_json_free(whole);
    for (size_t cut = 0; cut < dl; cut++) {
        lt_json *t = lt_json_parse(doc, cut);
        CHECKF(t == NULL, "accepted a truncation at %zu", cut);
        lt_json_free(t);
    }
    char mutated[256];
    uint32_t seed = 7;
    for (int r = 0; r < 2000; r++) {
        memcpy(mutated, doc, dl);
        for (int k = 0; k < 1 + r % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            mutated[(seed >> 8) % dl] = (char)(seed >> 24);
        }
        lt_json_free(lt_json_parse(mutated, dl));
    }
    char deep[400];
    memset(deep, '[', sizeof deep);
    CHECK(lt_json_parse(deep, sizeof deep) == NULL);
}

/* A hand-made tokenizer.json: GPT-2's ByteLevel pre-tokenizer, or an unrecognised Split regex. */
static void check_small_import(void) {
    const char *gpt2 = "{\"added_tokens\": [{\"id\": 5, \"content\": \"<|end|>\", \"special\": true}],"
                       " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": true},"
                       " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"\\u0120\": 2, \"ab\": 3, \"\\u0120ab\": 4},"
                       " \"merges\": [\"a b\", \"\\u0120 ab\"]}}";
    const char *odd = "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\","
                      " \"pattern\": {\"Regex\": \"\\\\w+\"}}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}";
    char json_path[] = "/tmp/lutlm-tokjson-XXXXXX", gguf_path[] = "/tmp/lutlm-tokgguf-XXXXXX";
    int fd1 = mkstemp(json_path), fd2 = mkstemp(gguf_path);
    CHECK(fd1 >= 0 && fd2 >= 0);
    if (fd1 < 0 || fd2 < 0) return;
    close(fd2);
    CHECK(write(fd1, gpt2, strlen(gpt2)) == (ssize_t)strlen(gpt2));
    close(fd1);
    bool ok = lt_convert_hf_tokenizer(json_path, gguf_path);
    CHECKF(ok, "%s", lt_error());
    gguf_file *f = ok ? gguf_open(gguf_path) : NULL;
    lt_vocab *v = f ? lt_vocab_load(f) : NULL;
    CHECKF(v != NULL, "%s", lt_error());
    if (v) {
        CHECK(!strcmp(gguf_get_str(f, "tokenizer.ggml.pre"), "gpt-2"));
        int32_t ids[8];
        int n = lt_tokenize(v, "ab ab<|end|>", 12, ids, 8, false, true);
        CHECK(n == 3 && ids[0] == 3 && ids[1] == 4 && ids[2] == 5);
        CHECK(lt_vocab_token_type(v, 5) == LT_TOKEN_CONTROL);
    }
    lt_vocab_free(v);
    gguf_close(f);
    FILE *fp = fopen(json_path, "w");
    if (fp) { fputs(odd, fp); fclose(fp); }
    CHECK(!lt_convert_hf_tokenizer(json_path, gguf_path));
    CHECKF(strstr(lt_error(), "unrecognised pre_tokenizer") != NULL, "%s", lt_error());
    CHECK(!lt_convert_hf_tokenizer("/nonexistent/tokenizer.json", gguf_path));
    unlink(json_path);
    unlink(gguf_path);
}

int main(void) {
    check_json();
    check_small_import();
    check_import("llama3", "models/tokenizer-llama3-npm/tokenizer.json", "llama-bpe", "<|eot_id|>");
    check_import("qwen3", "models/tokenizer-qwen3-npm/tokenizer.json", "qwen2", "<|im_end|>");
    return TEST_DONE();
}
