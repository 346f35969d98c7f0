/* lutlm chat: interactive multi-turn chat using the model's chat template.
 * Each turn formats the whole conversation, feeds only the new part of the prompt (the KV cache
 * keeps the rest), and streams the reply until an end-of-generation token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "gguf/gguf.h"
#include "lutlm.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

static void usage(void) {
    fprintf(stderr,
            "usage: lutlm chat -m MODEL [--chat-template NAME] [-sys TEXT] [-n N] [-c CTX] [-t N]\n"
            "                  [--temp T] [--top-k K] [--top-p P] [--seed S]\n"
            "  Reads one user message per line from stdin; an empty line is skipped, /exit ends.\n"
            "  --chat-template NAME  llama2, llama2-sys, llama3, chatml, phi3 (default: from the GGUF)\n"
            "  -sys, --system TEXT   system message\n"
            "  -n, --n-predict N     max tokens per reply (default 256)\n"
            CLI_CACHE_TYPE_HELP);
}

typedef struct chat {
    lutlm_model *model;
    lutlm_context *ctx;
    lutlm_sampler *sampler;
    lt_vocab *vocab;
    lt_chat_template tmpl;
    lt_chat_msg *msgs;
    int n_msgs;
    size_t prev_len; /* bytes of the formatted conversation already in the KV cache */
    int n_predict;
} chat;

static bool add_msg(chat *c, const char *role, const char *content) {
    lt_chat_msg *m = realloc(c->msgs, sizeof *m * (size_t)(c->n_msgs + 1));
    char *copy = lt_strdup(content);
    if (!m || !copy) { free(copy); if (m) c->msgs = m; return false; }
    c->msgs = m;
    c->msgs[c->n_msgs++] = (lt_chat_msg){ role, copy };
    return true;
}

/* Feed the new part of the prompt, then sample and print the reply; returns it (malloc'd). */
static char *reply(chat *c) {
    char *prompt = lt_chat_apply(c->tmpl, c->msgs, c->n_msgs, true);
    if (!prompt) return NULL;
    const char *delta = prompt + c->prev_len;
    bool first = lutlm_context_n_past(c->ctx) == 0;
    int n = lutlm_tokenize(c->model, delta, -1, NULL, 0, first, true);
    int32_t *toks = n > 0 ? malloc(sizeof *toks * (size_t)n) : NULL;
    if (n <= 0 || !toks || lutlm_tokenize(c->model, delta, -1, toks, n, first, true) != n) {
        free(prompt); free(toks);
        return NULL;
    }
    free(prompt);
    if (lutlm_context_n_past(c->ctx) + n + 1 > lutlm_context_n_ctx(c->ctx)) {
        lt_set_error("the conversation no longer fits in the context (%d tokens)", lutlm_context_n_ctx(c->ctx));
        free(toks);
        return NULL;
    }
    for (int i = 0; i < n; i++) lutlm_sampler_accept(c->sampler, toks[i]);
    lutlm_status st = lutlm_decode(c->ctx, toks, n, false);
    free(toks);
    if (st != LUTLM_OK) return NULL;

    size_t cap = 256, len = 0;
    char *text = malloc(cap);
    if (!text) return NULL;
    text[0] = 0;
    lt_detok d;
    lt_detok_init(&d, c->vocab, false);
    d.first = false; /* mid-conversation: keep every space */
    for (int i = 0; i < c->n_predict && lutlm_context_n_past(c->ctx) < lutlm_context_n_ctx(c->ctx); i++) {
        int32_t tok = lutlm_sampler_sample(c->sampler, lutlm_get_logits(c->ctx, -1), lutlm_model_n_vocab(c->model));
        if (lutlm_token_is_eog(c->model, tok)) break;
        lutlm_sampler_accept(c->sampler, tok);
        const char *out;
        int k = lt_detok_push(&d, tok, &out);
        fwrite(out, 1, (size_t)k, stdout);
        fflush(stdout);
        if (len + (size_t)k + 1 > cap) {
            char *t = realloc(text, cap = 2 * (len + (size_t)k + 1));
            if (!t) { free(text); return NULL; }
            text = t;
        }
        memcpy(text + len, out, (size_t)k);
        len += (size_t)k;
        text[len] = 0;
        if (lutlm_decode(c->ctx, &tok, 1, false) != LUTLM_OK) { free(text); return NULL; }
    }
    const char *rest;
    int k = lt_detok_flush(&d, &rest);
    fwrite(rest, 1, (size_t)k, stdout);
    printf("\n");
    return text;
}

