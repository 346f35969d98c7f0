/* Synthetic models: real shapes, random weights, generated directly in the target format.
 *
 * A 2B-parameter model has 2.4 G weights; drawing and quantizing each one would take minutes. So
 * every weight matrix is built from a small tile of TILE_ROWS random rows, quantized once with the
 * format's own quantizer, and each of the M rows of the matrix is a copy of a tile row picked by a
 * hash of (seed, tensor, row). The result is a valid tensor of the format with realistic value
 * statistics, distinct memory for every row (so the bandwidth a benchmark sees is real), and it is
 * made at memcpy speed on all cores.
 *
 * Every layer holds the same weights: layer 0 alone is generated and repacked for the LUT kernels
 * (repacking is the slow step); the other layers get copies of its kernel layouts, each in its own
 * memory, so a benchmark still streams every byte. When the LUT kernels run a format, the
 * generated (source) weights of layers 1.. are only read by the reference path: by default they
 * are views of layer 0's, which keeps memory ≈ the packed weights; with
 * lt_synthetic_options.distinct_sources every layer gets its own copy (for timing the reference
 * path fairly: it must not find the next layer's weights in cache).
 *
 * Value scales keep activations O(1) through the layers: a linear weight has std 1/sqrt(K) (ternary
 * formats: t · s with t uniform over {-1, 0, 1} and s = sqrt(1.5 / K), the same variance), the
 * embedding and the output head std 1/sqrt(n_embd), every norm weight 1. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/threadpool.h"
#include "common/util.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/synthetic.h"

enum { TILE_ROWS = 64, NAME_BYTES = 48, ALIGN = 64 };
#define PARALLEL_BYTES ((uint64_t)64 << 20)

typedef struct {
    const char *name, *arch;
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx_train;
    float rope_base;
    bool tied;   /* the output head is the token embedding */
} synthetic_shape;

static const synthetic_shape shapes[] = {
    { "bitnet-2b4t", "bitnet-b1.58", 2560, 30, 20, 5, 6912, 128256, 4096, 500000.0f, true },
    { "llama3-8b", "llama", 4096, 32, 32, 8, 14336, 128256, 8192, 500000.0f, false },
    { "llama2-7b", "llama", 4096, 32, 32, 32, 11008, 32000, 4096, 10000.0f, false },
    { "tiny", "bitnet-b1.58", 256, 4, 4, 2, 768, 512, 4096, 500000.0f, true },
};

const char *lt_synthetic_names(void) { return "bitnet-2b4t, llama3-8b, llama2-7b, tiny"; }

