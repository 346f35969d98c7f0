# Thread pool: shares run once per region, with more threads than cores, sleeping workers, pools
# made and freed often.
lutlm_unit_test(test_threadpool ${CMAKE_CURRENT_SOURCE_DIR}/test_threadpool.c)
