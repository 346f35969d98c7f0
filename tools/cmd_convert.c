/* lutlm convert: llama2.c / bitllama2.c checkpoints (with their tokenizer.bin) to GGUF. The kind
 * of checkpoint is read from its header and size (see tools/convert_llama2c.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "convert_common.h"
#include "tokenizer/hf_import.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm convert MODEL.bin --tokenizer TOKENIZER.bin -o OUT.gguf [options]\n"
            "       lutlm convert tokenizer.json -o OUT.gguf\n\n"
            "Converts to GGUF:\n"
            "  - llama2.c checkpoints: legacy run.c fp32 (7 x int32 header), export.py \"ak42\" version 1 (fp32)\n"
            "    and version 2 (int8 groups, written as F32) -> arch llama, F32 weights;\n"
            "  - bitllama2.c ternary checkpoints (\"ak42\" version 1, 2-bit codes) -> arch bitnet, linear\n"
            "    weights in lutlm's TERN2 format (lossless), Q/K rows permuted for NeoX RoPE;\n"
            "  - a llama2.c tokenizer.bin (given with --tokenizer) -> the tokenizer.ggml.* keys;\n"
            "  - a Hugging Face tokenizer.json (byte-level BPE) -> a vocab-only GGUF.\n\n"
            "options:\n"
            "  -o, --output PATH        the GGUF file to write (required)\n"
            "  -t, --tokenizer PATH     llama2.c tokenizer.bin (required for .bin checkpoints)\n"
            "  --name NAME              general.name (default: the input's file name)\n"
            "  --bit-order auto|msb|lsb ternary files: where a byte's first weight is (default auto: the\n"
            "                           reading under which the model predicts English text better)\n"
            "  -q, --quiet              no progress messages\n"
            "  -h, --help               this help\n");
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int cmd_convert(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *bit_order = "auto", *value;
    lt_convert_options opt = { 0 };
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); return 0; }
        else if (cli_option(argc, argv, &i, "-o", "--output", &output)) {}
        else if (cli_option(argc, argv, &i, "-t", "--tokenizer", &opt.tokenizer_path)) {}
        else if (cli_option(argc, argv, &i, NULL, "--name", &opt.name)) {}
        else if (cli_option(argc, argv, &i, NULL, "--bit-order", &value)) bit_order = value;
        else if (cli_flag(argv, i, "-q", "--quiet")) opt.quiet = true;
        else if (argv[i][0] == '-' && argv[i][1]) cli_unknown(argv[0], argv[i]);
        else if (!input) input = argv[i];
        else { fprintf(stderr, "lutlm convert: more than one input ('%s' and '%s')\n", input, argv[i]); return 2; }
    }
    if (!input || !output) {
        fprintf(stderr, "lutlm convert: %s\n\n", !input ? "no input file given" : "no output file given (-o OUT.gguf)");
        usage(stderr);
        return 2;
    }
    if (!strcmp(bit_order, "msb")) opt.bit_order = L2C_BITS_MSB;
    else if (!strcmp(bit_order, "lsb")) opt.bit_order = L2C_BITS_LSB;
    else if (strcmp(bit_order, "auto")) {
        fprintf(stderr, "lutlm convert: --bit-order must be auto, msb or lsb (not '%s')\n", bit_order);
        return 2;
    }
    if (ends_with(input, ".json")) { /* a Hugging Face tokenizer.json: vocab-only GGUF */
        if (!lt_convert_hf_tokenizer(input, output)) {
            fprintf(stderr, "lutlm convert: %s\n", lt_error());
            return 1;
        }
        if (!opt.quiet) fprintf(stderr, "wrote %s\n", output);
        return 0;
    }
    if (!lt_convert_llama2c(input, output, &opt)) {
        fprintf(stderr, "lutlm convert: %s\n", lt_error());
        return 1;
    }
    return 0;
}
