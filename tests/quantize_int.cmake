# The lut_int quantizers: least-squares fit per group and GPTQ on synthetic matrices (unit).
lutlm_unit_test(test_quantize_int ${CMAKE_CURRENT_SOURCE_DIR}/test_quantize_int.c)
