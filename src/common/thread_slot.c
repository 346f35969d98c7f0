#include "common/thread_slot.h"

static pthread_mutex_t make_lock = PTHREAD_MUTEX_INITIALIZER;

/* 1 once the slot's key exists, -1 if it could not be made. */
static int make_key(lt_thread_slot *s) {
    int state = atomic_load_explicit(&s->ready, memory_order_acquire);
    if (state) return state;
    pthread_mutex_lock(&make_lock);
    state = atomic_load_explicit(&s->ready, memory_order_relaxed);
    if (!state) {
        state = pthread_key_create(&s->key, s->destroy) == 0 ? 1 : -1;
        atomic_store_explicit(&s->ready, state, memory_order_release);
    }
    pthread_mutex_unlock(&make_lock);
    return state;
}

void *lt_thread_slot_get(lt_thread_slot *s) { return make_key(s) > 0 ? pthread_getspecific(s->key) : NULL; }

bool lt_thread_slot_set(lt_thread_slot *s, void *p) { return make_key(s) > 0 && pthread_setspecific(s->key, p) == 0; }
