/* GPTQ for the lut_int<n>_g<G> formats (`lutlm quantize --method gptq`).
 *
 * gptq.c: one weight matrix, given the Gram matrix H = sum_t x_t x_t^T of its inputs;
 * calibrate.c: the whole model, layer by layer, with calibration text sampled from the model. */
#ifndef LUTLM_MODEL_QUANTIZE_GPTQ_H
#define LUTLM_MODEL_QUANTIZE_GPTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gguf/gguf.h"

/* Quantize w (rows x k floats, row-major) to lut_int<bits>_g<group> into out (rows * ceil(k/group)
 * blocks), minimizing ||(W - Q) X||^2 for inputs whose Gram matrix is h (k x k, doubles; it is
 * damped and factored in place). w is overwritten with the decoded weights Q. false + lt_error()
 * if h cannot be factored or memory runs out. */
bool lt_gptq_matrix(float *w, int64_t rows, int64_t k, double *h, int bits, int group, uint8_t *out);

/* GPTQ of every linear weight (blk.N.attn_q/k/v/output, ffn_gate/up/down) of a Llama-architecture
 * model, in the order of the forward pass: each matrix sees the activations of the calibration
 * text through the already quantized ones. Calibration: n_seqs sequences of up to 128 tokens sampled
 * (temperature 1, fixed seed) from the model file `path` itself. out[i] / nbytes[i] receive the
 * encoding of tensor i of f (malloc'ed; NULL for tensors that are not linear weights). */
bool lt_gptq_quantize_model(const char *path, const gguf_file *f, int bits, int group, int n_seqs, void **out,
                            uint64_t *nbytes, FILE *progress);

#endif
