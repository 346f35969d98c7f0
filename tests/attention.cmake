# Attention products over an F32 or F16 KV cache: every ISA equals the portable code bit for bit.
lutlm_unit_test(test_attention ${CMAKE_CURRENT_SOURCE_DIR}/test_attention.c)
# The KV cache through the API: one-token steps (the split decode path) equal one batch bit for bit,
# F32 and F16 caches, 1 and 3 threads; F16 stays close to F32.
lutlm_unit_test(test_kv_cache ${CMAKE_CURRENT_SOURCE_DIR}/test_kv_cache.c)
# RMSNorm of a batch's rows (eight sums interleaved) equals RMSNorm row by row bit for bit.
lutlm_unit_test(test_ops ${CMAKE_CURRENT_SOURCE_DIR}/test_ops.c)
# lutlm's expf has libm's bits (glibc), and the softmax of every ISA the portable code's.
lutlm_unit_test(test_expf ${CMAKE_CURRENT_SOURCE_DIR}/test_expf.c)
