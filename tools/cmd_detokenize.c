/* lutlm detokenize: turn token ids back into text. Only the vocabulary is loaded. */
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
            "usage: lutlm detokenize -m MODEL --ids \"1 2 3\" [--special]\n"
            "  -m, --model FILE  GGUF model or vocabulary\n"
            "  --ids LIST        token ids separated by spaces or commas ([1, 2, 3] also accepted)\n"
            "  --special         print control tokens (BOS, EOS, ...) as their text\n");
}

/* Parse ids from "1 2 3", "1,2,3" or "[1, 2, 3]". Returns the count or -1 on garbage. */
static int parse_ids(const char *s, int32_t *ids, int max, int32_t n_vocab) {
    int n = 0;
    while (*s) {
        if (strchr(" ,[]\t\n", *s)) { s++; continue; }
        char *end;
        long id = strtol(s, &end, 10);
        if (end == s || id < 0 || id >= n_vocab || n >= max) return -1;
        ids[n++] = (int32_t)id;
        s = end;
    }
    return n;
}

int cmd_detokenize(int argc, char **argv) {
    const char *model = NULL, *list = NULL;
    bool special = false;
    for (int i = 1; i < argc; i++) {
        if (cli_option(argc, argv, &i, "-m", "--model", &model)) continue;
        if (cli_option(argc, argv, &i, NULL, "--ids", &list)) continue;
        if (cli_flag(argv, i, NULL, "--special")) { special = true; continue; }
        if (cli_flag(argv, i, "-h", "--help")) { usage(); return 0; }
        cli_unknown(argv[0], argv[i]);
    }
    if (!model || !list) { usage(); return 2; }
    gguf_file *f = gguf_open(model);
    lt_vocab *v = f ? lt_vocab_load(f) : NULL;
    if (!v) { fprintf(stderr, "lutlm detokenize: %s\n", lt_error()); gguf_close(f); return 1; }
    int max = (int)strlen(list) / 2 + 1;
    int32_t *ids = malloc(sizeof *ids * (size_t)max);
    int n = ids ? parse_ids(list, ids, max, lt_vocab_size(v)) : -1;
    int rc = 0;
    if (n < 0) {
        fprintf(stderr, "lutlm detokenize: invalid id list '%s' (ids must be in [0, %d))\n", list, lt_vocab_size(v));
        rc = 2;
    } else {
        int need = lt_detokenize(v, ids, n, NULL, 0, special);
        char *text = malloc((size_t)need + 1);
        if (text) {
            lt_detokenize(v, ids, n, text, need + 1, special);
            fwrite(text, 1, (size_t)need, stdout);
            putchar('\n');
            free(text);
        } else {
            rc = 1;
        }
    }
    free(ids); lt_vocab_free(v); gguf_close(f);
    return rc;
}
