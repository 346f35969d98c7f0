/* AVX2 ternary group-LUT GEMM (see tlut.h and docs/kernels.md, "Ternary group LUT GEMM").
 * Results equal lt_gemv_ref bit for bit.
 *
 * Per parallel region (up to LT_TLUT_TOKENS tokens): the threads first transpose the int8
 * activations of each block of 32 tokens into int16 rows xt[k][32 tokens], then take work units
 * (a weight's chunk of up to 1024 rows x one token block) from a counter. A unit, per K-block of
 * 16 groups:
 *   - builds the K-block's tables from xt, E_g[c][32 tokens] int16 (27 rows of 64 bytes per group:
 *     27 KB, written and then read from L1: built per unit instead of once per region, because
 *     tables of the whole K are 18x the activations and came from L3 at every use);
 *   - per tile, decodes the codes into bytes code * 8 [group][32 rows] (TERNARY: vpshufb of the
 *     nibbles; TERN3: 8 (v + 13) from |v| and the sign bit; see below), then
 *     eight rows at a time acc[0..31] += E_g[code] over the 16 groups (per group one 64-bit load
 *     of the eight rows' codes, per row two vpaddw with the table row as memory operand), added
 *     into the rows' int16 partials;
 *   - every <= 80 groups moves the high byte of the int16 partials into int16 high parts
 *     (dot = 256 hi + p16: half the bytes of int32 partials).
 * At the end y = (float)dot * (s * a) per row and token, 8 x 8 at a time through a transpose. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/spin.h"
#include "common/thread_slot.h"
#include "common/util.h"
#include "kernels/tlut.h"

#define NB LT_TLUT_NB
#define KG LT_TLUT_KG
#define GROUP_BYTES LT_TLUT_GROUP
#define UNIT_ROWS (LT_TLUT_TILES * LT_TILE)
_Static_assert(LT_TLUT_ENTRY == NB * 2, "a table row is the int16 entries of the block's tokens");
_Static_assert(255 + LT_TLUT_WIDEN * 384 < 32768 && LT_TLUT_WIDEN >= KG, "int16 partials of LT_TLUT_WIDEN groups");
_Static_assert((128 * LT_TLUT_MAX_K + 255) / 256 + 1 < 32768, "int16 high parts of the dots");
_Static_assert(KG % 4 == 0, "K-blocks start at a multiple of four groups (three code bytes)");

/* ---- activations and tables ---- */

