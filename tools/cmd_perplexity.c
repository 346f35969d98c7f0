/* lutlm perplexity: the same measurement as llama.cpp's llama-perplexity.
 *
 * The whole text is tokenized once (with BOS if the vocabulary adds one) and cut into
 * non-overlapping chunks of n_ctx tokens (a trailing partial chunk is dropped). Each chunk is
 * evaluated from an empty KV cache with its first token replaced by BOS; only the second half is
 * scored ("first = n_ctx/2"), so every scored token has at least n_ctx/2 tokens of context:
 *   for i in [first, n_ctx-1):  nll_i = -log softmax(logits_i)[token_{i+1}]
 * PPL = exp(mean nll); the error is llama.cpp's: PPL * sqrt((mean nll^2 - mean^2) / (count - 1)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "common/util.h"
#include "lutlm.h"

static void usage(void) {
    fprintf(stderr,
            "usage: lutlm perplexity -m MODEL -f TEXT [-c CTX] [-b BATCH] [-t THREADS] [--chunks N]\n"
            "  -m, --model FILE     GGUF model\n"
            "  -f, --file FILE      text to evaluate\n"
            "  -c, --ctx-size N     tokens per chunk (default 512)\n"
            "  -b, --batch-size N   tokens per forward pass (default 512, capped at CTX)\n"
            "  -t, --threads N      threads (default: all cores)\n"
            "  --chunks N           evaluate at most N chunks\n"
            CLI_CACHE_TYPE_HELP);
}

/* -log softmax(logits)[target], with the max subtracted for stability (llama.cpp's log_softmax). */
static double neg_log_prob(const float *logits, int n_vocab, int32_t target) {
    float max = logits[0];
    for (int i = 1; i < n_vocab; i++) max = logits[i] > max ? logits[i] : max;
    double sum_exp = 0.0;
    for (int i = 0; i < n_vocab; i++) sum_exp += expf(logits[i] - max);
    return -((double)logits[target] - max - log(sum_exp));
}

/* Evaluate one chunk; adds the scored tokens' nll and nll^2. */
static bool eval_chunk(lutlm_context *ctx, const int32_t *chunk, int n_ctx, int n_batch, int n_vocab,
                       int32_t bos, double *nll, double *nll2) {
    int first = n_ctx / 2;
    lutlm_context_truncate(ctx, 0);
    int32_t *batch = malloc(sizeof *batch * (size_t)n_batch);
    if (!batch) return false;
    for (int start = 0; start < n_ctx; start += n_batch) {
        int n = LT_MIN(n_batch, n_ctx - start);
        memcpy(batch, chunk + start, sizeof *batch * (size_t)n);
        if (start == 0 && bos >= 0) batch[0] = bos;
        if (lutlm_decode(ctx, batch, n, true) != LUTLM_OK) { free(batch); return false; }
        for (int k = 0; k < n; k++) {
            int pos = start + k;
            if (pos < first || pos >= n_ctx - 1) continue;
            double v = neg_log_prob(lutlm_get_logits(ctx, k), n_vocab, chunk[pos + 1]);
            *nll += v;
            *nll2 += v * v;
        }
    }
    free(batch);
    return true;
}

