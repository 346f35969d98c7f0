/* The int8 GEMMs' decoders (gemm.h): a 32-row tile's weight codes of kquads [q0, q1) into the
 * decoded layout, 128 bytes per kquad, row r at bytes 4r .. 4r+3 (weights 4q .. 4q+3). Shared by
 * x86/gemm_avx2.c and x86/gemm_avx512.c (both compiled with the AVX2 flags or more), so that the
 * two kernels read the weight layouts in one place. */
#ifndef LUTLM_KERNELS_X86_GEMM_DECODE_AVX2_H
#define LUTLM_KERNELS_X86_GEMM_DECODE_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "common/util.h"
#include "kernels/gemm.h"

/* Ternary: kquad q of row r is index byte b = wt[32q + r] (one slot pair); byte i of its code dword
 * is (b >> 2i) & 3. With b zero-extended into a dword, b | b << 6 | b << 12 | b << 18 has bits
 * 2i, 2i+1 of b at bits 8i, 8i+1 (no other shifted copy reaches those two bits). */
static inline void decode_ternary(const uint8_t *wt, int64_t q0, int64_t q1, uint8_t *codes) {
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int64_t q = q0; q < q1; q++) {
        const uint8_t *v = wt + q * LT_TILE;
        uint8_t *out = codes + (q - q0) * 128;
        for (int r = 0; r < 4; r++) {
            __m256i d = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(v + 8 * r)));
            __m256i e = _mm256_or_si256(_mm256_or_si256(d, _mm256_slli_epi32(d, 6)),
                                        _mm256_or_si256(_mm256_slli_epi32(d, 12), _mm256_slli_epi32(d, 18)));
            _mm256_store_si256((__m256i *)(out + 32 * r), _mm256_and_si256(e, m3));
        }
    }
}

/* Planes: pair p covers kquads 2p (low nibble of each plane byte) and 2p+1 (high nibble); bit i of
 * plane j's byte is bit j of q[8p + i]. b | b << 7 | b << 14 | b << 21 has bit i of b at bit 8i and
 * bit i + 4 at bit 8i + 4; plane j's bits go to bits 8i + j and 8i + 4 + j (P <= 4: no overlap),
 * so byte i holds q[8p + i] in its low nibble and q[8p + 4 + i] in its high nibble. */
static inline __attribute__((always_inline)) void decode_planes(const uint8_t *wt, int64_t q0, int64_t q1, const int P,
                                                                uint8_t *codes) {
    const __m256i m11 = _mm256_set1_epi32(0x11111111), m0f = _mm256_set1_epi8(0x0F);
    for (int64_t p = q0 / 2; p < q1 / 2; p++) {
        uint8_t *lo = codes + (2 * p - q0) * 128, *hi = lo + 128;
        for (int r = 0; r < 4; r++) {
            __m256i x = _mm256_setzero_si256();
            _Pragma("GCC unroll 4")
            for (int j = 0; j < P; j++) {
                const uint8_t *v = wt + (p * P + j) * LT_TILE + 8 * r;
                __m256i d = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)v));
                __m256i e = _mm256_or_si256(_mm256_or_si256(d, _mm256_slli_epi32(d, 7)),
                                            _mm256_or_si256(_mm256_slli_epi32(d, 14), _mm256_slli_epi32(d, 21)));
                x = _mm256_or_si256(x, _mm256_slli_epi32(_mm256_and_si256(e, m11), j));
            }
            _mm256_store_si256((__m256i *)(lo + 32 * r), _mm256_and_si256(x, m0f));
            _mm256_store_si256((__m256i *)(hi + 32 * r), _mm256_and_si256(_mm256_srli_epi32(x, 4), m0f));
        }
    }
}

/* TERN3: the balanced ternary digits of a magnitude m = d0 + 3 d1 + 9 d2 (0..13), one table per
 * digit (vpshufb: rows in lanes); a group's weights are t_i = sign(v) d_i(|v|). */
#define DIG0(m) (int8_t)((m) == 0 ? 0 : (((m) + 1) % 3) - 1)
#define DIG1(m) DIG0(((m) - DIG0(m)) / 3)
#define DIG2(m) DIG0(((m) - DIG0(m) - 3 * DIG1(m)) / 9)
#define T3_TAB(D) { D(0), D(1), D(2), D(3), D(4), D(5), D(6), D(7), D(8), D(9), D(10), D(11), D(12), D(13), 0, 0 }
static const int8_t t3_digit[3][16] = { T3_TAB(DIG0), T3_TAB(DIG1), T3_TAB(DIG2) };

enum { T3_PLANES = 4 * LT_GEMM_KQ + 2 }; /* code planes of a K-block: 4 KQ weights, from up to 2 before it */

/* Group J of a block (J a constant: the shifts and offsets fold): its three code planes, then the
 * sign byte doubled for the next group; a case of decode_tern3's switch (J - 1 falls through). */