/* c[j] = column j of the 16 x 16 byte matrix whose rows are r[0..15] (unpacks of 8, 16, 32, 64 bits). */
static inline void transpose16x16(__m128i r[16]) {
    __m128i a[16], b[16];
    for (int i = 0; i < 8; i++) { /* a[i]: rows 2i, 2i+1 interleaved, columns 0-7; a[i + 8]: columns 8-15 */
        a[i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
        a[i + 8] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* b[4q + i]: rows 4i .. 4i+3 of columns 4q .. 4q+3 (32 bits each) */
        b[i] = _mm_unpacklo_epi16(a[2 * i], a[2 * i + 1]);
        b[i + 4] = _mm_unpackhi_epi16(a[2 * i], a[2 * i + 1]);
        b[i + 8] = _mm_unpacklo_epi16(a[8 + 2 * i], a[8 + 2 * i + 1]);
        b[i + 12] = _mm_unpackhi_epi16(a[8 + 2 * i], a[8 + 2 * i + 1]);
    }
    for (int q = 0; q < 4; q++) { /* rows 0-7 and 8-15 of two columns each, then whole columns */
        __m128i l0 = _mm_unpacklo_epi32(b[4 * q], b[4 * q + 1]), h0 = _mm_unpackhi_epi32(b[4 * q], b[4 * q + 1]);
        __m128i l1 = _mm_unpacklo_epi32(b[4 * q + 2], b[4 * q + 3]), h1 = _mm_unpackhi_epi32(b[4 * q + 2], b[4 * q + 3]);
        r[4 * q] = _mm_unpacklo_epi64(l0, l1);
        r[4 * q + 1] = _mm_unpackhi_epi64(l0, l1);
        r[4 * q + 2] = _mm_unpacklo_epi64(h0, h1);
        r[4 * q + 3] = _mm_unpackhi_epi64(h0, h1);
    }
}

/* xt[k][t] = x_t[k] as int16 for k in [k0, k1) (k0 a multiple of 16) and the nt tokens from tok0
 * (other tokens zero): the block's activations transposed, so that a table is built from three
 * rows of 32 values. 16 tokens x 16 k at a time; xq is zero past k and kx is a multiple of 64,
 * so the 16-byte loads stay in the row (the scalar loop covers any other kx). */
static void transpose_block(const lt_act *a, int64_t tok0, int nt, int64_t k0, int64_t k1, int16_t *xt) {
    for (int64_t kb = k0; kb < k1; kb += 16) {
        int kn = (int)LT_MIN(16, k1 - kb);
        for (int h = 0; h < 2; h++) {
            if (kb + 16 > a->kx) { /* not with lt_act_prepare's kx */
                for (int c = 0; c < kn; c++)
                    for (int t = 16 * h; t < 16 * h + 16; t++)
                        xt[(kb + c) * NB + t] = (int16_t)(t < nt && kb + c < a->kx ? a->xq[(tok0 + t) * a->kx + kb + c] : 0);
                continue;
            }
            __m128i r[16];
            for (int i = 0; i < 16; i++) {
                int t = 16 * h + i;
                r[i] = t < nt ? _mm_loadu_si128((const __m128i *)(a->xq + (tok0 + t) * a->kx + kb)) : _mm_setzero_si128();
            }
            transpose16x16(r);
            for (int c = 0; c < kn; c++)
                _mm256_store_si256((__m256i *)(xt + (kb + c) * NB + 16 * h), _mm256_cvtepi8_epi16(r[c]));
        }
    }
}

/* Tables of ng groups from g0 (xt: the block's transposed activations): E_g[c][t] = (c0 - 1)
 * x_t[3g] + (c1 - 1) x_t[3g+1] + (c2 - 1) x_t[3g+2] at tab + (g - g0) * GROUP_BYTES + c * 64,
 * c = c0 + 3 c1 + 9 c2. */
static void build_tables(const int16_t *xt, int64_t g0, int ng, uint8_t *tab) {
    const __m256i zero = _mm256_setzero_si256();
    for (int gi = 0; gi < ng; gi++) {
        const __m256i *x = (const __m256i *)(xt + 3 * (g0 + gi) * NB);
        __m256i *e = (__m256i *)(tab + gi * GROUP_BYTES);
        for (int h = 0; h < 2; h++) { /* tokens 16h .. 16h + 15 */
            __m256i v[3][3];          /* v[i][c] = (c - 1) * x_i */
            for (int i = 0; i < 3; i++) {
                __m256i xi = _mm256_load_si256(x + 2 * i + h);
                v[i][0] = _mm256_sub_epi16(zero, xi), v[i][1] = zero, v[i][2] = xi;
            }
            for (int c1 = 0; c1 < 3; c1++)
                for (int c0 = 0; c0 < 3; c0++) {
                    __m256i s01 = _mm256_add_epi16(v[0][c0], v[1][c1]);
                    for (int c2 = 0; c2 < 3; c2++)
                        _mm256_store_si256(e + 2 * (c0 + 3 * c1 + 9 * c2) + h, _mm256_add_epi16(s01, v[2][c2]));
                }
        }
    }
}

/* ---- codes ----
 * A row's code byte p holds weights 4p .. 4p+3 (c = t + 1 at bits 2i: the layout's slot pair
 * byte idx(2p) | idx(2p+1) << 4), so three bytes hold the 12 weights of four groups. With the
 * nibbles L = byte & 15, H = byte >> 4 of bytes v0, v1, v2 (c_j = weight j of the twelve):
 *   group 0 = c0 + 3c1 + 9c2  = A(L0) + B(H0)      A(n) = (n & 3) + 3 (n >> 2), B(n) = 9 (n & 3)
 *   group 1 = c3 + 3c4 + 9c5  = C(H0) + D(L1)      C(n) = n >> 2,  D(n) = 3 (n & 3) + 9 (n >> 2)
 *   group 2 = c6 + 3c7 + 9c8  = A(H1) + B(L2)
 *   group 3 = c9 + 3c10 + 9c11 = C(L2) + D(H2)
 * each function a vpshufb of a 16-entry table; the tables hold 8x the value (code * 8 <= 208 fits a
 * byte), so that the row loop addresses table row c (64 bytes) as base + byte * 8. */
#define N16(F) F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), F(8), F(9), F(10), F(11), F(12), F(13), F(14), F(15)
#define FA(n) (uint8_t)(8 * (((n) & 3) + 3 * ((n) >> 2)))
#define FB(n) (uint8_t)(72 * ((n) & 3))
#define FC(n) (uint8_t)(8 * ((n) >> 2))
#define FD(n) (uint8_t)(8 * (3 * ((n) & 3) + 9 * ((n) >> 2)))
static const uint8_t nib_a[32] __attribute__((aligned(32))) = { N16(FA), N16(FA) };
static const uint8_t nib_b[32] __attribute__((aligned(32))) = { N16(FB), N16(FB) };
static const uint8_t nib_c[32] __attribute__((aligned(32))) = { N16(FC), N16(FC) };
static const uint8_t nib_d[32] __attribute__((aligned(32))) = { N16(FD), N16(FD) };

/* codes[g - g0][r] = 8 * code(row r of the tile, group g) for groups [g0, g0 + ng), g0 and ng
 * multiples of 4; wt is the tile ([nbytes][32 rows]), bytes past nbytes read as zero weights. */
static void decode_codes(const uint8_t *wt, int64_t nbytes, int64_t g0, int ng, uint8_t *codes) {
    const __m256i m15 = _mm256_set1_epi8(15), ones = _mm256_set1_epi8(0x55); /* 0x55: four c = 1 */
    const __m256i ta = _mm256_load_si256((const __m256i *)nib_a), tb = _mm256_load_si256((const __m256i *)nib_b);
    const __m256i tc = _mm256_load_si256((const __m256i *)nib_c), td = _mm256_load_si256((const __m256i *)nib_d);
    for (int q = 0; q < ng / 4; q++) {
        int64_t p = (g0 / 4 + q) * 3;
        __m256i v[3];
        for (int i = 0; i < 3; i++)
            v[i] = p + i < nbytes ? _mm256_loadu_si256((const __m256i *)(wt + (p + i) * LT_TILE)) : ones;
        /* the same bytes of the next K-block: the tiles of a unit are as many streams (the
         * hardware prefetcher follows few) */
        _mm_prefetch((const char *)(wt + (p + 3 * KG / 4) * LT_TILE), _MM_HINT_T0);
        _mm_prefetch((const char *)(wt + (p + 3 * KG / 4 + 2) * LT_TILE), _MM_HINT_T0);
        __m256i l0 = _mm256_and_si256(v[0], m15), h0 = _mm256_and_si256(_mm256_srli_epi16(v[0], 4), m15);
        __m256i l1 = _mm256_and_si256(v[1], m15), h1 = _mm256_and_si256(_mm256_srli_epi16(v[1], 4), m15);
        __m256i l2 = _mm256_and_si256(v[2], m15), h2 = _mm256_and_si256(_mm256_srli_epi16(v[2], 4), m15);
        __m256i *out = (__m256i *)(codes + 4 * q * LT_TILE);
        _mm256_store_si256(out, _mm256_add_epi8(_mm256_shuffle_epi8(ta, l0), _mm256_shuffle_epi8(tb, h0)));
        _mm256_store_si256(out + 1, _mm256_add_epi8(_mm256_shuffle_epi8(tc, h0), _mm256_shuffle_epi8(td, l1)));
        _mm256_store_si256(out + 2, _mm256_add_epi8(_mm256_shuffle_epi8(ta, h1), _mm256_shuffle_epi8(tb, l2)));
        _mm256_store_si256(out + 3, _mm256_add_epi8(_mm256_shuffle_epi8(tc, l2), _mm256_shuffle_epi8(td, h2)));
    }
}

/* Group J of a block (J a constant: the shifts and offsets fold): one code vector, then the sign
 * byte doubled for the next group; a case of decode_codes_t3's switch (group J - 1 falls through to it). */
#define T3_GROUP(J)                                                                                          \
    case J:                                                                                                  \
        if (g == g1) break;                                                                                  \
        if ((J) == 0 || (J) == 7) s = _mm256_load_si256((const __m256i *)(blk + ((J) >= 7) * LT_TILE));      \
        nib = _mm256_load_si256((const __m256i *)(blk + (2 + (J) % 7) * LT_TILE));                            \
        m8 = _mm256_and_si256((J) >= 7 ? _mm256_srli_epi16(nib, 1) : _mm256_slli_epi16(nib, 3), m78);         \
        _mm256_store_si256((__m256i *)out, _mm256_add_epi8(_mm256_sign_epi8(m8, s), c104));                  \
        out += LT_TILE, g++, s = _mm256_add_epi8(s, s);
#define T3_NEXT __attribute__((fallthrough));

/* TERN3 (kernels_impl.h, lt_qkind): the table index c0 + 3 c1 + 9 c2 with c_i = t_i + 1 is v + 13
 * for the group's v = t0 + 3 t1 + 9 t2, so per group: 8 |v| from the nibble (shift and mask,
 * <= 104), vpsignb by the sign byte shifted so that the group's bit is on top (never zero: bit 0
 * is set), + 104. codes[g - g0][r] = 8 (v + 13) for groups [g0, g0 + ng); groups past nslots
 * read as zero weights (104). */
static void decode_codes_t3(const uint8_t *wt, int64_t nslots, int64_t g0, int ng, uint8_t *codes) {
    const __m256i m78 = _mm256_set1_epi8(0x78), c104 = _mm256_set1_epi8(104);
    const size_t blk_bytes = LT_T3_VECS * LT_TILE;
    int64_t g = g0, g1 = LT_MIN(g0 + ng, nslots);
    uint8_t *out = codes;
    while (g < g1) { /* per block: from group j to its end or g1 */
        const uint8_t *blk = wt + (size_t)(g / LT_T3_GROUPS) * blk_bytes;
        int j = (int)(g % LT_T3_GROUPS), jj = j % 7;
        /* the bytes of the next K-block: the tiles of a unit are as many streams */
        for (size_t b = 0; b < blk_bytes; b += 64) _mm_prefetch((const char *)(blk + 2 * blk_bytes + b), _MM_HINT_T0);
        __m256i nib, m8, s = _mm256_sll_epi16(_mm256_load_si256((const __m256i *)(blk + (j >= 7) * LT_TILE)), _mm_cvtsi32_si128(jj));
        switch (j) {
            T3_GROUP(0) T3_NEXT T3_GROUP(1) T3_NEXT T3_GROUP(2) T3_NEXT T3_GROUP(3) T3_NEXT T3_GROUP(4) T3_NEXT
            T3_GROUP(5) T3_NEXT T3_GROUP(6) T3_NEXT T3_GROUP(7) T3_NEXT T3_GROUP(8) T3_NEXT T3_GROUP(9) T3_NEXT
            T3_GROUP(10) T3_NEXT T3_GROUP(11) T3_NEXT T3_GROUP(12) T3_NEXT T3_GROUP(13)
        }
    }
    for (; g < g0 + ng; g++, out += LT_TILE) _mm256_store_si256((__m256i *)out, c104);
}
#undef T3_GROUP
#undef T3_NEXT

/* ---- rows ---- */

/* p16[0..31] += Σ_{g < ng} E_g[code of group g] for one row: code = the row's byte of each group
 * (stride 32), tab = the K-block's first group. The sums stay in two registers (32 tokens). */
static inline __attribute__((always_inline)) void row_groups(const uint8_t *code, const uint8_t *tab, const int ng,
                                                             int16_t *p16) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (int g = 0; g < ng; g++) {
        const __m256i *e = (const __m256i *)(tab + g * GROUP_BYTES + (size_t)code[g * LT_TILE] * 8);
        a0 = _mm256_add_epi16(a0, _mm256_load_si256(e));
        a1 = _mm256_add_epi16(a1, _mm256_load_si256(e + 1));
    }
    __m256i *p = (__m256i *)p16;
    _mm256_store_si256(p, _mm256_add_epi16(_mm256_load_si256(p), a0));
    _mm256_store_si256(p + 1, _mm256_add_epi16(_mm256_load_si256(p + 1), a1));
}

