/* lutlm — low-bit LLM inference on CPUs by table lookup.
 *
 * Public C API. Handles are opaque; functions that can fail return NULL or a negative/non-OK status
 * and leave a message for lutlm_last_error() (per thread). Nothing here aborts on bad input.
 *
 * Typical use:
 *   lutlm_model *m = lutlm_model_load("model.gguf", NULL);
 *   lutlm_context *c = lutlm_context_new(m, NULL);
 *   int32_t toks[512]; int n = lutlm_tokenize(m, "Once upon a time", -1, toks, 512, true, false);
 *   lutlm_decode(c, toks, n, false);                 // logits of the last token
 *   lutlm_sampler *s = lutlm_sampler_new(NULL);        // greedy by default
 *   int32_t next = lutlm_sampler_sample(s, lutlm_get_logits(c, -1), lutlm_model_n_vocab(m));
 */
#ifndef LUTLM_H
#define LUTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LUTLM_API_VERSION 1

typedef struct lutlm_model lutlm_model;
typedef struct lutlm_context lutlm_context;
typedef struct lutlm_sampler lutlm_sampler;

typedef enum lutlm_status {
    LUTLM_OK = 0,
    LUTLM_ERR_INVALID_ARGUMENT = -1,
    LUTLM_ERR_IO = -2,
    LUTLM_ERR_FORMAT = -3,       /* malformed or unsupported file */
    LUTLM_ERR_UNSUPPORTED = -4,  /* valid, but not something lutlm can run */
    LUTLM_ERR_OUT_OF_MEMORY = -5,
    LUTLM_ERR_CONTEXT_FULL = -6, /* the KV cache has no room for the tokens */
} lutlm_status;

/* The message of the last error on this thread. */
const char *lutlm_last_error(void);
const char *lutlm_version(void);

/* ---- models ---- */
typedef struct lutlm_model_params {
    bool use_mmap;   /* default true: weights are used in place from the mapped file */
    bool verbose;    /* print loading progress to stderr */
    bool use_kernels;/* default true: repack low-bit linear weights into LUT-kernel layouts at load
                        (env LUTLM_KERNELS=0 turns it off: every matmul takes the reference path) */
} lutlm_model_params;
lutlm_model_params lutlm_model_default_params(void);

lutlm_model *lutlm_model_load(const char *path, const lutlm_model_params *params);
void lutlm_model_free(lutlm_model *model);

int32_t lutlm_model_n_vocab(const lutlm_model *model);
int32_t lutlm_model_n_embd(const lutlm_model *model);
int32_t lutlm_model_n_layer(const lutlm_model *model);
int32_t lutlm_model_n_ctx_train(const lutlm_model *model);
const char *lutlm_model_arch(const lutlm_model *model);
/* A multi-line human description (architecture, hyper-parameters, tensor types, sizes). The string
 * is owned by the model. */
const char *lutlm_model_describe(lutlm_model *model);

/* ---- tokens ---- */
int32_t lutlm_token_bos(const lutlm_model *model);
int32_t lutlm_token_eos(const lutlm_model *model);
bool lutlm_token_is_eog(const lutlm_model *model, int32_t token);
/* Tokenize text (len < 0: NUL-terminated). Returns the number of tokens (may exceed max_tokens:
 * nothing useful was written then; call again) or a negative lutlm_status. */
int lutlm_tokenize(const lutlm_model *model, const char *text, int len, int32_t *tokens, int max_tokens,
                   bool add_special, bool parse_special);
/* Bytes of one token (see tokenizer docs). Returns the byte count, or the needed size if larger
 * than buflen. */
int lutlm_token_to_piece(const lutlm_model *model, int32_t token, char *buf, int buflen, bool special);

/* ---- contexts (KV cache + scratch) ---- */
/* How the KV cache stores K or V. F16 (the default, as llama.cpp's) halves the cache's memory and
 * what a decode step reads from it at long contexts; values are rounded to nearest F16 as they
 * enter. F32 keeps them exactly (what the reference runners do). */
typedef enum {
    LUTLM_CACHE_DEFAULT = 0, /* F16 */
    LUTLM_CACHE_F32,
    LUTLM_CACHE_F16,
} lutlm_cache_type;
/* "f32" / "f16" -> the type, or -1 for an unknown name. */
int lutlm_cache_type_from_name(const char *name);

typedef struct lutlm_context_params {
    int32_t n_ctx;      /* KV cache length in tokens; 0 = 4096 */
    int32_t n_threads;  /* 0 = number of cores */
    int32_t n_batch;    /* maximum tokens per forward pass; 0 = 512 */
    lutlm_cache_type type_k, type_v; /* KV cache storage (default F16 for both) */
    bool ggml_compat;   /* default false. true: compute as ggml does (llama.cpp / bitnet.cpp on x86 AVX2):
                           its summation orders, softmax exp, RoPE angles, bitnet.cpp's int8 activation
                           rounding, and F16 activations for F16 weights on single-token steps — to
                           compare with those engines step by step (slower attention). The KV cache
                           then stays F32 in memory and an F16 type rounds the values as they enter
                           (bitnet.cpp's runs: type_k F32, type_v F16). */
} lutlm_context_params;
lutlm_context_params lutlm_context_default_params(void);

lutlm_context *lutlm_context_new(lutlm_model *model, const lutlm_context_params *params);
void lutlm_context_free(lutlm_context *ctx);
int32_t lutlm_context_n_ctx(const lutlm_context *ctx);
int32_t lutlm_context_n_past(const lutlm_context *ctx); /* tokens in the KV cache */
/* Bytes of K and V that n cached positions take, all layers (what a decode step at that depth reads). */
uint64_t lutlm_context_kv_bytes(const lutlm_context *ctx, int32_t n_positions);
/* Forget cached tokens from position pos on (0 = clear). */
void lutlm_context_truncate(lutlm_context *ctx, int32_t pos);

/* Run the model on n tokens appended after the cached ones. If all_logits, logits for every one of
 * the n tokens are kept; otherwise only for the last. */
lutlm_status lutlm_decode(lutlm_context *ctx, const int32_t *tokens, int32_t n, bool all_logits);
/* Logits (n_vocab floats) of the i-th token of the last decode call; i = -1: the last one. */
const float *lutlm_get_logits(const lutlm_context *ctx, int32_t i);

/* ---- sampling ---- */
typedef struct lutlm_sampler_params {
    float temperature;     /* <= 0: greedy (argmax) */
    int32_t top_k;         /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float repeat_penalty;  /* 1: off */
    int32_t repeat_last_n; /* how many recent tokens the penalty sees */
    uint64_t seed;
} lutlm_sampler_params;
lutlm_sampler_params lutlm_sampler_default_params(void);

lutlm_sampler *lutlm_sampler_new(const lutlm_sampler_params *params);
void lutlm_sampler_free(lutlm_sampler *sampler);
int32_t lutlm_sampler_sample(lutlm_sampler *sampler, const float *logits, int32_t n_vocab);
/* Tell the sampler a token was chosen (or part of the prompt), for the repetition penalty. */
void lutlm_sampler_accept(lutlm_sampler *sampler, int32_t token);

#ifdef __cplusplus
}
#endif
#endif
