# The TERN3 layout (1.71-bit ternary): codes read back, every path equals TERNARY bit for bit, the
# AVX2 GEMV equals the reference; run with LUTLM_TERN3=0 (the full checks compare against TERNARY
# weights from lt_qweight_from_tensor) and, for the layout choice only, with LUTLM_TERN3=1.
lutlm_unit_test(test_tern3 ${CMAKE_CURRENT_SOURCE_DIR}/test_tern3.c)
set_property(TEST test_tern3 APPEND PROPERTY ENVIRONMENT LUTLM_TERN3=0)
add_test(NAME test_tern3_select COMMAND test_tern3 select)
set_tests_properties(test_tern3_select PROPERTIES LABELS unit ENVIRONMENT LUTLM_TERN3=1)