/* The row loop in assembly, eight rows at a time: per group g, one 64-bit load brings the codes
 * of the eight rows (codes[g][r .. r+7]), then per row pair the code bytes come from the low two
 * bytes of that register (%al and %ah: movzbl needs no shift in between; then q >>= 16) and two
 * vpaddw each with the table row as memory operand add E_g[code] into the row's two accumulators
 * (tokens 0-15, 16-31; sixteen registers for eight rows). Two loads per group and row instead of
 * three (a byte load per code): the loop is bound by its loads. GCC would recompute every table
 * address with three instructions instead of a displacement (g * 1728) and the code as index (x 8). */
#define TLUT_PAIR(g, ra, rb)                                                    \
    "movzbl %b[q], %k[i0]\n\t"                                                  \
    "movzbl %h[q], %k[i1]\n\t"                                                  \
    "vpaddw (" #g ")*1728(%[t],%[i0],8), %[" #ra "0], %[" #ra "0]\n\t"           \
    "vpaddw (" #g ")*1728+32(%[t],%[i0],8), %[" #ra "1], %[" #ra "1]\n\t"        \
    "vpaddw (" #g ")*1728(%[t],%[i1],8), %[" #rb "0], %[" #rb "0]\n\t"           \
    "vpaddw (" #g ")*1728+32(%[t],%[i1],8), %[" #rb "1], %[" #rb "1]\n\t"
