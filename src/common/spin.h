/* A hint for spin-wait loops: let the other hardware thread run (x86 pause, ARM yield). */
#ifndef LUTLM_COMMON_SPIN_H
#define LUTLM_COMMON_SPIN_H

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void lt_cpu_relax(void) { _mm_pause(); }
#elif defined(__aarch64__)
static inline void lt_cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void lt_cpu_relax(void) {}
#endif

#endif
