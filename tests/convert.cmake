# `lutlm convert`: the converters are linked into the test directly (tools/convert_*.c).
file(GLOB LUTLM_CONVERT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/convert_*.c)
lutlm_unit_test(test_convert ${CMAKE_CURRENT_SOURCE_DIR}/test_convert.c ${LUTLM_CONVERT_SOURCES})
