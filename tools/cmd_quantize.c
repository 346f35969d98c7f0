/* lutlm quantize IN.gguf OUT.gguf TYPE: re-encode a model's linear weights (the work is done by
 * lt_quantize_model in src/model/quantize_model.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "formats/formats.h"
#include "model/quantize_model.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm quantize IN.gguf OUT.gguf TYPE [--output-type T] [--embd-type T] [-q]\n\n"
            "Re-encode every linear weight (attn_q/k/v/output, ffn_gate/up/down) of IN as TYPE and write\n"
            "OUT with the same metadata (general.file_type updated). Norms and other tensors are copied.\n"
            "Source weights may be in any format lutlm decodes (F32, F16, BF16, Q8_0, ternary, ...).\n\n"
            "  --output-type T   format of the output head (default: keep). For a model whose output\n"
            "                    is tied to token_embd it applies to token_embd (unless --embd-type)\n"
            "  --embd-type T     format of the token embedding (default: keep)\n"
            "  -q, --quiet       no per-tensor progress on stderr\n"
            "  -h, --help        this help\n\n"
            "Types with a quantizer:");
    for (int i = 0; i < lt_format_count(); i++) {
        const lt_format *f = lt_format_at(i);
        if (f->quantize && f->dequantize_row) fprintf(out, "\n  %-14s %s", f->name, f->description ? f->description : "");
    }
    fprintf(out, "\n\nBitNet-style ternary formats use absmean ternarization (exact when the source already is\n"
                 "ternary x scale); the others round to nearest.\n");
}

int cmd_quantize(int argc, char **argv) {
    const char *positional[3] = { NULL, NULL, NULL }, *v;
    int n_pos = 0;
    bool quiet = false;
    lt_quantize_params p = { 0 };
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); return 0; }
        else if (cli_option(argc, argv, &i, NULL, "--output-type", &v)) p.output_type = v;
        else if (cli_option(argc, argv, &i, NULL, "--embd-type", &v)) p.embd_type = v;
        else if (cli_flag(argv, i, "-q", "--quiet")) quiet = true;
        else if (argv[i][0] == '-' && argv[i][1]) cli_unknown("quantize", argv[i]);
        else if (n_pos < 3) positional[n_pos++] = argv[i];
        else {
            fprintf(stderr, "lutlm quantize: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (n_pos != 3) {
        fprintf(stderr, "lutlm quantize: need IN.gguf OUT.gguf TYPE\n\n");
        usage(stderr);
        return 2;
    }
    if (!strcmp(positional[0], positional[1])) {
        fprintf(stderr, "lutlm quantize: the output would overwrite the input (%s)\n", positional[0]);
        return 2;
    }
    p.type = positional[2];
    p.progress = quiet ? NULL : stderr;
    double t0 = lt_time_now();
    if (!lt_quantize_model(positional[0], positional[1], &p)) {
        fprintf(stderr, "lutlm quantize: %s\n", lt_error());
        return 1;
    }
    if (!quiet) fprintf(stderr, "lutlm quantize: wrote %s (%s) in %.1f s\n", positional[1], p.type, lt_time_now() - t0);
    return 0;
}
