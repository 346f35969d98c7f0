# Tokenizer tests (owner: tokenizer). llama.cpp's vocab test vectors, SPM on stories260K,
# and the Hugging Face tokenizer.json imports (expected ids made once by scripts/gen_tokenizer_fixtures.py).
lutlm_unit_test(test_tokenizer_spm test_tokenizer_spm.c)
lutlm_unit_test(test_tokenizer_vocab test_tokenizer_vocab.c)
lutlm_cli_test(tokenizer_cli_tokenize unit sh -c
  "out=$(\"$LUTLM_BIN\" tokenize -m \"$LUTLM_SHARED/models/stories260K/stories260K-f32.gguf\" -p 'Once upon a time' --ids) && echo \"$out\" && test \"$out\" = '[1, 403, 407, 261, 378]'")
lutlm_cli_test(tokenizer_cli_detokenize unit sh -c
  "out=$(\"$LUTLM_BIN\" detokenize -m \"$LUTLM_SHARED/models/stories260K/stories260K-f32.gguf\" --ids '1 403 407 261 378' --special) && echo \"$out\" && test \"$out\" = '<s> Once upon a time'")
lutlm_unit_test(test_tokenizer_errors test_tokenizer_errors.c)
lutlm_unit_test(test_tokenizer_hf test_tokenizer_hf.c)
target_compile_definitions(test_tokenizer_hf PRIVATE LUTLM_FIXTURE_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures/tokenizer")

# lutlm perplexity against llama.cpp's llama-perplexity (-c 128 -b 128, 55 chunks; ../shared/README.md).
function(lutlm_ppl_test name model ref batch)
  lutlm_cli_test(${name} e2e sh -c
    "\"$LUTLM_BIN\" perplexity -m \"$LUTLM_SHARED/models/${model}\" -f \"$LUTLM_SHARED/models/eval-text/tinystories-valid-excerpt.clean.txt\" -c 128 -b ${batch} -t 1 | tee /dev/stderr | awk '/Final estimate/ { v = $5 } END { exit (v != \"\" && v - ${ref} <= 0.005 && ${ref} - v <= 0.005) ? 0 : 1 }'")
  set_tests_properties(${name} PROPERTIES TIMEOUT 900)
endfunction()
lutlm_ppl_test(perplexity_stories260K_f32 stories260K/stories260K-f32.gguf 3.7191 128)
lutlm_ppl_test(perplexity_stories260K_f32_b32 stories260K/stories260K-f32.gguf 3.7191 32)
lutlm_ppl_test(perplexity_bitllama2c_3M_f32 bitllama2c-ternary/bitllama2c-3M-f32.gguf 3.4168 128)
lutlm_unit_test(test_tokenizer_chat test_tokenizer_chat.c)
lutlm_cli_test(tokenizer_cli_chat unit sh -c
  "printf 'Tell me a story\\nWhat happened next?\\n/exit\\n' | \"$LUTLM_BIN\" chat -m \"$LUTLM_SHARED/models/stories260K/stories260K-f32.gguf\" --chat-template llama2 -n 24 -t 1 -c 256 | grep -q '[a-z]'")
lutlm_cli_test(tokenizer_cli_chat_no_template unit sh -c
  "\"$LUTLM_BIN\" chat -m \"$LUTLM_SHARED/models/stories260K/stories260K-f32.gguf\" < /dev/null 2>&1 | grep -q 'no tokenizer.chat_template'")
# quantized 3M files against llama.cpp's values (../shared/README.md; Q8_0 3.4173 default run / 3.4159 F32-KV run)
lutlm_ppl_test(perplexity_bitllama2c_3M_tq2_0 bitllama2c-ternary/bitllama2c-3M-tq2_0.gguf 3.4174 128)
lutlm_ppl_test(perplexity_bitllama2c_3M_tq1_0 bitllama2c-ternary/bitllama2c-3M-tq1_0.gguf 3.4174 128)
lutlm_ppl_test(perplexity_bitllama2c_3M_q8_0 bitllama2c-ternary/bitllama2c-3M-q8_0.gguf 3.4166 128)
lutlm_ppl_test(perplexity_bitllama2c_3M_q4_0 bitllama2c-ternary/bitllama2c-3M-q4_0.gguf 3.4556 128)
