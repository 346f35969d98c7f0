/* Helpers shared by the format implementations in src/formats (not a public interface).
 * Everything here reads and writes little-endian data, as GGUF stores it. */
#ifndef LUTLM_FORMATS_FORMAT_IMPL_H
#define LUTLM_FORMATS_FORMAT_IMPL_H

#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "formats/formats.h"

/* Unaligned loads/stores: tensor data inside a GGUF file has no alignment promise below 32 bytes
 * and blocks such as Q8_0's 34 bytes leave their f16 at odd offsets. */
static inline uint16_t lt_load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline float lt_load_f32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static inline float lt_load_f16(const uint8_t *p) { return lt_fp16_to_fp32(lt_load_u16(p)); }
static inline void lt_store_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void lt_store_f32(uint8_t *p, float v) { memcpy(p, &v, 4); }

/* The bytes of row `row` of a tensor (row size from the registry). */
static inline const uint8_t *lt_row_data(const lt_tensor *t, int64_t row) {
    return (const uint8_t *)t->data + (size_t)row * lt_format_row_bytes(t->fmt, t->ne[0]);
}

/* Total weights of a tensor (ne[0] * rows). */
static inline int64_t lt_tensor_elements(const lt_tensor *t) { return t->ne[0] * lt_tensor_rows(t); }

/* Quantizers for the block formats encode row by row: nrows x ne0 floats into consecutive rows. */
typedef void (*lt_quantize_row_fn)(const float *src, uint8_t *dst, int64_t ne0);
bool lt_quantize_rows(const lt_format *fmt, lt_quantize_row_fn fn, const float *src, int64_t ne0,
                      int64_t nrows, void *dst);

#endif
