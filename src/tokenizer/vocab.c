/* Vocabulary loading from GGUF tokenizer.ggml.* metadata, following llama.cpp's llama_vocab::load:
 * per-model defaults for BOS/EOS/UNK and add_bos, token attributes from token types, the special
 * token list that prompt parsing splits on, and the end-of-generation set. */
#include "tokenizer/tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* ---- string -> id hash map ---- */

static uint32_t hash_bytes(const char *s, uint32_t len) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

bool lt_strmap_init(lt_strmap *m, uint32_t n_expected) {
    uint32_t cap = 16;
    while (cap < 2 * n_expected + 16) cap *= 2;
    m->cap = cap;
    m->keys = lt_calloc(cap, sizeof *m->keys);
    m->lens = lt_calloc(cap, sizeof *m->lens);
    m->vals = lt_calloc(cap, sizeof *m->vals);
    if (!m->keys || !m->lens || !m->vals) { lt_strmap_free(m); return false; }
    return true;
}

void lt_strmap_free(lt_strmap *m) {
    free(m->keys); free(m->lens); free(m->vals);
    memset(m, 0, sizeof *m);
}

void lt_strmap_put(lt_strmap *m, const char *key, uint32_t len, int32_t val, bool replace) {
    uint32_t i = hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0) {
            if (replace) m->vals[i] = val;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->lens[i] = len;
    m->vals[i] = val;
}

int32_t lt_strmap_get(const lt_strmap *m, const char *key, uint32_t len) {
    if (!m->cap) return -1;
    uint32_t i = hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[i]) {
        if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

void lt_tokbuf_push(lt_tokbuf *b, int32_t id) {
    if (b->oom) return;
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 64;
        int32_t *ids = realloc(b->ids, (size_t)cap * sizeof *ids);
        if (!ids) { b->oom = true; return; }
        b->ids = ids;
        b->cap = cap;
    }
    b->ids[b->n++] = id;
}

/* ---- loading ---- */

static int32_t attr_from_type(int32_t type) {
    switch (type) {
    case LT_TOKEN_NORMAL: return LT_ATTR_NORMAL;
    case LT_TOKEN_UNKNOWN: return LT_ATTR_UNKNOWN;
    case LT_TOKEN_CONTROL: return LT_ATTR_CONTROL;
    case LT_TOKEN_USER_DEFINED: return LT_ATTR_USER_DEFINED;
    case LT_TOKEN_UNUSED: return LT_ATTR_UNUSED;
    case LT_TOKEN_BYTE: return LT_ATTR_BYTE;
    default: return 0; /* undefined */
    }
}

/* Copy the token strings into one arena and build the text -> id map. */
static bool load_tokens(lt_vocab *v, const gguf_value *tokens) {
    const gguf_string *s = tokens->v.arr.data;
    uint64_t total = 0;
    for (uint64_t i = 0; i < tokens->v.arr.n; i++)
        if (!lt_add_u64(total, s[i].len + 1, &total)) return lt_set_error("tokenizer: token table too large");
    v->n_tokens = (int32_t)tokens->v.arr.n;
    v->text = lt_calloc((size_t)v->n_tokens, sizeof *v->text);
    v->text_len = lt_calloc((size_t)v->n_tokens, sizeof *v->text_len);
    v->score = lt_calloc((size_t)v->n_tokens, sizeof *v->score);
    v->attr = lt_calloc((size_t)v->n_tokens, sizeof *v->attr);
    v->arena = lt_malloc((size_t)total);
    if (!v->text || !v->text_len || !v->score || !v->attr || !v->arena) return false;
    if (!lt_strmap_init(&v->token_ids, (uint32_t)v->n_tokens)) return false;
    char *p = v->arena;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        if (s[i].len > UINT32_MAX / 2) return lt_set_error("tokenizer: token %d too long", i);
        memcpy(p, s[i].data, s[i].len);
        p[s[i].len] = 0;
        v->text[i] = p;
        v->text_len[i] = (uint32_t)s[i].len;
        if (v->text_len[i] > v->max_token_len) v->max_token_len = v->text_len[i];
        lt_strmap_put(&v->token_ids, p, v->text_len[i], i, true);
        p += s[i].len + 1;
    }
    return true;
}

