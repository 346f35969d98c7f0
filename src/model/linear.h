/* A linear layer y = scale * W x, for a weight in any registered format.
 *
 * Two paths compute it:
 *  - the LUT kernels (src/kernels) when the weight was repacked into a kernel layout at load;
 *  - the reference path: decode each weight row to floats and take dot products. For ternary
 *    formats the reference follows BitNet semantics — each token's activations are quantized to int8
 *    (scale 127/max|x|) first — so both paths compute the same function. */
#ifndef LUTLM_MODEL_LINEAR_H
#define LUTLM_MODEL_LINEAR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/threadpool.h"
#include "formats/formats.h"

struct lt_qweight;

typedef struct lt_linear {
    lt_tensor w;              /* [K = ne[0], M = ne[1]] */
    float scale;              /* extra per-matrix scale (llama.cpp bitnet "*.scale" tensors); 1 if none */
    struct lt_qweight *q;     /* kernel layout, or NULL for the reference path */
} lt_linear;

static inline int64_t lt_linear_in(const lt_linear *l) { return l->w.ne[0]; }
static inline int64_t lt_linear_out(const lt_linear *l) { return l->w.ne[1]; }

/* Scratch the reference path needs for n tokens of width K: caller-owned, sized by
 * lt_linear_scratch_bytes(K, n, n_threads). */
size_t lt_linear_scratch_bytes(int64_t k, int64_t n, int n_threads);

/* y[n][M] = scale * W · x[n][K]. With kernels, `act` (may be NULL) holds the quantized activations.
 * ggml: round as ggml does (lutlm_context_params.ggml_compat): ternary weights quantize activations
 * with bitnet.cpp's rule (LT_ACT_GGML; the reference path also scales as bitnet.cpp does,
 * ((float)Σ t q) / s * scale, where the kernels keep their (float)Σ t q * (scale * a), at most an
 * ulp apart); F16 weights take F16-rounded activations for a single token and sum in ggml's orders. */
struct lt_act;
void lt_linear_forward(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch,
                       struct lt_act *act, bool ggml);

/* Several layers applied to the same input x (q/k/v, gate/up): with kernels, the activations are
 * quantized and tabulated once (in `act`) for all of them. */
void lt_linear_forward_many(const lt_linear *const *ls, int count, const float *x, int64_t n, float *const *ys,
                            lt_pool *pool, void *scratch, struct lt_act *act, bool ggml);

/* The reference path alone (used by tests and as the baseline). */
void lt_linear_forward_ref(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch, bool ggml);

#endif
