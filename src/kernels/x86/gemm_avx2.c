/* AVX2 int8 GEMM for many tokens (see gemm.h). Results equal lt_gemv_ref bit for bit.
 *
 * Per block of LT_GEMM_NB tokens and 32-row tile, per K-block of up to 64 kquads (256 weights)
 * inside one scale group: decode the tile's codes once into 8 KB of bytes (rows in lanes, 4
 * consecutive weights per 32-bit lane; TERN3's 42-weight blocks are decoded by weight range, per
 * group of 3 into code planes that are then transposed into this layout), then for each pair of tokens:
 *   acc16[t][r] += vpmaddubsw(codes of rows 8r..8r+7 at kquad q, broadcast x_t[4q .. 4q+3])
 * (each int16 lane = c0 x0 + c1 x1 of one row), 4 row vectors x 2 tokens = 8 accumulators, so one
 * 32-byte code load serves two tokens and one 4-byte broadcast serves 32 rows. Every chunk of
 * kquads (int16 limit, lt_gemm_chunk) vpmaddwd(acc16, 1) adds the lane pairs into int32 per row.
 * At a group end (or the row end) the float steps of the reference, per row vector and token. */
/* CMake's recursive glob of src/kernels also lists this file on other targets: compile it on x86 only. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "common/util.h"
#include "kernels/x86/f16_avx2.h"
#include "kernels/gemm.h"
#include "kernels/x86/t3_digits.h"

#define NB LT_GEMM_NB
#define KQ LT_GEMM_KQ

static inline __m256i broadcast4(const int8_t *x) {
    int32_t v;
    memcpy(&v, x, 4);
    return _mm256_set1_epi32(v);
}

/* Ternary: kquad q of row r is index byte b = wt[32q + r] (one slot pair); byte i of its code dword
 * is (b >> 2i) & 3. With b zero-extended into a dword, b | b << 6 | b << 12 | b << 18 has bits
 * 2i, 2i+1 of b at bits 8i, 8i+1 (no other shifted copy reaches those two bits). */
