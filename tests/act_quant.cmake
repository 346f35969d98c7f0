# Activation quantization: the SIMD quantizer equals the portable rules bit for bit.
lutlm_unit_test(test_act_quant ${CMAKE_CURRENT_SOURCE_DIR}/test_act_quant.c)