#define TLUT_GROUP(g)                                                           \
    "mov (" #g ")*32(%[c]), %[q]\n\t"                                           \
    TLUT_PAIR(g, r0, r1) "shr $16, %[q]\n\t" TLUT_PAIR(g, r2, r3) "shr $16, %[q]\n\t" \
    TLUT_PAIR(g, r4, r5) "shr $16, %[q]\n\t" TLUT_PAIR(g, r6, r7)
#define TLUT_ZERO(r) "vpxor %[" #r "0], %[" #r "0], %[" #r "0]\n\t" "vpxor %[" #r "1], %[" #r "1], %[" #r "1]\n\t"
#define TLUT_STORE(r, i)                                                        \
    "vpaddw (" #i ")*64(%[p]), %[" #r "0], %[" #r "0]\n\t"                      \
    "vmovdqa %[" #r "0], (" #i ")*64(%[p])\n\t"                                 \
    "vpaddw (" #i ")*64+32(%[p]), %[" #r "1], %[" #r "1]\n\t"                   \
    "vmovdqa %[" #r "1], (" #i ")*64+32(%[p])\n\t"
#define TLUT_ACC(r) [r##0] "=&x"(acc[2 * r##_i]), [r##1] "=&x"(acc[2 * r##_i + 1])
enum { r0_i, r1_i, r2_i, r3_i, r4_i, r5_i, r6_i, r7_i };
_Static_assert(GROUP_BYTES == 1728 && LT_TILE == 32 && NB == 32, "the row loop's constants");

