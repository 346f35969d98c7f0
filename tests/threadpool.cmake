# Thread pool: shares run once per region, with more threads than cores, sleeping workers, pools
# made and freed often.
lutlm_unit_test(test_threadpool ${CMAKE_CURRENT_SOURCE_DIR}/test_threadpool.c)
# Per-thread objects are freed at thread exit (the kernels' activations and tlut buffers too).
lutlm_unit_test(test_thread_slot ${CMAKE_CURRENT_SOURCE_DIR}/test_thread_slot.c)
# Huge-page memory for the weights: alignment, no overlap, any free order, several threads.
lutlm_unit_test(test_hugemem ${CMAKE_CURRENT_SOURCE_DIR}/test_hugemem.c)
