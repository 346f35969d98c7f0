/* Synthetic models: the shape of a real model with random weights, built in memory (no GGUF file,
 * no tokenizer), so that speed can be measured without downloading anything. */
#ifndef LUTLM_MODEL_SYNTHETIC_H
#define LUTLM_MODEL_SYNTHETIC_H

#include <stdint.h>

#include "lutlm.h"

/* Build model `name` (see lt_synthetic_names) with every linear weight in format `weight_type`
 * (NULL: tern2 for BitNet shapes, lut_int4_g64 for llama shapes, or q4_0 without LUT kernels) and
 * the output head in `output_type` (NULL: lut_int4_g64, or q8_0 without LUT kernels; "f16" on a
 * tied shape shares the f16 token embedding, as in the real BitNet-2B-4T file). The token
 * embedding is always f16. m->gguf and m->vocab are NULL (no tokenizer). Same seed, same weights.
 * NULL + lt_error() on an unknown name or type, or a shape the format cannot store. */
lutlm_model *lt_model_synthetic(const char *name, const char *weight_type, const char *output_type, uint64_t seed);

typedef struct lt_synthetic_options {
    /* Give every layer its own copy of the generated weights even when the LUT kernels run them
     * (by default layers 1.. view layer 0's, which only the reference path reads). Set it to time
     * the reference path fairly; it costs the memory of the unpacked weights. */
    bool distinct_sources;
} lt_synthetic_options;

/* lt_model_synthetic with options (NULL: defaults). */
lutlm_model *lt_model_synthetic_ex(const char *name, const char *weight_type, const char *output_type, uint64_t seed,
                                   const lt_synthetic_options *options);

/* The known names, comma-separated, for help texts and error messages. */
const char *lt_synthetic_names(void);

#endif
