/* Re-encoding a GGUF model file into other weight formats (`lutlm quantize`). */
#ifndef LUTLM_MODEL_QUANTIZE_MODEL_H
#define LUTLM_MODEL_QUANTIZE_MODEL_H

#include <stdbool.h>
#include <stdio.h>

/* How lut_int<n>_g<G> weights are quantized (other formats have one quantizer each). */
typedef enum lt_quant_method {
    LT_QUANT_FIT = 0, /* per group, the (s, m) of least squared error (clipping search + refits); default */
    LT_QUANT_RTN,     /* round to nearest on the min/max grid (the format's reference quantizer) */
    LT_QUANT_GPTQ,    /* GPTQ with calibration activations of text the model samples itself */
} lt_quant_method;

typedef struct lt_quantize_params {
    const char *type;         /* format of every linear weight (attn_q/k/v/output, ffn_gate/up/down); required */
    const char *output_type;  /* output head (output.weight); NULL: keep. A tied model (no output.weight)
                                 applies it to token_embd unless embd_type is given, as llama.cpp does */
    const char *embd_type;    /* token embedding (token_embd.weight); NULL: keep */
    lt_quant_method method;   /* lut_int targets only (see above) */
    int calib_seqs;           /* GPTQ: sequences of calibration text sampled from IN (0: default 32) */
    FILE *progress;           /* one line per tensor ("[12/58] blk.3.ffn_up.weight q8_0 -> tern2"); NULL: quiet */
} lt_quantize_params;

/* Read `in`, re-encode as asked (each tensor decoded row by row to floats, then encoded with the
 * target format's quantizer), and write `out` with every metadata key copied and general.file_type
 * set. Norms and any other tensor are copied unchanged. false + lt_error() on any problem (unknown
 * type, a format without a quantizer, a shape the format cannot store, I/O); `out` is then not
 * written. */
bool lt_quantize_model(const char *in, const char *out, const lt_quantize_params *params);

/* The value general.file_type gets when the linear weights are in `fmt_name` (llama.cpp's
 * LLAMA_FTYPE numbering where it has one, 40 = bitnet.cpp's I2_S, else the lutlm type id). */
unsigned lt_quantize_file_type(const char *fmt_name);

#endif
