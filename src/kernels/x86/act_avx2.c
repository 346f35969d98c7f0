/* The activation quantizers of act_quant.h compiled with AVX2 (8 floats per instruction): a decode
 * step quantizes ~15K values per layer on one thread, so the portable SSE2 loop showed in profiles.
 * CMake's recursive glob of src/kernels also lists this file on other targets: x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/act_quant.h"
#include "kernels/kernels_impl.h"

/* The step a of the token (see act.c's quantize_row). */
float lt_quant_row_avx2(const float *x, int8_t *q, int64_t k, lt_act_rule rule) {
    return rule == LT_ACT_GGML ? (float)(1.0 / (double)lt_quant_row_ggml(x, q, k)) : lt_quant_row_runbit(x, q, k);
}
#endif
