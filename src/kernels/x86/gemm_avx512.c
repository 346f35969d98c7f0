/* AVX-512 VNNI int8 GEMM for many tokens (see gemm.h). Results equal lt_gemv_ref bit for bit.
 *
 * Per block of LT_GEMM_NB tokens and 32-row tile, per K-block (64 kquads; TERN3 63 = 6 of its
 * 42-weight blocks): decode the tile's codes once into 128 bytes per kquad (gemm.h's layout; the
 * decoders below use vpmultishiftqb / vpermb, 16 rows per zmm), then for passes of up to 12 tokens
 *   acc[t][h] += vpdpbusd(codes of rows 16h .. 16h+15 at kquad q, broadcast x_t[4q .. 4q+3])
 * 2 row vectors x up to 12 tokens = 24 int32 accumulators: one 64-byte code load serves 12 tokens,
 * one 4-byte broadcast 32 rows, and one instruction does 64 multiply-adds (the AVX2 kernel:
 * vpmaddubsw + vpaddw per 32, and int16 chunks, lt_gemm_chunk, which int32 sums do not need).
 * A K-block holds whole scale groups where they fit (INTn, TQ*): the pass takes each group's float
 * step of the reference itself, from the registers (GROUP_END). Per-row weights (BitNet) and longer
 * groups are summed in int32 across K-blocks; per row, store_outputs takes the float step. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86-64 only. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/gemm.h"
#include "kernels/x86/t3_digits.h"

#define NB LT_GEMM_NB
#define KQ LT_GEMM_KQ
#define TMAX 12 /* tokens per pass: 24 accumulators + 2 code vectors + 2 broadcasts of the 32 zmm */

/* ---- decoders: a tile's codes of kquads [q0, q1) into the layout of gemm.h (128 bytes per
 * kquad, row r at bytes 4r .. 4r+3), 16 rows per zmm. ---- */

/* Ternary pairs: kquad q of row r is the index byte b = wt[32q + r], code i = (b >> 2i) & 3.
 * vpmovzxbd puts b in the low byte of row r's dword; vpmultishiftqb copies bits 2i .. 2i+7 of the
 * qword (two rows) into byte i of the dword: offsets 0, 2, 4, 6 and 32, 34, 36, 38. */
static void decode_ternary512(const uint8_t *wt, int64_t q0, int64_t q1, uint8_t *codes) {
    const __m512i ctrl = _mm512_set1_epi64(0x2624222006040200), m3 = _mm512_set1_epi8(3);
    for (int64_t q = q0; q < q1; q++)
        for (int h = 0; h < 2; h++) {
            __m512i d = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wt + q * LT_TILE + 16 * h)));
            _mm512_store_si512(codes + (q - q0) * 128 + 64 * h, _mm512_and_si512(_mm512_multishift_epi64_epi8(ctrl, d), m3));
        }
}

/* vpmultishiftqb control for INTn plane j: byte i of row r's dword takes the 8 bits from offset
 * i - j (mod 64) of its qword, row r + 1's from 32 + i - j, which puts bit i of the row's plane byte
 * at bit j and bit i + 4 at bit 4 + j. */
static inline uint64_t plane_ctrl(int j) {
    uint64_t c = 0;
    for (int k = 0; k < 8; k++) c |= (uint64_t)((32 * (k >> 2) + (k & 3) - j) & 63) << (8 * k);
    return c;
}

/* Planes: kquads 2p, 2p + 1 come from pair p, whose plane j byte of row r has bit j of q[8p + i]
 * at bit i. Per plane one vpmultishiftqb (plane_ctrl) and the bits kept by a mask 0x11 << j: byte
 * i of row r's dword gathers q[8p + i] in its low nibble and q[8p + 4 + i] in its high nibble. */
