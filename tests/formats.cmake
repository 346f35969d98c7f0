# Format registry: layouts, sizes, quantize/dequantize round trips (no files).
lutlm_unit_test(test_formats ${CMAKE_CURRENT_SOURCE_DIR}/test_formats.c)
