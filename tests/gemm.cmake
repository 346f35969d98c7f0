# The int8 GEMM path (prompt processing) vs the scalar reference, bit for bit, on every ISA level
# the machine has (label unit: a few seconds; under qemu-aarch64 it runs the NEON kernel).
lutlm_unit_test(test_gemm ${CMAKE_CURRENT_SOURCE_DIR}/test_gemm.c)