static bool load_scores_and_types(lt_vocab *v, const gguf_file *f) {
    const gguf_value *scores = gguf_get_array(f, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32);
    if (scores && scores->v.arr.n != (uint64_t)v->n_tokens)
        return lt_set_error("tokenizer: %llu scores for %d tokens", (unsigned long long)scores->v.arr.n, v->n_tokens);
    const gguf_value *types = gguf_get_array(f, "tokenizer.ggml.token_type", GGUF_TYPE_INT32);
    if (types && types->v.arr.n != (uint64_t)v->n_tokens)
        return lt_set_error("tokenizer: %llu token types for %d tokens", (unsigned long long)types->v.arr.n, v->n_tokens);
    for (int32_t i = 0; i < v->n_tokens; i++) {
        if (scores) memcpy(&v->score[i], (const char *)scores->v.arr.data + 4 * (size_t)i, 4);
        int32_t type = LT_TOKEN_NORMAL;
        if (types) memcpy(&type, (const char *)types->v.arr.data + 4 * (size_t)i, 4);
        v->attr[i] = (uint32_t)attr_from_type(type);
    }
    return true;
}

/* BPE merges "left right" -> rank; the first occurrence of a pair wins (std::map::emplace). */
static bool load_merges(lt_vocab *v, const gguf_file *f) {
    const gguf_value *merges = gguf_get_array(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING);
    if (!merges) return lt_set_error("tokenizer: gpt2 vocabulary without tokenizer.ggml.merges");
    const gguf_string *s = merges->v.arr.data;
    uint64_t n = merges->v.arr.n, total = 0;
    if (n > INT32_MAX) return lt_set_error("tokenizer: too many merges");
    for (uint64_t i = 0; i < n; i++)
        if (!lt_add_u64(total, s[i].len + 1, &total)) return lt_set_error("tokenizer: merges too large");
    v->merge_arena = lt_malloc((size_t)total);
    if (!v->merge_arena || !lt_strmap_init(&v->merge_ranks, (uint32_t)n)) return false;
    char *p = v->merge_arena;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(p, s[i].data, s[i].len);
        p[s[i].len] = 0;
        lt_strmap_put(&v->merge_ranks, p, (uint32_t)s[i].len, (int32_t)i, false);
        p += s[i].len + 1;
    }
    return true;
}

static void read_id(const gguf_file *f, const lt_vocab *v, const char *key, int32_t *id) {
    uint32_t u;
    /* an out-of-range id (e.g. 0xffffffff) keeps the default, as in llama.cpp */
    if (gguf_get_u32(f, key, &u) && u < (uint32_t)v->n_tokens) *id = (int32_t)u;
}

static int32_t find_text(const lt_vocab *v, const char *s) {
    return lt_strmap_get(&v->token_ids, s, (uint32_t)strlen(s));
}

static bool set_defaults_for_model(lt_vocab *v, const char *model, const gguf_file *f) {
    v->bos = v->eos = v->unk = v->eot = v->eom = v->sep = v->pad = v->cls = v->mask = v->nl = -1;
    if (!strcmp(model, "llama")) {
        v->type = LT_VOCAB_SPM;
        v->bos = 1; v->eos = 2; v->unk = 0;
        v->add_space_prefix = true; v->add_bos = true;
    } else if (!strcmp(model, "gpt2")) {
        v->type = LT_VOCAB_BPE;
        v->bos = 11; v->eos = 11;
        const char *pre = gguf_get_str(f, "tokenizer.ggml.pre");
        if (!pre) {
            fprintf(stderr, "lutlm: warning: tokenizer.ggml.pre missing, using the 'default' pre-tokenizer "
                            "(as llama.cpp does); tokenization may be degraded\n");
            pre = "default";
        }
        snprintf(v->pre_name, sizeof v->pre_name, "%s", pre);
        v->pre = lt_pre_from_name(pre);
        if (v->pre < 0) return lt_set_error("tokenizer: unknown pre-tokenizer tokenizer.ggml.pre = '%s'", pre);
        if (v->pre == LT_PRE_LLAMA3) { v->ignore_merges = true; v->add_bos = true; }
    } else if (!strcmp(model, "bert")) {
        v->type = LT_VOCAB_WPM;
        v->bos = 101; v->unk = 100; v->sep = 102; v->pad = 0; v->mask = 103;
        v->add_bos = true; v->add_sep = true;
    } else {
        return lt_set_error("tokenizer: unsupported tokenizer.ggml.model '%s' (lutlm supports llama, gpt2, bert)", model);
    }
    return true;
}