static inline __attribute__((always_inline)) void decode_planes512(const uint8_t *wt, int64_t q0, int64_t q1, const int P,
                                                                   uint8_t *codes) {
    __m512i ctrl[4], keep[4];
    for (int j = 0; j < P; j++) ctrl[j] = _mm512_set1_epi64((long long)plane_ctrl(j)), keep[j] = _mm512_set1_epi8((char)(0x11 << j));
    const __m512i m0f = _mm512_set1_epi8(0x0F);
    for (int64_t p = q0 / 2; p < q1 / 2; p++)
        for (int h = 0; h < 2; h++) {
            __m512i x = _mm512_setzero_si512();
            _Pragma("GCC unroll 4")
            for (int j = 0; j < P; j++) {
                __m512i d = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wt + (p * P + j) * LT_TILE + 16 * h)));
                x = _mm512_ternarylogic_epi32(x, _mm512_multishift_epi64_epi8(ctrl[j], d), keep[j], 0xF8); /* x | (e & keep) */
            }
            uint8_t *lo = codes + (2 * p - q0) * 128 + 64 * h;
            _mm512_store_si512(lo, _mm512_and_si512(x, m0f));
            _mm512_store_si512(lo + 128, _mm512_and_si512(_mm512_srli_epi16(x, 4), m0f));
        }
}

/* TERN3 codes c = t + 1 by vpermi2b from one 128-byte table, index m | d << 4 | neg << 6 for digit
 * d of magnitude m (x86/t3_digits.h) with sign neg; m = 14, 15 and d = 3 unused. */
#define T3_C(D, S, m) (int8_t)(1 + (S) * D(m))
#define T3_ROW(D, S)                                                                                          \
    T3_C(D, S, 0), T3_C(D, S, 1), T3_C(D, S, 2), T3_C(D, S, 3), T3_C(D, S, 4), T3_C(D, S, 5), T3_C(D, S, 6),  \
    T3_C(D, S, 7), T3_C(D, S, 8), T3_C(D, S, 9), T3_C(D, S, 10), T3_C(D, S, 11), T3_C(D, S, 12), T3_C(D, S, 13), 1, 1
#define T3_ONES 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const int8_t t3_code_tab[128] __attribute__((aligned(64))) = {
    T3_ROW(DIG0, 1), T3_ROW(DIG1, 1), T3_ROW(DIG2, 1), T3_ONES, T3_ROW(DIG0, -1), T3_ROW(DIG1, -1), T3_ROW(DIG2, -1), T3_ONES,
};
/* Kquad q with v = q % 3 starts at digit v of group ga = 4q / 3 (4q = 3 ga + v): weight i of the
 * kquad is digit (v + i) % 3 of group ga + (v + i >= 3). t3_gather[v][h], byte 4r + i: that
 * group's index byte of row 16h + r in the 64 bytes of groups ga, ga + 1; t3_digit_bits[v]: the
 * digit, at bits 4-5 of the table index. */
#define T3_G(v, h, r)                                                                                           \
    (uint8_t)(32 * ((v) >= 3) + 16 * (h) + (r)), (uint8_t)(32 * ((v) + 1 >= 3) + 16 * (h) + (r)),               \
    (uint8_t)(32 * ((v) + 2 >= 3) + 16 * (h) + (r)), (uint8_t)(32 * ((v) + 3 >= 3) + 16 * (h) + (r))
#define T3_GROW(v, h)                                                                                              \
    T3_G(v, h, 0), T3_G(v, h, 1), T3_G(v, h, 2), T3_G(v, h, 3), T3_G(v, h, 4), T3_G(v, h, 5), T3_G(v, h, 6),       \
    T3_G(v, h, 7), T3_G(v, h, 8), T3_G(v, h, 9), T3_G(v, h, 10), T3_G(v, h, 11), T3_G(v, h, 12), T3_G(v, h, 13), \
    T3_G(v, h, 14), T3_G(v, h, 15)
