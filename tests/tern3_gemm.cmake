# TERN3 weights through the many-token kernels (int8 GEMM, tlut GEMM) against TERNARY and the
# reference, bit for bit (label unit: a few seconds; reference only where there is no AVX2).
lutlm_unit_test(test_tern3_gemm ${CMAKE_CURRENT_SOURCE_DIR}/test_tern3_gemm.c)
# The TERNARY weights it compares against come from lt_qweight_from_tensor: TERN3 selection off.
set_property(TEST test_tern3_gemm APPEND PROPERTY ENVIRONMENT LUTLM_TERN3=0)
