/* Dispatch of a linear layer to the kernel layout (if the weight was repacked) or the reference. */
#include "model/linear.h"

void lt_linear_forward(const lt_linear *l, const float *x, int64_t n, float *y, lt_pool *pool, void *scratch) {
    if (n <= 0) return;
    lt_linear_forward_ref(l, x, n, y, pool, scratch);
}
