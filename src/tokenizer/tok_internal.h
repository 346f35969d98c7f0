/* Internal layout of lt_vocab and the pieces the tokenizer files share. */
#ifndef LUTLM_TOKENIZER_INTERNAL_H
#define LUTLM_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

enum { LT_VOCAB_SPM = 1, LT_VOCAB_BPE = 2, LT_VOCAB_WPM = 3 };

/* Token attributes (llama.cpp's llama_token_attr subset). */
enum { LT_ATTR_NORMAL = 1 << 0, LT_ATTR_UNKNOWN = 1 << 1, LT_ATTR_CONTROL = 1 << 2,
       LT_ATTR_USER_DEFINED = 1 << 3, LT_ATTR_UNUSED = 1 << 4, LT_ATTR_BYTE = 1 << 5,
       LT_ATTR_LSTRIP = 1 << 6, LT_ATTR_RSTRIP = 1 << 7 };

/* String -> int32 hash map (open addressing). Keys point into memory the owner keeps alive. */
typedef struct lt_strmap {
    const char **keys;
    uint32_t *lens;
    int32_t *vals;
    uint32_t cap; /* power of two, 0 = empty */
} lt_strmap;
bool lt_strmap_init(lt_strmap *m, uint32_t n_expected);
void lt_strmap_free(lt_strmap *m);
/* Insert; if the key exists, keep the old value unless `replace`. */
void lt_strmap_put(lt_strmap *m, const char *key, uint32_t len, int32_t val, bool replace);
int32_t lt_strmap_get(const lt_strmap *m, const char *key, uint32_t len); /* -1 if absent */

/* A growable token list. */
typedef struct lt_tokbuf {
    int32_t *ids;
    int n, cap;
    bool oom;
} lt_tokbuf;
void lt_tokbuf_push(lt_tokbuf *b, int32_t id);

struct lt_vocab {
    int type;                 /* LT_VOCAB_* */
    int pre;                  /* LT_PRE_* (BPE only) */
    char pre_name[64];
    int32_t n_tokens;
    const char **text;        /* token strings (NUL-terminated, in `arena`) */
    uint32_t *text_len;
    float *score;
    uint32_t *attr;
    char *arena;
    uint32_t max_token_len;
    lt_strmap token_ids;      /* text -> id (a later duplicate wins, as in llama.cpp) */
    lt_strmap merge_ranks;    /* "left right" -> rank (the first duplicate wins) */
    char *merge_arena;
    int32_t bos, eos, unk, eot, eom, sep, pad, cls, mask, nl;
    bool add_bos, add_eos, add_sep, add_space_prefix, ignore_merges;
    int32_t byte_ids[256];    /* SPM byte-fallback tokens <0xNN>, -1 if absent */
    int32_t *special_ids;     /* control/user-defined/unknown tokens, longest text first */
    int n_special;
    int32_t *eog_ids;
    int n_eog;
    char *chat_template;      /* tokenizer.chat_template or NULL */
};

/* Tokenize one raw-text fragment, appending to out. */
void lt_spm_tokenize(const lt_vocab *v, const char *text, size_t len, lt_tokbuf *out);
void lt_bpe_tokenize(const lt_vocab *v, const char *text, size_t len, lt_tokbuf *out);
void lt_wpm_tokenize(const lt_vocab *v, const char *text, size_t len, lt_tokbuf *out);

/* BPE pre-tokenizers (pretok.c). */
enum { LT_PRE_DEFAULT = 0, LT_PRE_LLAMA3, LT_PRE_DEEPSEEK_LLM, LT_PRE_DEEPSEEK_CODER, LT_PRE_FALCON,
       LT_PRE_MPT, LT_PRE_STARCODER, LT_PRE_GPT2, LT_PRE_REFACT, LT_PRE_QWEN2, LT_PRE_OLMO,
       LT_PRE_DBRX, LT_PRE_SMAUG, LT_PRE_COMMAND_R, LT_PRE_STABLELM2, LT_PRE_SMOLLM };
/* Map tokenizer.ggml.pre to LT_PRE_*; -1 if unknown. Sets the vocabulary flags that go with it. */
int lt_pre_from_name(const char *name);
/* Split code points cps[0..n) into words: writes word lengths (in code points) into *lens
 * (malloc'd) and returns their count, -1 on OOM. */
int lt_pretokenize(int pre, const uint32_t *cps, int n, int **lens);

/* Byte-level BPE alphabet (GPT-2 bytes_to_unicode). */
uint32_t lt_byte_to_cpt(uint8_t b);
int lt_cpt_to_byte(uint32_t cp); /* -1 if not in the alphabet */

#endif