/* The 32 rows of a tile over a full K-block (KG groups): p16[r] += Σ_g E_g[codes[g][r]]. */
static void tile_kblock(const uint8_t *codes, const uint8_t *tab, int16_t (*p16)[NB]) {
#if defined(__x86_64__)
    __m256i acc[16];
    uint64_t q, i0, i1;
    int64_t n = LT_TILE / 8;
    __asm__ volatile("1:\n\t" /* volatile: the results are in memory, not in the outputs */
            TLUT_ZERO(r0) TLUT_ZERO(r1) TLUT_ZERO(r2) TLUT_ZERO(r3)
            TLUT_ZERO(r4) TLUT_ZERO(r5) TLUT_ZERO(r6) TLUT_ZERO(r7)
            TLUT_GROUP(0) TLUT_GROUP(1) TLUT_GROUP(2) TLUT_GROUP(3)
            TLUT_GROUP(4) TLUT_GROUP(5) TLUT_GROUP(6) TLUT_GROUP(7)
#if LT_TLUT_KG == 16
            TLUT_GROUP(8) TLUT_GROUP(9) TLUT_GROUP(10) TLUT_GROUP(11)
            TLUT_GROUP(12) TLUT_GROUP(13) TLUT_GROUP(14) TLUT_GROUP(15)
#endif
            TLUT_STORE(r0, 0) TLUT_STORE(r1, 1) TLUT_STORE(r2, 2) TLUT_STORE(r3, 3)
            TLUT_STORE(r4, 4) TLUT_STORE(r5, 5) TLUT_STORE(r6, 6) TLUT_STORE(r7, 7)
            "add $8*64, %[p]\n\t"
            "add $8, %[c]\n\t"
            "dec %[n]\n\t"
            "jnz 1b\n\t"
            : TLUT_ACC(r0), TLUT_ACC(r1), TLUT_ACC(r2), TLUT_ACC(r3),
              TLUT_ACC(r4), TLUT_ACC(r5), TLUT_ACC(r6), TLUT_ACC(r7),
              [q] "=&Q"(q), [i0] "=&Q"(i0), [i1] "=&Q"(i1), [c] "+r"(codes), [p] "+r"(p16), [n] "+r"(n)
            : [t] "r"(tab)
            : "memory", "cc");
#else
    for (int r = 0; r < LT_TILE; r++) row_groups(codes + r, tab, KG, p16[r]);
#endif
}

/* The AVX2 row kernel. */
static void rows_avx2(const uint8_t *codes, const uint8_t *tab, int ng, int16_t (*p16)[NB]) {
    if (ng == KG) tile_kblock(codes, tab, p16);
    else
        for (int r = 0; r < LT_TILE; r++) row_groups(codes + r, tab, ng, p16[r]);
}

/* The partial dots in two int16 halves: dot = 256 hi + p16. The row loop adds into p16; every
 * <= LT_TLUT_WIDEN groups its high part moves into hi: hi += p16 >> 8, p16 &= 255 (floor: exact),
 * so p16 stays in [0, 255] + 80 * [-384, 384] and |hi| <= (128 k + 255) / 256 + 1 (tlut.h's K
 * bound). Half the bytes of int32 partials: this pass streams 1024 rows from L2. */
static void carry_high(int16_t (*p16)[NB], int16_t (*hi)[NB], int64_t rows) {
    const __m256i low8 = _mm256_set1_epi16(255);
    for (int64_t i = 0; i < rows; i++)
        for (int h = 0; h < 2; h++) {
            __m256i v = _mm256_load_si256((const __m256i *)(p16[i] + 16 * h));
            __m256i *d = (__m256i *)(hi[i] + 16 * h);
            _mm256_store_si256(d, _mm256_add_epi16(_mm256_load_si256(d), _mm256_srai_epi16(v, 8)));
            _mm256_store_si256((__m256i *)(p16[i] + 16 * h), _mm256_and_si256(v, low8));
        }
}

/* dot = 256 hi + p16 as int32, tokens t .. t + 7 of a row. */
static inline __m256i dot8(const int16_t *hi, const int16_t *p16) {
    __m256i h = _mm256_cvtepi16_epi32(_mm_load_si128((const __m128i *)hi));
    return _mm256_add_epi32(_mm256_slli_epi32(h, 8), _mm256_cvtepi16_epi32(_mm_load_si128((const __m128i *)p16)));
}

