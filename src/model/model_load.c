/* Loading a model from GGUF: hyper-parameters from metadata, weight views into the mapped file,
 * every shape checked against the hyper-parameters so the forward pass can trust them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "kernels/kernels.h"
#include "model/model.h"

typedef struct {
    const char *name;
    lt_arch arch;
    bool rope_neox, sub_norms;
    lt_ffn_act ffn_act;
} arch_info;

/* llama: Llama 1/2/3 (normal RoPE, SiLU). bitnet: llama.cpp's BitNet (sub-norms, NeoX RoPE, SiLU).
 * bitnet-b1.58: bitnet.cpp's name for BitNet-b1.58-2B-4T (the same with a squared-ReLU FFN). */
static const arch_info known_archs[] = {
    { "llama", LT_ARCH_LLAMA, false, false, LT_FFN_SILU },
    { "bitnet", LT_ARCH_BITNET, true, true, LT_FFN_SILU },
    { "bitnet-b1.58", LT_ARCH_BITNET_B158, true, true, LT_FFN_RELU2 },
};

static bool get_arch_u32(const gguf_file *f, const char *arch, const char *suffix, uint32_t *out, bool required,
                         const char *path) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (gguf_get_u32(f, key, out)) return true;
    if (required) return lt_set_error("%s: missing or invalid metadata key '%s'", path, key);
    return false;
}

static bool get_arch_f32(const gguf_file *f, const char *arch, const char *suffix, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return gguf_get_f32(f, key, out);
}

bool lt_hparams_load(const gguf_file *f, const char *path, lt_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    const char *arch = gguf_get_str(f, "general.architecture");
    if (!arch) return lt_set_error("%s: missing metadata key 'general.architecture'", path);
    const arch_info *info = NULL;
    for (size_t i = 0; i < LT_ARRAY_LEN(known_archs); i++)
        if (!strcmp(arch, known_archs[i].name)) info = &known_archs[i];
    if (!info)
        return lt_set_error("%s: unsupported architecture '%s' (lutlm runs: llama, bitnet, bitnet-b1.58)", path, arch);
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", arch);
    hp->arch = info->arch;
    hp->rope_neox = info->rope_neox;
    hp->sub_norms = info->sub_norms;
    hp->ffn_act = info->ffn_act;

    uint32_t embd, layers, heads, heads_kv, ff, ctx = 0, rope_dim, vocab, key_len;
    if (!get_arch_u32(f, arch, "embedding_length", &embd, true, path) ||
        !get_arch_u32(f, arch, "block_count", &layers, true, path) ||
        !get_arch_u32(f, arch, "attention.head_count", &heads, true, path) ||
        !get_arch_u32(f, arch, "feed_forward_length", &ff, true, path))
        return false;
    if (!get_arch_u32(f, arch, "attention.head_count_kv", &heads_kv, false, path)) heads_kv = heads;
    get_arch_u32(f, arch, "context_length", &ctx, false, path);
    if (embd == 0 || layers == 0 || heads == 0 || heads_kv == 0 || ff == 0 || embd > (1u << 20) ||
        layers > 4096 || heads > 4096 || ff > (1u << 22))
        return lt_set_error("%s: implausible hyper-parameters (embedding %u, layers %u, heads %u, ff %u)", path, embd,
                            layers, heads, ff);
    if (heads % heads_kv != 0)
        return lt_set_error("%s: head_count %u is not a multiple of head_count_kv %u", path, heads, heads_kv);
    uint32_t head_dim = embd / heads;
    if (get_arch_u32(f, arch, "attention.key_length", &key_len, false, path)) head_dim = key_len;
    if (head_dim == 0 || head_dim * heads != embd)
        return lt_set_error("%s: embedding_length %u is not head_count %u x head size %u", path, embd, heads, head_dim);
    if (!get_arch_u32(f, arch, "rope.dimension_count", &rope_dim, false, path)) rope_dim = head_dim;
    if (rope_dim > head_dim || rope_dim % 2)
        return lt_set_error("%s: rope.dimension_count %u does not fit head size %u", path, rope_dim, head_dim);
    hp->rope_base = 10000.0f;
    get_arch_f32(f, arch, "rope.freq_base", &hp->rope_base);
    hp->norm_eps = 1e-5f;
    get_arch_f32(f, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps);
    if (!get_arch_u32(f, arch, "vocab_size", &vocab, false, path)) {
        const gguf_value *tokens = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
        vocab = tokens ? (uint32_t)tokens->v.arr.n : 0;
    }
    hp->n_embd = (int)embd;
    hp->n_layer = (int)layers;
    hp->n_head = (int)heads;
    hp->n_head_kv = (int)heads_kv;
    hp->head_dim = (int)head_dim;
    hp->n_ff = (int)ff;
    hp->n_ctx_train = ctx ? (int)LT_MIN(ctx, 1u << 24) : 4096;
    hp->rope_dim = (int)rope_dim;
    hp->n_vocab = (int)vocab; /* 0: taken from token_embd below */
    return true;
}

