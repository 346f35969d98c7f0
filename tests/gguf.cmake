# GGUF reader/writer tests (owner: gguf).
lutlm_unit_test(test_gguf_models ${CMAKE_CURRENT_SOURCE_DIR}/test_gguf_models.c)
lutlm_unit_test(test_gguf ${CMAKE_CURRENT_SOURCE_DIR}/test_gguf.c)
lutlm_unit_test(test_gguf_corrupt ${CMAKE_CURRENT_SOURCE_DIR}/test_gguf_corrupt.c)
lutlm_cli_test(test_gguf_info cli bash ${CMAKE_CURRENT_SOURCE_DIR}/test_gguf_info.sh)
