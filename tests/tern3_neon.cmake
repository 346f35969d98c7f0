# TERN3 on the NEON levels (GEMV, both int8 GEMMs, dispatch) against the reference and TERNARY, bit
# for bit, under qemu in the aarch64 cross build (label unit: modest shapes; passes at once on x86).
# LUTLM_TERN3=0: the TERNARY weights it compares against come from lt_qweight_from_tensor.
lutlm_unit_test(test_tern3_neon ${CMAKE_CURRENT_SOURCE_DIR}/test_tern3_neon.c)
set_property(TEST test_tern3_neon APPEND PROPERTY ENVIRONMENT LUTLM_TERN3=0)
# The layout choice: TERN3 for per-row ternary weights on both NEON levels (LUTLM_TERN3=1).
add_test(NAME test_tern3_neon_select COMMAND test_tern3_neon select)
set_tests_properties(test_tern3_neon_select PROPERTIES LABELS unit ENVIRONMENT LUTLM_TERN3=1)