static const uint8_t t3_gather[3][2][64] __attribute__((aligned(64))) = {
    { { T3_GROW(0, 0) }, { T3_GROW(0, 1) } }, { { T3_GROW(1, 0) }, { T3_GROW(1, 1) } }, { { T3_GROW(2, 0) }, { T3_GROW(2, 1) } },
};
#define T3_D4(v) (uint8_t)((v) % 3 << 4), (uint8_t)(((v) + 1) % 3 << 4), (uint8_t)(((v) + 2) % 3 << 4), (uint8_t)(((v) + 3) % 3 << 4)
#define T3_D16(v) T3_D4(v), T3_D4(v), T3_D4(v), T3_D4(v)
static const uint8_t t3_digit_bits[3][64] __attribute__((aligned(64))) = {
    { T3_D16(0), T3_D16(0), T3_D16(0), T3_D16(0) }, { T3_D16(1), T3_D16(1), T3_D16(1), T3_D16(1) },
    { T3_D16(2), T3_D16(2), T3_D16(2), T3_D16(2) },
};

enum {
    KQ_T3 = 63, /* TERN3 K-block: 252 weights = 6 whole blocks of 42 from a block start */
    T3_IDX = KQ_T3 * 4 / 3 + 2, /* index rows of a K-block: its 84 groups and 2 read past them */
};

/* TERN3, kquads [q0, q1) with q0 a multiple of KQ_T3 / 3 (so from group g0 = 4 q0 / 3 at a block
 * start) and q1 - q0 <= KQ_T3. First per group g the index byte m | neg << 6 of each row (m = |v|
 * from the nibble, neg = the group's sign bit, bit 7 - jj of a sign byte, moved to bit 6 by a
 * 16-bit shift), groups jj and 7 + jj of a block together (one nibble vector, sign bytes A and B);
 * groups past nslots index 0 (code 1: t = 0, and x is 0 there). Then per kquad a vpermb of the 64
 * index bytes of its two groups, the digits or'ed in, and the codes from t3_code_tab. */
static void decode_tern3_512(const uint8_t *wt, int64_t nslots, int64_t q0, int64_t q1, uint8_t *codes) {
    _Alignas(64) uint8_t idx[T3_IDX + LT_T3_GROUPS][LT_TILE];
    int64_t g0 = 4 * q0 / 3, gend = LT_MIN(4 * (q1 - 1) / 3 + 2, nslots); /* groups read, not past the last block */
    const __m512i six = _mm512_set1_epi8(0x40), m0f = _mm512_set1_epi8(0x0F);
    for (int64_t b = g0 / LT_T3_GROUPS; b * LT_T3_GROUPS < gend; b++) {
        const uint8_t *blk = wt + (size_t)b * LT_T3_VECS * LT_TILE;
        uint8_t (*out)[LT_TILE] = idx + (b * LT_T3_GROUPS - g0);
        __m512i signs = _mm512_loadu_si512(blk); /* A | B */
        _Pragma("GCC unroll 7")
        for (int jj = 0; jj < 7; jj++) {
            __m256i nib = _mm256_load_si256((const __m256i *)(blk + (2 + jj) * LT_TILE));
            __m512i m = _mm512_inserti64x4(_mm512_castsi256_si512(nib), _mm256_srli_epi16(nib, 4), 1);
            __m512i s = jj ? _mm512_slli_epi16(signs, jj - 1) : _mm512_srli_epi16(signs, 1);
            __m512i v = _mm512_ternarylogic_epi32(m, _mm512_and_si512(s, six), m0f, 0xEC); /* (m & 15) | neg */
            _mm256_store_si256((__m256i *)out[jj], _mm512_castsi512_si256(v));
            _mm256_store_si256((__m256i *)out[7 + jj], _mm512_extracti64x4_epi64(v, 1));
        }
    }
    for (int64_t g = gend; g < 4 * (q1 - 1) / 3 + 2; g++) memset(idx[g - g0], 0, LT_TILE); /* past kp */
    const __m512i tab0 = _mm512_load_si512(t3_code_tab), tab1 = _mm512_load_si512(t3_code_tab + 64);
    for (int64_t u = 0; 3 * u < q1 - q0; u++) { /* kquads q0 + 3u + v: groups from 4u + v (v <= 2) */
        _Pragma("GCC unroll 3")
        for (int v = 0; v < 3; v++) {
            if (3 * u + v >= q1 - q0) break;
            __m512i src = _mm512_loadu_si512(idx[4 * u + v]), dig = _mm512_load_si512(t3_digit_bits[v]);
            for (int h = 0; h < 2; h++) {
                __m512i i = _mm512_or_si512(_mm512_permutexvar_epi8(_mm512_load_si512(t3_gather[v][h]), src), dig);
                _mm512_store_si512(codes + (3 * u + v) * 128 + 64 * h, _mm512_permutex2var_epi8(tab0, i, tab1));
            }
        }
    }
}

