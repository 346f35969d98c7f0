/* SPM tokenizer on the stories260K vocabulary (what the end-to-end tests rely on), token pieces,
 * the streaming detokenizer's UTF-8 buffering, and error handling. */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

static void check_ids(const lt_vocab *v, const char *text, bool bos, const int32_t *want, int n_want) {
    int32_t got[256];
    int n = lt_tokenize(v, text, strlen(text), got, 256, bos, false);
    bool same = n == n_want && (n == 0 || !memcmp(got, want, sizeof *got * (size_t)n));
    CHECKF(same, "tokenize \"%s\": got %d tokens (first %d)", text, n, n > 0 ? got[0] : -1);
}

int main(void) {
    gguf_file *f = gguf_open(shared_path("models/stories260K/stories260K-f32.gguf"));
    CHECKF(f != NULL, "%s", lt_error());
    if (!f) return TEST_DONE();
    lt_vocab *v = lt_vocab_load(f);
    CHECKF(v != NULL, "%s", lt_error());
    if (!v) return TEST_DONE();
    CHECK(lt_vocab_size(v) == 512);
    CHECK(lt_vocab_bos(v) == 1 && lt_vocab_eos(v) == 2 && lt_vocab_add_bos(v));
    CHECK(lt_vocab_is_eog(v, 2) && !lt_vocab_is_eog(v, 1));

    check_ids(v, "Once upon a time", true, (const int32_t[]){ 1, 403, 407, 261, 378 }, 5);
    check_ids(v, "Once upon a time", false, (const int32_t[]){ 403, 407, 261, 378 }, 4);
    check_ids(v, "", true, (const int32_t[]){ 1 }, 1);
    check_ids(v, "", false, NULL, 0);

    /* pieces: SPM "▁" is a space, byte tokens are bytes, BOS is empty unless special */
    char buf[64];
    int n = lt_token_to_piece(v, 403, buf, sizeof buf, false);
    CHECK(n == 5 && !memcmp(buf, " Once", 5));
    CHECK(lt_token_to_piece(v, 1, buf, sizeof buf, false) == 0);
    n = lt_token_to_piece(v, 1, buf, sizeof buf, true);
    CHECK(n == 3 && !memcmp(buf, "<s>", 3));
    CHECK(lt_token_to_piece(v, 403, buf, 2, false) == 5); /* too small: the needed size */

    /* round trip through byte fallback: "é" (C3 A9) and an emoji are not in a 512-token vocab */
    const char *text = "Café \xf0\x9f\xa6\x99 ok";
    int32_t ids[64];
    n = lt_tokenize(v, text, strlen(text), ids, 64, true, false);
    CHECK(n > 0 && ids[0] == 1);
    char back[256];
    int m = lt_detokenize(v, ids + 1, n - 1, back, sizeof back, false);
    CHECKF(m == (int)strlen(text) && !strcmp(back, text), "round trip gave \"%s\"", back);

    /* streaming: never emits half of a UTF-8 character */
    lt_detok d;
    lt_detok_init(&d, v, false);
    char acc[256];
    int acc_n = 0;
    for (int i = 0; i < n; i++) {
        const char *out;
        int k = lt_detok_push(&d, ids[i], &out);
        if (k > 0) {
            unsigned char last = (unsigned char)out[k - 1];
            CHECKF(last < 0x80 || (last & 0xc0) == 0x80, "stream emitted a dangling lead byte");
            memcpy(acc + acc_n, out, (size_t)k);
            acc_n += k;
        }
    }
    const char *rest;
    int k = lt_detok_flush(&d, &rest);
    memcpy(acc + acc_n, rest, (size_t)k);
    acc_n += k;
    acc[acc_n] = 0;
    CHECKF(!strcmp(acc, text), "stream gave \"%s\"", acc);

    /* the SPM leading space: dropped after an unprinted BOS, kept after a printed "<s>" */
    const int32_t once[] = { 1, 403, 407, 261, 378 };
    for (int special = 0; special < 2; special++) {
        lt_detok_init(&d, v, special);
        acc_n = 0;
        for (int i = 0; i < 5; i++) {
            const char *out;
            int k2 = lt_detok_push(&d, once[i], &out);
            memcpy(acc + acc_n, out, (size_t)k2);
            acc_n += k2;
        }
        acc[acc_n] = 0;
        CHECKF(!strcmp(acc, special ? "<s> Once upon a time" : "Once upon a time"), "stream gave \"%s\"", acc);
    }

    lt_vocab_free(v);
    gguf_close(f);
    return TEST_DONE();
}
