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
            "usage: lutlm quantize IN.gguf OUT.gguf TYPE [--output-type T] [--embd-type T] [--method M] [-q]\n\n"
            "Re-encode every linear weight (attn_q/k/v/output, ffn_gate/up/down) of IN as TYPE and write\n"
            "OUT with the same metadata (general.file_type updated). Norms and other tensors are copied.\n"
            "Source weights may be in any format lutlm decodes (F32, F16, BF16, Q8_0, ternary, ...).\n\n"
            "  --output-type T   format of the output head (default: keep its format, e.g. F32: llama.cpp\n"
            "                    too keeps it at higher precision). For a model whose output is tied to\n"
            "                    token_embd it applies to token_embd (unless --embd-type)\n"
            "  --embd-type T     format of the token embedding (default: keep)\n"
            "  --method M        quantizer of the lut_int* types (others have one quantizer each):\n"
            "                      fit   per group of weights, the scale and offset of least squared\n"
            "                            error (clipping search + least-squares refits); the default\n"
            "                      rtn   round to nearest on the group's min/max grid\n"
            "                      gptq  GPTQ (error feedback weighted by activation statistics), layer\n"
            "                            by layer; calibration text is sampled from IN itself (Llama-\n"
            "                            architecture models; deterministic: fixed seed)\n"
            "  --calib N         gptq: N sampled sequences of up to 128 tokens (default 32)\n"
            "  -q, --quiet       no per-tensor progress on stderr\n"
            "  -h, --help        this help\n\n"
            "Types with a quantizer:");
    for (int i = 0; i < lt_format_count(); i++) {
        const lt_format *f = lt_format_at(i);
        if (f->quantize && f->dequantize_row) fprintf(out, "\n  %-14s %s", f->name, f->description ? f->description : "");
    }
    fprintf(out, "\n\nBitNet-style ternary formats use absmean ternarization (exact when the source already is\n"
                 "ternary x scale); lut_int* see --method; the others round to nearest.\n");
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
        else if (cli_option(argc, argv, &i, NULL, "--method", &v)) {
            if (!strcmp(v, "fit")) p.method = LT_QUANT_FIT;
            else if (!strcmp(v, "rtn")) p.method = LT_QUANT_RTN;
            else if (!strcmp(v, "gptq")) p.method = LT_QUANT_GPTQ;
            else {
                fprintf(stderr, "lutlm quantize: unknown --method '%s' (fit, rtn or gptq)\n", v);
                return 2;
            }
        } else if (cli_option(argc, argv, &i, NULL, "--calib", &v)) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 100000) {
                fprintf(stderr, "lutlm quantize: --calib needs a count from 1 to 100000, not '%s'\n", v);
                return 2;
            }
            p.calib_seqs = (int)n;
        } else if (cli_flag(argv, i, "-q", "--quiet")) quiet = true;
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