/* The asm of pass_T_K below: a pass of T tokens (T <= 12) over one decoded K-block of ng groups
 * of gq kquads each. Token t's sums are in zmm 2t (rows 0-15) and 2t+1 (rows 16-31), a kquad's
 * codes in zmm24/25, its activations broadcast into zmm26 / zmm27 (even / odd t); the assembler's
 * .if drops the tokens >= T. Token t's activations are at x0 + t kx, addressed from x0, x3, x6, x9
 * (= x0 + 3 kx, ...) and kx scaled by 1, 2, 4 or 8.
 *   K = 0: the sums start from acc[t] and go back there (per-row weights, or a piece of a group
 *          longer than a K-block);
 *   K = 1, 2: at each group end the float step of the reference (GROUP_END), the sums
 *          start again from zero; K = 2 adds the INTn offset. */
#define ACC_IN(t, a, b)                                                                                    \
    ".if " #t " < %c[T]\n\t"                                                                               \
    "vmovdqa64 " #t "*128(%[acc]), %%zmm" #a "\n\tvmovdqa64 " #t "*128+64(%[acc]), %%zmm" #b "\n\t.endif\n\t"
#define ACC_OUT(t, a, b)                                                                              \
    ".if " #t " < %c[T]\n\t"                                                                          \
    "vmovdqa64 %%zmm" #a ", " #t "*128(%[acc])\n\tvmovdqa64 %%zmm" #b ", " #t "*128+64(%[acc])\n\t.endif\n\t"
#define TOKEN(t, a, b, bc, addr)                                                                    \
    ".if " #t " < %c[T]\n\t"                                                                        \
    "vpbroadcastd " addr ", %%zmm" #bc "\n\t"                                                       \
    "vpdpbusd %%zmm" #bc ", %%zmm24, %%zmm" #a "\n\tvpdpbusd %%zmm" #bc ", %%zmm25, %%zmm" #b "\n\t.endif\n\t"
/* Group end of token t with s (zmm24/25) and m (zmm26/27) of rows 0-15 / 16-31 and Σx at
 * sums[t]: dot = (float)acc [- Σx], f = fmaf(s, dot, f) [then fmaf(m, Σx, f)] in fp[t], acc = 0.
 * Ternary codes subtract Σx in float: acc = Σ c·x and Σx are integers below 2^24 in magnitude
 * (groups of at most 2^15 weights: lt_gemm_avx512), so both conversions and the difference are
 * exact, the same float as (float)(acc - Σx). */
#define GROUP_END(t, a, b)                                                                                        \
    ".if " #t " < %c[T]\n\t"                                                                                      \
    "vcvtdq2ps %%zmm" #a ", %%zmm" #a "\n\tvcvtdq2ps %%zmm" #b ", %%zmm" #b "\n\t"                                \
    ".if %c[K] == 1\n\t"                                                                                          \
    "vsubps 4*" #t "(%[sums])%{1to16%}, %%zmm" #a ", %%zmm" #a "\n\t"                                             \
    "vsubps 4*" #t "(%[sums])%{1to16%}, %%zmm" #b ", %%zmm" #b "\n\t.endif\n\t"                                   \
    "vfmadd213ps " #t "*128(%[fp]), %%zmm24, %%zmm" #a "\n\tvfmadd213ps " #t "*128+64(%[fp]), %%zmm25, %%zmm" #b "\n\t" \
    ".if %c[K] == 2\n\t"                                                                                          \
    "vfmadd231ps 4*" #t "(%[sums])%{1to16%}, %%zmm26, %%zmm" #a "\n\t"                                            \
    "vfmadd231ps 4*" #t "(%[sums])%{1to16%}, %%zmm27, %%zmm" #b "\n\t.endif\n\t"                                  \
    "vmovaps %%zmm" #a ", " #t "*128(%[fp])\n\tvmovaps %%zmm" #b ", " #t "*128+64(%[fp])\n\t"                     \
    "vpxord %%zmm" #a ", %%zmm" #a ", %%zmm" #a "\n\tvpxord %%zmm" #b ", %%zmm" #b ", %%zmm" #b "\n\t.endif\n\t"