/* r[k] = column k of the 8 x 8 int32 matrix whose rows are r[0..7]. */
static inline void transpose8(__m256i r[8]) {
    __m256 t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(_mm256_castsi256_ps(r[k]), _mm256_castsi256_ps(r[k + 1]));
        t[k + 1] = _mm256_unpackhi_ps(_mm256_castsi256_ps(r[k]), _mm256_castsi256_ps(r[k + 1]));
    }
    for (int k = 0; k < 8; k += 4)
        for (int h = 0; h < 2; h++) {
            u[k + h] = _mm256_shuffle_ps(t[k + h], t[k + 2 + h], _MM_SHUFFLE(1, 0, 1, 0));
            u[k + 2 + h] = _mm256_shuffle_ps(t[k + h], t[k + 2 + h], _MM_SHUFFLE(3, 2, 3, 2));
        }
    /* u[k] (rows 0-3) holds column j in its low half and column j + 4 in its high half, j = 0, 2,
     * 1, 3 for k = 0, 1, 2, 3; u[4 + k] the same for rows 4-7 */
    static const int col_of[4] = { 0, 2, 1, 3 };
    for (int c = 0; c < 4; c++) {
        __m256 lo = u[col_of[c]], hi = u[4 + col_of[c]];
        r[c] = _mm256_castps_si256(_mm256_permute2f128_ps(lo, hi, 0x20));
        r[c + 4] = _mm256_castps_si256(_mm256_permute2f128_ps(lo, hi, 0x31));
    }
}

/* y[tok0 + t][row0 + i] = (float)dot * (s_row * a_tok), dot = 256 hi[i][t] + p16[i][t], for nrows rows and nt tokens (the
 * float operations of lt_gemv_ref), 8 rows x 8 tokens at a time through a transpose. */
static void store_outputs(const lt_qweight *w, const lt_act *a, int64_t row0, int64_t nrows, int64_t tok0, int nt,
                          int16_t (*hi)[NB], int16_t (*p16)[NB], float *y) {
    int64_t i = 0;
    for (; i + 8 <= nrows; i += 8) {
        __m256 s = _mm256_loadu_ps(w->scale + row0 + i);
        for (int t0 = 0; t0 < nt; t0 += 8) {
            __m256i r[8];
            for (int k = 0; k < 8; k++) r[k] = dot8(hi[i + k] + t0, p16[i + k] + t0);
            transpose8(r);
            for (int k = 0; k < 8 && t0 + k < nt; k++) {
                int64_t tok = tok0 + t0 + k;
                __m256 sa = _mm256_mul_ps(s, _mm256_set1_ps(a->scale[tok]));
                _mm256_storeu_ps(y + tok * w->m + row0 + i, _mm256_mul_ps(_mm256_cvtepi32_ps(r[k]), sa));
            }
        }
    }
    for (; i < nrows; i++)
        for (int t = 0; t < nt; t++) y[(tok0 + t) * w->m + row0 + i] = (float)(hi[i][t] * 256 + p16[i][t]) * (w->scale[row0 + i] * a->scale[tok0 + t]);
}

static const lt_tlut_ops ops_avx2 = {
    .kg_t3 = KG, .tables = build_tables, .codes_t3 = decode_codes_t3, .rows = rows_avx2, .carry = carry_high,
};

/* A thread's working memory for one unit (rows of up to LT_TLUT_TILES tiles). */
typedef struct {
    uint8_t tab[KG * GROUP_BYTES];   /* the K-block's tables (built by the unit: they stay in L1) */
    uint8_t codes[KG * LT_TILE];     /* a tile's codes in the K-block */
    int16_t p16[UNIT_ROWS][NB];      /* int16 partial dots (row, token) */
    int16_t hi[UNIT_ROWS][NB];       /* their high parts (dot = 256 hi + p16) */
} unit_scratch;

/* Tiles [t0, t1) of w (at most LT_TLUT_TILES) for the nt tokens from tok0, whose transposed
 * activations are xt ([ngroups * 3][32]): y[tok][row] = (float)dot * (s * a) as lt_gemv_ref. */
