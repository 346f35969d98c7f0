# LUT kernels: scalar reference vs dequantize+F32 (bounded), SIMD/baseline vs reference (exact).
# test_kernels: a small matrix (unit). test_kernels_isa: every format x ISA x N x awkward shape (isa).
lutlm_unit_test(test_kernels ${CMAKE_CURRENT_SOURCE_DIR}/test_kernels.c)
lutlm_unit_test(test_kernels_isa ${CMAKE_CURRENT_SOURCE_DIR}/test_kernels.c)
target_compile_definitions(test_kernels_isa PRIVATE KERNELS_FULL=1)
set_tests_properties(test_kernels_isa PROPERTIES LABELS isa TIMEOUT 900)
# LUTLM_ISA forces a level (it once deadlocked: the one-time ISA set-up asked for itself).
lutlm_cli_test(kernels_isa_env unit ${LUTLM_BIN_FOR_TESTS} bench-kernels -f tern2 -n 1 -t 1 -s 1 -r 1 --mem-mb 8)
set_tests_properties(kernels_isa_env PROPERTIES TIMEOUT 60 PASS_REGULAR_EXPRESSION "ISA: scalar"
    ENVIRONMENT "LUTLM_ISA=scalar")