#define ALL_TOKENS(M)                                                                                        \
    M(0, 0, 1) M(1, 2, 3) M(2, 4, 5) M(3, 6, 7) M(4, 8, 9) M(5, 10, 11) M(6, 12, 13) M(7, 14, 15) M(8, 16, 17) \
    M(9, 18, 19) M(10, 20, 21) M(11, 22, 23)
#define PASS_ASM                                                                                              \
    ALL_TOKENS(ACC_IN)                                                                                        \
    "2:\n\t"                                                                                                  \
    "mov %[gq], %[n]\n\t"                                                                                     \
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
    "jnz 1b\n\t"                                                                                              \
    ".if %c[K]\n\t"                                                                                           \
    "vcvtph2ps (%[gsm]), %%zmm24\n\tvcvtph2ps 32(%[gsm]), %%zmm25\n\t"                                        \
    ".if %c[K] == 2\n\tvcvtph2ps 64(%[gsm]), %%zmm26\n\tvcvtph2ps 96(%[gsm]), %%zmm27\n\t.endif\n\t"          \
    ALL_TOKENS(GROUP_END)                                                                                     \
    "add $%c[K]*64, %[gsm]\n\t" /* the next group's s (and m): nsm = K rows of 32 f16 */                      \
    "sub $-128, %[sums]\n\t"    /* the next group's Σx: 32 floats further */                                  \
    "decq %[ng]\n\t"                                                                                          \
    "jnz 2b\n\t"                                                                                              \
    ".else\n\t" ALL_TOKENS(ACC_OUT) ".endif\n\t"

/* pass_T_K: the T tokens from x0 (stride kx) times ng >= 1 groups of gq >= 1 decoded kquads from
 * codes: K = 0: acc[t] += the dots (ng = 1); K = 1, 2: per group the float step into fp[t], with
 * the groups' s (and m) from gsm on and their Σx as floats from sums[t] on (32 floats per group:
 * a->gsumf), acc[t] holding each token's sums so far of the first group (zero unless a piece of it
 * came before). One function per (T, K): the asm needs them as constants (also at -O0). Inline
 * assembly because GCC 12 spilled the intrinsics' 24 accumulators (3-4x slower in a loop of
 * nothing else). */
typedef void (*pass_fn)(const uint8_t *codes, const int8_t *x0, int64_t kx, int64_t ng, int64_t gq,
                        int32_t (*acc)[LT_TILE], float (*fp)[LT_TILE], const uint16_t *gsm, const float *sums);
#define PASS_FN(T_, K_)                                                                                               \
    static void pass_##T_##_##K_(const uint8_t *codes, const int8_t *x0, int64_t kx, int64_t ng, int64_t gq,         \
                                 int32_t (*acc)[LT_TILE], float (*fp)[LT_TILE], const uint16_t *gsm, const float *sums) { \
        const int8_t *x3 = T_ > 3 ? x0 + 3 * kx : x0, *x6 = T_ > 6 ? x0 + 6 * kx : x0, *x9 = T_ > 9 ? x0 + 9 * kx : x0; \
        int64_t n;                                                                                                   \
        __asm__ volatile(PASS_ASM                                                                                    \
                         : [w] "+r"(codes), [x0] "+r"(x0), [x3] "+r"(x3), [x6] "+r"(x6), [x9] "+r"(x9), [n] "=&r"(n), \
                           [gsm] "+r"(gsm), [sums] "+r"(sums), [ng] "+m"(ng)                                         \
                         : [kx] "r"(kx), [acc] "r"(acc), [fp] "r"(fp), [gq] "m"(gq), [T] "n"(T_), [K] "n"(K_)      \
                         : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",   \
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",  \
                           "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27");         \
    }
