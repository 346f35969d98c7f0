/* lutlm run: generate text from a prompt, streaming it to stdout; speed to stderr at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "lutlm.h"
#include "model/model.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: lutlm run -m MODEL [options]\n\n"
            "Generate text from a prompt. The prompt is echoed, the continuation streamed to stdout, and\n"
            "prompt / generation speed printed to stderr at the end.\n\n"
            "  -m, --model FILE        GGUF model (required)\n"
            "  -p, --prompt TEXT       prompt (default: empty: generate from BOS)\n"
            "  -f, --file FILE         read the prompt from a file\n"
            "  -n, --n-predict N       tokens to generate (default 128; -1 = until EOS or context is full)\n"
            "  -t, --threads N         threads (default: number of cores)\n"
            "  -c, --ctx-size N        context size in tokens (default: prompt + -n, or 4096 with -n -1)\n"
            "  -b, --batch-size N      tokens per forward pass during prompt processing (default 512)\n"
            CLI_CACHE_TYPE_HELP
            "      --temp T            temperature (default 0.8; 0 = greedy)\n"
            "      --top-k K           keep the K most likely tokens (default 40; 0 = off)\n"
            "      --top-p P           nucleus sampling threshold (default 0.95; 1 = off)\n"
            "      --min-p P           drop tokens below P x the top probability (default 0.05; 0 = off)\n"
            "      --repeat-penalty R  penalise recent tokens (default 1.0 = off)\n"
            "      --repeat-last-n N   how many recent tokens the penalty sees (default 64)\n"
            "  -s, --seed S            random seed (default: from the clock)\n"
            "      --special           parse special-token texts in the prompt and print control tokens\n"
            "      --ignore-eos        do not stop at end-of-generation tokens\n"
            "  -h, --help              this help\n");
}

typedef struct {
    const char *model, *prompt, *prompt_file;
    int n_predict, threads, ctx, batch;
    lutlm_sampler_params sampling;
    lutlm_context_params cache; /* type_k, type_v */
    bool special, ignore_eos;
} run_options;

static void parse_options(int argc, char **argv, run_options *o) {
    const char *v;
    *o = (run_options){ .prompt = "", .n_predict = 128, .sampling = lutlm_sampler_default_params(),
                        .cache = lutlm_context_default_params() };
    o->sampling.temperature = 0.8f;
    o->sampling.seed = (uint64_t)time(NULL);
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h", "--help")) { usage(stdout); exit(0); }
        else if (cli_option(argc, argv, &i, "-m", "--model", &v)) o->model = v;
        else if (cli_option(argc, argv, &i, "-p", "--prompt", &v)) o->prompt = v;
        else if (cli_option(argc, argv, &i, "-f", "--file", &v)) o->prompt_file = v;
        else if (cli_option(argc, argv, &i, "-n", "--n-predict", &v)) o->n_predict = (int)cli_int("run", "-n", v, -1, 1 << 30);
        else if (cli_option(argc, argv, &i, "-t", "--threads", &v)) o->threads = (int)cli_int("run", "-t", v, 1, 1024);
        else if (cli_option(argc, argv, &i, "-c", "--ctx-size", &v)) o->ctx = (int)cli_int("run", "-c", v, 0, 1 << 24);
        else if (cli_option(argc, argv, &i, "-b", "--batch-size", &v)) o->batch = (int)cli_int("run", "-b", v, 1, 1 << 16);
        else if (cli_option(argc, argv, &i, NULL, "--temp", &v)) o->sampling.temperature = (float)cli_float("run", "--temp", v);
        else if (cli_option(argc, argv, &i, NULL, "--top-k", &v)) o->sampling.top_k = (int)cli_int("run", "--top-k", v, 0, 1 << 30);
        else if (cli_option(argc, argv, &i, NULL, "--top-p", &v)) o->sampling.top_p = (float)cli_float("run", "--top-p", v);
        else if (cli_option(argc, argv, &i, NULL, "--min-p", &v)) o->sampling.min_p = (float)cli_float("run", "--min-p", v);
        else if (cli_option(argc, argv, &i, NULL, "--repeat-penalty", &v)) o->sampling.repeat_penalty = (float)cli_float("run", "--repeat-penalty", v);
        else if (cli_option(argc, argv, &i, NULL, "--repeat-last-n", &v)) o->sampling.repeat_last_n = (int)cli_int("run", "--repeat-last-n", v, 0, 1 << 20);
        else if (cli_option(argc, argv, &i, "-s", "--seed", &v)) o->sampling.seed = (uint64_t)cli_int("run", "--seed", v, 0, INT64_MAX);
        else if (cli_cache_type_option("run", argc, argv, &i, &o->cache)) continue;
        else if (cli_flag(argv, i, NULL, "--special")) o->special = true;
        else if (cli_flag(argv, i, NULL, "--ignore-eos")) o->ignore_eos = true;
        else cli_unknown("run", argv[i]);
    }
    if (!o->model) {
        fprintf(stderr, "lutlm run: a model is required (-m MODEL)\n\n");
        usage(stderr);
        exit(2);
    }
}

