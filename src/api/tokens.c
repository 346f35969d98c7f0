/* Public token functions: thin wrappers over the model's vocabulary. A model without one (a
 * synthetic model built for benchmarks) has no tokens to speak of: the wrappers say so instead of
 * touching a NULL vocabulary. */
#include <string.h>

#include "common/util.h"
#include "model/model.h"

static bool has_vocab(const lutlm_model *m) {
    if (m->vocab) return true;
    lt_set_error("%s has no tokenizer", m->path ? m->path : "this model");
    return false;
}

int32_t lutlm_token_bos(const lutlm_model *m) { return has_vocab(m) ? lt_vocab_bos(m->vocab) : -1; }
int32_t lutlm_token_eos(const lutlm_model *m) { return has_vocab(m) ? lt_vocab_eos(m->vocab) : -1; }
bool lutlm_token_is_eog(const lutlm_model *m, int32_t t) { return has_vocab(m) && lt_vocab_is_eog(m->vocab, t); }

int lutlm_tokenize(const lutlm_model *m, const char *text, int len, int32_t *tokens, int max_tokens, bool add_special,
                   bool parse_special) {
    if (!text) {
        lt_set_error("lutlm_tokenize: text is NULL");
        return LUTLM_ERR_INVALID_ARGUMENT;
    }
    if (!has_vocab(m)) return LUTLM_ERR_UNSUPPORTED;
    size_t n = len < 0 ? strlen(text) : (size_t)len;
    int r = lt_tokenize(m->vocab, text, n, tokens, max_tokens, add_special, parse_special);
    return r < 0 ? LUTLM_ERR_INVALID_ARGUMENT : r;
}

int lutlm_token_to_piece(const lutlm_model *m, int32_t token, char *buf, int buflen, bool special) {
    if (!has_vocab(m)) return 0;
    return lt_token_to_piece(m->vocab, token, buf, buflen, special);
}