#define PASS_FN3(T_) PASS_FN(T_, 0) PASS_FN(T_, 1) PASS_FN(T_, 2)
PASS_FN3(1) PASS_FN3(2) PASS_FN3(3) PASS_FN3(4) PASS_FN3(5) PASS_FN3(6)
PASS_FN3(7) PASS_FN3(8) PASS_FN3(9) PASS_FN3(10) PASS_FN3(11) PASS_FN3(12)
#define PASS_ENTRY(T_) { pass_##T_##_0, pass_##T_##_1, pass_##T_##_2 },
static const pass_fn pass_by_t[TMAX + 1][3] = {
    { NULL, NULL, NULL },
    PASS_ENTRY(1) PASS_ENTRY(2) PASS_ENTRY(3) PASS_ENTRY(4) PASS_ENTRY(5) PASS_ENTRY(6)
    PASS_ENTRY(7) PASS_ENTRY(8) PASS_ENTRY(9) PASS_ENTRY(10) PASS_ENTRY(11) PASS_ENTRY(12)
};

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

/* Decoding of a tile's kquads [q, q1) into out (kquad q at out), a piece at a time. */
typedef struct {
    const uint8_t *wt;
    int64_t nslots, q, q1;
    uint8_t *out;
} decode_job;

/* Decode the next nq kquads of d (fewer at its end; a multiple of decode_align unless at the end). */
static inline __attribute__((always_inline)) void decode_some(decode_job *d, int64_t nq, const lt_qkind kind, const int P) {
    int64_t q1 = LT_MIN(d->q1, d->q + nq);
    if (d->q >= q1) return;
    if (kind == LT_QK_TERNARY) decode_ternary512(d->wt, d->q, q1, d->out);
    else if (kind == LT_QK_TERN3) decode_tern3_512(d->wt, d->nslots, d->q, q1, d->out);
    else decode_planes512(d->wt, d->q, q1, P, d->out);
    d->out += (q1 - d->q) * 128;
    d->q = q1;
}

/* Where a decoder may start: planes by pairs of kquads, TERN3 at a block (21 kquads = 2 blocks). */
static inline int64_t decode_align(lt_qkind kind) { return kind == LT_QK_TERN3 ? KQ_T3 / 3 : kind == LT_QK_PLANES ? 2 : 1; }

/* Passes of block_passes for nt tokens from tok0. */
static int count_passes(int64_t tok0, int nt) {
    int n = 0;
    for (int t = 0; t < nt;) {
        int seg = (int)LT_MIN(nt - t, (tok0 + t) / LT_VLUT_NB * LT_VLUT_NB + LT_VLUT_NB - (tok0 + t));
        n += (seg + TMAX - 1) / TMAX;
        t += seg;
    }
    return n;
}

/* One decoded K-block of ng groups of gq kquads from kquad q0 / group g0 (per row: one group) for
 * the nt tokens from tok0, pass K (see PASS_ASM), in passes of at most TMAX tokens: near-equal
 * (a short last pass would leave the multiply pipes waiting on its few accumulators), inside one
 * 32-token block each (a->gsumf holds Σx per block of LT_VLUT_NB tokens). Before each pass a piece
 * of the next K-block's decoding (`next`): the decoders run mostly on other pipes than vpdpbusd,
 * and out-of-order execution overlaps a small piece with the pass next to it (n = 128: ~6 kquads a
 * piece, +5-7% over decoding the whole K-block at once). A long piece does not overlap (measured
 * on L1 data: decode + pass take their sum; its FP uops wait in the scheduler ahead of the
 * pass's), so with one pass (n <= 12) decoding stays serial. */
