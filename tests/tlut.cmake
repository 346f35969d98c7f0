# The ternary group-of-3 LUT GEMM (src/kernels/x86/tlut_avx2.c) against the scalar reference, bit
# for bit (label unit: a few seconds; skipped where the machine has no AVX2).
lutlm_unit_test(test_tlut ${CMAKE_CURRENT_SOURCE_DIR}/test_tlut.c)
