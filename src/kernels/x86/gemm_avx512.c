/* AVX-512 VNNI int8 GEMM for many tokens (see gemm.h). Results equal lt_gemv_ref bit for bit.
 *
 * The blocking of x86/gemm_avx2.c (per block of LT_GEMM_NB tokens and 32-row tile, per K-block of
 * up to 64 kquads inside one scale group: decode the tile's codes once, with the same decoders,
 * x86/gemm_decode_avx2.h), but the multiply-add is vpdpbusd on zmm, which adds the four products of
 * a kquad straight into an int32 lane per row:
 *   acc[t][h] += vpdpbusd(codes of rows 16h .. 16h+15 at kquad q, broadcast x_t[4q .. 4q+3])
 * 2 row vectors x up to 12 tokens = 24 accumulators, so one 64-byte code load serves 12 tokens and
 * one 4-byte broadcast 32 rows; one instruction per 64 multiply-adds instead of vpmaddubsw + vpaddw
 * per 32, and int32 sums need no int16 chunks (lt_gemm_chunk does not apply). At a group end (or
 * the row end) the float steps of the reference, 16 rows per vector. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86-64 only. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/gemm.h"
#include "kernels/x86/gemm_decode_avx2.h"

#define NB LT_GEMM_NB
#define KQ LT_GEMM_KQ
#define TMAX 12 /* tokens per pass: 24 accumulators + 2 code vectors + 2 broadcasts of the 32 zmm */

/* The asm of dots_T below. Token t's sums are in zmm 2t (rows 0-15) and 2t+1 (rows 16-31), the
 * kquad's codes in zmm24/25, its activations broadcast into zmm26 / zmm27 (even / odd t). The
 * assembler's .if drops the tokens >= T. Token t's activations are at x0 + t kx, addressed from
 * x0, x3, x6, x9 (= x0 + 3 kx, ...) and kx scaled by 1, 2, 4 or 8. */
#define ACC_IN(t, a, b)                                                                                     \
    ".if " #t " < %c[T]\n\t.if %c[Z]\n\t"                                                                    \
    "vpxord %%zmm" #a ", %%zmm" #a ", %%zmm" #a "\n\tvpxord %%zmm" #b ", %%zmm" #b ", %%zmm" #b "\n\t.else\n\t" \
    "vmovdqa64 " #t "*128(%[acc]), %%zmm" #a "\n\tvmovdqa64 " #t "*128+64(%[acc]), %%zmm" #b "\n\t.endif\n\t.endif\n\t"
#define ACC_OUT(t, a, b)                                                                              \
    ".if " #t " < %c[T]\n\t"                                                                          \
    "vmovdqa64 %%zmm" #a ", " #t "*128(%[acc])\n\tvmovdqa64 %%zmm" #b ", " #t "*128+64(%[acc])\n\t.endif\n\t"
#define TOKEN(t, a, b, bc, addr)                                                                    \
    ".if " #t " < %c[T]\n\t"                                                                        \
    "vpbroadcastd " addr ", %%zmm" #bc "\n\t"                                                       \
    "vpdpbusd %%zmm" #bc ", %%zmm24, %%zmm" #a "\n\tvpdpbusd %%zmm" #bc ", %%zmm25, %%zmm" #b "\n\t.endif\n\t"
#define ALL_TOKENS(M)                                                                                        \
    M(0, 0, 1) M(1, 2, 3) M(2, 4, 5) M(3, 6, 7) M(4, 8, 9) M(5, 10, 11) M(6, 12, 13) M(7, 14, 15) M(8, 16, 17) \
    M(9, 18, 19) M(10, 20, 21) M(11, 22, 23)
#define DOTS_ASM                                                                                              \
    ALL_TOKENS(ACC_IN)                                                                                        \
    "1:\n\t"                                                                                                  \
    "vmovdqa64 (%[w]), %%zmm24\n\tvmovdqa64 64(%[w]), %%zmm25\n\t"                                            \
    TOKEN(0, 0, 1, 26, "(%[x0])") TOKEN(1, 2, 3, 27, "(%[x0],%[kx])") TOKEN(2, 4, 5, 26, "(%[x0],%[kx],2)")  \
    TOKEN(3, 6, 7, 27, "(%[x3])") TOKEN(4, 8, 9, 26, "(%[x0],%[kx],4)") TOKEN(5, 10, 11, 27, "(%[x3],%[kx],2)") \
    TOKEN(6, 12, 13, 26, "(%[x6])") TOKEN(7, 14, 15, 27, "(%[x6],%[kx])") TOKEN(8, 16, 17, 26, "(%[x0],%[kx],8)") \
    TOKEN(9, 18, 19, 27, "(%[x9])") TOKEN(10, 20, 21, 26, "(%[x6],%[kx],4)") TOKEN(11, 22, 23, 27, "(%[x9],%[kx],2)") \
    "sub $-128, %[w]\n\t"                                                                                     \
    "add $4, %[x0]\n\t"                                                                                       \
    ".if %c[T] > 3\n\tadd $4, %[x3]\n\t.endif\n\t"                                                            \
    ".if %c[T] > 6\n\tadd $4, %[x6]\n\t.endif\n\t"                                                            \
    ".if %c[T] > 9\n\tadd $4, %[x9]\n\t.endif\n\t"                                                            \
    "dec %[n]\n\t"                                                                                            \
    "jnz 1b\n\t" ALL_TOKENS(ACC_OUT)