static inline __attribute__((always_inline)) void block_passes(const uint8_t *codes, int64_t ng, int64_t gq, int K,
                                                               const lt_act *a, int64_t tok0, int nt, int64_t q0,
                                                               int64_t g0, const uint16_t *gsm, int32_t (*ip)[LT_TILE],
                                                               float (*fp)[LT_TILE], decode_job *next,
                                                               const lt_qkind kind, const int P) {
    int64_t align = decode_align(kind), pieces = count_passes(tok0, nt);
    int64_t piece = ((next->q1 - next->q + pieces - 1) / pieces + align - 1) / align * align;
    for (int t = 0; t < nt;) {
        int64_t tok = tok0 + t, blk = tok / LT_VLUT_NB;
        int seg = (int)LT_MIN(nt - t, (blk + 1) * LT_VLUT_NB - tok); /* tokens left in this 32-token block */
        const float *sums = a->gsumf + (blk * a->gsum_ngroups + g0) * LT_VLUT_NB;
        for (int p = 0, passes = (seg + TMAX - 1) / TMAX; p < passes; p++) {
            int T = seg / (passes - p) + (seg % (passes - p) != 0);
            decode_some(next, piece, kind, P);
            pass_by_t[T][K](codes, a->xq + (tok0 + t) * a->kx + 4 * q0, a->kx, ng, gq, ip + t, fp + t, gsm,
                            sums + (tok0 + t) % LT_VLUT_NB);
            t += T, seg -= T;
        }
    }
}

/* A K-block: kquads [q0, q1) holding groups g0 .. g0 + ng - 1 whole, or a piece of group g0
 * (ng = 1; per-row weights: the row is one group). q0 = -1: past the row. */
typedef struct {
    int64_t q0, q1, g0, ng;
} kblock;

/* How rows are cut: groups of gq kquads, K-blocks of at most kq kquads, gpb whole groups each
 * where a group fits (else pieces of one group). */
typedef struct {
    int64_t gq, kq, gpb, ngroups;
} kplan;

/* The K-block after kb (kb = {0} gives the first). */
static kblock next_kblock(const kplan *p, kblock kb) {
    int64_t qend = (kb.g0 + kb.ng) * p->gq;
    if (kb.q1 < qend) return (kblock){ kb.q1, LT_MIN(kb.q1 + p->kq, qend), kb.g0, kb.ng };
    int64_t g0 = kb.g0 + kb.ng;
    if (g0 >= p->ngroups) return (kblock){ -1, -1, g0, 0 };
    int64_t ng = LT_MIN(p->gpb, p->ngroups - g0);
    return (kblock){ g0 * p->gq, LT_MIN(g0 * p->gq + p->kq, (g0 + ng) * p->gq), g0, ng };
}

/* Into L2: bytes [p, p + bytes). */
static inline void prefetch_l2(const void *p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + o, _MM_HINT_T1);
}

/* Offset in a tile's bytes of kquad q (TERN3: q a multiple of 21, at a block pair). */
static inline size_t kquad_offset(int64_t q, const lt_qkind kind, const int P) {
    if (kind == LT_QK_TERN3) return (size_t)(q / (KQ_T3 / 3)) * 2 * LT_T3_VECS * LT_TILE;
    return (size_t)q * (kind == LT_QK_PLANES ? (size_t)(16 * P) : LT_TILE);
}

/* The codes and scales of K-block kb of tile `tile` (past the row: the next tile's first) into L2,
 * a K-block ahead of its decoding: the passes in between leave the hardware prefetcher idle. */
