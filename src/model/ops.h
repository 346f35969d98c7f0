/* The element-wise and small dense operations of a transformer forward pass, in float.
 * Each is the textbook formula; they are not the hot path (the matmuls are). */
#ifndef LUTLM_MODEL_OPS_H
#define LUTLM_MODEL_OPS_H

#include <stdbool.h>
#include <stdint.h>

/* out = w * (x / sqrt(mean(x^2) + eps))   (w may be NULL: weight 1). out may alias x. */
void lt_rmsnorm(float *out, const float *x, const float *w, int n, float eps);
/* lt_rmsnorm of `rows` rows of n values (stride n; out may alias x), each with lt_rmsnorm's bits.
 * The sum of squares is one dependency chain per row: eight rows' chains run interleaved. */
void lt_rmsnorm_rows(float *out, const float *x, const float *w, int rows, int n, float eps);

/* Rotary position embedding on one head vector of head_dim values, rotating the first rope_dim.
 * Pair i (0 <= i < rope_dim/2) turns by angle pos / base^(2i/rope_dim) (float, as llama2.c):
 *   neox:   pairs (i, i + rope_dim/2)   (GPT-NeoX "rotate half"; bitnet, bitnet-b1.58)
 *   normal: pairs (2i, 2i + 1)          (GPT-J / original LLaMA; llama) */
/* The angles of one position (cos, sin of rope_dim/2 pairs; the same for every head and layer, so
 * computed once per token), then their application to one head vector. */
void lt_rope_angles(float *cos_out, float *sin_out, int rope_dim, int pos, float base);
void lt_rope_apply(float *v, const float *cos_in, const float *sin_in, int rope_dim, bool neox);

/* Float dot product (8 partial sums, so the compiler vectorizes it). */
float lt_dot_f32(const float *a, const float *b, int64_t n);
/* Float dot product summed left to right (the reference runners' rounding). */
float lt_dot_f32_seq(const float *a, const float *b, int64_t n);

/* Activations of the gated FFN: silu(g) * u and relu(g)^2 * u, written into g. */
void lt_swiglu(float *g, const float *u, int64_t n);
void lt_relu2_glu(float *g, const float *u, int64_t n);

/* BitNet activation quantization, as bitllama2.c's runbit.c does it: a = max|x| / 127,
 * q = round(x * (1/a)) (half away from zero, |q| <= 127). Returns a, the value of one int8 unit
 * (0 when x is all zeros, in which case q is all zeros): x ~ q * a. */
float lt_quantize_act_i8(const float *x, int8_t *q, int64_t n);

/* ggml's arithmetic (ops_ggml.c): the same operations in the float order and roundings of llama.cpp /
 * bitnet.cpp on x86 AVX2, for contexts with ggml_compat. */
void lt_rmsnorm_ggml(float *out, const float *x, const float *w, int n, float eps);
void lt_rope_angles_ggml(float *cos_out, float *sin_out, int rope_dim, int pos, float base);
void lt_softmax_ggml(float *x, int n);
float lt_dot_f32_ggml(const float *a, int64_t a_stride, const float *b, int64_t n);
float lt_dot_f16_ggml(const float *a, const float *b, int64_t n);
float lt_dot_tinyblas_ggml(const float *a, const float *b, int64_t n);
void lt_attention_values_ggml(float *out, float *p, const float *v, int64_t v_rows, int n, int dim, bool single);
float lt_quantize_act_i8_ggml(const float *x, int8_t *q, int64_t n);

#endif
