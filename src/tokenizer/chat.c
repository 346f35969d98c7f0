/* Chat template families (see chat.h); formats follow llama.cpp's llm_chat_apply_template. */
#include "tokenizer/chat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const struct { const char *name; lt_chat_template t; } NAMES[] = {
    { "llama2", LT_CHAT_LLAMA2 }, { "llama2-sys", LT_CHAT_LLAMA2_SYS }, { "llama2-sys-bos", LT_CHAT_LLAMA2_SYS_BOS },
    { "llama2-sys-strip", LT_CHAT_LLAMA2_SYS_STRIP }, { "llama3", LT_CHAT_LLAMA3 }, { "chatml", LT_CHAT_CHATML },
    { "phi3", LT_CHAT_PHI3 },
};

lt_chat_template lt_chat_from_name(const char *name) {
    for (size_t i = 0; i < LT_ARRAY_LEN(NAMES); i++)
        if (!strcmp(name, NAMES[i].name)) return NAMES[i].t;
    return LT_CHAT_UNKNOWN;
}

const char *lt_chat_name(lt_chat_template t) {
    for (size_t i = 0; i < LT_ARRAY_LEN(NAMES); i++)
        if (NAMES[i].t == t) return NAMES[i].name;
    return "unknown";
}

lt_chat_template lt_chat_detect(const char *tmpl) {
    if (!tmpl) return LT_CHAT_UNKNOWN;
    if (strstr(tmpl, "<|im_start|>")) return LT_CHAT_CHATML;
    if (strstr(tmpl, "[INST]")) {
        if (strstr(tmpl, "content.strip()")) return LT_CHAT_LLAMA2_SYS_STRIP;
        if (strstr(tmpl, "bos_token + '[INST]")) return LT_CHAT_LLAMA2_SYS_BOS;
        if (strstr(tmpl, "<<SYS>>")) return LT_CHAT_LLAMA2_SYS;
        return LT_CHAT_LLAMA2;
    }
    if (strstr(tmpl, "<|assistant|>") && strstr(tmpl, "<|end|>")) return LT_CHAT_PHI3;
    if (strstr(tmpl, "<|start_header_id|>") && strstr(tmpl, "<|end_header_id|>")) return LT_CHAT_LLAMA3;
    return LT_CHAT_UNKNOWN;
}

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = true; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* content without leading/trailing whitespace (llama.cpp's trim) */
static void put_trimmed(sbuf *b, const char *s) {
    size_t n = strlen(s);
    while (n && strchr(" \t\n\r\v\f", s[n - 1])) n--;
    while (n && strchr(" \t\n\r\v\f", *s)) { s++; n--; }
    put(b, s, n);
}

static void apply_llama2(lt_chat_template t, const lt_chat_msg *msgs, int n, sbuf *b) {
    bool system_blocks = t != LT_CHAT_LLAMA2;
    bool bos_in_history = t == LT_CHAT_LLAMA2_SYS_BOS;
    bool strip = t == LT_CHAT_LLAMA2_SYS_STRIP;
    bool inside_turn = true; /* the first [INST] follows the BOS the tokenizer adds */
    puts_(b, "[INST] ");
    for (int i = 0; i < n; i++) {
        if (!inside_turn) {
            inside_turn = true;
            puts_(b, bos_in_history ? "<s>[INST] " : "[INST] ");
        }
        void (*content)(sbuf *, const char *) = strip ? put_trimmed : puts_;
        if (!strcmp(msgs[i].role, "system")) {
            if (system_blocks) { puts_(b, "<<SYS>>\n"); content(b, msgs[i].content); puts_(b, "\n<</SYS>>\n\n"); }
            else { content(b, msgs[i].content); puts_(b, "\n"); }
        } else if (!strcmp(msgs[i].role, "user")) {
            content(b, msgs[i].content);
            puts_(b, " [/INST]");
        } else {
            content(b, msgs[i].content);
            puts_(b, "</s>");
            inside_turn = false;
        }
    }
}

char *lt_chat_apply(lt_chat_template t, const lt_chat_msg *msgs, int n, bool add_assistant) {
    sbuf b = { 0 };
    puts_(&b, "");
    switch (t) {
    case LT_CHAT_LLAMA2: case LT_CHAT_LLAMA2_SYS: case LT_CHAT_LLAMA2_SYS_BOS: case LT_CHAT_LLAMA2_SYS_STRIP:
        apply_llama2(t, msgs, n, &b);
        break;
    case LT_CHAT_LLAMA3:
        for (int i = 0; i < n; i++) {
            puts_(&b, "<|start_header_id|>"); puts_(&b, msgs[i].role); puts_(&b, "<|end_header_id|>\n\n");
            put_trimmed(&b, msgs[i].content); puts_(&b, "<|eot_id|>");
        }
        if (add_assistant) puts_(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    case LT_CHAT_CHATML:
        for (int i = 0; i < n; i++) {
            puts_(&b, "<|im_start|>"); puts_(&b, msgs[i].role); puts_(&b, "\n");
            puts_(&b, msgs[i].content); puts_(&b, "<|im_end|>\n");
        }
        if (add_assistant) puts_(&b, "<|im_start|>assistant\n");
        break;
    case LT_CHAT_PHI3:
        for (int i = 0; i < n; i++) {
            puts_(&b, "<|"); puts_(&b, msgs[i].role); puts_(&b, "|>\n");
            puts_(&b, msgs[i].content); puts_(&b, "<|end|>\n");
        }
        if (add_assistant) puts_(&b, "<|assistant|>\n");
        break;
    default:
        free(b.s);
        lt_set_error("unknown chat template (supported: llama2, llama2-sys, llama3, chatml, phi3)");
        return NULL;
    }
    if (b.oom) { free(b.s); lt_set_error("out of memory"); return NULL; }
    return b.s;
}
