/* Hugging Face tokenizer.json (byte-level BPE) -> vocab-only GGUF, as llama.cpp's
 * convert_hf_to_gguf.py would write it: tokens with types (added tokens CONTROL when special or
 * special-looking, else USER_DEFINED; ids missing from the vocabulary become [PADn], UNUSED),
 * merges, the pre-tokenizer name recognised from the Split regex (llama-bpe, qwen2, gpt-2; anything
 * else is an error), and BOS/EOS/PAD, add_bos/add_eos and the chat template from the
 * tokenizer_config.json next to it (if present). */
#ifndef LUTLM_TOKENIZER_HF_IMPORT_H
#define LUTLM_TOKENIZER_HF_IMPORT_H

#include <stdbool.h>

/* false + lt_error() on failure. */
bool lt_convert_hf_tokenizer(const char *json_path, const char *out_path);

#endif
