/* Chat templates: the common families, applied as llama.cpp's llm_chat_apply_template does
 * (not a Jinja interpreter). The family is detected from the GGUF tokenizer.chat_template text by
 * the same markers llama.cpp looks for, or chosen by name (--chat-template). */
#ifndef LUTLM_TOKENIZER_CHAT_H
#define LUTLM_TOKENIZER_CHAT_H

#include <stdbool.h>

typedef enum lt_chat_template {
    LT_CHAT_UNKNOWN = 0,
    LT_CHAT_LLAMA2,           /* [INST] user [/INST] answer</s> (system text folded into the turn) */
    LT_CHAT_LLAMA2_SYS,       /* ... with <<SYS>> blocks */
    LT_CHAT_LLAMA2_SYS_BOS,   /* ... and <s> before each later [INST] */
    LT_CHAT_LLAMA2_SYS_STRIP, /* ... and trimmed messages */
    LT_CHAT_LLAMA3,
    LT_CHAT_CHATML,
    LT_CHAT_PHI3,
} lt_chat_template;

typedef struct lt_chat_msg {
    const char *role;    /* "system", "user", "assistant" */
    const char *content;
} lt_chat_msg;

/* Family of a Jinja template text; LT_CHAT_UNKNOWN if none matches (or tmpl is NULL). */
lt_chat_template lt_chat_detect(const char *tmpl);
/* By name: llama2, llama2-sys, llama2-sys-bos, llama2-sys-strip, llama3, chatml, phi3. */
lt_chat_template lt_chat_from_name(const char *name);
const char *lt_chat_name(lt_chat_template t);
/* The prompt for the conversation (malloc'd; NULL + lt_error() on failure). add_assistant: end
 * with the opening of the assistant's turn. BOS is not included (the tokenizer adds it). */
char *lt_chat_apply(lt_chat_template t, const lt_chat_msg *msgs, int n, bool add_assistant);

#endif
