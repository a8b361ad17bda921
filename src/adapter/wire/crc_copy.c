// SPDX-License-Identifier: MIT
/*
 * Copy + CRC-32 in one pass: each 16-byte block is loaded once, stored to
 * the destination and folded into the CRC with PCLMULQDQ (the method of
 * Gopal et al., "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ Instruction", Intel, 2009).
 *
 * The CRC is the reflected one of P = x^32 + 0x04C11DB7. A 16-byte block
 * loaded little-endian is a polynomial of degree < 128 whose bit 0 (bit 0 of
 * the first byte) is the x^127 coefficient; its low qword H holds x^127..x^64
 * and its high qword L x^63..x^0. The CRC of message M (zero initial state)
 * is M * x^32 mod P, and the initial state is XORed into the first 32 bits.
 *
 * K(n) = bitrev32(x^n mod P) << 1 (33 bits). PCLMULQDQ of a qword A by K(n)
 * is, read as a 128-bit register, A * (x^n mod P) * x^32. So a register
 * moves D bits further down the message (is multiplied by x^D, mod P) by
 *   H * x^(64+D) + L * x^D  ==  clmul(H, K(D+32)) ^ clmul(L, K(D-32)).
 * The constants below come from this generator (and match the paper's):
 *   uint32_t r = 1; while (n--) r = r << 1 ^ (r >> 31 ? 0x04C11DB7 : 0);
 *   K = (uint64_t)bitrev32(r) << 1;
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include <isa-l/crc.h>

#include "adapter/wire/crc_copy.h"

#define PCLMUL __attribute__((target("pclmul,sse4.1")))

/* Fold constants for a move of 128 * j bits: { K(128j + 32), K(128j - 32) }. */
static const uint64_t kfold[9][2] __attribute__((aligned(16))) = {
	[1] = { 0x1751997d0, 0x0ccaa009e },   /* K(160), K(96) */
	[2] = { 0x0f1da05aa, 0x15a546366 },   /* K(288), K(224) */
	[3] = { 0x03db1ecdc, 0x174359406 },   /* K(416), K(352) */
	[4] = { 0x154442bd4, 0x1c6e41596 },   /* K(544), K(480) */
	[5] = { 0x1c7569e54, 0x0ae0b5394 },   /* K(672), K(608) */
	[6] = { 0x0df068dc2, 0x18cb44e58 },   /* K(800), K(736) */
	[7] = { 0x1ea89367e, 0x1d7cfc6ac },   /* K(928), K(864) */
	[8] = { 0x1e88ef372, 0x14a7fe880 },   /* K(1056), K(992) */
};
/* Final reduction: K(96), K(64); Barrett: bitrev33(x^64 div P), bitrev33(P). */
static const uint64_t kred[2] __attribute__((aligned(16))) = { 0x0ccaa009e, 0x163cd6124 };
static const uint64_t kbar[2] __attribute__((aligned(16))) = { 0x1f7011641, 0x1db710641 };

/* pshufb masks: at SHUF + R, shift left by 16 - R bytes (the first R bytes
 * to the top); at SHUF + 16 + R, shift right by R bytes, with the top bit
 * set on the R freed lanes (a pblendvb mask for the bytes that come in). */
static const uint8_t shuf[48] = {
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

/* Independent folds in flight. PCLMULQDQ-bound either way on Zen 1: 4 and 8
 * measured within 2% of each other, 8 a little ahead at 4 KiB. The lane
 * loops are unrolled so that the lanes stay in registers (gcc -O2 keeps an
 * array on the stack otherwise, and runs 20% slower). */
#define LANES 8

uint32_t wire_crc_copy_generic(uint32_t crc, void *dst, const void *src, size_t len)
{
	if (len)
		memcpy(dst, src, len);
	return crc32_gzip_refl(crc, (const unsigned char *)dst, len);
}

PCLMUL static inline __m128i kload(const uint64_t k[2])
{
	return _mm_load_si128((const __m128i *)k);
}

/* X moved 128 * j bits down the message (K = kfold[j]). */
PCLMUL static inline __m128i fold(__m128i x, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
			     _mm_clmulepi64_si128(x, k, 0x11));
}

/* The 16 bytes at S, also stored at D when COPY. */
PCLMUL static inline __m128i move16(uint8_t *d, const uint8_t *s, bool copy)
{
	__m128i v = _mm_loadu_si128((const __m128i *)s);

	if (copy)
		_mm_storeu_si128((__m128i *)d, v);
	return v;
}

/* The finished CRC (zlib convention) of a 128-bit fold state X: 128 -> 96
 * bits (X * x^32 in bits 0..95, times x^32), then 96 -> 64 (X * x^32 in
 * the low qword, times x^64), then Barrett: q = floor(T1 * mu / x^32),
 * crc = low 32 coefficients of T + q * P. */
PCLMUL static inline uint32_t reduce(__m128i x)
{
	const __m128i lo32 = _mm_set_epi32(0, 0, 0, -1);
	__m128i k = kload(kred), t;

	x = _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_srli_si128(x, 8));
	x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, lo32), k, 0x10),
			  _mm_srli_si128(x, 4));
	k = kload(kbar);
	t = _mm_clmulepi64_si128(_mm_and_si128(x, lo32), k, 0x00);
	t = _mm_clmulepi64_si128(_mm_and_si128(t, lo32), k, 0x10);
	return ~(uint32_t)_mm_extract_epi32(_mm_xor_si128(x, t), 1);
}

