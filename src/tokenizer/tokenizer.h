/* Tokenizers, loaded from a GGUF file's tokenizer.ggml.* metadata.
 * "llama" = SentencePiece-style (scores, byte fallback); "gpt2" = byte-level BPE (merges + the
 * pre-tokenizer named by tokenizer.ggml.pre); "bert" = WordPiece (if supported). */
#ifndef LUTLM_TOKENIZER_H
#define LUTLM_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"

typedef struct lt_vocab lt_vocab;

/* Token types as in GGUF tokenizer.ggml.token_type. */
enum { LT_TOKEN_NORMAL = 1, LT_TOKEN_UNKNOWN = 2, LT_TOKEN_CONTROL = 3, LT_TOKEN_USER_DEFINED = 4,
       LT_TOKEN_UNUSED = 5, LT_TOKEN_BYTE = 6 };

/* NULL (and lt_error()) if the metadata is missing or inconsistent. */
lt_vocab *lt_vocab_load(const gguf_file *f);
void lt_vocab_free(lt_vocab *v);

int32_t lt_vocab_size(const lt_vocab *v);
int32_t lt_vocab_bos(const lt_vocab *v);   /* -1 if none */
int32_t lt_vocab_eos(const lt_vocab *v);   /* -1 if none */
bool lt_vocab_add_bos(const lt_vocab *v);  /* tokenizer.ggml.add_bos_token (default per model type) */
bool lt_vocab_add_eos(const lt_vocab *v);
bool lt_vocab_is_eog(const lt_vocab *v, int32_t id); /* end of generation (eos, eot, ...) */
const char *lt_vocab_token_text(const lt_vocab *v, int32_t id); /* raw vocabulary string */
int lt_vocab_token_type(const lt_vocab *v, int32_t id);
/* Additions (tokenizer owner): the id of an exact token text (-1 if none), and the GGUF
 * tokenizer.chat_template text (NULL if the file has none). */
int32_t lt_vocab_find(const lt_vocab *v, const char *text);
const char *lt_vocab_chat_template(const lt_vocab *v);

/* Tokenize text[0..len). Writes up to max_tokens ids; returns the number of tokens the text needs
 * (which may exceed max_tokens: call again with a bigger buffer) or -1 on error.
 * add_special: add BOS/EOS as the vocabulary asks. parse_special: recognise control/special token
 * texts inside the text (e.g. "<|eot_id|>"). */
int lt_tokenize(const lt_vocab *v, const char *text, size_t len, int32_t *tokens, int max_tokens,
                bool add_special, bool parse_special);

/* The bytes a token stands for (byte tokens decoded, SPM "▁" -> " ", BPE byte-level decoded).
 * Control tokens give "" unless `special`. Returns the byte count written (may exceed buflen:
 * then nothing is written and the needed size is returned). */
int lt_token_to_piece(const lt_vocab *v, int32_t id, char *buf, int buflen, bool special);

/* Streaming detokenizer: buffers incomplete UTF-8 so a caller never prints half a character.
 * lt_detok_push appends the token's bytes and returns the number of complete bytes now ready in
 * *out (valid until the next call). lt_detok_flush returns whatever is left. */
typedef struct lt_detok {
    const lt_vocab *vocab;
    bool special;
    bool first;          /* SPM: strip the leading space of the first piece after BOS (not after a
                          * printed control piece: special output reads "<s> Once"); set false mid-stream */
    char pending[16];
    int n_pending;
    char out[512];
} lt_detok;
void lt_detok_init(lt_detok *d, const lt_vocab *v, bool special);
int lt_detok_push(lt_detok *d, int32_t id, const char **out);
int lt_detok_flush(lt_detok *d, const char **out);

/* Detokenize a whole sequence into buf (NUL-terminated). Returns needed length (excl. NUL). */
int lt_detokenize(const lt_vocab *v, const int32_t *tokens, int n, char *buf, int buflen, bool special);

#endif