/* dots_T_Z: acc[t][0..31] (= or +=, Z = 1 or 0) Σ_{q < nq} Σ_i codes[q][row][i] x_t[4q + i] for the
 * T tokens x_t = x0 + t kx, nq >= 1. One function per (T, Z): the asm needs them as constants
 * (also at -O0). Inline assembly because GCC 12 spilled the intrinsics' 24 accumulators (3-4x
 * slower in a loop of nothing else). */
typedef void (*dots_fn)(const uint8_t *codes, int64_t nq, const int8_t *x0, int64_t kx, int32_t (*acc)[LT_TILE]);
#define DOTS_FN(T_, Z_)                                                                                               \
    static void dots_##T_##_##Z_(const uint8_t *codes, int64_t nq, const int8_t *x0, int64_t kx,                     \
                                 int32_t (*acc)[LT_TILE]) {                                                          \
        const int8_t *x3 = T_ > 3 ? x0 + 3 * kx : x0, *x6 = T_ > 6 ? x0 + 6 * kx : x0, *x9 = T_ > 9 ? x0 + 9 * kx : x0; \
        __asm__ volatile(DOTS_ASM                                                                                    \
                         : [w] "+r"(codes), [x0] "+r"(x0), [x3] "+r"(x3), [x6] "+r"(x6), [x9] "+r"(x9), [n] "+r"(nq) \
                         : [kx] "r"(kx), [acc] "r"(acc), [T] "n"(T_), [Z] "n"(Z_)                                    \
                         : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",   \
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",  \
                           "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27");         \
    }
#define DOTS_FN2(T_) DOTS_FN(T_, 0) DOTS_FN(T_, 1)
DOTS_FN2(1) DOTS_FN2(2) DOTS_FN2(3) DOTS_FN2(4) DOTS_FN2(5) DOTS_FN2(6)
DOTS_FN2(7) DOTS_FN2(8) DOTS_FN2(9) DOTS_FN2(10) DOTS_FN2(11) DOTS_FN2(12)
#define DOTS_ENTRY(T_) { dots_##T_##_0, dots_##T_##_1 },
static const dots_fn dots_by_t[TMAX + 1][2] = {
    { NULL, NULL },
    DOTS_ENTRY(1) DOTS_ENTRY(2) DOTS_ENTRY(3) DOTS_ENTRY(4) DOTS_ENTRY(5) DOTS_ENTRY(6)
    DOTS_ENTRY(7) DOTS_ENTRY(8) DOTS_ENTRY(9) DOTS_ENTRY(10) DOTS_ENTRY(11) DOTS_ENTRY(12)
};

/* Sixteen f16 values as floats (exact). */
static inline __m512 load_f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

/* End of scale group g for nt tokens: f = fmaf(s, (float)dot, f) [+ fmaf(m, (float)Σx, f)], dot =
 * ip (- Σx for ternary codes). */
static void group_end(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t g, int64_t tok0, int nt,
                      int32_t (*ip)[LT_TILE], float (*fp)[LT_TILE]) {
    const uint16_t *sg = lt_qw_gsm(w, tile, g);
    bool offset = lt_qw_has_offset(w), ternary = lt_qw_ternary(w);
    __m512 s[2], m[2];
    for (int h = 0; h < 2; h++) {
        s[h] = load_f16x16(sg + 16 * h);
        m[h] = offset ? load_f16x16(sg + LT_TILE + 16 * h) : _mm512_setzero_ps();
    }
    for (int t = 0; t < nt; t++) {
        int32_t sum = a->gsum[(tok0 + t) * a->gsum_ngroups + g];
        __m512i sub = _mm512_set1_epi32(ternary ? sum : 0);
        __m512 fsum = _mm512_set1_ps((float)sum);
        for (int h = 0; h < 2; h++) {
            __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(ip[t] + 16 * h), sub));
            __m512 f = _mm512_fmadd_ps(s[h], dot, _mm512_load_ps(fp[t] + 16 * h));
            if (offset) f = _mm512_fmadd_ps(m[h], fsum, f);
            _mm512_store_ps(fp[t] + 16 * h, f);
        }
    }
}