static void run_unit(const lt_qweight *w, const lt_act *a, const int16_t *xt, int64_t ngroups, int64_t tok0, int nt,
                     int64_t t0, int64_t t1, float *y, unit_scratch *sc, const lt_tlut_ops *ops) {
    int64_t rows = (t1 - t0) * LT_TILE, nbytes = w->nslots / 2, pending = 0;
    size_t tile_bytes = lt_qw_tile_bytes(w);
    memset(sc->p16, 0, (size_t)rows * sizeof sc->p16[0]);
    memset(sc->hi, 0, (size_t)rows * sizeof sc->hi[0]);
    int kg = w->kind == LT_QK_TERN3 ? ops->kg_t3 : KG;
    for (int64_t g0 = 0; g0 < ngroups; g0 += kg) {
        int ng = (int)LT_MIN(kg, ngroups - g0);
        ops->tables(xt, g0, ng, sc->tab);
        for (int64_t tile = t0; tile < t1; tile++) {
            if (w->kind == LT_QK_TERN3) ops->codes_t3(w->idx + (size_t)tile * tile_bytes, w->nslots, g0, ng, sc->codes);
            else decode_codes(w->idx + (size_t)tile * tile_bytes, nbytes, g0, ng, sc->codes);
            ops->rows(sc->codes, sc->tab, ng, sc->p16 + (tile - t0) * LT_TILE);
        }
        pending += ng;
        if (pending + kg > LT_TLUT_WIDEN && g0 + kg < ngroups) { /* the next K-block could overflow p16 */
            ops->carry(sc->p16, sc->hi, rows);
            pending = 0;
        }
    }
    store_outputs(w, a, t0 * LT_TILE, LT_MIN(rows, w->m - t0 * LT_TILE), tok0, nt, sc->hi, sc->p16, y);
}

/* ---- parallel regions ---- */

enum { FILL_SHARES = 8 }; /* shares of the transposition (threads take them from a counter) */

typedef struct {
    const lt_qweight *const *ws;
    float *const *ys;
    int count;
    const lt_act *a;
    int16_t *xt;             /* [nblocks][ngroups * 3][32]: each block's activations transposed */
    unit_scratch *scratch;   /* one per share of the region */
    int64_t ngroups, tok0;
    int ntok, nblocks;
    int64_t first_unit[LT_MATMUL_MANY_MAX + 1]; /* units of weight i: [first_unit[i], first_unit[i + 1]) */
    int64_t chunk_tiles[LT_MATMUL_MANY_MAX];    /* tiles per row chunk of weight i */
    const lt_tlut_ops *ops;                     /* the pieces of the active ISA level */
    atomic_int next_fill, filled;
    atomic_llong next_unit;
} tlut_job;

/* Each thread transposes shares of the activations, waits until every share is there, then takes
 * units: unit u of weight i is its chunk (u - first) / nblocks of LT_TLUT_TILES tiles for token
 * block (u - first) % nblocks (a chunk's code bytes are read for its token blocks one after the
 * other, while they are still in L2). */
static void tlut_task(void *ctx, int ith, int nth) {
    (void)nth;
    tlut_job *j = ctx;
    int64_t kt = 3 * j->ngroups;
    for (int c; (c = atomic_fetch_add_explicit(&j->next_fill, 1, memory_order_relaxed)) < FILL_SHARES;) {
        int64_t k0, k1;
        lt_split_range(kt, 16, c, FILL_SHARES, &k0, &k1);
        for (int b = 0; b < j->nblocks; b++)
            transpose_block(j->a, j->tok0 + b * NB, (int)LT_MIN(NB, j->ntok - b * NB), k0, k1, j->xt + (size_t)b * (size_t)kt * NB);
        atomic_fetch_add_explicit(&j->filled, 1, memory_order_acq_rel);
    }
    /* Spin briefly, then yield: on an oversubscribed machine the thread we wait for may need this core. */
    for (int spins = 0; atomic_load_explicit(&j->filled, memory_order_acquire) < FILL_SHARES; spins++) {
        if (spins < 2000) lt_cpu_relax();
        else sched_yield();
    }
    int64_t total = j->first_unit[j->count], u;
    while ((u = atomic_fetch_add_explicit(&j->next_unit, 1, memory_order_relaxed)) < total) {
        int i = 0;
        while (u >= j->first_unit[i + 1]) i++;
        const lt_qweight *w = j->ws[i];
        int64_t local = u - j->first_unit[i], chunk = local / j->nblocks, b = local % j->nblocks;
        int64_t t0 = chunk * j->chunk_tiles[i], t1 = LT_MIN(t0 + j->chunk_tiles[i], w->ntiles);
        run_unit(w, j->a, j->xt + (size_t)b * (size_t)kt * NB, j->ngroups, j->tok0 + b * NB, (int)LT_MIN(NB, j->ntok - b * NB),
                 t0, t1, j->ys[i], j->scratch + ith, j->ops);
    }
}

/* The calling thread's buffer (transposed activations + per-share scratch), kept for its next call
 * (a prompt makes hundreds). */
/* The calling thread's work buffer, kept for the next call and freed when the thread exits. */
typedef struct {
    uint8_t *buf;
    size_t cap;
} work_area;

static void free_work(void *p) {
    work_area *w = p;
    lt_aligned_free(w->buf);
    free(w);
}

static lt_thread_slot work_slot = LT_THREAD_SLOT(free_work);