static bool is_eog_text(const char *s) {
    static const char *const names[] = { "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                         "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>" };
    for (size_t i = 0; i < LT_ARRAY_LEN(names); i++)
        if (!strcmp(s, names[i])) return true;
    return false;
}

/* EOT/EOM detection by text and the end-of-generation set (llama.cpp marks these CONTROL). */
static bool build_eog(lt_vocab *v) {
    v->eog_ids = lt_malloc(sizeof *v->eog_ids * 16);
    if (!v->eog_ids) return false;
    for (int32_t i = 0; i < v->n_tokens && v->n_eog < 13; i++) {
        if (find_text(v, v->text[i]) != i) continue; /* a shadowed duplicate */
        if (!is_eog_text(v->text[i])) continue;
        if (v->eot < 0 && strcmp(v->text[i], "<|eom_id|>") != 0) v->eot = i;
        if (v->eom < 0 && !strcmp(v->text[i], "<|eom_id|>")) v->eom = i;
        v->attr[i] = (v->attr[i] & ~(uint32_t)(LT_ATTR_NORMAL | LT_ATTR_USER_DEFINED)) | LT_ATTR_CONTROL;
        v->eog_ids[v->n_eog++] = i;
    }
    if (v->eos >= 0 && !lt_vocab_is_eog(v, v->eos)) v->eog_ids[v->n_eog++] = v->eos;
    return true;
}

static int cmp_special(const void *a, const void *b, void *ctx) {
    const lt_vocab *v = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (v->text_len[x] != v->text_len[y]) return v->text_len[x] > v->text_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Tokens that prompt parsing looks for, longest first. */
static bool build_special_list(lt_vocab *v) {
    v->special_ids = lt_malloc(sizeof *v->special_ids * (size_t)(v->n_tokens + 1));
    if (!v->special_ids) return false;
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->attr[i] & (LT_ATTR_CONTROL | LT_ATTR_USER_DEFINED | LT_ATTR_UNKNOWN)) && v->text_len[i] > 0)
            v->special_ids[v->n_special++] = i;
    qsort_r(v->special_ids, (size_t)v->n_special, sizeof *v->special_ids, cmp_special, v);
    return true;
}

/* llama.cpp: Phi-3 special tokens swallow the whitespace after them (except <unk>, <s>, <|endoftext|>). */
static void set_phi3_strip(lt_vocab *v, const gguf_file *f) {
    const char *name = gguf_get_str(f, "general.name");
    if (!name) return;
    char lower[256];
    size_t n = strlen(name);
    if (n >= sizeof lower) n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[n] = 0;
    if (!strstr(lower, "phi-3") && !strstr(lower, "phi3")) return;
    for (int i = 0; i < v->n_special; i++) v->attr[v->special_ids[i]] |= LT_ATTR_RSTRIP;
    int32_t id = find_text(v, "</s>");
    if (id >= 0) v->attr[id] |= LT_ATTR_RSTRIP;
    static const char *const keep[] = { "<unk>", "<s>", "<|endoftext|>" };
    for (size_t i = 0; i < LT_ARRAY_LEN(keep); i++)
        if ((id = find_text(v, keep[i])) >= 0) v->attr[id] &= ~(uint32_t)LT_ATTR_RSTRIP;
}