/* Print a token through the streaming detokenizer (never half a UTF-8 character). */
static void emit(lt_detok *d, int32_t token) {
    const char *out;
    int n = lt_detok_push(d, token, &out);
    if (n > 0) fwrite(out, 1, (size_t)n, stdout);
    fflush(stdout);
}

int cmd_run(int argc, char **argv) {
    run_options o;
    parse_options(argc, argv, &o);
    char *prompt_buf = NULL;
    if (o.prompt_file && !(prompt_buf = lt_read_file(o.prompt_file, NULL))) {
        fprintf(stderr, "lutlm run: %s\n", lt_error());
        return 1;
    }
    const char *prompt = prompt_buf ? prompt_buf : o.prompt;
    int rc = 1;
    lutlm_model *model = lutlm_model_load(o.model, NULL);
    lutlm_context *ctx = NULL;
    lutlm_sampler *sampler = NULL;
    int32_t *tokens = NULL;
    if (!model) goto done;
    int n_prompt = lutlm_tokenize(model, prompt, -1, NULL, 0, true, o.special);
    if (n_prompt < 0) goto done;
    lutlm_context_params cp = lutlm_context_default_params();
    cp.n_ctx = o.ctx ? o.ctx : o.n_predict >= 0 ? n_prompt + o.n_predict + 1 : 4096;
    cp.n_threads = o.threads;
    cp.n_batch = o.batch;
    cp.type_k = o.cache.type_k;
    cp.type_v = o.cache.type_v;
    if (!(ctx = lutlm_context_new(model, &cp)) || !(sampler = lutlm_sampler_new(&o.sampling))) goto done;
    int n_ctx = lutlm_context_n_ctx(ctx);
    fprintf(stderr, "lutlm run: context %d tokens, KV cache %s/%s (K/V) %.1f MiB\n", n_ctx,
            cp.type_k == LUTLM_CACHE_F32 ? "f32" : "f16", cp.type_v == LUTLM_CACHE_F32 ? "f32" : "f16",
            (double)lutlm_context_kv_bytes(ctx, n_ctx) / 1048576.0);
    if (n_prompt == 0) {
        lt_set_error("the prompt is empty and the model has no BOS token to start from");
        goto done;
    }
    if (n_prompt >= n_ctx) {
        lt_set_error("the prompt has %d tokens, more than the context of %d allows (use -c)", n_prompt, n_ctx);
        goto done;
    }
    tokens = lt_malloc((size_t)n_ctx * sizeof(int32_t));
    if (!tokens) goto done;
    lutlm_tokenize(model, prompt, -1, tokens, n_prompt, true, o.special);

    lt_detok detok;
    lt_detok_init(&detok, model->vocab, o.special);
    for (int i = 0; i < n_prompt; i++) {
        emit(&detok, tokens[i]);
        lutlm_sampler_accept(sampler, tokens[i]);
    }
    double t0 = lt_time_now();
    if (lutlm_decode(ctx, tokens, n_prompt, false) != LUTLM_OK) goto done;
    double t_prompt = lt_time_now() - t0;

    int n_gen = 0, budget = o.n_predict < 0 ? n_ctx - n_prompt : LT_MIN(o.n_predict, n_ctx - n_prompt);
    t0 = lt_time_now();
    for (; n_gen < budget; n_gen++) {
        int32_t next = lutlm_sampler_sample(sampler, lutlm_get_logits(ctx, -1), lutlm_model_n_vocab(model));
        lutlm_sampler_accept(sampler, next);
        if (!o.ignore_eos && lutlm_token_is_eog(model, next)) break;
        emit(&detok, next);
        if (n_gen + 1 < budget && lutlm_decode(ctx, &next, 1, false) != LUTLM_OK) goto done;
    }
    double t_gen = lt_time_now() - t0;
    const char *rest;
    int n_rest = lt_detok_flush(&detok, &rest);
    if (n_rest > 0) fwrite(rest, 1, (size_t)n_rest, stdout);
    printf("\n");
    fflush(stdout);
    fprintf(stderr, "\nlutlm run: prompt %d tokens in %.3f s (%.2f tokens/s); generated %d tokens in %.3f s (%.2f tokens/s)\n",
            n_prompt, t_prompt, n_prompt / (t_prompt > 0 ? t_prompt : 1e-9), n_gen, t_gen,
            n_gen / (t_gen > 0 ? t_gen : 1e-9));
    rc = 0;
done:
    if (rc) fprintf(stderr, "lutlm run: %s\n", lutlm_last_error());
    free(tokens);
    free(prompt_buf);
    lutlm_sampler_free(sampler);
    lutlm_context_free(ctx);
    lutlm_model_free(model);
    return rc;
}