/* y for nt tokens and the tile's rows: per row (float)(ip - Σx) * (s * a), else fp * a. */
static void store_outputs(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t tok0, int nt,
                          int32_t (*ip)[LT_TILE], float (*fp)[LT_TILE], float *y) {
    const float *s = w->per_row ? w->scale + tile * LT_TILE : NULL;
    int64_t row0 = tile * LT_TILE, rows = LT_MIN(LT_TILE, w->m - row0);
    __mmask16 keep[2] = { (__mmask16)((1u << LT_MIN(rows, 16)) - 1), (__mmask16)((1u << LT_MAX(rows - 16, 0)) - 1) };
    for (int t = 0; t < nt; t++) {
        int64_t tok = tok0 + t;
        __m512 act = _mm512_set1_ps(a->scale[tok]);
        for (int h = 0; h < 2; h++) {
            __m512 o;
            if (w->per_row) {
                __m512i d = _mm512_sub_epi32(_mm512_load_si512(ip[t] + 16 * h), _mm512_set1_epi32(a->gsum[tok * a->gsum_ngroups]));
                o = _mm512_mul_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(_mm512_loadu_ps(s + 16 * h), act));
            } else {
                o = _mm512_mul_ps(_mm512_load_ps(fp[t] + 16 * h), act);
            }
            _mm512_mask_storeu_ps(y + tok * w->m + row0 + 16 * h, keep[h], o);
        }
    }
}

/* ip[0 .. nt) (= where zero, else +=) the dots of one decoded K-block of nq kquads with the nt
 * tokens from x0, in passes of at most TMAX tokens of near-equal size (a short last pass would
 * leave the multiply pipes waiting on the latency of its few accumulators). */
static void block_dots(const uint8_t *codes, int64_t nq, const int8_t *x0, int64_t kx, int nt, bool zero,
                       int32_t (*ip)[LT_TILE]) {
    int passes = (nt + TMAX - 1) / TMAX;
    for (int p = 0, t = 0; p < passes; p++) {
        int T = (nt - t) / (passes - p) + ((nt - t) % (passes - p) != 0);
        dots_by_t[T][zero](codes, nq, x0 + t * kx, kx, ip + t);
        t += T;
    }
}

static inline __attribute__((always_inline)) void gemm_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const lt_qkind kind, const int P) {
    _Alignas(64) uint8_t codes[KQ * 128];
    _Alignas(64) int32_t ip[NB][LT_TILE];
    _Alignas(64) float fp[NB][LT_TILE];
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t gq = (w->group + 3) / 4; /* TERN3: kp = 42 n, the last kquad padded */
    for (int64_t tok0 = a->first_token; tok0 < a->n; tok0 += NB) {
        int nt = (int)LT_MIN(NB, a->n - tok0);
        for (int64_t tile = t0; tile < t1; tile++) {
            const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
            if (!w->per_row) memset(fp, 0, (size_t)nt * sizeof fp[0]);
            for (int64_t g = 0; g < w->ngroups; g++) {
                for (int64_t q0 = g * gq; q0 < (g + 1) * gq; q0 += KQ) {
                    int64_t q1 = LT_MIN(q0 + KQ, (g + 1) * gq);
                    if (kind == LT_QK_TERNARY) decode_ternary(wt, q0, q1, codes);
                    else if (kind == LT_QK_TERN3) decode_tern3(wt, w->nslots, q0, q1, codes);
                    else decode_planes(wt, q0, q1, P, codes);
                    block_dots(codes, q1 - q0, a->xq + tok0 * a->kx + 4 * q0, a->kx, nt, q0 == g * gq, ip);
                }
                if (!w->per_row) group_end(w, a, tile, g, tok0, nt, ip, fp);
            }
            store_outputs(w, a, tile, tok0, nt, ip, fp, y);
        }
    }
}

void lt_gemm_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    if (w->kind != LT_QK_PLANES) {
        if (w->kind == LT_QK_TERN3) gemm_tiles(w, a, t0, t1, y, LT_QK_TERN3, 1);
        else gemm_tiles(w, a, t0, t1, y, LT_QK_TERNARY, 1);
        return;
    }
    switch (w->planes) {
    case 1: gemm_tiles(w, a, t0, t1, y, LT_QK_PLANES, 1); break;
    case 2: gemm_tiles(w, a, t0, t1, y, LT_QK_PLANES, 2); break;
    case 3: gemm_tiles(w, a, t0, t1, y, LT_QK_PLANES, 3); break;
    default: gemm_tiles(w, a, t0, t1, y, LT_QK_PLANES, 4); break;
    }
}

#endif
