/* Per-thread objects (common/thread_slot.h) are freed when their thread exits, and so are the
 * kernels' per-thread activations and tlut buffers of threads that called a matmul and ended
 * (the ASan build's leak check sees any that is not). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/thread_slot.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "test_kernel_util.h"

static atomic_int destroyed;
static void count_free(void *p) {
    free(p);
    atomic_fetch_add(&destroyed, 1);
}
static lt_thread_slot slot = LT_THREAD_SLOT(count_free);

static void *set_object(void *arg) {
    (void)arg;
    int *p = malloc(sizeof *p);
    bool ok = lt_thread_slot_set(&slot, p) && lt_thread_slot_get(&slot) == p;
    if (!ok) free(p);
    return ok ? p : NULL;
}

static lt_qweight *weight;

/* A 64-token matmul (int8 GEMM or tlut: both keep per-thread state) and a GEMV from this thread. */
static void *matmul(void *arg) {
    (void)arg;
    int64_t k = lt_qweight_k(weight), m = lt_qweight_m(weight);
    float *x = test_extreme_acts(k, 64), *y = malloc((size_t)(64 * m) * sizeof(float));
    lt_qweight_matmul(weight, x, 64, y, NULL);
    lt_qweight_matmul(weight, x, 1, y, NULL);
    free(x);
    free(y);
    return NULL;
}

int main(void) {
    pthread_t t[4];
    void *got[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, set_object, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &got[i]);
        CHECK(got[i] != NULL);
    }
    CHECK(atomic_load(&destroyed) == 4);
    CHECK(lt_thread_slot_get(&slot) == NULL); /* this thread never set one */

    const lt_format *fmt = lt_format_by_type(LT_TYPE_TERN2);
    float *w = malloc(256 * 96 * sizeof(float));
    for (int i = 0; i < 256 * 96; i++) w[i] = (float)((int)(test_rnd() % 3) - 1) * 0.01f;
    weight = test_qweight_from_floats(fmt, w, 256, 96);
    CHECK(weight != NULL);
    for (int i = 0; weight && i < 3; i++) {
        CHECK(pthread_create(&t[i], NULL, matmul, NULL) == 0);
        pthread_join(t[i], NULL);
    }
    lt_qweight_free(weight);
    return TEST_DONE();
}
