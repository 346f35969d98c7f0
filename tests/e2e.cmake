# End-to-end checks of whole models against reference outputs in ../shared/golden (label e2e).
set(M ${LUTLM_SHARED_DIR}/models)
set(G ${LUTLM_SHARED_DIR}/golden)

add_executable(test_e2e_models ${CMAKE_CURRENT_SOURCE_DIR}/test_e2e_models.c)
target_link_libraries(test_e2e_models PRIVATE lutlm_static)
target_include_directories(test_e2e_models PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(test_e2e_models PRIVATE LUTLM_SHARED_DIR="${LUTLM_SHARED_DIR}")
foreach(case tiny_f32 bitllama3m_f32 bitllama3m_q8_0 bitllama3m_q4_0 bitllama3m_tq2_0 bitllama3m_tq1_0)
  add_test(NAME e2e_${case} COMMAND test_e2e_models ${case})
  set_tests_properties(e2e_${case} PROPERTIES LABELS e2e ENVIRONMENT "LUTLM_SHARED=${LUTLM_SHARED_DIR}")
endforeach()

set(RUN_GOLDEN ${CMAKE_CURRENT_SOURCE_DIR}/run_golden.sh)
# llama2.c's run.c counts the prompt in its 256 steps: its text is a prefix of our 300 tokens. The
# references keep their KV cache in F32: so do these runs.
lutlm_cli_test(e2e_run_stories260k_f32 e2e bash ${RUN_GOLDEN} ${M}/stories260K/stories260K-f32.gguf
    "Once upon a time" ${G}/stories260K/llama2c-runc-greedy256.txt 300 -ctk f32 -ctv f32)
lutlm_cli_test(e2e_run_stories260k_f16 e2e bash ${RUN_GOLDEN} ${M}/stories260K/stories260K-f16.gguf
    "Once upon a time" ${G}/stories260K/llama2c-runc-greedy256.txt 300 -ctk f32 -ctv f32)
# llama.cpp, 1 thread, F32 KV cache, no flash attention, on the 3M ternary model stored as F32 (float math)
lutlm_cli_test(e2e_run_bitllama3m_f32 e2e bash ${RUN_GOLDEN} ${M}/bitllama2c-ternary/bitllama2c-3M-f32.gguf
    "Once upon a time" ${G}/bitllama2c-3M/llamacpp-3M-f32-greedy250-t1-f32kv-nofa.txt 250 -ctk f32 -ctv f32)

# Bad input to run / eval: clear messages and non-zero exits (fast; runs under ASan too).
lutlm_cli_test(run_errors unit bash ${CMAKE_CURRENT_SOURCE_DIR}/run_errors.sh)
