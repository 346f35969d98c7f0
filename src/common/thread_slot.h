/* Per-thread objects that are freed when their thread exits: a slot is one pthread key whose
 * destructor frees the calling thread's object. _Thread_local pointers would leak the object of
 * every thread that exits (a server that calls the library from a thread per request). */
#ifndef LUTLM_COMMON_THREAD_SLOT_H
#define LUTLM_COMMON_THREAD_SLOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
    void (*destroy)(void *); /* frees a thread's object at its exit */
    atomic_int ready;
    pthread_key_t key;
} lt_thread_slot;

#define LT_THREAD_SLOT(destroy_fn) { .destroy = (destroy_fn) }

/* The calling thread's object (NULL before the first lt_thread_slot_set, or if no key could be made). */
void *lt_thread_slot_get(lt_thread_slot *s);
/* Store the calling thread's object; false if no key could be made (the caller then frees it). */
bool lt_thread_slot_set(lt_thread_slot *s, void *p);

#endif
