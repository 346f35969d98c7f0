/* AVX-512 pieces of the ternary group-LUT GEMM (tlut.h; the parallel regions, the transposed
 * activations, the TERNARY pair decoder and the outputs are tlut_avx2.c's). Results equal
 * lt_gemv_ref bit for bit.
 *
 * A table row E_g[c] is the int16 entries of the block's 32 tokens: 64 bytes, one zmm. So where
 * the AVX2 kernel adds two ymm per row and group, this one adds one zmm (96 multiply-adds of a
 * row's three weights times 32 tokens per instruction), with the table row as memory operand.
 * TERN3 K-blocks are its 14-group blocks (LT_TLUT_KG_T3), so that a K-block's codes are decoded
 * from one whole block, two groups per zmm. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "kernels/tlut.h"

#define NB LT_TLUT_NB
#define GROUP_BYTES LT_TLUT_GROUP
_Static_assert(LT_TLUT_ENTRY == 64 && NB == 32, "a table row is one zmm of 32 int16");

/* ---- tables ---- */

/* E_g[c][t] = (c0 - 1) x_t[3g] + (c1 - 1) x_t[3g+1] + (c2 - 1) x_t[3g+2] for ng groups from g0
 * (xt rows: 32 int16 = one zmm), as tlut_avx2.c's build_tables. */
static void tables_avx512(const int16_t *xt, int64_t g0, int ng, uint8_t *tab) {
    const __m512i zero = _mm512_setzero_si512();
    for (int gi = 0; gi < ng; gi++) {
        const __m512i *x = (const __m512i *)(xt + 3 * (g0 + gi) * NB);
        __m512i *e = (__m512i *)(tab + gi * GROUP_BYTES);
        __m512i v[3][3]; /* v[i][c] = (c - 1) * x_i */
        for (int i = 0; i < 3; i++) {
            __m512i xi = _mm512_load_si512(x + i);
            v[i][0] = _mm512_sub_epi16(zero, xi), v[i][1] = zero, v[i][2] = xi;
        }
        for (int c1 = 0; c1 < 3; c1++)
            for (int c0 = 0; c0 < 3; c0++) {
                __m512i s01 = _mm512_add_epi16(v[0][c0], v[1][c1]);
                for (int c2 = 0; c2 < 3; c2++) _mm512_store_si512(e + c0 + 3 * c1 + 9 * c2, _mm512_add_epi16(s01, v[2][c2]));
            }
    }
}

/* ---- TERN3 codes ---- */

/* codes[j][r] = 8 (v + 13) of group j of one TERN3 block (kernels_impl.h, lt_qkind), j = 0..13:
 * the nibble vectors 2 + j, 3 + j are one 64-byte load holding groups j, j + 1 (low nibbles) and
 * 7 + j, 8 + j (high nibbles); a sign vector with group j's bit on top in its low half and j + 1's
 * in its high half ([A << j | A << (j + 1)]) gives the negative rows as a mask (vpmovb2m), and
 * code = 104 + 8|v| or 104 - 8|v|. The last nibble vector (groups 6 and 13) is a half. */
static void codes_t3_block(const uint8_t *blk, uint8_t *codes) {
    const __m512i m78 = _mm512_set1_epi8(0x78), c104 = _mm512_set1_epi8(104);
    __m256i a = _mm256_load_si256((const __m256i *)blk), b = _mm256_load_si256((const __m256i *)(blk + LT_TILE));
    __m512i sa = _mm512_inserti64x4(_mm512_castsi256_si512(a), _mm256_add_epi8(a, a), 1);
    __m512i sb = _mm512_inserti64x4(_mm512_castsi256_si512(b), _mm256_add_epi8(b, b), 1);
    for (int j = 0; j < 7; j += 2) {
        __m512i nib = j < 6 ? _mm512_loadu_si512(blk + (2 + j) * LT_TILE)
                            : _mm512_castsi256_si512(_mm256_load_si256((const __m256i *)(blk + 8 * LT_TILE)));
        __m512i lo = _mm512_and_si512(_mm512_slli_epi16(nib, 3), m78), hi = _mm512_and_si512(_mm512_srli_epi16(nib, 1), m78);
        __m512i cl = _mm512_mask_sub_epi8(_mm512_add_epi8(c104, lo), _mm512_movepi8_mask(sa), c104, lo);
        __m512i ch = _mm512_mask_sub_epi8(_mm512_add_epi8(c104, hi), _mm512_movepi8_mask(sb), c104, hi);
        if (j < 6) {
            _mm512_storeu_si512(codes + j * LT_TILE, cl);
            _mm512_storeu_si512(codes + (7 + j) * LT_TILE, ch);
        } else {
            _mm256_storeu_si256((__m256i *)(codes + 6 * LT_TILE), _mm512_castsi512_si256(cl));
            _mm256_storeu_si256((__m256i *)(codes + 13 * LT_TILE), _mm512_castsi512_si256(ch));
        }
        sa = _mm512_slli_epi16(sa, 2), sb = _mm512_slli_epi16(sb, 2); /* bits 7-j stay in their byte: only bit 7 is read */
    }
}

