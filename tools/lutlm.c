/* `lutlm`: the command-line front end. Each subcommand lives in its own tools/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "lutlm.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
    { "run", cmd_run, "generate text from a prompt" },
    { "chat", cmd_chat, "interactive multi-turn chat using the model's chat template" },
    { "eval", cmd_eval, "write the logits of every position of a token sequence (for testing)" },
    { "perplexity", cmd_perplexity, "perplexity of a text file, computed as llama.cpp does" },
    { "info", cmd_info, "describe a GGUF model: architecture, hyper-parameters, tensors" },
    { "tokenize", cmd_tokenize, "print the tokens of a text" },
    { "detokenize", cmd_detokenize, "print the text of token ids" },
    { "convert", cmd_convert, "convert llama2.c / bitllama2.c checkpoints or tokenizer.json to GGUF" },
    { "quantize", cmd_quantize, "re-encode a GGUF model's weights in a lutlm low-bit format" },
    { "bench", cmd_bench, "prompt-processing and generation speed (like llama-bench)" },
    { "bench-kernels", cmd_bench_kernels, "speed of the LUT kernels vs. the dequantize baseline" },
};

static void usage(FILE *out) {
    fprintf(out, "lutlm %s — low-bit LLM inference by table lookup\n\n", lutlm_version());
    fprintf(out, "usage: lutlm COMMAND [options]   (lutlm COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lutlm %s\n", lutlm_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lutlm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