/* ---- random numbers: splitmix64 (a good 64-bit mixer, one multiply chain per number) ---- */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* uniform in (0, 1): 53 random bits, never 0 (log() below) */
static double uniform01(uint64_t *state) { return ((double)(splitmix64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

/* standard normal by Box–Muller: sqrt(-2 ln u1) · cos(2π u2) */
static float normal01(uint64_t *state) {
    double u1 = uniform01(state), u2 = uniform01(state);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---- the plan: every weight tensor, its format, and where it lives in the one owned buffer ---- */

typedef struct {
    lt_tensor *view;          /* where the finished tensor view goes */
    const lt_format *fmt;
    int64_t k, m;             /* ne[0] (row length), ne[1] (rows) */
    float std;                /* standard deviation of the values before encoding */
    uint64_t offset, nbytes;  /* in the aligned weight area */
    int same_as;              /* index of the tensor whose bytes this one repeats, or -1 */
    bool view_only;           /* same_as's bytes are used in place (no memory of its own) */
    char name[NAME_BYTES];
} weight_plan;

typedef struct {
    weight_plan *items;
    int n, cap;
    uint64_t total;           /* bytes of the weight area so far */
} plan_list;

static bool plan_add(plan_list *p, lt_tensor *view, const char *name, const lt_format *fmt, int64_t k, int64_t m,
                     float std, int same_as, bool view_only) {
    if (p->n == p->cap) return lt_set_error("synthetic model: too many tensors");
    weight_plan *w = &p->items[p->n];
    *w = (weight_plan){ .view = view, .fmt = fmt, .k = k, .m = m, .std = std, .same_as = same_as,
                        .view_only = same_as >= 0 && view_only };
    snprintf(w->name, sizeof w->name, "%s", name);
    int64_t ne[2] = { k, m };
    if (!lt_format_tensor_bytes(fmt, ne, 2, &w->nbytes)) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", lt_error());
        return lt_set_error("synthetic model: %s [%lld, %lld] cannot be stored as %s: %s", name, (long long)k,
                            (long long)m, fmt->name, msg);
    }
    if (w->view_only) {
        w->offset = p->items[same_as].offset;
    } else {
        w->offset = p->total;
        p->total += (w->nbytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    p->n++;
    return true;
}

/* A tied shape whose head is wanted in f16 keeps one tensor for both, as the real file does. */
static bool head_is_shared(const synthetic_shape *s, const lt_format *ofmt) { return s->tied && ofmt == lt_format_by_name("f16"); }

static bool plan_model(lutlm_model *m, const synthetic_shape *s, const lt_format *wfmt, const lt_format *ofmt,
                       bool share_sources, plan_list *p) {
    const lt_format *f16 = lt_format_by_name("f16");
    const lt_hparams *hp = &m->hp;
    int64_t d = hp->n_embd, q = (int64_t)hp->n_head * hp->head_dim, kv = (int64_t)hp->n_head_kv * hp->head_dim;
    float embd_std = 1.0f / sqrtf((float)d);
    if (!plan_add(p, &m->tok_embd, "token_embd.weight", f16, d, hp->n_vocab, embd_std, -1, false)) return false;
    if (!head_is_shared(s, ofmt) && !plan_add(p, &m->output.w, "output.weight", ofmt, d, hp->n_vocab, embd_std, -1, false))
        return false;
    int layer0 = p->n; /* index of layer 0's first linear */
    for (int il = 0; il < hp->n_layer; il++) {
        lt_layer *L = &m->layers[il];
        struct { lt_linear *l; const char *what; int64_t k, m; } lin[] = {
            { &L->wq, "attn_q", d, q }, { &L->wk, "attn_k", d, kv }, { &L->wv, "attn_v", d, kv },
            { &L->wo, "attn_output", q, d }, { &L->w_gate, "ffn_gate", d, hp->n_ff },
            { &L->w_up, "ffn_up", d, hp->n_ff }, { &L->w_down, "ffn_down", hp->n_ff, d },
        };
        for (size_t i = 0; i < LT_ARRAY_LEN(lin); i++) {
            char name[NAME_BYTES];
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, lin[i].what);
            lin[i].l->scale = 1.0f;
            lin[i].l->q = NULL;
            int same_as = il == 0 ? -1 : layer0 + (int)i;
            if (!plan_add(p, &lin[i].l->w, name, wfmt, lin[i].k, lin[i].m, 1.0f / sqrtf((float)lin[i].k), same_as,
                          share_sources))
                return false;
        }
    }
    return true;
}

/* ---- filling one tensor: quantize a tile of random rows, then copy tile rows into every row ---- */

typedef struct {
    uint8_t *dst;
    const uint8_t *tile;
    size_t row_bytes;
    int64_t rows, tile_rows;
    uint64_t key;             /* seed mixed with the tensor index */
} tile_copy_job;

/* Which tile row row r copies: a hash, so neighbouring rows differ and the pattern has no period. */
static int64_t tile_row_for(uint64_t key, int64_t r, int64_t tile_rows) {
    uint64_t state = key ^ ((uint64_t)r * UINT64_C(0xD1B54A32D192ED03));
    return (int64_t)(splitmix64(&state) % (uint64_t)tile_rows);
}

static void tile_copy_task(void *arg, int ith, int nth) {
    tile_copy_job *job = arg;
    int64_t r0, r1;
    lt_split_range(job->rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        memcpy(job->dst + (size_t)r * job->row_bytes,
               job->tile + (size_t)tile_row_for(job->key, r, job->tile_rows) * job->row_bytes, job->row_bytes);
}

/* A plain parallel memcpy (copies of layer 0 into the other layers). */
typedef struct {
    uint8_t *dst;
    const uint8_t *src;
    int64_t n;
} copy_job;

static void copy_task(void *arg, int ith, int nth) {
    copy_job *job = arg;
    int64_t b0, b1;
    lt_split_range(job->n, 4096, ith, nth, &b0, &b1);
    memcpy(job->dst + b0, job->src + b0, (size_t)(b1 - b0));
}

/* Random values of one tile: ternary formats get exact t · s so that their quantizer is lossless. */
static void random_tile(float *x, int64_t n, float std, bool ternary, uint64_t *rng) {
    if (ternary) {
        float s = std * sqrtf(1.5f); /* Var(t · s) = 2/3 · s² = std² */
        for (int64_t i = 0; i < n; i++) x[i] = (float)((int)(splitmix64(rng) % 3) - 1) * s;
    } else {
        for (int64_t i = 0; i < n; i++) x[i] = normal01(rng) * std;
    }
}

static bool fill_tensor(const weight_plan *w, uint8_t *area, int index, uint64_t seed, lt_pool *pool) {
    const lt_format *fmt = w->fmt;
    int64_t tile_rows = LT_MIN(w->m, (int64_t)TILE_ROWS);
    size_t row_bytes = lt_format_row_bytes(fmt, w->k);
    int64_t tile_ne[2] = { w->k, tile_rows };
    uint64_t tile_bytes;
    if (!lt_format_tensor_bytes(fmt, tile_ne, 2, &tile_bytes)) return false;
    /* Bytes after the rows (e.g. a per-tensor scale): the tile's must be the whole tensor's. */
    uint64_t tile_trailer = tile_bytes - (uint64_t)tile_rows * row_bytes;
    uint64_t trailer = w->nbytes - (uint64_t)w->m * row_bytes;
    if (tile_bytes < (uint64_t)tile_rows * row_bytes || w->nbytes < (uint64_t)w->m * row_bytes || trailer != tile_trailer)
        return lt_set_error("synthetic model: format %s does not store %s as independent rows (cannot tile it)",
                            fmt->name, w->name);
    float *x = lt_malloc((size_t)(w->k * tile_rows) * sizeof(float));
    uint8_t *tile = lt_malloc((size_t)tile_bytes);
    bool ok = x && tile;
    if (ok) {
        uint64_t rng = seed ^ ((uint64_t)(index + 1) * UINT64_C(0x9E3779B97F4A7C15));
        random_tile(x, w->k * tile_rows, w->std, fmt->ternary, &rng);
        ok = fmt->quantize(x, w->k, tile_rows, tile);
    }
    if (ok) {
        uint8_t *dst = area + w->offset;
        tile_copy_job job = { dst, tile, row_bytes, w->m, tile_rows, seed + (uint64_t)index };
        lt_pool_run(pool, tile_copy_task, &job);
        memcpy(dst + (size_t)w->m * row_bytes, tile + (size_t)tile_rows * row_bytes, (size_t)trailer);
        *w->view = (lt_tensor){ .name = w->name, .fmt = fmt, .n_dims = 2, .ne = { w->k, w->m, 1, 1 }, .data = dst,
                                .nbytes = w->nbytes };
    }
    free(x);
    free(tile);
    return ok;
}

/* ---- the model ---- */

/* The first of `names` (NULL-terminated) that the registry can encode and the LUT kernels run;
 * else the first it can encode at all; else the last name (which then fails with a message).
 * Defaults that the kernels run keep a synthetic benchmark off the slow reference path. */
static const char *default_format(const char *const *names) {
    const char *encodable = NULL, *last = NULL;
    for (int i = 0; names[i]; i++) {
        const lt_format *f = lt_format_by_name(names[i]);
        last = names[i];
        if (!f || !f->quantize || !f->dequantize_row) continue;
        if (lt_kernels_supports(f)) return names[i];
        if (!encodable) encodable = names[i];
    }
    return encodable ? encodable : last;
}

static const lt_format *usable_format(const char *name, const char *what) {
    const lt_format *fmt = lt_format_by_name(name);
    if (!fmt) {
        lt_set_error("synthetic model: unknown %s '%s'", what, name);
        return NULL;
    }
    if (!fmt->quantize || !fmt->dequantize_row) {
        lt_set_error("synthetic model: format '%s' has no %s, it cannot be used as %s", fmt->name,
                     fmt->quantize ? "decoder" : "quantizer", what);
        return NULL;
    }
    return fmt;
}

static void set_hparams(lt_hparams *hp, const synthetic_shape *s) {
    bool bitnet = !strcmp(s->arch, "bitnet-b1.58");
    *hp = (lt_hparams){
        .arch = bitnet ? LT_ARCH_BITNET_B158 : LT_ARCH_LLAMA, .n_embd = s->n_embd, .n_layer = s->n_layer,
        .n_head = s->n_head, .n_head_kv = s->n_head_kv, .head_dim = s->n_embd / s->n_head, .n_ff = s->n_ff,
        .n_vocab = s->n_vocab, .n_ctx_train = s->n_ctx_train, .rope_dim = s->n_embd / s->n_head,
        .rope_base = s->rope_base, .norm_eps = 1e-5f, .rope_neox = bitnet, .sub_norms = bitnet,
        .ffn_act = bitnet ? LT_FFN_RELU2 : LT_FFN_SILU,
    };
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", s->arch);
}

static float *ones(int64_t n) {
    float *v = lt_malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; v && i < n; i++) v[i] = 1.0f;
    return v;
}

static bool alloc_norms(lutlm_model *m) {
    const lt_hparams *hp = &m->hp;
    int64_t q = (int64_t)hp->n_head * hp->head_dim;
    if (!(m->output_norm = ones(hp->n_embd))) return false;
    for (int il = 0; il < hp->n_layer; il++) {
        lt_layer *L = &m->layers[il];
        if (!(L->attn_norm = ones(hp->n_embd)) || !(L->ffn_norm = ones(hp->n_embd))) return false;
        if (hp->sub_norms && (!(L->attn_sub_norm = ones(q)) || !(L->ffn_sub_norm = ones(hp->n_ff)))) return false;
    }
    return true;
}

/* Lay out every tensor in one buffer (names first, then 64-byte aligned weights) and fill them. */
static bool build_weights(lutlm_model *m, const synthetic_shape *s, const lt_format *wfmt, const lt_format *ofmt,
                          uint64_t seed, bool share_sources) {
    plan_list plan = { .cap = 7 * m->hp.n_layer + 2 };
    plan.items = lt_calloc((size_t)plan.cap, sizeof(weight_plan));
    if (!plan.items || !plan_model(m, s, wfmt, ofmt, share_sources, &plan)) {
        free(plan.items);
        return false;
    }
    size_t names = (size_t)plan.n * NAME_BYTES;
    uint8_t *raw = lt_malloc(names + ALIGN + (size_t)plan.total);
    /* threads only pay off for big models (waking them costs more than copying a small one) */
    lt_pool *pool = raw && plan.total > PARALLEL_BYTES ? lt_pool_create(0) : NULL;
    bool ok = raw && (pool || plan.total <= PARALLEL_BYTES);
    if (ok) {
        m->owned_weights = raw;
        uint8_t *area = (uint8_t *)(((uintptr_t)raw + names + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
        for (int i = 0; ok && i < plan.n; i++) {
            char *name = (char *)raw + (size_t)i * NAME_BYTES;
            memcpy(name, plan.items[i].name, NAME_BYTES);
            const weight_plan *w = &plan.items[i];
            if (w->same_as >= 0) {
                copy_job job = { area + w->offset, area + plan.items[w->same_as].offset, (int64_t)w->nbytes };
                if (!w->view_only) lt_pool_run(pool, copy_task, &job);
                *w->view = *plan.items[w->same_as].view;
                w->view->data = area + w->offset;
            } else {
                ok = fill_tensor(w, area, i, seed, pool);
            }
            w->view->name = name;
        }
    } else {
        free(raw);
    }
    lt_pool_free(pool);
    free(plan.items);
    if (ok && head_is_shared(s, ofmt)) m->output = (lt_linear){ .w = m->tok_embd, .scale = 1.0f, .q = NULL };
    else if (ok) m->output.scale = 1.0f;
    return ok;
}

/* Repacking into LUT-kernel layouts, as lutlm_model_load does for a file (and, like it, not when
 * the environment says LUTLM_KERNELS=0). Layer 0's linears and the output head are repacked, one
 * tensor per thread at a time; every other layer gets copies of layer 0's layouts (its weights are
 * the same). The generated weights stay: the reference path (lutlm bench --baseline) reads them. */
enum { LINEARS_PER_LAYER = 7 };

typedef struct {
    lutlm_model *m;
    lt_linear *first[LINEARS_PER_LAYER + 1]; /* layer 0's linears, then the output head */
    atomic_bool failed;
    char error[512];          /* written by the one thread that set `failed` */
} repack_job;

static lt_linear *layer_linear(lt_layer *L, int i) {
    lt_linear *all[LINEARS_PER_LAYER] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down };
    return all[i];
}

static void record_failure(repack_job *job, const lt_linear *l) {
    if (atomic_exchange(&job->failed, true)) return; /* keep the first message */
    snprintf(job->error, sizeof job->error, "synthetic model: repacking %s (%s): %s", l->w.name, l->w.fmt->name, lt_error());
}

static void repack_first_task(void *arg, int ith, int nth) {
    repack_job *job = arg;
    for (int i = ith; i < LINEARS_PER_LAYER + 1; i += nth) {
        lt_linear *l = job->first[i];
        if (l && !(l->q = lt_qweight_from_tensor(&l->w))) record_failure(job, l);
    }
}

static void clone_task(void *arg, int ith, int nth) {
    repack_job *job = arg;
    int n = (job->m->hp.n_layer - 1) * LINEARS_PER_LAYER;
    for (int j = ith; j < n && !atomic_load(&job->failed); j += nth) {
        lt_linear *l = layer_linear(&job->m->layers[1 + j / LINEARS_PER_LAYER], j % LINEARS_PER_LAYER);
        const lt_linear *src = job->first[j % LINEARS_PER_LAYER];
        if (src && !(l->q = lt_qweight_clone(src->q))) record_failure(job, l);
    }
}

static bool kernels_enabled(void) {
    const char *env = getenv("LUTLM_KERNELS");
    return !(env && !strcmp(env, "0"));
}

static bool repack_for_kernels(lutlm_model *m) {
    if (!kernels_enabled()) return true;
    repack_job job = { .m = m };
    for (int i = 0; i < LINEARS_PER_LAYER; i++) {
        lt_linear *l = layer_linear(&m->layers[0], i);
        job.first[i] = lt_kernels_supports(l->w.fmt) ? l : NULL;
    }
    if (lt_kernels_supports(m->output.w.fmt)) job.first[LINEARS_PER_LAYER] = &m->output;
    lt_pool *pool = lt_pool_create(0);
    if (!pool) return false;
    lt_pool_run(pool, repack_first_task, &job);
    if (!atomic_load(&job.failed)) lt_pool_run(pool, clone_task, &job);
    lt_pool_free(pool);
    if (atomic_load(&job.failed)) return lt_set_error("%s", job.error);
    lt_linear *all[4096];
    int n = lt_model_linears(m, all, (int)LT_ARRAY_LEN(all));
    for (int i = 0; i < n; i++)
        if (all[i]->q) {
            m->n_repacked++;
            m->repacked_bytes += lt_qweight_bytes(all[i]->q);
            m->repacked_source_bytes += all[i]->w.nbytes;
        }
    return true;
}

lutlm_model *lt_model_synthetic(const char *name, const char *weight_type, const char *output_type, uint64_t seed) {
    return lt_model_synthetic_ex(name, weight_type, output_type, seed, NULL);
}

lutlm_model *lt_model_synthetic_ex(const char *name, const char *weight_type, const char *output_type, uint64_t seed,
                                   const lt_synthetic_options *options) {
    lt_clear_error();
    const synthetic_shape *s = NULL;
    for (size_t i = 0; name && i < LT_ARRAY_LEN(shapes); i++)
        if (!strcmp(name, shapes[i].name)) s = &shapes[i];
    if (!s) {
        lt_set_error("unknown synthetic model '%s' (known: %s)", name ? name : "(null)", lt_synthetic_names());
        return NULL;
    }
    bool bitnet = !strcmp(s->arch, "bitnet-b1.58");
    static const char *const bitnet_weights[] = { "tern2", NULL }, *const llama_weights[] = { "lut_int4_g64", "q4_0", NULL },
                             *const heads[] = { "lut_int4_g64", "q8_0", "f16", NULL };
    const char *wname = weight_type ? weight_type : default_format(bitnet ? bitnet_weights : llama_weights);
    const char *oname = output_type ? output_type : default_format(heads);
    const lt_format *wfmt = usable_format(wname, "weight type");
    const lt_format *ofmt = wfmt ? usable_format(oname, "output type") : NULL;
    if (!ofmt) return NULL;

    lutlm_model *m = lt_calloc(1, sizeof *m);
    if (!m) return NULL;
    set_hparams(&m->hp, s);
    char path[96];
    snprintf(path, sizeof path, "synthetic:%s", s->name);
    m->path = lt_strdup(path);
    m->layers = lt_calloc((size_t)m->hp.n_layer, sizeof(lt_layer));
    bool share_sources = !(options && options->distinct_sources) && kernels_enabled() && lt_kernels_supports(wfmt);
    if (m->path && m->layers && alloc_norms(m) && build_weights(m, s, wfmt, ofmt, seed, share_sources) &&
        repack_for_kernels(m))
        return m;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", lt_error());
    lutlm_model_free(m);
    lt_set_error("%s", msg);
    return NULL;
}
