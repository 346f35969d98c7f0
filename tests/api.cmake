lutlm_unit_test(test_api ${CMAKE_CURRENT_SOURCE_DIR}/test_api.c)