int cmd_perplexity(int argc, char **argv) {
    const char *model_path = NULL, *file = NULL, *s;
    int n_ctx = 512, n_batch = 512, n_threads = 0, max_chunks = -1;
    lutlm_context_params cp = lutlm_context_default_params();
    for (int i = 1; i < argc; i++) {
        if (cli_option(argc, argv, &i, "-m", "--model", &model_path)) continue;
        if (cli_option(argc, argv, &i, "-f", "--file", &file)) continue;
        if (cli_option(argc, argv, &i, "-c", "--ctx-size", &s)) { n_ctx = (int)cli_int(argv[0], "-c", s, 4, 1 << 20); continue; }
        if (cli_option(argc, argv, &i, "-b", "--batch-size", &s)) { n_batch = (int)cli_int(argv[0], "-b", s, 1, 1 << 20); continue; }
        if (cli_option(argc, argv, &i, "-t", "--threads", &s)) { n_threads = (int)cli_int(argv[0], "-t", s, 1, 1024); continue; }
        if (cli_option(argc, argv, &i, NULL, "--chunks", &s)) { max_chunks = (int)cli_int(argv[0], "--chunks", s, 1, 1 << 30); continue; }
        if (cli_cache_type_option(argv[0], argc, argv, &i, &cp)) continue;
        if (cli_flag(argv, i, "-h", "--help")) { usage(); return 0; }
        cli_unknown(argv[0], argv[i]);
    }
    if (!model_path || !file) { usage(); return 2; }
    n_batch = LT_MIN(n_batch, n_ctx);

    size_t len = 0;
    char *text = lt_read_file(file, &len);
    if (!text) { fprintf(stderr, "lutlm perplexity: %s\n", lt_error()); return 1; }
    lutlm_model *model = lutlm_model_load(model_path, NULL);
    if (!model) { fprintf(stderr, "lutlm perplexity: %s\n", lutlm_last_error()); free(text); return 1; }
    cp.n_ctx = n_ctx;
    cp.n_batch = n_batch;
    cp.n_threads = n_threads;
    lutlm_context *ctx = lutlm_context_new(model, &cp);
    int n_tok = ctx ? lutlm_tokenize(model, text, (int)len, NULL, 0, true, false) : -1;
    int32_t *tokens = n_tok > 0 ? malloc(sizeof *tokens * (size_t)n_tok) : NULL;
    int rc = 1;
    if (!ctx || !tokens || lutlm_tokenize(model, text, (int)len, tokens, n_tok, true, false) != n_tok) {
        fprintf(stderr, "lutlm perplexity: %s\n", lutlm_last_error());
        goto done;
    }
    if (n_tok < 2 * n_ctx) {
        fprintf(stderr, "lutlm perplexity: you need at least %d tokens to evaluate perplexity with a context of %d "
                        "(the text has %d)\n", 2 * n_ctx, n_ctx, n_tok);
        goto done;
    }
    int n_chunk = n_tok / n_ctx;
    if (max_chunks > 0 && max_chunks < n_chunk) n_chunk = max_chunks;
    int n_vocab = lutlm_model_n_vocab(model);
    /* the BOS replacement only applies when the vocabulary adds BOS (then tokens[0] is BOS) */
    int32_t bos = lutlm_token_bos(model);
    if (bos < 0 || tokens[0] != bos) bos = -1;
    fprintf(stderr, "perplexity: tokenized the text into %d tokens\n", n_tok);
    fprintf(stderr, "perplexity: calculating perplexity over %d chunks, n_ctx=%d, batch_size=%d\n", n_chunk, n_ctx, n_batch);
    double nll = 0, nll2 = 0, t0 = lt_time_now();
    long count = 0;
    for (int i = 0; i < n_chunk; i++) {
        if (!eval_chunk(ctx, tokens + (size_t)i * n_ctx, n_ctx, n_batch, n_vocab, bos, &nll, &nll2)) {
            fprintf(stderr, "\nlutlm perplexity: %s\n", lutlm_last_error());
            goto done;
        }
        count += n_ctx - 1 - n_ctx / 2;
        printf("[%d]%.4lf,", i + 1, exp(nll / (double)count));
        fflush(stdout);
    }
    printf("\n");
    double mean = nll / (double)count, mean2 = nll2 / (double)count, ppl = exp(mean);
    double var = mean2 - mean * mean;
    if (var > 0 && count > 1)
        printf("Final estimate: PPL = %.4lf +/- %.5lf\n", ppl, sqrt(var / (double)(count - 1)) * ppl);
    else
        printf("Final estimate: PPL = %.4lf (no error estimate: variance %g)\n", ppl, var);
    fprintf(stderr, "perplexity: %.2f s (%.1f tokens/s)\n", lt_time_now() - t0,
            (double)n_chunk * n_ctx / (lt_time_now() - t0 + 1e-9));
    rc = 0;
done:
    free(tokens);
    lutlm_context_free(ctx);
    lutlm_model_free(model);
    free(text);
    return rc;
}
