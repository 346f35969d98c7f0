# `lutlm convert`: the converters are linked into the test directly (tools/convert_*.c).
file(GLOB LUTLM_CONVERT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/convert_*.c)
lutlm_unit_test(test_convert ${CMAKE_CURRENT_SOURCE_DIR}/test_convert.c ${LUTLM_CONVERT_SOURCES})
# The command line: usage, errors, a conversion (unit); converted models generate the reference
# texts with `lutlm run` (e2e).
lutlm_cli_test(convert_cli unit bash ${CMAKE_CURRENT_SOURCE_DIR}/convert_cli.sh unit)
lutlm_cli_test(e2e_convert_run e2e bash ${CMAKE_CURRENT_SOURCE_DIR}/convert_cli.sh e2e)