static uint8_t *work_buffer(size_t bytes) {
    work_area *w = lt_thread_slot_get(&work_slot);
    if (!w) {
        if (!(w = calloc(1, sizeof *w))) return NULL;
        if (!lt_thread_slot_set(&work_slot, w)) {
            free(w);
            return NULL;
        }
    }
    if (w->cap >= bytes) return w->buf;
    lt_aligned_free(w->buf);
    w->buf = lt_aligned_alloc(64, bytes);
    w->cap = w->buf ? bytes : 0;
    return w->buf;
}

void lt_qweight_matmul_tlut(const lt_qweight *const *ws, int count, lt_act *a, float *const *ys, lt_pool *pool) {
    for (int i = 0; i < count; i++)
        if (!lt_tlut_supports(ws[i]) || ws[i]->k != a->k || ws[i]->nslots != ws[0]->nslots) {
            lt_set_error("lt_qweight_matmul_tlut: weight %d is not per-row ternary with K=%lld", i, (long long)a->k);
            for (int o = 0; o < count; o++) memset(ys[o], 0, (size_t)a->n * (size_t)ws[o]->m * sizeof(float));
            return;
        }
    int shares = pool ? lt_pool_threads(pool) : 1;
    for (int i0 = 0; i0 < count; i0 += LT_MATMUL_MANY_MAX) { /* at most LT_MATMUL_MANY_MAX weights per region */
        int cnt = (int)LT_MIN(LT_MATMUL_MANY_MAX, count - i0);
        int64_t ngroups = lt_tlut_groups(ws[i0]);
        int max_blocks = (int)((LT_MIN(a->n, LT_TLUT_TOKENS) + NB - 1) / NB);
        size_t xt_bytes = ((size_t)LT_MAX(max_blocks, 1) * (size_t)ngroups * 3 * NB * sizeof(int16_t) + 63) & ~(size_t)63;
        uint8_t *buf = work_buffer(xt_bytes + (size_t)shares * sizeof(unit_scratch));
        if (!buf) {
            lt_set_error("lt_qweight_matmul_tlut: out of memory");
            for (int i = i0; i < i0 + cnt; i++) memset(ys[i], 0, (size_t)a->n * (size_t)ws[i]->m * sizeof(float));
            continue;
        }
        for (int64_t tok0 = 0; tok0 < a->n; tok0 += LT_TLUT_TOKENS) {
            tlut_job j = { .ws = ws + i0, .ys = ys + i0, .count = cnt, .a = a, .xt = (int16_t *)buf,
                           .scratch = (unit_scratch *)(buf + xt_bytes), .ngroups = ngroups, .tok0 = tok0,
                           .ops = lt_isa_active() == LT_ISA_AVX512 ? &lt_tlut_ops_avx512 : &ops_avx2 };
            j.ntok = (int)LT_MIN(LT_TLUT_TOKENS, a->n - tok0);
            j.nblocks = (j.ntok + NB - 1) / NB;
            j.first_unit[0] = 0;
            for (int i = 0; i < cnt; i++) {
                /* equal chunks of at most LT_TLUT_TILES tiles (no small last unit) */
                int64_t nt = ws[i0 + i]->ntiles, chunks = (nt + LT_TLUT_TILES - 1) / LT_TLUT_TILES;
                j.chunk_tiles[i] = (nt + chunks - 1) / chunks;
                j.first_unit[i + 1] = j.first_unit[i] + chunks * j.nblocks;
            }
            atomic_init(&j.next_fill, 0);
            atomic_init(&j.filled, 0);
            atomic_init(&j.next_unit, 0);
            lt_pool_run(pool, tlut_task, &j);
        }
    }
}

/* ---- AUTO ---- */

/* -1: not read from the environment yet; 0 off, 1 on (env LUTLM_TLUT=0 / 1, lt_tlut_set_auto);
 * 2: the default, on at the AVX2 level only (on AVX-512 the VNNI int8 GEMM is faster: gemm_avx512.c). */
static _Atomic int auto_on = -1;

bool lt_tlut_auto(const lt_qweight *w, int64_t n) {
    int on = atomic_load_explicit(&auto_on, memory_order_relaxed);
    if (on < 0) {
        const char *env = getenv("LUTLM_TLUT");
        on = env && env[0] == '0' ? 0 : env && env[0] == '1' ? 1 : 2;
        atomic_store_explicit(&auto_on, on, memory_order_relaxed);
    }
    if (on == 2) on = lt_isa_active() == LT_ISA_AVX2;
    int64_t padding = (n + NB - 1) / NB * NB - n;
    return on && n >= LT_TLUT_MIN_N && padding * 8 <= n && lt_tlut_supports(w);
}

void lt_tlut_set_auto(bool on) { atomic_store_explicit(&auto_on, on ? 1 : 0, memory_order_relaxed); }

#endif
