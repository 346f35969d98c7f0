# Format registry: layouts, sizes, quantize/dequantize round trips (no files).
lutlm_unit_test(test_formats ${CMAKE_CURRENT_SOURCE_DIR}/test_formats.c)
# Decoding the shared llama.cpp / bitnet.cpp files, and re-quantizing them byte for byte.
lutlm_unit_test(test_formats_files ${CMAKE_CURRENT_SOURCE_DIR}/test_formats_files.c)