/* The template: --chat-template NAME, else detected from tokenizer.chat_template. */
static lt_chat_template pick_template(const char *name, const gguf_file *f) {
    if (name) {
        lt_chat_template t = lt_chat_from_name(name);
        if (t == LT_CHAT_UNKNOWN) fprintf(stderr, "lutlm chat: unknown --chat-template '%s' (llama2, llama2-sys, llama3, chatml, phi3)\n", name);
        return t;
    }
    const char *text = gguf_get_str(f, "tokenizer.chat_template");
    if (!text) {
        fprintf(stderr, "lutlm chat: the model has no tokenizer.chat_template; choose one with --chat-template NAME\n");
        return LT_CHAT_UNKNOWN;
    }
    lt_chat_template t = lt_chat_detect(text);
    if (t == LT_CHAT_UNKNOWN)
        fprintf(stderr, "lutlm chat: unknown chat template in the model (not Llama 2/3, ChatML or Phi-3); "
                        "choose one with --chat-template NAME\n");
    return t;
}

int cmd_chat(int argc, char **argv) {
    const char *model_path = NULL, *tmpl_name = NULL, *system = NULL, *s;
    lutlm_context_params cp = lutlm_context_default_params();
    lutlm_sampler_params sp = lutlm_sampler_default_params();
    chat c = { 0 };
    c.n_predict = 256;
    for (int i = 1; i < argc; i++) {
        if (cli_option(argc, argv, &i, "-m", "--model", &model_path)) continue;
        if (cli_option(argc, argv, &i, NULL, "--chat-template", &tmpl_name)) continue;
        if (cli_option(argc, argv, &i, "-sys", "--system", &system)) continue;
        if (cli_option(argc, argv, &i, "-n", "--n-predict", &s)) { c.n_predict = (int)cli_int(argv[0], "-n", s, 1, 1 << 20); continue; }
        if (cli_option(argc, argv, &i, "-c", "--ctx-size", &s)) { cp.n_ctx = (int)cli_int(argv[0], "-c", s, 16, 1 << 20); continue; }
        if (cli_option(argc, argv, &i, "-t", "--threads", &s)) { cp.n_threads = (int)cli_int(argv[0], "-t", s, 1, 1024); continue; }
        if (cli_option(argc, argv, &i, NULL, "--temp", &s)) { sp.temperature = (float)cli_float(argv[0], "--temp", s); continue; }
        if (cli_option(argc, argv, &i, NULL, "--top-k", &s)) { sp.top_k = (int)cli_int(argv[0], "--top-k", s, 0, 1 << 30); continue; }
        if (cli_option(argc, argv, &i, NULL, "--top-p", &s)) { sp.top_p = (float)cli_float(argv[0], "--top-p", s); continue; }
        if (cli_option(argc, argv, &i, NULL, "--seed", &s)) { sp.seed = (uint64_t)cli_int(argv[0], "--seed", s, 0, 1LL << 62); continue; }
        if (cli_cache_type_option(argv[0], argc, argv, &i, &cp)) continue;
        if (cli_flag(argv, i, "-h", "--help")) { usage(); return 0; }
        cli_unknown(argv[0], argv[i]);
    }
    if (!model_path) { usage(); return 2; }
    gguf_file *f = gguf_open(model_path);
    if (!f) { fprintf(stderr, "lutlm chat: %s\n", lt_error()); return 1; }
    int rc = 1;
    c.tmpl = pick_template(tmpl_name, f);
    if (c.tmpl == LT_CHAT_UNKNOWN) goto done;
    c.vocab = lt_vocab_load(f);
    c.model = c.vocab ? lutlm_model_load(model_path, NULL) : NULL;
    c.ctx = c.model ? lutlm_context_new(c.model, &cp) : NULL;
    c.sampler = c.ctx ? lutlm_sampler_new(&sp) : NULL;
    if (!c.sampler) { fprintf(stderr, "lutlm chat: %s\n", lutlm_last_error()); goto done; }
    fprintf(stderr, "lutlm chat: template %s, context %d tokens; one message per line, /exit to quit\n",
            lt_chat_name(c.tmpl), lutlm_context_n_ctx(c.ctx));
    if (system && !add_msg(&c, "system", system)) goto done;
    char line[8192];
    bool tty = isatty(0);
    for (;;) {
        if (tty) { fprintf(stderr, "> "); fflush(stderr); }
        if (!fgets(line, sizeof line, stdin)) break;
        line[strcspn(line, "\r\n")] = 0;
        if (!strcmp(line, "/exit")) break;
        if (!line[0]) continue;
        if (!add_msg(&c, "user", line)) goto done;
        char *answer = reply(&c);
        if (!answer) { fprintf(stderr, "lutlm chat: %s\n", lutlm_last_error()); goto done; }
        bool ok = add_msg(&c, "assistant", answer);
        free(answer);
        char *so_far = ok ? lt_chat_apply(c.tmpl, c.msgs, c.n_msgs, false) : NULL;
        if (!so_far) goto done;
        c.prev_len = strlen(so_far);
        free(so_far);
    }
    rc = 0;
done:
    for (int i = 0; i < c.n_msgs; i++) free((char *)c.msgs[i].content);
    free(c.msgs);
    lutlm_sampler_free(c.sampler);
    lutlm_context_free(c.ctx);
    lutlm_model_free(c.model);
    lt_vocab_free(c.vocab);
    gguf_close(f);
    return rc;
}
