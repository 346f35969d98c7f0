/* Every GGUF under ../shared/models parses, and what it says is self-consistent: the tensors lie
 * inside the file, sorted by offset they do not overlap, the getters agree with the raw values,
 * and a few facts documented in shared/README.md hold. The directory is walked, so models added
 * later are covered without editing this test. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/util.h"
#include "formats/formats.h"
#include "gguf/gguf.h"
#include "test_util.h"

static int n_files = 0;

static void check_tensors(const gguf_file *f) {
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor_info *t = &f->tensors[i];
        CHECKF(lt_format_by_type(t->type) != NULL, "%s: %s type %u", f->path, t->name.data, t->type);
        CHECKF(t->offset % f->alignment == 0, "%s: %s", f->path, t->name.data);
        CHECKF(f->data_offset + t->offset + t->nbytes <= f->size, "%s: %s", f->path, t->name.data);
        CHECK((const uint8_t *)t->data == f->map + f->data_offset + t->offset);
        CHECK(gguf_get_tensor(f, t->name.data) == t);
    }
}

static void check_model(const char *path) {
    gguf_file *f = gguf_open(path);
    CHECKF(f != NULL, "%s: %s", path, lt_error());
    if (!f) return;
    n_files++;
    CHECK(f->version == 2 || f->version == 3);
    CHECK(f->alignment > 0 && (f->alignment & (f->alignment - 1)) == 0);
    const char *arch = gguf_get_str(f, "general.architecture");
    CHECKF(arch != NULL, "%s has no general.architecture", path);
    for (uint64_t i = 0; i < f->n_kv; i++) {
        char buf[256];
        gguf_format_value(&f->kv[i].value, buf, sizeof buf);
        CHECK(strlen(buf) < sizeof buf);
        CHECK(gguf_find_key(f, f->kv[i].key.data) == (int64_t)i);
    }
    const gguf_value *tokens = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    if (tokens) CHECK(tokens->v.arr.n > 0);
    check_tensors(f);
    gguf_close(f);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void walk(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) walk(path);
        else if (ends_with(e->d_name, ".gguf")) check_model(path);
    }
    closedir(d);
}

/* Facts from shared/README.md about the tiny BitNet b1.58 model. */
static void check_known_facts(void) {
    gguf_file *f = gguf_open(shared_path("models/bitnet-b158-tiny/bitnet-b158-tiny-i2_s.gguf"));
    CHECKF(f != NULL, "%s", lt_error());
    if (!f) return;
    uint32_t u = 0;
    int64_t i = 0;
    float x = 0;
    CHECK(f->n_tensors == 46);
    CHECK(strcmp(gguf_get_str(f, "general.architecture"), "bitnet-b1.58") == 0);
    CHECK(gguf_get_u32(f, "bitnet-b1.58.embedding_length", &u) && u == 256);
    CHECK(gguf_get_i64(f, "bitnet-b1.58.block_count", &i) && i == 4);
    CHECK(gguf_get_f32(f, "bitnet-b1.58.rope.freq_base", &x) && x == 500000.0f);
    CHECK(gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &u) && u == 1);
    CHECK(gguf_get_u32(f, "general.file_type", &u) && u == 40);
    const gguf_value *tok = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    CHECK(tok && tok->v.arr.n == 512);
    int n_i2s = 0;
    for (uint64_t k = 0; k < f->n_tensors; k++) n_i2s += f->tensors[k].type == LT_TYPE_I2_S;
    CHECK(n_i2s == 28);
    const gguf_tensor_info *emb = gguf_get_tensor(f, "token_embd.weight");
    CHECK(emb && emb->type == LT_TYPE_F16 && emb->ne[0] == 256 && emb->ne[1] == 512 && emb->n_dims == 2);
    CHECK(emb && emb->nbytes == 256 * 512 * 2);
    const gguf_tensor_info *q = gguf_get_tensor(f, "blk.0.attn_q.weight");
    CHECK(q && q->nbytes == 256 * 256 / 4 + 32); /* I2_S: n/4 packed bytes + 32 (scale) */
    gguf_close(f);
}

int main(void) {
    walk(shared_path("models"));
    fprintf(stderr, "%d GGUF files parsed\n", n_files);
    CHECKF(n_files >= 10, "found only %d GGUF files under %s", n_files, shared_path("models"));
    check_known_facts();
    return TEST_DONE();
}
