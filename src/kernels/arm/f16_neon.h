/* F16 scales (the kernel layout's per-group s and m, kernels_impl.h) as floats, exactly. */
#ifndef LUTLM_KERNELS_ARM_F16_NEON_H
#define LUTLM_KERNELS_ARM_F16_NEON_H

#include <arm_neon.h>
#include <stdint.h>

/* Four f16 values as floats. */
static inline float32x4_t load_f16x4(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }

#endif