/* A view of tensor `name`, which must exist with exactly the dims ne0 x ne1 (ne1 = 0: 1-D). */
static bool tensor_view(const lutlm_model *m, const char *name, int64_t ne0, int64_t ne1, lt_tensor *out) {
    const gguf_tensor_info *ti = gguf_get_tensor(m->gguf, name);
    if (!ti) return lt_set_error("%s: missing tensor '%s'", m->path, name);
    const lt_format *fmt = lt_format_by_type(ti->type);
    if (!fmt) return lt_set_error("%s: tensor '%s' has unknown type %u", m->path, name, ti->type);
    if (!fmt->dequantize_row)
        return lt_set_error("%s: tensor '%s' has type %s, which lutlm cannot compute with", m->path, name, fmt->name);
    int64_t want1 = ne1 ? ne1 : 1;
    if (ti->ne[0] != ne0 || ti->ne[1] != want1 || ti->ne[2] != 1 || ti->ne[3] != 1)
        return lt_set_error("%s: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]", m->path, name,
                            (long long)ti->ne[0], (long long)ti->ne[1], (long long)ti->ne[2], (long long)ti->ne[3],
                            (long long)ne0, (long long)want1);
    *out = (lt_tensor){ .name = ti->name.data, .fmt = fmt, .n_dims = (int)ti->n_dims, .ne = { ti->ne[0], ti->ne[1], 1, 1 },
                        .data = ti->data, .nbytes = ti->nbytes };
    return true;
}

/* A norm weight vector decoded to floats (norms are small; decoding once keeps the forward pass simple). */
static bool load_norm(const lutlm_model *m, const char *name, int64_t n, float **out) {
    lt_tensor t;
    if (!tensor_view(m, name, n, 0, &t)) return false;
    *out = lt_malloc((size_t)n * sizeof(float));
    if (!*out) return false;
    lt_tensor_dequantize_row(&t, 0, *out);
    return true;
}

static bool load_linear(const lutlm_model *m, const char *name, int64_t k, int64_t n_out, lt_linear *out) {
    char full[160];
    snprintf(full, sizeof full, "%s.weight", name);
    if (!tensor_view(m, full, k, n_out, &out->w)) return false;
    out->scale = 1.0f;
    out->q = NULL;
    /* llama.cpp's bitnet arch may carry a one-element scale tensor per matrix */
    snprintf(full, sizeof full, "%s.scale", name);
    const gguf_tensor_info *ti = gguf_get_tensor(m->gguf, full);
    if (ti) {
        lt_tensor s;
        float v[1];
        if (!tensor_view(m, full, 1, 0, &s)) return false;
        lt_tensor_dequantize_row(&s, 0, v);
        out->scale = v[0];
    }
    return true;
}

static bool load_layer(lutlm_model *m, int il, lt_layer *L) {
    const lt_hparams *hp = &m->hp;
    int64_t d = hp->n_embd, kv = (int64_t)hp->n_head_kv * hp->head_dim, q = (int64_t)hp->n_head * hp->head_dim;
    char name[128];
#define LAYER_NAME(s) (snprintf(name, sizeof name, "blk.%d.%s", il, s), name)
    if (!load_norm(m, LAYER_NAME("attn_norm.weight"), d, &L->attn_norm) ||
        !load_norm(m, LAYER_NAME("ffn_norm.weight"), d, &L->ffn_norm) ||
        !load_linear(m, LAYER_NAME("attn_q"), d, q, &L->wq) || !load_linear(m, LAYER_NAME("attn_k"), d, kv, &L->wk) ||
        !load_linear(m, LAYER_NAME("attn_v"), d, kv, &L->wv) ||
        !load_linear(m, LAYER_NAME("attn_output"), q, d, &L->wo) ||
        !load_linear(m, LAYER_NAME("ffn_gate"), d, hp->n_ff, &L->w_gate) ||
        !load_linear(m, LAYER_NAME("ffn_up"), d, hp->n_ff, &L->w_up) ||
        !load_linear(m, LAYER_NAME("ffn_down"), hp->n_ff, d, &L->w_down))
        return false;
    if (hp->sub_norms && (!load_norm(m, LAYER_NAME("attn_sub_norm.weight"), q, &L->attn_sub_norm) ||
                          !load_norm(m, LAYER_NAME("ffn_sub_norm.weight"), hp->n_ff, &L->ffn_sub_norm)))
        return false;
#undef LAYER_NAME
    return true;
}