static void decode_ternary(const uint8_t *wt, int64_t q0, int64_t q1, uint8_t *codes) {
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
 * digit (vpshufb: rows in lanes); a group's weights are t_i = sign(v) d_i(|v|) (x86/t3_digits.h). */

enum { T3_PLANES = 4 * KQ + 2 }; /* code planes of a K-block: 4 KQ weights, from up to 2 before it */

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
static void decode_tern3(const uint8_t *wt, int64_t nslots, int64_t q0, int64_t q1, uint8_t *codes) {
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

/* acc[r] += codes (rows 8r..8r+7) · x at kquad q, as int16 pair sums. */
#define MADD4(acc, wq, xb)                                                                          \
    do {                                                                                            \
        acc##0 = _mm256_add_epi16(acc##0, _mm256_maddubs_epi16(_mm256_load_si256((wq)), (xb)));     \
        acc##1 = _mm256_add_epi16(acc##1, _mm256_maddubs_epi16(_mm256_load_si256((wq) + 1), (xb))); \
        acc##2 = _mm256_add_epi16(acc##2, _mm256_maddubs_epi16(_mm256_load_si256((wq) + 2), (xb))); \
        acc##3 = _mm256_add_epi16(acc##3, _mm256_maddubs_epi16(_mm256_load_si256((wq) + 3), (xb))); \
    } while (0)

/* ip[0..31] += the int32 row sums of int16 pair sums a0..a3 (rows 0-7, 8-15, 16-23, 24-31). */
static inline void flush_rows(int32_t *ip, __m256i a0, __m256i a1, __m256i a2, __m256i a3) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i *d = (__m256i *)ip;
    _mm256_store_si256(d, _mm256_add_epi32(_mm256_load_si256(d), _mm256_madd_epi16(a0, ones)));
    _mm256_store_si256(d + 1, _mm256_add_epi32(_mm256_load_si256(d + 1), _mm256_madd_epi16(a1, ones)));
    _mm256_store_si256(d + 2, _mm256_add_epi32(_mm256_load_si256(d + 2), _mm256_madd_epi16(a2, ones)));
    _mm256_store_si256(d + 3, _mm256_add_epi32(_mm256_load_si256(d + 3), _mm256_madd_epi16(a3, ones)));
}

/* One kquad of two tokens in assembly: GCC 12 kept copying the eight accumulators through other
 * registers and spilling one every kquad (~30% slower). Per kquad: 2 broadcasts, 4 code loads
 * (each used by both tokens), 8 vpmaddubsw + 8 vpaddw. */
#define KQ2_STEP(off, a, b)                                 \
    "vmovdqa " #off "(%[w]), %[c]\n\t"                      \
    "vpmaddubsw %[xa], %[c], %[p]\n\t"                      \
    "vpaddw %[p], %[" #a "], %[" #a "]\n\t"                 \
    "vpmaddubsw %[xb], %[c], %[c]\n\t"                      \
    "vpaddw %[c], %[" #b "], %[" #b "]\n\t"

/* a[r] / b[r] += int16 pair sums of codes (rows 8r..8r+7) · x0 / x1 over nq >= 1 kquads. */
static inline void kquads2(const uint8_t *codes, const int8_t *x0, const int8_t *x1, int64_t nq, __m256i a[4],
                           __m256i b[4]) {
#if defined(__x86_64__)
    __m256i a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], c, p, xa, xb;
    int64_t i = -nq; /* x0/x1 + 4 * (nq + i): counts up to zero */
    x0 += 4 * nq;
    x1 += 4 * nq;
    __asm__("1:\n\t"
            "vpbroadcastd (%[x0],%[i],4), %[xa]\n\t"
            "vpbroadcastd (%[x1],%[i],4), %[xb]\n\t"
            KQ2_STEP(0, a0, b0) KQ2_STEP(32, a1, b1) KQ2_STEP(64, a2, b2) KQ2_STEP(96, a3, b3)
            "add $128, %[w]\n\t"
            "inc %[i]\n\t"
            "jnz 1b\n\t"
            : [a0] "+x"(a0), [a1] "+x"(a1), [a2] "+x"(a2), [a3] "+x"(a3), [b0] "+x"(b0), [b1] "+x"(b1),
              [b2] "+x"(b2), [b3] "+x"(b3), [w] "+r"(codes), [i] "+r"(i), [c] "=&x"(c), [p] "=&x"(p),
              [xa] "=&x"(xa), [xb] "=&x"(xb)
            : [x0] "r"(x0), [x1] "r"(x1)
            : "memory", "cc");
    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, b[0] = b0, b[1] = b1, b[2] = b2, b[3] = b3;
#else
    for (int64_t q = 0; q < nq; q++) {
        const __m256i *wq = (const __m256i *)(codes + q * 128);
        __m256i xa = broadcast4(x0 + 4 * q), xb = broadcast4(x1 + 4 * q);
        for (int r = 0; r < 4; r++) {
            a[r] = _mm256_add_epi16(a[r], _mm256_maddubs_epi16(_mm256_load_si256(wq + r), xa));
            b[r] = _mm256_add_epi16(b[r], _mm256_maddubs_epi16(_mm256_load_si256(wq + r), xb));
        }
    }
#endif
}

/* ip[t][0..31] += Σ_{q < nq} Σ_i codes[q][row][i] * x_t[4q + i] for tokens x0, x1. */
static void block_dot2(const uint8_t *codes, int64_t nq, int64_t chunk, const int8_t *x0, const int8_t *x1,
                       int32_t (*ip)[LT_TILE]) {
    for (int64_t c0 = 0; c0 < nq; c0 += chunk) {
        int64_t c1 = LT_MIN(c0 + chunk, nq);
        __m256i a[4], b[4];
        for (int r = 0; r < 4; r++) a[r] = b[r] = _mm256_setzero_si256();
        kquads2(codes + c0 * 128, x0 + 4 * c0, x1 + 4 * c0, c1 - c0, a, b);
        flush_rows(ip[0], a[0], a[1], a[2], a[3]);
        flush_rows(ip[1], b[0], b[1], b[2], b[3]);
    }
}

/* The same for one token. */
static void block_dot1(const uint8_t *codes, int64_t nq, int64_t chunk, const int8_t *x0, int32_t *ip) {
    for (int64_t c0 = 0; c0 < nq; c0 += chunk) {
        int64_t c1 = LT_MIN(c0 + chunk, nq);
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t q = c0; q < c1; q++) {
            const __m256i *wq = (const __m256i *)(codes + q * 128);
            __m256i xa = broadcast4(x0 + 4 * q);
            MADD4(a, wq, xa);
        }
        flush_rows(ip, a0, a1, a2, a3);
    }
}

