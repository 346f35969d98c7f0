/* lutlm tokenize: print the tokens of a text the way llama.cpp's llama-tokenize does.
 * Only the vocabulary is loaded (works on vocab-only GGUF files too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

static void usage(void) {
    fprintf(stderr,
            "usage: lutlm tokenize -m MODEL (-p TEXT | -f FILE) [--ids] [--special] [--no-bos]\n"
            "  -m, --model FILE    GGUF model or vocabulary\n"
            "  -p, --prompt TEXT   text to tokenize\n"
            "  -f, --file FILE     read the text from a file\n"
            "  --ids               print only the ids, as [1, 2, 3]\n"
            "  --special           recognise special/control token texts (e.g. <|eot_id|>)\n"
            "  --no-bos            do not add BOS/EOS even if the vocabulary asks for them\n");
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *file = NULL;
    bool ids_only = false, special = false, add_special = true;
    for (int i = 1; i < argc; i++) {
        if (cli_option(argc, argv, &i, "-m", "--model", &model)) continue;
        if (cli_option(argc, argv, &i, "-p", "--prompt", &prompt)) continue;
        if (cli_option(argc, argv, &i, "-f", "--file", &file)) continue;
        if (cli_flag(argv, i, NULL, "--ids")) { ids_only = true; continue; }
        if (cli_flag(argv, i, NULL, "--special")) { special = true; continue; }
        if (cli_flag(argv, i, NULL, "--no-bos")) { add_special = false; continue; }
        if (cli_flag(argv, i, "-h", "--help")) { usage(); return 0; }
        cli_unknown(argv[0], argv[i]);
    }
    if (!model || (!prompt == !file)) { usage(); return 2; }
    char *text = NULL;
    size_t len = 0;
    if (file) {
        text = lt_read_file(file, &len);
        if (!text) { fprintf(stderr, "lutlm tokenize: %s\n", lt_error()); return 1; }
    } else {
        len = strlen(prompt);
    }
    const char *input = file ? text : prompt;
    gguf_file *f = gguf_open(model);
    lt_vocab *v = f ? lt_vocab_load(f) : NULL;
    if (!v) { fprintf(stderr, "lutlm tokenize: %s\n", lt_error()); free(text); gguf_close(f); return 1; }
    int n = lt_tokenize(v, input, len, NULL, 0, add_special, special);
    int32_t *ids = n >= 0 ? malloc(sizeof *ids * (size_t)(n + 1)) : NULL;
    if (n < 0 || !ids || lt_tokenize(v, input, len, ids, n, add_special, special) != n) {
        fprintf(stderr, "lutlm tokenize: %s\n", lt_error());
        free(ids); free(text); lt_vocab_free(v); gguf_close(f);
        return 1;
    }
    if (ids_only) {
        putchar('[');
        for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        printf("]\n");
    } else {
        char piece[4096];
        for (int i = 0; i < n; i++) {
            int k = lt_token_to_piece(v, ids[i], piece, (int)sizeof piece, true);
            if (k > (int)sizeof piece) k = 0;
            printf("%6d -> '%.*s'\n", ids[i], k, piece);
        }
    }
    free(ids); free(text); lt_vocab_free(v); gguf_close(f);
    return 0;
}