#define T3_GROUP(J)                                                                                           \
    case J:                                                                                                   \
        if (g == gl) break;                                                                                   \
        if ((J) == 0 || (J) == 7) s = _mm256_load_si256((const __m256i *)(blk + ((J) >= 7) * LT_TILE));       \
        nib = _mm256_load_si256((const __m256i *)(blk + (2 + (J) % 7) * LT_TILE));                             \
        m = _mm256_and_si256((J) >= 7 ? _mm256_srli_epi16(nib, 4) : nib, m15);                                \
        _mm256_store_si256(out, _mm256_add_epi8(_mm256_sign_epi8(_mm256_shuffle_epi8(d0, m), s), one));       \
        _mm256_store_si256(out + 1, _mm256_add_epi8(_mm256_sign_epi8(_mm256_shuffle_epi8(d1, m), s), one));   \
        _mm256_store_si256(out + 2, _mm256_add_epi8(_mm256_sign_epi8(_mm256_shuffle_epi8(d2, m), s), one));   \
        out += 3, g++, s = _mm256_add_epi8(s, s);
#define T3_NEXT __attribute__((fallthrough));

/* TERN3: the codes c = t + 1 of weights [4 q0, 4 q1) of a tile into the kquad layout. First per
 * group g (the 3 weights 3g .. 3g+2 that meet the range) one plane of 32 rows per weight:
 *   m = |v| (nibble), s = the sign byte shifted so that g's bit is the top bit,
 *   c_i = vpsignb(digit_i[m], s) + 1   (vpsignb: negated where s < 0; s is never 0, bit 0 = 1);
 * then per kquad the four planes of its weights are transposed into rows (4 bytes per row: byte
 * unpacks, 16-bit unpacks, lane permutes). Weights past kp are c = 1 (t = 0; x is 0 there). */
static inline void decode_tern3(const uint8_t *wt, int64_t nslots, int64_t q0, int64_t q1, uint8_t *codes) {
    _Alignas(32) uint8_t planes[T3_PLANES + 2][LT_TILE];
    const __m256i m15 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    const __m256i d0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t3_digit[0]));
    const __m256i d1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t3_digit[1]));
    const __m256i d2 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t3_digit[2]));
    int64_t gf = 4 * q0 / 3, gl = LT_MIN((4 * q1 + 2) / 3, nslots), g = gf;
    __m256i *out = (__m256i *)planes[0];
    while (g < gl) { /* per block: from group j to its end or gl */
        const uint8_t *blk = wt + (size_t)(g / LT_T3_GROUPS) * LT_T3_VECS * LT_TILE;
        int j = (int)(g % LT_T3_GROUPS);
        __m256i nib, m, s = _mm256_sll_epi16(_mm256_load_si256((const __m256i *)(blk + (j >= 7) * LT_TILE)), _mm_cvtsi32_si128(j % 7));
        switch (j) {
            T3_GROUP(0) T3_NEXT T3_GROUP(1) T3_NEXT T3_GROUP(2) T3_NEXT T3_GROUP(3) T3_NEXT T3_GROUP(4) T3_NEXT
            T3_GROUP(5) T3_NEXT T3_GROUP(6) T3_NEXT T3_GROUP(7) T3_NEXT T3_GROUP(8) T3_NEXT T3_GROUP(9) T3_NEXT
            T3_GROUP(10) T3_NEXT T3_GROUP(11) T3_NEXT T3_GROUP(12) T3_NEXT T3_GROUP(13)
        }
    }
    for (int64_t k = 3 * gl; k < 4 * q1; k++) _mm256_store_si256((__m256i *)planes[k - 3 * gf], one); /* past kp */
    for (int64_t q = q0; q < q1; q++) {
        const __m256i *pl = (const __m256i *)planes[4 * q - 3 * gf];
        __m256i a = _mm256_load_si256(pl), b = _mm256_load_si256(pl + 1);
        __m256i c = _mm256_load_si256(pl + 2), d = _mm256_load_si256(pl + 3);
        __m256i ab_lo = _mm256_unpacklo_epi8(a, b), ab_hi = _mm256_unpackhi_epi8(a, b); /* rows 0-7 | 16-23, 8-15 | 24-31 */
        __m256i cd_lo = _mm256_unpacklo_epi8(c, d), cd_hi = _mm256_unpackhi_epi8(c, d);
        __m256i r0 = _mm256_unpacklo_epi16(ab_lo, cd_lo), r1 = _mm256_unpackhi_epi16(ab_lo, cd_lo); /* rows 0-3 | 16-19, 4-7 | 20-23 */
        __m256i r2 = _mm256_unpacklo_epi16(ab_hi, cd_hi), r3 = _mm256_unpackhi_epi16(ab_hi, cd_hi); /* rows 8-11 | 24-27, 12-15 | 28-31 */
        __m256i *dst = (__m256i *)(codes + (q - q0) * 128);
        _mm256_store_si256(dst, _mm256_permute2x128_si256(r0, r1, 0x20));
        _mm256_store_si256(dst + 1, _mm256_permute2x128_si256(r2, r3, 0x20));
        _mm256_store_si256(dst + 2, _mm256_permute2x128_si256(r0, r1, 0x31));
        _mm256_store_si256(dst + 3, _mm256_permute2x128_si256(r2, r3, 0x31));
    }
}
#undef T3_GROUP
#undef T3_NEXT

#endif