/* End of scale group g for the block's tokens: f = fmaf(s, (float)dot, f) [+ fmaf(m, (float)Σx, f)],
 * dot = ip (- Σx for ternary codes); ip restarts at zero. */
static void group_end(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t g, int64_t tok0, int nt,
                      int32_t (*ip)[LT_TILE], float (*fp)[LT_TILE]) {
    const uint16_t *s = lt_qw_gsm(w, tile, g), *m = lt_qw_has_offset(w) ? s + LT_TILE : NULL;
    bool ternary = lt_qw_ternary(w);
    for (int t = 0; t < nt; t++) {
        int32_t sum = a->gsum[(tok0 + t) * a->gsum_ngroups + g];
        __m256i sub = _mm256_set1_epi32(ternary ? sum : 0);
        __m256 fsum = _mm256_set1_ps((float)sum);
        for (int r = 0; r < 4; r++) {
            __m256i *d = (__m256i *)(ip[t] + 8 * r);
            __m256 dot = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_load_si256(d), sub));
            __m256 f = _mm256_fmadd_ps(load_f16x8(s + 8 * r), dot, _mm256_load_ps(fp[t] + 8 * r));
            if (m) f = _mm256_fmadd_ps(load_f16x8(m + 8 * r), fsum, f);
            _mm256_store_ps(fp[t] + 8 * r, f);
            _mm256_store_si256(d, _mm256_setzero_si256());
        }
    }
}

/* A whole scale group of two tokens in one K-block (INTn, TQ*): the int32 group dots stay in
 * registers and go straight into the float step, f_t = fmaf(s, (float)dot_t, f_t) [+ fmaf(m,
 * (float)Σx_t, f_t)], instead of a round trip through ip and a second pass (group_end). */
static void block_group2(const uint8_t *codes, int64_t nq, int64_t chunk, const int8_t *x0, const int8_t *x1,
                         const uint16_t *s, const uint16_t *m, const int32_t sum[2], bool ternary, float (*fp)[LT_TILE]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i da[4], db[4];
    for (int r = 0; r < 4; r++) da[r] = db[r] = _mm256_setzero_si256();
    for (int64_t c0 = 0; c0 < nq; c0 += chunk) {
        __m256i a[4], b[4];
        for (int r = 0; r < 4; r++) a[r] = b[r] = _mm256_setzero_si256();
        kquads2(codes + c0 * 128, x0 + 4 * c0, x1 + 4 * c0, LT_MIN(chunk, nq - c0), a, b);
        for (int r = 0; r < 4; r++) {
            da[r] = _mm256_add_epi32(da[r], _mm256_madd_epi16(a[r], ones));
            db[r] = _mm256_add_epi32(db[r], _mm256_madd_epi16(b[r], ones));
        }
    }
    for (int t = 0; t < 2; t++) {
        __m256i *d = t ? db : da, sub = _mm256_set1_epi32(ternary ? sum[t] : 0);
        __m256 fsum = _mm256_set1_ps((float)sum[t]);
        for (int r = 0; r < 4; r++) {
            __m256 dot = _mm256_cvtepi32_ps(_mm256_sub_epi32(d[r], sub));
            __m256 f = _mm256_fmadd_ps(load_f16x8(s + 8 * r), dot, _mm256_load_ps(fp[t] + 8 * r));
            if (m) f = _mm256_fmadd_ps(load_f16x8(m + 8 * r), fsum, f);
            _mm256_store_ps(fp[t] + 8 * r, f);
        }
    }
}