/* The lt_tlut_ops decoder: K-blocks of TERN3 are whole blocks (g0 a multiple of 14, ng = 14). */
static void codes_t3_avx512(const uint8_t *wt, int64_t nslots, int64_t g0, int ng, uint8_t *codes) {
    const size_t blk_bytes = LT_T3_VECS * LT_TILE;
    const uint8_t *blk = wt + (size_t)(g0 / LT_T3_GROUPS) * blk_bytes;
    /* the bytes of the next K-block but one: the tiles of a unit are as many streams */
    for (size_t b = 0; b < blk_bytes; b += 64) _mm_prefetch((const char *)(blk + 2 * blk_bytes + b), _MM_HINT_T0);
    (void)nslots, (void)ng;
    codes_t3_block(blk, codes);
}

/* ---- rows ---- */

/* p16[0..31] += Σ_{g < ng} E_g[code of group g] for one row: code = the row's byte of each group
 * (stride 32, 8 * the table row), tab = the K-block's first group. */
static void row_groups(const uint8_t *code, const uint8_t *tab, int ng, int16_t *p16) {
    __m512i acc = _mm512_setzero_si512();
    for (int g = 0; g < ng; g++)
        acc = _mm512_add_epi16(acc, _mm512_load_si512(tab + g * GROUP_BYTES + (size_t)code[g * LT_TILE] * 8));
    _mm512_store_si512(p16, _mm512_add_epi16(_mm512_load_si512(p16), acc));
}

/* The row loop in assembly (as tlut_avx2.c's, whose comment says why): per group and eight rows
 * one 64-bit load of their codes, the code bytes from %b / %h of that register (then q >>= 16),
 * one vpaddw per row with the table row E_g[code] as memory operand; sixteen rows per pass in
 * sixteen registers, two passes per tile. */
#define ZPAIR(g, ra, rb)                                                  \
    "movzbl %b[q], %k[i0]\n\t"                                            \
    "movzbl %h[q], %k[i1]\n\t"                                            \
    "vpaddw (" #g ")*1728(%[t],%[i0],8), %[" #ra "], %[" #ra "]\n\t"     \
    "vpaddw (" #g ")*1728(%[t],%[i1],8), %[" #rb "], %[" #rb "]\n\t"
#define ZEIGHT(g, off, a, b, c, d, e, f, h, i)                             \
    "mov (" #g ")*32+" #off "(%[c]), %[q]\n\t"                           \
    ZPAIR(g, a, b) "shr $16, %[q]\n\t" ZPAIR(g, c, d) "shr $16, %[q]\n\t" \
    ZPAIR(g, e, f) "shr $16, %[q]\n\t" ZPAIR(g, h, i)
#define ZGROUP(g) ZEIGHT(g, 0, r0, r1, r2, r3, r4, r5, r6, r7) ZEIGHT(g, 8, r8, r9, r10, r11, r12, r13, r14, r15)
#define ZZERO(r) "vpxord %[" #r "], %[" #r "], %[" #r "]\n\t"
#define ZSTORE(r, i)                                      \
    "vpaddw (" #i ")*64(%[p]), %[" #r "], %[" #r "]\n\t"  \
    "vmovdqu64 %[" #r "], (" #i ")*64(%[p])\n\t"
#define ZACC(r) [r] "=&v"(acc[r##_i])
#define ZGROUPS14 ZGROUP(0) ZGROUP(1) ZGROUP(2) ZGROUP(3) ZGROUP(4) ZGROUP(5) ZGROUP(6) \
                  ZGROUP(7) ZGROUP(8) ZGROUP(9) ZGROUP(10) ZGROUP(11) ZGROUP(12) ZGROUP(13)
