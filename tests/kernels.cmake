# LUT kernels: scalar reference vs dequantize+F32 (bounded), SIMD/baseline vs reference (exact).
# test_kernels: a small matrix (unit). test_kernels_isa: every format x ISA x N x awkward shape (isa).
lutlm_unit_test(test_kernels ${CMAKE_CURRENT_SOURCE_DIR}/test_kernels.c)
lutlm_unit_test(test_kernels_isa ${CMAKE_CURRENT_SOURCE_DIR}/test_kernels.c)
target_compile_definitions(test_kernels_isa PRIVATE KERNELS_FULL=1)
set_tests_properties(test_kernels_isa PROPERTIES LABELS isa TIMEOUT 900)
