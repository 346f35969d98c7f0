# Attention products over an F32 or F16 KV cache: every ISA equals the portable code bit for bit.
lutlm_unit_test(test_attention ${CMAKE_CURRENT_SOURCE_DIR}/test_attention.c)