/* One pass body over 14 or 16 groups (GROUPS), 16 rows; n passes. */
#define TILE_KBLOCK_ASM(GROUPS)                                                                              \
    __asm__ volatile("1:\n\t" /* volatile: the results are in memory, not in the outputs */                 \
            ZZERO(r0) ZZERO(r1) ZZERO(r2) ZZERO(r3) ZZERO(r4) ZZERO(r5) ZZERO(r6) ZZERO(r7)                  \
            ZZERO(r8) ZZERO(r9) ZZERO(r10) ZZERO(r11) ZZERO(r12) ZZERO(r13) ZZERO(r14) ZZERO(r15)            \
            GROUPS                                                                                           \
            ZSTORE(r0, 0) ZSTORE(r1, 1) ZSTORE(r2, 2) ZSTORE(r3, 3) ZSTORE(r4, 4) ZSTORE(r5, 5)              \
            ZSTORE(r6, 6) ZSTORE(r7, 7) ZSTORE(r8, 8) ZSTORE(r9, 9) ZSTORE(r10, 10) ZSTORE(r11, 11)          \
            ZSTORE(r12, 12) ZSTORE(r13, 13) ZSTORE(r14, 14) ZSTORE(r15, 15)                                  \
            "add $16*64, %[p]\n\t"                                                                           \
            "add $16, %[c]\n\t"                                                                              \
            "dec %[n]\n\t"                                                                                   \
            "jnz 1b\n\t"                                                                                     \
            : ZACC(r0), ZACC(r1), ZACC(r2), ZACC(r3), ZACC(r4), ZACC(r5), ZACC(r6), ZACC(r7),                \
              ZACC(r8), ZACC(r9), ZACC(r10), ZACC(r11), ZACC(r12), ZACC(r13), ZACC(r14), ZACC(r15),          \
              [q] "=&Q"(q), [i0] "=&Q"(i0), [i1] "=&Q"(i1), [c] "+r"(codes), [p] "+r"(p16), [n] "+r"(n)     \
            : [t] "r"(tab)                                                                                   \
            : "memory", "cc")
enum { r0_i, r1_i, r2_i, r3_i, r4_i, r5_i, r6_i, r7_i, r8_i, r9_i, r10_i, r11_i, r12_i, r13_i, r14_i, r15_i };
_Static_assert(GROUP_BYTES == 1728 && LT_TILE == 32 && LT_TLUT_KG == 16 && LT_TLUT_KG_T3 == 14, "the row loop's constants");

/* The lt_tlut_ops row kernel: full K-blocks (16 groups, TERN3's 14) in assembly, others by row. */
static void rows_avx512(const uint8_t *codes, const uint8_t *tab, int ng, int16_t (*p16)[NB]) {
#if defined(__x86_64__)
    __m512i acc[16];
    uint64_t q, i0, i1;
    int64_t n = LT_TILE / 16;
    if (ng == 16) {
        TILE_KBLOCK_ASM(ZGROUPS14 ZGROUP(14) ZGROUP(15));
        return;
    }
    if (ng == 14) {
        TILE_KBLOCK_ASM(ZGROUPS14);
        return;
    }
#endif
    for (int r = 0; r < LT_TILE; r++) row_groups(codes + r, tab, ng, p16[r]);
}

/* ---- high parts ---- */

/* hi += p16 >> 8, p16 &= 255 (tlut_avx2.c's carry_high: dot = 256 hi + p16 stays exact). */
static void carry_avx512(int16_t (*p16)[NB], int16_t (*hi)[NB], int64_t rows) {
    const __m512i low8 = _mm512_set1_epi16(255);
    for (int64_t i = 0; i < rows; i++) {
        __m512i v = _mm512_load_si512(p16[i]);
        _mm512_store_si512(hi[i], _mm512_add_epi16(_mm512_load_si512(hi[i]), _mm512_srai_epi16(v, 8)));
        _mm512_store_si512(p16[i], _mm512_and_si512(v, low8));
    }
}

const lt_tlut_ops lt_tlut_ops_avx512 = {
    .kg_t3 = LT_TLUT_KG_T3, .tables = tables_avx512, .codes_t3 = codes_t3_avx512, .rows = rows_avx512, .carry = carry_avx512,
};

#endif
