# Synthetic models and `lutlm bench` (label unit: fast), `lutlm quantize` (label e2e: real models).
lutlm_unit_test(test_synthetic ${CMAKE_CURRENT_SOURCE_DIR}/test_synthetic.c)

# The bench command end to end on the tiny shape: a table, and JSON with the required fields.
lutlm_cli_test(bench_synthetic_tiny unit lutlm bench --synthetic tiny --output-type f16 -p 8 -n 4 -r 1)
set_tests_properties(bench_synthetic_tiny PROPERTIES PASS_REGULAR_EXPRESSION "\\| tiny \\| tern2 \\| f16 \\|.*\\| tg4 \\|")
lutlm_cli_test(bench_synthetic_tiny_json unit lutlm bench --synthetic tiny --output-type q8_0 -p 8 -n 4 -r 2 -t 1,2 -o json)
set_tests_properties(bench_synthetic_tiny_json PROPERTIES PASS_REGULAR_EXPRESSION
    "\n\\[\n  {\"model\": \"tiny\", \"type\": \"tern2\", \"output_type\": \"q8_0\", \"test\": \"pp8\".*\"threads\": 2.*\"test\": \"tg4\".*\"tokens_per_s\": [0-9.]+, \"stddev\": [0-9.]+, \"bytes_per_token\": [0-9]+, \"bw_gbps\": [0-9.]+, .*\"bw_limit_ratio\": [0-9.]+}\n\\]\n")
lutlm_cli_test(bench_bad_type unit lutlm bench --synthetic tiny --type no-such-format -p 8 -n 4 -r 1)
set_tests_properties(bench_bad_type PROPERTIES PASS_REGULAR_EXPRESSION "lutlm bench: synthetic model: unknown weight type 'no-such-format'")

# lutlm quantize: errors (unit), and the ternary 3M model re-encoded from F32 reproduces the
# bitllama2.c reference text (e2e).
add_executable(test_quantize ${CMAKE_CURRENT_SOURCE_DIR}/test_quantize.c)
target_link_libraries(test_quantize PRIVATE lutlm_static)
target_include_directories(test_quantize PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(test_quantize PRIVATE LUTLM_SHARED_DIR="${LUTLM_SHARED_DIR}")
# (the 1.6-bit lut_t16 is checked the same way by lowbit_3m_lut_t16, tests/lowbit.cmake)
foreach(case errors bitllama3m_tern2 bitllama3m_tern2_ref bitllama3m_i2_s)
  set(label e2e)
  if(case STREQUAL "errors")
    set(label unit)
  endif()
  add_test(NAME quantize_${case} COMMAND test_quantize ${case})
  set_tests_properties(quantize_${case} PROPERTIES LABELS ${label} ENVIRONMENT "LUTLM_SHARED=${LUTLM_SHARED_DIR}")
endforeach()
# The quantize command itself: progress lines name each re-encoded tensor.
lutlm_cli_test(quantize_cli unit lutlm quantize ${LUTLM_SHARED_DIR}/models/bitllama2c-ternary/bitllama2c-3M-f32.gguf
    test-quantize-cli-3M-tern2.gguf tern2)
set_tests_properties(quantize_cli PROPERTIES PASS_REGULAR_EXPRESSION
    "\\[[0-9]+/90\\] blk\\.3\\.ffn_up\\.weight f32 -> tern2\n.*lutlm quantize: wrote test-quantize-cli-3M-tern2\\.gguf")
lutlm_cli_test(quantize_cli_bad_type unit lutlm quantize ${LUTLM_SHARED_DIR}/models/bitllama2c-ternary/bitllama2c-3M-f32.gguf
    test-quantize-cli-bad.gguf int7)
set_tests_properties(quantize_cli_bad_type PROPERTIES PASS_REGULAR_EXPRESSION "lutlm quantize: unknown type 'int7' \\(formats with a quantizer: .*tern2")
# Perplexity of the re-encoded 3M model within +0.01 of F32 (3.4168, llama.cpp -c 128) (e2e).
foreach(type tern2 lut_t16)
  lutlm_cli_test(quantize_ppl_bitllama3m_${type} e2e bash ${CMAKE_CURRENT_SOURCE_DIR}/test_quantize_ppl.sh ${type} 3.4268)
endforeach()
# -d: the same tests after a filled KV cache (llama-bench's depth), named "ppN @ dD" / "tgN @ dD".
lutlm_cli_test(bench_synthetic_depth unit lutlm bench --synthetic tiny -p 8 -n 4 -d 0,16 -r 1 -t 1)
set_tests_properties(bench_synthetic_depth PROPERTIES PASS_REGULAR_EXPRESSION "\\| tg4 \\|.*\\| pp8 @ d16 \\|.*\\| tg4 @ d16 \\|")
