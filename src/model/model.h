/* The in-memory model: hyper-parameters from GGUF metadata and views of the weight tensors. */
#ifndef LUTLM_MODEL_MODEL_H
#define LUTLM_MODEL_MODEL_H

#include <stdbool.h>

#include "formats/formats.h"
#include "gguf/gguf.h"
#include "lutlm.h"
#include "model/linear.h"
#include "tokenizer/tokenizer.h"

typedef enum { LT_ARCH_LLAMA, LT_ARCH_BITNET, LT_ARCH_BITNET_B158 } lt_arch;
typedef enum { LT_FFN_SILU, LT_FFN_RELU2 } lt_ffn_act;

typedef struct lt_hparams {
    lt_arch arch;
    char arch_name[32];
    int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx_train, rope_dim;
    float rope_base, norm_eps;
    bool rope_neox;       /* rotate (i, i + d/2) pairs instead of (2i, 2i + 1) */
    bool sub_norms;       /* attn_sub_norm before Wo, ffn_sub_norm before Wdown (BitNet) */
    lt_ffn_act ffn_act;
} lt_hparams;

typedef struct lt_layer {
    float *attn_norm, *attn_sub_norm, *ffn_norm, *ffn_sub_norm; /* decoded norm weights (owned) */
    lt_linear wq, wk, wv, wo, w_gate, w_up, w_down;
} lt_layer;

struct lutlm_model {
    char *path;
    gguf_file *gguf;
    lt_hparams hp;
    lt_vocab *vocab;
    lt_tensor tok_embd;
    float *output_norm;   /* owned */
    lt_linear output;     /* may view tok_embd (tied) */
    lt_layer *layers;
    char *description;
    void *owned_weights;  /* buffers of weights converted at load (if any) */
    int n_repacked;       /* linear weights repacked into kernel layouts */
    uint64_t repacked_bytes, repacked_source_bytes;
};

/* Fill hp from the file's metadata; false + lt_error() if a key is missing or inconsistent. */
bool lt_hparams_load(const gguf_file *f, const char *path, lt_hparams *hp);

/* Every linear layer of the model, for passes over all of them (repacking, statistics). */
int lt_model_linears(lutlm_model *m, lt_linear **out, int max);

#endif