int lt_model_linears(lutlm_model *m, lt_linear **out, int max) {
    int n = 0;
    for (int il = 0; il < m->hp.n_layer; il++) {
        lt_layer *L = &m->layers[il];
        lt_linear *all[] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down };
        for (size_t i = 0; i < LT_ARRAY_LEN(all); i++)
            if (n < max) out[n++] = all[i];
    }
    if (n < max) out[n++] = &m->output;
    return n;
}

lutlm_model_params lutlm_model_default_params(void) {
    return (lutlm_model_params){ .use_mmap = true, .verbose = false, .use_kernels = true };
}

/* Tell the kernel we no longer need these pages of the mapped file (whole pages inside the range). */
static void release_pages(const void *p, uint64_t n) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t begin = ((uintptr_t)p + page - 1) & ~(page - 1), end = ((uintptr_t)p + n) & ~(page - 1);
    if (end > begin) madvise((void *)begin, end - begin, MADV_DONTNEED);
}

/* Repack every linear weight whose format the LUT kernels take (ternary, INT-n) into its kernel
 * layout. The source pages of the mapped file are then released: memory stays ~ the packed weights. */
static bool repack_linears(lutlm_model *m) {
    lt_linear *all[8192];
    int n = lt_model_linears(m, all, (int)LT_ARRAY_LEN(all));
    for (int i = 0; i < n; i++) {
        lt_linear *l = all[i];
        if (l->q || !lt_kernels_supports(l->w.fmt)) continue;
        l->q = lt_qweight_from_tensor(&l->w);
        if (!l->q) return lt_set_error("%s: repacking '%s' (%s): %s", m->path, l->w.name, l->w.fmt->name, lt_error());
        m->n_repacked++;
        m->repacked_bytes += lt_qweight_bytes(l->q);
        m->repacked_source_bytes += l->w.nbytes;
        if (l->w.data != m->tok_embd.data && m->gguf->owns_map) release_pages(l->w.data, l->w.nbytes);
    }
    return true;
}

static bool load_weights(lutlm_model *m) {
    lt_hparams *hp = &m->hp;
    const gguf_tensor_info *emb = gguf_get_tensor(m->gguf, "token_embd.weight");
    if (!emb) return lt_set_error("%s: missing tensor 'token_embd.weight'", m->path);
    if (hp->n_vocab == 0) hp->n_vocab = (int)LT_MIN(emb->ne[1], 1 << 24);
    if (!tensor_view(m, "token_embd.weight", hp->n_embd, hp->n_vocab, &m->tok_embd)) return false;
    if (!load_norm(m, "output_norm.weight", hp->n_embd, &m->output_norm)) return false;
    if (gguf_get_tensor(m->gguf, "output.weight")) {
        if (!load_linear(m, "output", hp->n_embd, hp->n_vocab, &m->output)) return false;
    } else {
        m->output = (lt_linear){ .w = m->tok_embd, .scale = 1.0f, .q = NULL }; /* tied classifier */
    }
    m->layers = lt_calloc((size_t)hp->n_layer, sizeof(lt_layer));
    if (!m->layers) return false;
    for (int il = 0; il < hp->n_layer; il++)
        if (!load_layer(m, il, &m->layers[il])) return false;
    return true;
}

