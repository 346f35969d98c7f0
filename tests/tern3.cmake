# The TERN3 layout (1.71-bit ternary): codes read back, and every path equals TERNARY bit for bit.
lutlm_unit_test(test_tern3 ${CMAKE_CURRENT_SOURCE_DIR}/test_tern3.c)
