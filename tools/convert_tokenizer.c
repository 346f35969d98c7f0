/* llama2.c tokenizer.bin -> GGUF tokenizer.ggml.* keys, as llama.cpp's convert-llama2c-to-ggml
 * writes them (so that tok512.bin gives exactly stories260K-f32.gguf's arrays):
 *   token 0 -> "<unk>" (UNKNOWN), 1 -> "<s>", 2 -> "</s>" (CONTROL), an empty text -> CONTROL,
 *   "<0xXX>" -> BYTE, anything else NORMAL; every ' ' becomes U+2581 ("▁", SentencePiece's space);
 *   scores are kept. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "convert_common.h"
#include "tokenizer/tokenizer.h"

/* ' ' -> "\xe2\x96\x81" (U+2581). */
static char *escape_spaces(const char *text, size_t len) {
    size_t spaces = 0;
    for (size_t i = 0; i < len; i++) spaces += text[i] == ' ';
    char *out = lt_malloc(len + 2 * spaces + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(o, "\xe2\x96\x81", 3); o += 3; }
        else *o++ = text[i];
    }
    *o = 0;
    return out;
}

/* llama.cpp tests sscanf(text, "<0x%02hhX>") == 1: "<0x" followed by a hex digit. */
static bool looks_like_byte_token(const char *text) {
    return !strncmp(text, "<0x", 3) && isxdigit((unsigned char)text[3]);
}

static int token_type(int32_t id, const char *text) {
    if (id == 0) return LT_TOKEN_UNKNOWN;
    if (id == 1 || id == 2 || !text[0]) return LT_TOKEN_CONTROL;
    if (looks_like_byte_token(text)) return LT_TOKEN_BYTE;
    return LT_TOKEN_NORMAL;
}

bool l2c_vocab_load(const char *path, int32_t n_vocab, l2c_vocab *v) {
    memset(v, 0, sizeof *v);
    size_t size;
    char *data = lt_read_file(path, &size);
    if (!data) return false;
    const uint8_t *p = (const uint8_t *)data, *end = p + size;
    bool ok = true;
    if (size < 4) ok = lt_set_error("%s: too short for a llama2.c tokenizer", path);
    p += 4; /* max_token_length: not needed */
    if (ok && n_vocab <= 0) ok = lt_set_error("%s: invalid vocabulary size %d", path, n_vocab);
    if (ok) {
        v->tokens = lt_calloc((size_t)n_vocab, sizeof *v->tokens);
        v->scores = lt_calloc((size_t)n_vocab, sizeof *v->scores);
        v->types = lt_calloc((size_t)n_vocab, sizeof *v->types);
        ok = v->tokens && v->scores && v->types;
    }
    for (int32_t id = 0; ok && id < n_vocab; id++) {
        int32_t len;
        if (end - p < 8) { ok = lt_set_error("%s: ends at token %d of %d (the model's vocab_size)", path, id, n_vocab); break; }
        memcpy(&v->scores[id], p, 4);
        memcpy(&len, p + 4, 4);
        p += 8;
        if (len < 0 || end - p < len) { ok = lt_set_error("%s: token %d: invalid length %d", path, id, len); break; }
        static const char *const special[3] = { "<unk>", "<s>", "</s>" };
        const char *text = id < 3 ? special[id] : (const char *)p;
        size_t text_len = id < 3 ? strlen(text) : (size_t)len;
        if (memchr(text, 0, text_len)) { ok = lt_set_error("%s: token %d contains a NUL byte", path, id); break; }
        v->tokens[id] = escape_spaces(text, text_len);
        ok = v->tokens[id] != NULL;
        v->n = id + 1;
        if (ok) v->types[id] = token_type(id, v->tokens[id]);
        p += len;
    }
    free(data);
    if (!ok) l2c_vocab_free(v);
    return ok;
}

void l2c_vocab_free(l2c_vocab *v) {
    for (int32_t i = 0; v->tokens && i < v->n; i++) free(v->tokens[i]);
    free(v->tokens);
    free(v->scores);
    free(v->types);
    memset(v, 0, sizeof *v);
}

void l2c_vocab_to_gguf(const l2c_vocab *v, gguf_writer *w) {
    gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)v->tokens, (uint64_t)v->n);
    gguf_writer_set_array(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v->scores, (uint64_t)v->n);
    gguf_writer_set_array(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->types, (uint64_t)v->n);
    gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", UINT32_MAX); /* sic: llama.cpp's key */
    gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", UINT32_MAX);
    gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", false);
}
