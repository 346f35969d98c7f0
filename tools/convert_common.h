/* `lutlm convert`: llama2.c / bitllama2.c checkpoints and llama2.c tokenizers to GGUF.
 * Shared between tools/cmd_convert.c (the command line) and tools/convert_*.c (the converters);
 * the tests link the convert_*.c files directly. */
#ifndef LUTLM_TOOLS_CONVERT_COMMON_H
#define LUTLM_TOOLS_CONVERT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"

/* What a llama2.c-family .bin file holds (decided from its header and its exact size). */
typedef enum l2c_kind {
    L2C_LEGACY_FP32,  /* run.c's checkpoint: 7 x int32 header, fp32 weights, RoPE tables */
    L2C_V1_FP32,      /* llama2.c export.py version 1: "ak42" 256-byte header, fp32, norms first */
    L2C_V2_INT8,      /* llama2.c export.py version 2: "ak42", norms fp32, weights int8 + fp32 group scales */
    L2C_TERNARY,      /* bitllama2.c: "ak42" version 1 header, ternary 2-bit weights + f32 scale each */
} l2c_kind;

typedef enum l2c_bit_order { L2C_BITS_AUTO = 0, L2C_BITS_MSB, L2C_BITS_LSB } l2c_bit_order;

typedef struct l2c_config {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    bool shared_classifier;
    int32_t group_size; /* L2C_V2_INT8 only */
} l2c_config;

/* A mapped checkpoint. */
typedef struct l2c_file {
    const char *path;
    const uint8_t *data;
    uint64_t size;
    l2c_kind kind;
    l2c_config cfg;
} l2c_file;

typedef struct lt_convert_options {
    const char *tokenizer_path; /* llama2.c tokenizer.bin (required for checkpoints) */
    const char *name;           /* general.name; NULL = the input file's base name */
    l2c_bit_order bit_order;    /* ternary files: which end of a byte holds element 0 */
    bool quiet;                 /* no progress on stderr */
} lt_convert_options;

/* Open a checkpoint, detect its kind and validate every size against the file (false + lt_error). */
bool l2c_open(const char *path, l2c_file *f);
void l2c_close(l2c_file *f);
const char *l2c_kind_name(l2c_kind kind);

/* Convert a checkpoint (any kind) with its tokenizer into a GGUF file. */
bool lt_convert_llama2c(const char *in_path, const char *out_path, const lt_convert_options *opt);

/* ---- pieces used by the converters ---- */

/* llama2.c tokenizer.bin: int32 max_token_length, then per token f32 score, int32 len, bytes. */
typedef struct l2c_vocab {
    int32_t n;
    char **tokens;   /* as llama.cpp's converter writes them: special names, ' ' -> U+2581 */
    float *scores;
    int32_t *types;  /* LT_TOKEN_* */
} l2c_vocab;
/* Read the first n_vocab tokens (the model's vocab_size). */
bool l2c_vocab_load(const char *path, int32_t n_vocab, l2c_vocab *v);
void l2c_vocab_free(l2c_vocab *v);
/* tokenizer.ggml.* keys (model "llama", tokens, scores, token_type, unk 0, bos 1, eos 2, ...). */
void l2c_vocab_to_gguf(const l2c_vocab *v, gguf_writer *w);

/* Buffers that must outlive gguf_writer_write (tensor data is referenced, not copied). */
typedef struct l2c_arena {
    void **ptrs;
    size_t n, cap;
} l2c_arena;
void *l2c_arena_alloc(l2c_arena *a, size_t bytes); /* NULL + lt_error on failure */
void l2c_arena_free(l2c_arena *a);

/* The bitllama2.c ternary converter (called by lt_convert_llama2c for L2C_TERNARY). */
bool l2c_convert_ternary(const l2c_file *f, const l2c_vocab *vocab, const lt_convert_options *opt, gguf_writer *w,
                         l2c_arena *arena);
/* Decide the bit order of a ternary file by which reading makes the model predict a short English
 * text better (see convert_bitorder.c). Returns MSB or LSB; *ambiguous is set when the two are close. */
l2c_bit_order l2c_detect_bit_order(const l2c_file *f, const l2c_vocab *vocab, bool *ambiguous, double nll[2]);
/* Decode ternary matrix `index` (kind-major: wq of every layer, then wk, ...) into t[rows*cols] in
 * {-1, 0, 1}; returns its scale. */
float l2c_ternary_matrix(const l2c_file *f, int kind, int layer, l2c_bit_order order, int8_t *t);
/* Rows/cols of ternary matrix kind k (0..6 = wq, wk, wv, wo, w1, w2, w3). */
void l2c_ternary_shape(const l2c_config *c, int kind, int64_t *rows, int64_t *cols);

#endif
