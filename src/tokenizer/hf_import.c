/* tokenizer.json -> vocab-only GGUF (see hf_import.h). */
#include "tokenizer/hf_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "gguf/gguf.h"
#include "tokenizer/json.h"
#include "tokenizer/tokenizer.h"

/* The Split regexes of the pre-tokenizers we can name (as in llama.cpp's convert script). */
static const struct { const char *regex, *pre; } KNOWN_SPLITS[] = {
    { "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "llama-bpe" },
    { "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "qwen2" },
};

/* Recognise the pre-tokenizer: a Sequence[Split(regex), ByteLevel(use_regex=false)], or a plain
 * ByteLevel(use_regex=true), which is GPT-2's own regex. */
static const char *detect_pre(const lt_json *root) {
    const lt_json *pt = lt_json_get(root, "pre_tokenizer");
    const char *type = lt_json_str(lt_json_get(pt, "type"));
    if (!type) return NULL;
    if (!strcmp(type, "ByteLevel")) {
        const lt_json *use = lt_json_get(pt, "use_regex");
        return !use || (use->type == LT_JSON_BOOL && use->boolean) ? "gpt-2" : NULL;
    }
    if (strcmp(type, "Sequence") != 0) return NULL;
    const lt_json *list = lt_json_get(pt, "pretokenizers");
    if (!list || list->type != LT_JSON_ARRAY || list->n == 0) return NULL;
    const lt_json *split = &list->items[0];
    const char *regex = lt_json_str(lt_json_get(lt_json_get(split, "pattern"), "Regex"));
    if (!regex || strcmp(lt_json_str(lt_json_get(split, "type")) ? lt_json_str(lt_json_get(split, "type")) : "", "Split") != 0) return NULL;
    for (size_t i = 0; i < LT_ARRAY_LEN(KNOWN_SPLITS); i++)
        if (!strcmp(regex, KNOWN_SPLITS[i].regex)) return KNOWN_SPLITS[i].pre;
    return NULL;
}

/* llama.cpp's does_token_look_special. */
static bool looks_special(const char *t) {
    size_t n = strlen(t);
    if (!strcmp(t, "<pad>") || !strcmp(t, "<mask>") || !strcmp(t, "<2mass>") || !strcmp(t, "[@BOS@]")) return true;
    if (n >= 4 && !strncmp(t, "<|", 2) && !strcmp(t + n - 2, "|>")) return true;
    if (n >= 8 && !strncmp(t, "<\xef\xbd\x9c", 4) && !strcmp(t + n - 4, "\xef\xbd\x9c>")) return true; /* <｜...｜> */
    if (n >= 8 && !strncmp(t, "<unused", 7) && t[n - 1] == '>') return true;
    return false;
}

typedef struct hf_vocab {
    int64_t n;
    char **text;     /* borrowed from the JSON tree, or owned "[PADn]" strings */
    bool *owned;
    int32_t *type;
} hf_vocab;

static bool put_token(hf_vocab *hv, double idf, char *text, int32_t type) {
    if (idf < 0 || idf >= (double)hv->n || idf != (double)(int64_t)idf) return lt_set_error("tokenizer.json: token id %g out of range", idf);
    int64_t id = (int64_t)idf;
    hv->text[id] = text;
    hv->type[id] = type;
    return true;
}

/* Largest id in model.vocab and added_tokens, +1. */
static int64_t count_ids(const lt_json *vocab, const lt_json *added) {
    double max = -1;
    for (size_t i = 0; i < vocab->n; i++)
        if (vocab->items[i].type == LT_JSON_NUMBER && vocab->items[i].number > max) max = vocab->items[i].number;
    for (size_t i = 0; added && i < added->n; i++) {
        const lt_json *id = lt_json_get(&added->items[i], "id");
        if (id && id->type == LT_JSON_NUMBER && id->number > max) max = id->number;
    }
    return max < 0 || max > 16e6 ? -1 : (int64_t)max + 1;
}

static bool build_vocab(const lt_json *root, hf_vocab *hv) {
    const lt_json *model = lt_json_get(root, "model");
    const char *type = lt_json_str(lt_json_get(model, "type"));
    if (!type || strcmp(type, "BPE") != 0) return lt_set_error("tokenizer.json: model.type is %s, only BPE is supported", type ? type : "missing");
    const lt_json *vocab = lt_json_get(model, "vocab");
    const lt_json *added = lt_json_get(root, "added_tokens");
    if (!vocab || vocab->type != LT_JSON_OBJECT) return lt_set_error("tokenizer.json: model.vocab missing");
    if (added && added->type != LT_JSON_ARRAY) added = NULL;
    hv->n = count_ids(vocab, added);
    if (hv->n <= 0) return lt_set_error("tokenizer.json: no valid token ids");
    hv->text = lt_calloc((size_t)hv->n, sizeof *hv->text);
    hv->owned = lt_calloc((size_t)hv->n, sizeof *hv->owned);
    hv->type = lt_calloc((size_t)hv->n, sizeof *hv->type);
    if (!hv->text || !hv->owned || !hv->type) return false;
    for (size_t i = 0; i < vocab->n; i++) {
        const lt_json *e = &vocab->items[i];
        if (e->type != LT_JSON_NUMBER) return lt_set_error("tokenizer.json: vocab entry '%s' is not a number", e->key);
        if (!put_token(hv, e->number, e->key, LT_TOKEN_NORMAL)) return false;
    }
    for (size_t i = 0; added && i < added->n; i++) {
        const lt_json *a = &added->items[i], *id = lt_json_get(a, "id"), *special = lt_json_get(a, "special");
        const lt_json *content = lt_json_get(a, "content");
        if (!id || id->type != LT_JSON_NUMBER || !content || content->type != LT_JSON_STRING)
            return lt_set_error("tokenizer.json: malformed added_tokens[%zu]", i);
        bool is_special = (special && special->type == LT_JSON_BOOL && special->boolean) || looks_special(content->str);
        if (!put_token(hv, id->number, content->str, is_special ? LT_TOKEN_CONTROL : LT_TOKEN_USER_DEFINED)) return false;
    }
    for (int64_t i = 0; i < hv->n; i++) {
        if (hv->text[i]) continue;
        char pad[32];
        snprintf(pad, sizeof pad, "[PAD%lld]", (long long)i);
        if (!(hv->text[i] = lt_strdup(pad))) return false;
        hv->owned[i] = true;
        hv->type[i] = LT_TOKEN_UNUSED;
    }
    return true;
}

static void free_vocab(hf_vocab *hv) {
    for (int64_t i = 0; hv->owned && i < hv->n; i++)
        if (hv->owned[i]) free(hv->text[i]);
    free(hv->text); free(hv->owned); free(hv->type);
}

/* Merges as "left right" strings; newer files store [left, right] pairs. */
static char **collect_merges(const lt_json *root, size_t *n_out) {
    const lt_json *merges = lt_json_get(lt_json_get(root, "model"), "merges");
    if (!merges || merges->type != LT_JSON_ARRAY) { lt_set_error("tokenizer.json: model.merges missing"); return NULL; }
    char **out = lt_calloc(merges->n + 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < merges->n; i++) {
        const lt_json *m = &merges->items[i];
        if (m->type == LT_JSON_STRING) {
            out[i] = lt_strdup(m->str);
        } else if (m->type == LT_JSON_ARRAY && m->n == 2 && m->items[0].type == LT_JSON_STRING && m->items[1].type == LT_JSON_STRING) {
            size_t a = m->items[0].len, b = m->items[1].len;
            if ((out[i] = lt_malloc(a + b + 2))) {
                memcpy(out[i], m->items[0].str, a);
                out[i][a] = ' ';
                memcpy(out[i] + a + 1, m->items[1].str, b + 1);
            }
        } else {
            lt_set_error("tokenizer.json: malformed merges[%zu]", i);
        }
        if (!out[i]) { for (size_t k = 0; k < i; k++) free(out[k]); free(out); return NULL; }
    }
    *n_out = merges->n;
    return out;
}

/* A special token named in tokenizer_config.json: a string or {"content": ...}. */
static int64_t config_token_id(const lt_json *cfg, const char *key, const hf_vocab *hv) {
    const lt_json *t = lt_json_get(cfg, key);
    const char *s = lt_json_str(t) ? lt_json_str(t) : lt_json_str(lt_json_get(t, "content"));
    if (!s) return -1;
    for (int64_t i = hv->n - 1; i >= 0; i--)
        if (!strcmp(hv->text[i], s)) return i;
    return -1;
}

static void write_config(gguf_writer *w, const char *json_path, const hf_vocab *hv) {
    char cfg_path[4096];
    const char *slash = strrchr(json_path, '/');
    int dir = slash ? (int)(slash - json_path + 1) : 0;
    snprintf(cfg_path, sizeof cfg_path, "%.*stokenizer_config.json", dir, json_path);
    size_t len = 0;
    char *text = lt_read_file(cfg_path, &len);
    lt_json *cfg = text ? lt_json_parse(text, len) : NULL;
    free(text);
    if (!cfg) return; /* optional */
    static const struct { const char *cfg, *gguf; } ids[] = {
        { "bos_token", "tokenizer.ggml.bos_token_id" }, { "eos_token", "tokenizer.ggml.eos_token_id" },
        { "pad_token", "tokenizer.ggml.padding_token_id" }, { "unk_token", "tokenizer.ggml.unknown_token_id" },
    };
    for (size_t i = 0; i < LT_ARRAY_LEN(ids); i++) {
        int64_t id = config_token_id(cfg, ids[i].cfg, hv);
        if (id >= 0) gguf_writer_set_u32(w, ids[i].gguf, (uint32_t)id);
    }
    const lt_json *b = lt_json_get(cfg, "add_bos_token");
    if (b && b->type == LT_JSON_BOOL) gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", b->boolean);
    b = lt_json_get(cfg, "add_eos_token");
    if (b && b->type == LT_JSON_BOOL) gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", b->boolean);
    const char *tmpl = lt_json_str(lt_json_get(cfg, "chat_template"));
    if (tmpl) gguf_writer_set_str(w, "tokenizer.chat_template", tmpl);
    lt_json_free(cfg);
}

bool lt_convert_hf_tokenizer(const char *json_path, const char *out_path) {
    size_t len = 0;
    char *text = lt_read_file(json_path, &len);
    if (!text) return false;
    lt_json *root = lt_json_parse(text, len);
    free(text);
    if (!root) {
        char why[512];
        snprintf(why, sizeof why, "%s", lt_error());
        return lt_set_error("%s: %s", json_path, why);
    }
    bool ok = false;
    hf_vocab hv = { 0 };
    char **merges = NULL;
    size_t n_merges = 0;
    gguf_writer *w = NULL;
    const char *pre = detect_pre(root);
    if (!pre) { lt_set_error("%s: unrecognised pre_tokenizer (known: llama-bpe, qwen2, gpt-2 regexes)", json_path); goto done; }
    if (!build_vocab(root, &hv) || !(merges = collect_merges(root, &n_merges))) goto done;
    if (!(w = gguf_writer_new())) goto done;
    gguf_writer_set_str(w, "general.name", "tokenizer");
    gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_writer_set_str(w, "tokenizer.ggml.pre", pre);
    gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)hv.text, (uint64_t)hv.n);
    gguf_writer_set_array(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, hv.type, (uint64_t)hv.n);
    gguf_writer_set_str_array(w, "tokenizer.ggml.merges", (const char *const *)merges, n_merges);
    write_config(w, json_path, &hv);
    ok = gguf_writer_write(w, out_path);
done:
    gguf_writer_free(w);
    for (size_t i = 0; merges && i < n_merges; i++) free(merges[i]);
    free(merges);
    free_vocab(&hv);
    lt_json_free(root);
    return ok;
}
