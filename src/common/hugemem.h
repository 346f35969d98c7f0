/* Memory for large, long-lived buffers that the kernels stream (the repacked weights): carved
 * from 2 MiB-aligned mappings advised for transparent huge pages (MADV_HUGEPAGE; this machine's
 * Linux gives huge pages only to memory that asks, `/sys/kernel/mm/transparent_hugepage/enabled`
 * = madvise). A decode step streams every weight once, so with 4 KiB pages it walks the page
 * tables every 4 KiB (a two-level walk in a VM); with 2 MiB pages 512x less often.
 *
 * Buffers are 64-byte aligned and carved in order from shared 64 MiB mappings (a buffer of more
 * than a quarter of that gets its own); a mapping is returned to the system when its last buffer
 * is freed, and freed space is not reused before that, which suits buffers that live as long as
 * their model. Thread-safe. Builds with AddressSanitizer use lt_aligned_alloc instead, so that
 * ASan still sees every overflow. */
#ifndef LUTLM_COMMON_HUGEMEM_H
#define LUTLM_COMMON_HUGEMEM_H

#include <stddef.h>

/* n bytes (n = 0: one), 64-byte aligned, contents unspecified; NULL + lt_error() if out of memory. */
void *lt_huge_alloc(size_t n);

/* Free a buffer of lt_huge_alloc (NULL: nothing). */
void lt_huge_free(void *p);

#endif