lt_vocab *lt_vocab_load(const gguf_file *f) {
    const char *model = gguf_get_str(f, "tokenizer.ggml.model");
    if (!model) { lt_set_error("tokenizer: no tokenizer.ggml.model in %s", f->path ? f->path : "GGUF"); return NULL; }
    const gguf_value *tokens = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    if (!tokens || tokens->v.arr.n == 0 || tokens->v.arr.n > INT32_MAX / 2) {
        lt_set_error("tokenizer: missing or empty tokenizer.ggml.tokens");
        return NULL;
    }
    lt_vocab *v = lt_calloc(1, sizeof *v);
    if (!v) return NULL;
    bool ok = set_defaults_for_model(v, model, f) && load_tokens(v, tokens) && load_scores_and_types(v, f);
    if (ok && v->type == LT_VOCAB_BPE) ok = load_merges(v, f);
    if (!ok) { lt_vocab_free(v); return NULL; }

    read_id(f, v, "tokenizer.ggml.bos_token_id", &v->bos);
    read_id(f, v, "tokenizer.ggml.eos_token_id", &v->eos);
    read_id(f, v, "tokenizer.ggml.unknown_token_id", &v->unk);
    read_id(f, v, "tokenizer.ggml.seperator_token_id", &v->sep);
    read_id(f, v, "tokenizer.ggml.padding_token_id", &v->pad);
    read_id(f, v, "tokenizer.ggml.cls_token_id", &v->cls);
    read_id(f, v, "tokenizer.ggml.mask_token_id", &v->mask);
    read_id(f, v, "tokenizer.ggml.eot_token_id", &v->eot);
    read_id(f, v, "tokenizer.ggml.eom_token_id", &v->eom);
    /* a default that does not exist in a small vocabulary (e.g. BPE's BOS 11) means "none" */
    int32_t *ids[] = { &v->bos, &v->eos, &v->unk, &v->sep, &v->pad, &v->cls, &v->mask, &v->eot, &v->eom };
    for (size_t i = 0; i < LT_ARRAY_LEN(ids); i++)
        if (*ids[i] >= v->n_tokens) *ids[i] = -1;
    bool b;
    if (gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b)) v->add_bos = b;
    if (gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b)) v->add_eos = b;
    if (gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &b)) v->add_space_prefix = b;

    for (int c = 0; c < 256; c++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", c);
        v->byte_ids[c] = find_text(v, hex);
    }
    const char *tmpl = gguf_get_str(f, "tokenizer.chat_template");
    if (tmpl && !(v->chat_template = lt_strdup(tmpl))) ok = false;
    if (ok) ok = build_eog(v) && build_special_list(v);
    if (!ok) { lt_vocab_free(v); return NULL; }
    set_phi3_strip(v, f);
    return v;
}

void lt_vocab_free(lt_vocab *v) {
    if (!v) return;
    free(v->text); free(v->text_len); free(v->score); free(v->attr); free(v->arena);
    lt_strmap_free(&v->token_ids);
    lt_strmap_free(&v->merge_ranks);
    free(v->merge_arena);
    free(v->special_ids); free(v->eog_ids); free(v->chat_template);
    free(v);
}

/* ---- accessors ---- */

int32_t lt_vocab_size(const lt_vocab *v) { return v->n_tokens; }
int32_t lt_vocab_bos(const lt_vocab *v) { return v->bos; }
int32_t lt_vocab_eos(const lt_vocab *v) { return v->eos; }
bool lt_vocab_add_bos(const lt_vocab *v) { return v->add_bos; }
bool lt_vocab_add_eos(const lt_vocab *v) { return v->add_eos; }

bool lt_vocab_is_eog(const lt_vocab *v, int32_t id) {
    if (id < 0) return false;
    for (int i = 0; i < v->n_eog; i++)
        if (v->eog_ids[i] == id) return true;
    return false;
}

const char *lt_vocab_token_text(const lt_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_tokens ? v->text[id] : NULL;
}

int lt_vocab_token_type(const lt_vocab *v, int32_t id) {
    if (id < 0 || id >= v->n_tokens) return 0;
    uint32_t a = v->attr[id];
    if (a & LT_ATTR_CONTROL) return LT_TOKEN_CONTROL;
    if (a & LT_ATTR_USER_DEFINED) return LT_TOKEN_USER_DEFINED;
    if (a & LT_ATTR_UNKNOWN) return LT_TOKEN_UNKNOWN;
    if (a & LT_ATTR_BYTE) return LT_TOKEN_BYTE;
    if (a & LT_ATTR_UNUSED) return LT_TOKEN_UNUSED;
    if (a & LT_ATTR_NORMAL) return LT_TOKEN_NORMAL;
    return 0;
}

int32_t lt_vocab_find(const lt_vocab *v, const char *text) { return find_text(v, text); }
const char *lt_vocab_chat_template(const lt_vocab *v) { return v->chat_template; }