/* y for the block's tokens and the tile's rows: per row (float)(ip - Σx) * (s * a), else fp * a. */
static void store_outputs(const lt_qweight *w, const lt_act *a, int64_t tile, int64_t tok0, int nt,
                          int32_t (*ip)[LT_TILE], float (*fp)[LT_TILE], float *y) {
    const float *s = w->per_row ? w->scale + tile * LT_TILE : NULL;
    int64_t row0 = tile * LT_TILE, rows = LT_MIN(LT_TILE, w->m - row0);
    for (int t = 0; t < nt; t++) {
        int64_t tok = tok0 + t;
        __m256 act = _mm256_set1_ps(a->scale[tok]);
        _Alignas(32) float out[LT_TILE];
        for (int r = 0; r < 4; r++) {
            __m256 o;
            if (w->per_row) {
                __m256i d = _mm256_sub_epi32(_mm256_load_si256((const __m256i *)(ip[t] + 8 * r)),
                                             _mm256_set1_epi32(a->gsum[tok * a->gsum_ngroups]));
                o = _mm256_mul_ps(_mm256_cvtepi32_ps(d), _mm256_mul_ps(_mm256_loadu_ps(s + 8 * r), act));
            } else {
                o = _mm256_mul_ps(_mm256_load_ps(fp[t] + 8 * r), act);
            }
            _mm256_store_ps(out + 8 * r, o);
        }
        memcpy(y + tok * w->m + row0, out, (size_t)rows * sizeof(float));
    }
}

static inline __attribute__((always_inline)) void gemm_tiles(const lt_qweight *w, const lt_act *a, int64_t t0,
                                                             int64_t t1, float *y, const lt_qkind kind, const int P) {
    const bool ternary = kind != LT_QK_PLANES;
    _Alignas(32) uint8_t codes[KQ * 128];
    _Alignas(32) int32_t ip[NB][LT_TILE];
    _Alignas(32) float fp[NB][LT_TILE];
    size_t tile_bytes = lt_qw_tile_bytes(w);
    int64_t gq = (w->group + 3) / 4, chunk = lt_gemm_chunk(w); /* TERN3: kp = 42 n, the last kquad padded */
    bool fused = !w->per_row && gq <= KQ; /* a scale group fits in one K-block */
    for (int64_t tok0 = a->first_token; tok0 < a->n; tok0 += NB) {
        int nt = (int)LT_MIN(NB, a->n - tok0);
        for (int64_t tile = t0; tile < t1; tile++) {
            const uint8_t *wt = w->idx + (size_t)tile * tile_bytes;
            memset(ip, 0, (size_t)nt * sizeof ip[0]);
            memset(fp, 0, (size_t)nt * sizeof fp[0]);
            for (int64_t g = 0; g < w->ngroups; g++) {
                const uint16_t *sg = w->per_row ? NULL : lt_qw_gsm(w, tile, g);
                const uint16_t *mg = sg && lt_qw_has_offset(w) ? sg + LT_TILE : NULL;
                const int32_t *gsum = a->gsum + tok0 * a->gsum_ngroups + g;
                for (int64_t q0 = g * gq; q0 < (g + 1) * gq; q0 += KQ) {
                    int64_t q1 = LT_MIN(q0 + KQ, (g + 1) * gq);
                    if (kind == LT_QK_TERNARY) decode_ternary(wt, q0, q1, codes);
                    else if (kind == LT_QK_TERN3) decode_tern3(wt, w->nslots, q0, q1, codes);
                    else decode_planes(wt, q0, q1, P, codes);
                    const int8_t *x0 = a->xq + tok0 * a->kx + 4 * q0;
                    int t = 0;
                    if (fused)
                        for (; t + 2 <= nt; t += 2) {
                            int32_t sum[2] = { gsum[t * a->gsum_ngroups], gsum[(t + 1) * a->gsum_ngroups] };
                            block_group2(codes, q1 - q0, chunk, x0 + t * a->kx, x0 + (t + 1) * a->kx, sg, mg, sum, ternary, fp + t);
                        }
                    else
                        for (; t + 2 <= nt; t += 2) block_dot2(codes, q1 - q0, chunk, x0 + t * a->kx, x0 + (t + 1) * a->kx, ip + t);
                    if (t < nt) block_dot1(codes, q1 - q0, chunk, x0 + t * a->kx, ip[t]);
                }
                /* the tokens not fused above (all of them, or the odd one) */
                int done = fused ? nt & ~1 : 0;
                if (!w->per_row) group_end(w, a, tile, g, tok0 + done, nt - done, ip + done, fp + done);
            }
            store_outputs(w, a, tile, tok0, nt, ip, fp, y);
        }
    }
}

void lt_gemm_avx2(const lt_qweight *w, const lt_act *a, int64_t t0, int64_t t1, float *y) {
    LT_GEMM_BY_LAYOUT(gemm_tiles, w, a, t0, t1, y);
}

#endif