static inline __attribute__((always_inline)) void prefetch_kblock(const lt_qweight *w, const kplan *p, int64_t tile,
                                                                  kblock kb, const lt_qkind kind, const int P) {
    if (kb.q0 < 0) {
        if (++tile >= w->ntiles) return;
        kb = next_kblock(p, (kblock){ 0, 0, 0, 0 });
    }
    const uint8_t *wt = w->idx + (size_t)tile * lt_qw_tile_bytes(w);
    int64_t q1 = kind == LT_QK_TERN3 ? (kb.q1 + KQ_T3 / 3 - 1) / (KQ_T3 / 3) * (KQ_T3 / 3) : kb.q1;
    prefetch_l2(wt + kquad_offset(kb.q0, kind, P), kquad_offset(q1, kind, P) - kquad_offset(kb.q0, kind, P));
    if (!w->per_row) prefetch_l2(lt_qw_gsm(w, tile, kb.g0), (size_t)kb.ng * (size_t)w->nsm * LT_TILE * sizeof(uint16_t));
}

/* Per block of NB tokens and tile: K-blocks of whole scale groups where a group fits (the float
 * steps inside the passes), else pieces of one group (per-row weights: the row), summed in ip; the
 * last piece of a group takes its float steps. K-blocks are decoded one ahead, into the other half
 * of `codes`, during the passes of the current one. With few passes (n < 24) INTn K-blocks are
 * halved (n = 8: ~+10% over 64 and 16 kquads, medians of alternated runs; TERN3 was best at 63). */
static inline __attribute__((always_inline)) void gemm_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const lt_qkind kind, const int P) {
    _Alignas(64) uint8_t codes[2][KQ * 128];
    _Alignas(64) int32_t ip[NB][LT_TILE];
    _Alignas(64) float fp[NB][LT_TILE];
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t gq = (w->group + 3) / 4; /* TERN3: kp = 42 n, the last kquad padded */
    int mode = w->per_row ? 0 : lt_qw_has_offset(w) ? 2 : 1;
    for (int64_t tok0 = a->first_token; tok0 < a->n; tok0 += NB) {
        int nt = (int)LT_MIN(NB, a->n - tok0);
        int64_t kq = kind == LT_QK_TERN3 ? KQ_T3 : nt >= 24 ? KQ : KQ / 2;
        bool whole = gq <= kq;
        const kplan plan = { gq, kq, whole && mode ? kq / gq : 1, w->ngroups };
        for (int64_t tile = t0; tile < t1; tile++) {
            const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
            memset(ip, 0, (size_t)nt * sizeof ip[0]);
            if (mode) memset(fp, 0, (size_t)nt * sizeof fp[0]);
            kblock kb = next_kblock(&plan, (kblock){ 0, 0, 0, 0 });
            decode_job d = { wt, w->nslots, kb.q0, kb.q1, codes[0] };
            decode_some(&d, kb.q1 - kb.q0, kind, P);
            prefetch_kblock(w, &plan, tile, next_kblock(&plan, kb), kind, P);
            for (int i = 0; kb.q0 >= 0; i++) {
                kblock nx = next_kblock(&plan, kb);
                decode_job dn = { wt, w->nslots, nx.q0, nx.q0 >= 0 ? nx.q1 : nx.q0, codes[(i + 1) & 1] };
                if (nx.q0 >= 0) prefetch_kblock(w, &plan, tile, next_kblock(&plan, nx), kind, P);
                bool ends = kb.q1 == (kb.g0 + kb.ng) * gq; /* the K-block ends its group(s) */
                block_passes(codes[i & 1], whole ? kb.ng : 1, whole ? gq : kb.q1 - kb.q0, ends ? mode : 0, a, tok0, nt,
                             kb.q0, kb.g0, mode ? lt_qw_gsm(w, tile, kb.g0) : NULL, ip, fp, &dn, kind, P);
                if (mode && !whole && ends) memset(ip, 0, (size_t)nt * sizeof ip[0]); /* the group's pieces were summed there */
                kb = nx;
            }
            store_outputs(w, a, tile, tok0, nt, ip, fp, y);
        }
    }
}

void lt_gemm_avx512(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    if (lt_qw_ternary(w) && !w->per_row && w->group > (1 << 15)) { /* Σx not subtracted exactly in float (GROUP_END) */
        lt_gemm_avx2(w, a, t0, t1, y);
        return;
    }
    LT_GEMM_BY_LAYOUT(gemm_tiles, w, a, t0, t1, y);
}

#endif
