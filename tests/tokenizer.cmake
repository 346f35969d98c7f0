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