/*
 * The CRC continued from CRC over PRE (PRELEN bytes, a multiple of 16, only
 * read) then the LEN bytes at S, stored at D when COPY. The state enters
 * the first block read: XORed into it (the initial state, ~CRC) or, after
 * a prefix, moved 128 bits down first (the fold of everything before it).
 */
PCLMUL static inline __attribute__((always_inline)) uint32_t
crc_fold(uint32_t crc, const uint8_t *pre, size_t prelen, uint8_t *d, const uint8_t *s,
	 size_t len, bool copy)
{
	__m128i x = _mm_cvtsi32_si128((int)~crc), t, k = kload(kfold[1]);

	if (prelen) {
		x = _mm_xor_si128(x, _mm_loadu_si128((const __m128i *)pre));
		for (size_t i = 16; i < prelen; i += 16)
			x = _mm_xor_si128(fold(x, k), _mm_loadu_si128((const __m128i *)(pre + i)));
		if (len < 16)
			crc = reduce(x);
		else
			x = fold(x, k);
	}
	if (len < 16) {
		if (copy)
			return wire_crc_copy_generic(crc, d, s, len);
		return crc32_gzip_refl(crc, s, len);
	}
	if (len >= 16 * LANES) {
		__m128i v[LANES];

#pragma GCC unroll 8
		for (int i = 0; i < LANES; i++)
			v[i] = move16(d + 16 * i, s + 16 * i, copy);
		v[0] = _mm_xor_si128(v[0], x);
		s += 16 * LANES, d += 16 * LANES, len -= 16 * LANES;
		k = kload(kfold[LANES]);
		for (; len >= 16 * LANES; s += 16 * LANES, d += 16 * LANES, len -= 16 * LANES)
#pragma GCC unroll 8
			for (int i = 0; i < LANES; i++)
				v[i] = _mm_xor_si128(fold(v[i], k), move16(d + 16 * i, s + 16 * i, copy));
		/* each lane moved down to the end of the last one */
		x = v[LANES - 1];
#pragma GCC unroll 8
		for (int i = 0; i < LANES - 1; i++)
			x = _mm_xor_si128(x, fold(v[i], kload(kfold[LANES - 1 - i])));
		k = kload(kfold[1]);
	} else {
		x = _mm_xor_si128(x, move16(d, s, copy));
		s += 16, d += 16, len -= 16;
	}
	for (; len >= 16; s += 16, d += 16, len -= 16)
		x = _mm_xor_si128(fold(x, k), move16(d, s, copy));
	if (len) {
		/* R = LEN tail bytes: X * x^8R + tail. The first R bytes of X go
		 * 128 bits down (fold), the rest shift by R bytes and the tail
		 * comes in from the last 16 bytes, loaded (and stored) again. */
		__m128i last = move16(d + len - 16, s + len - 16, copy);
		__m128i m = _mm_loadu_si128((const __m128i *)(shuf + 16 + len));

		t = _mm_shuffle_epi8(x, _mm_loadu_si128((const __m128i *)(shuf + len)));
		x = _mm_blendv_epi8(_mm_shuffle_epi8(x, m), last, m);
		x = _mm_xor_si128(x, fold(t, k));
	}
	return reduce(x);
}

PCLMUL static uint32_t crc_copy_pclmul(uint32_t crc, const uint8_t *pre, size_t prelen,
				       void *dst, const void *src, size_t len)
{
	return crc_fold(crc, pre, prelen, dst, src, len, true);
}

PCLMUL static uint32_t crc_pclmul(uint32_t crc, const uint8_t *pre, size_t prelen,
				  const void *src, size_t len)
{
	return crc_fold(crc, pre, prelen, NULL, src, len, false);
}

static int use_pclmul;

__attribute__((constructor)) static void crc_copy_pick(void)
{
	__builtin_cpu_init();   /* constructors may run before libgcc's */
	use_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

uint32_t wire_crc_copy(uint32_t crc, void *dst, const void *src, size_t len)
{
	if (__builtin_expect(use_pclmul, 1))
		return crc_copy_pclmul(crc, NULL, 0, dst, src, len);
	return wire_crc_copy_generic(crc, dst, src, len);
}

uint32_t wire_crc_copy_pre(uint32_t crc, const void *pre, size_t prelen, void *dst,
			   const void *src, size_t len)
{
	if (__builtin_expect(use_pclmul, 1))
		return crc_copy_pclmul(crc, pre, prelen, dst, src, len);
	return wire_crc_copy_generic(crc32_gzip_refl(crc, pre, prelen), dst, src, len);
}

uint32_t wire_crc_pre(uint32_t crc, const void *pre, size_t prelen, const void *src, size_t len)
{
	if (__builtin_expect(use_pclmul, 1))
		return crc_pclmul(crc, pre, prelen, src, len);
	return crc32_gzip_refl(crc32_gzip_refl(crc, pre, prelen), src, len);
}
