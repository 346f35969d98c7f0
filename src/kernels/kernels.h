/* The LUT kernel library: low-bit weight matrices times activations by table lookup.
 *
 * A weight tensor (ternary or INT1–4) is repacked once into a kernel layout (lt_qweight, see
 * docs/kernels.md). A matmul quantizes each token's activations to int8 (absmax, BitNet semantics),
 * builds tables of partial sums of those int8 values and adds table entries selected by the weight
 * bits. All integer arithmetic is exact, so every ISA level returns bit-identical results.
 *
 *   y[n][M] = W · x[n][K]      W is [K = ne[0], M = ne[1]]
 *
 * Ternary weights: y = dot(t, q) * (s * a), a = max|x| / 127 the value of one activation step,
 *   q = clamp(round(x / a), ±127) (half away from zero, as runbit.c), t ∈ {-1,0,1}, s the row's (tensor's) scale; with one scale
 *   per block of K (TQ1_0/TQ2_0 when blocks differ) y = (Σ_b s_b · dot_b) · a.
 * INTn weights (w = s_g · q + m_g, q ∈ [0, 2^n)): y = (Σ_g s_g · dot_g(q, x) + m_g · Σ_{k∈g} x_k) · a.
 * The float combination uses fmaf in group order; every kernel does the same operations. */
#ifndef LUTLM_KERNELS_KERNELS_H
#define LUTLM_KERNELS_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/threadpool.h"
#include "formats/formats.h"

typedef struct lt_qweight lt_qweight;  /* a weight matrix repacked into a kernel layout */

/* Can lt_qweight_from_tensor take this format? (TERN2, I2_S, TQ1_0, TQ2_0, lutlm's LUT formats) */
bool lt_kernels_supports(const lt_format *fmt);
/* Repack t ([K, M]); NULL + lt_error() if unsupported or out of memory. Ternary weights with one
 * scale per row (BitNet) go to the 1.71-bit TERN3 layout where the active ISA has its kernels (AVX2
 * and NEON levels; env LUTLM_TERN3=0 keeps the 2-bit pairs), other ternary weights to the 2-bit pairs. */
lt_qweight *lt_qweight_from_tensor(const lt_tensor *t);
/* The tables ternary weights get at load, for messages ("ternary-pair" or the TERN3 note). */
const char *lt_kernels_ternary_layout(void);
void lt_qweight_free(lt_qweight *w);
/* Bytes the LUT kernel streams per full GEMV (weight indices + scales). */
size_t lt_qweight_bytes(const lt_qweight *w);
int64_t lt_qweight_k(const lt_qweight *w);
int64_t lt_qweight_m(const lt_qweight *w);

/* y[n][M] = W · x[n][K]. Chooses GEMV or the int8 GEMM by n; splits rows over the pool. */
void lt_qweight_matmul(const lt_qweight *w, const float *x, int64_t n, float *y, lt_pool *pool);

/* Activations prepared once (int8 + tables) and applied to several weights of the same K
 * (q/k/v, gate/up). Tables are built lazily for each layout kind and kept until the next
 * lt_act_prepare. One lt_act must not be used by two matmuls at the same time. */
typedef struct lt_act lt_act;
lt_act *lt_act_new(void);
void lt_act_free(lt_act *a);
bool lt_act_prepare(lt_act *a, const float *x, int64_t n, int64_t k);
/* The same with a choice of int8 rounding: LT_ACT_RUNBIT (lt_act_prepare: bitllama2.c's runbit.c,
 * q = round half away(x * (1/a)), a = max|x| / 127) or LT_ACT_GGML (bitnet.cpp's quantize_row_i8_s:
 * s = 127 / max(max|x|, 1e-5) rounded to float, q = round half to even(x * s), clamped to [-128, 127];
 * the token's step is then a = (float)(1 / s)). The kernels are the same for both. */
typedef enum { LT_ACT_RUNBIT, LT_ACT_GGML } lt_act_rule;
bool lt_act_prepare_rule(lt_act *a, const float *x, int64_t n, int64_t k, lt_act_rule rule);
/* The same with the tokens of a batch quantized in parallel on `pool` (may be NULL). */
bool lt_act_prepare_pool(lt_act *a, const float *x, int64_t n, int64_t k, lt_act_rule rule, lt_pool *pool);
void lt_qweight_matmul_act(const lt_qweight *w, lt_act *a, float *y, lt_pool *pool);
/* y_i = W_i · x for several weights applied to the same prepared activations (q/k/v, gate/up): the
 * weights of one layout shape share one parallel region (one wake-up of the pool instead of one per
 * weight). Same results as lt_qweight_matmul_act on each. */
#define LT_MATMUL_MANY_MAX 4
void lt_qweight_matmul_many(const lt_qweight *const *ws, int count, lt_act *a, float *const *ys, lt_pool *pool);

/* Which algorithm a matmul uses (tests and benchmarks force one; AUTO decides by n): GEMV tables,
 * vector-LUT GEMM, or the int8 GEMM (decoded codes x int8 activations, for many tokens). */
typedef enum { LT_PATH_AUTO, LT_PATH_GEMV, LT_PATH_VLUT, LT_PATH_GEMM } lt_kernel_path;
void lt_qweight_matmul_path(const lt_qweight *w, lt_act *a, float *y, lt_pool *pool, lt_kernel_path path);

/* Baselines on the same weights, for tests and benchmarks. Each needs its layout, built on
 * request (it costs memory the LUT path does not need):
 *  - int8: codes packed 2 or 4 bits per weight, decoded to int8 and multiplied with the int8
 *    activations (llama.cpp TQ2_0 / bitnet.cpp I2_S style); results are bit-identical to the LUT path;
 *  - f32: the dequantized weights times the float activations (no activation quantization). */
bool lt_qweight_add_baseline(lt_qweight *w);
bool lt_qweight_add_f32(lt_qweight *w);
size_t lt_qweight_baseline_bytes(const lt_qweight *w);
void lt_qweight_matmul_baseline(const lt_qweight *w, const float *x, int64_t n, float *y, lt_pool *pool);
void lt_qweight_matmul_f32(const lt_qweight *w, const float *x, int64_t n, float *y, lt_pool *pool);

/* A copy of w (all layouts it has); for benchmarks that need many copies out of cache. */
lt_qweight *lt_qweight_clone(const lt_qweight *w);

/* Runtime ISA: detected once (cpuid + xgetbv), overridable by env LUTLM_ISA=scalar|avx2|avx512|neon,
 * and settable from tests. lt_isa_set refuses a level the CPU (or this build) cannot run. */
typedef enum { LT_ISA_SCALAR, LT_ISA_AVX2, LT_ISA_AVX512, LT_ISA_NEON, LT_ISA_NEON_DOTPROD } lt_isa;
lt_isa lt_isa_detect(void);
lt_isa lt_isa_active(void);
bool lt_isa_set(lt_isa isa);
bool lt_isa_available(lt_isa isa);
const char *lt_isa_name(lt_isa isa);

#endif
