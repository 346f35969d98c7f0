# Tokenizer tests (owner: tokenizer). llama.cpp's vocab test vectors, SPM on stories260K,
# and the Hugging Face tokenizer.json imports (expected ids made once by scripts/gen_tokenizer_fixtures.py).
lutlm_unit_test(test_tokenizer_spm test_tokenizer_spm.c)
lutlm_unit_test(test_tokenizer_vocab test_tokenizer_vocab.c)