lutlm_model *lutlm_model_load(const char *path, const lutlm_model_params *params) {
    lutlm_model_params p = params ? *params : lutlm_model_default_params();
    lt_clear_error();
    lutlm_model *m = lt_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->path = lt_strdup(path);
    m->gguf = gguf_open(path);
    if (!m->path || !m->gguf || !lt_hparams_load(m->gguf, path, &m->hp) || !load_weights(m)) goto fail;
    const char *env = getenv("LUTLM_KERNELS");
    if (p.use_kernels && !(env && !strcmp(env, "0")) && !repack_linears(m)) goto fail;
    m->vocab = lt_vocab_load(m->gguf);
    if (!m->vocab) goto fail;
    if (lt_vocab_size(m->vocab) > m->hp.n_vocab) {
        lt_set_error("%s: the tokenizer has %d tokens but the model only %d", path, lt_vocab_size(m->vocab), m->hp.n_vocab);
        goto fail;
    }
    if (p.verbose)
        fprintf(stderr, "lutlm: loaded %s (%s, %d layers, embedding %d, vocab %d)\n", path, m->hp.arch_name,
                m->hp.n_layer, m->hp.n_embd, m->hp.n_vocab);
    return m;
fail:;
    /* keep the message across the cleanup */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", lt_error());
    lutlm_model_free(m);
    lt_set_error("%s", msg);
    return NULL;
}

void lutlm_model_free(lutlm_model *m) {
    if (!m) return;
    if (m->layers) {
        lt_linear *all[8192];
        int n = lt_model_linears(m, all, (int)LT_ARRAY_LEN(all));
        for (int i = 0; i < n; i++) lt_qweight_free(all[i]->q);
        for (int il = 0; il < m->hp.n_layer; il++) {
            lt_layer *L = &m->layers[il];
            free(L->attn_norm);
            free(L->attn_sub_norm);
            free(L->ffn_norm);
            free(L->ffn_sub_norm);
        }
    }
    free(m->layers);
    free(m->output_norm);
    lt_vocab_free(m->vocab);
    gguf_close(m->gguf);
    free(m->description);
    free(m->owned_weights);
    free(m->path);
    free(m);
}

int32_t lutlm_model_n_vocab(const lutlm_model *m) { return m->hp.n_vocab; }
int32_t lutlm_model_n_embd(const lutlm_model *m) { return m->hp.n_embd; }
int32_t lutlm_model_n_layer(const lutlm_model *m) { return m->hp.n_layer; }
int32_t lutlm_model_n_ctx_train(const lutlm_model *m) { return m->hp.n_ctx_train; }
const char *lutlm_model_arch(const lutlm_model *m) { return m->hp.arch_name; }

const char *lutlm_model_describe(lutlm_model *m) {
    if (m->description) return m->description;
    const lt_hparams *hp = &m->hp;
    size_t cap = 4096;
    char *s = lt_malloc(cap);
    if (!s) return "";
    int n = snprintf(s, cap,
                     "architecture: %s\nlayers: %d\nembedding: %d\nheads: %d (kv %d, head size %d)\nfeed-forward: %d (%s)\n"
                     "vocabulary: %d\ntraining context: %d\nrope: %s, base %g, %d dims\nrms eps: %g\n",
                     hp->arch_name, hp->n_layer, hp->n_embd, hp->n_head, hp->n_head_kv, hp->head_dim, hp->n_ff,
                     hp->ffn_act == LT_FFN_RELU2 ? "squared ReLU" : "SiLU", hp->n_vocab, hp->n_ctx_train,
                     hp->rope_neox ? "neox" : "normal", hp->rope_base, hp->rope_dim, hp->norm_eps);
    lt_linear *all[8192];
    int count = lt_model_linears(m, all, (int)LT_ARRAY_LEN(all));
    n += snprintf(s + n, cap - (size_t)n, "linear weights: %d, first %s, output %s%s\n", count, all[0]->w.fmt->name,
                  m->output.w.fmt->name, m->output.w.data == m->tok_embd.data ? " (tied to token_embd)" : "");
    if (m->n_repacked)
        snprintf(s + n, cap - (size_t)n, "repacked for the LUT kernels: %d of %d linear weights (%.2f MiB from %.2f MiB in the file)\n",
                 m->n_repacked, count, m->repacked_bytes / 1048576.0, m->repacked_source_bytes / 1048576.0);
    else
        snprintf(s + n, cap - (size_t)n, "LUT kernels: not used (no weight in a format they take)\n");
    m->description = s;
    return s;
}
