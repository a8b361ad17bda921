/* SPDX-License-Identifier: MIT */
/*
 * The fused copy + CRC-32 (crc_copy.c), both the PCLMULQDQ path
 * (wire_crc_copy on a CPU that has it) and the fallback: the copy equals
 * the source, the CRC equals ISA-L's crc32_gzip_refl and a bit-by-bit
 * CRC-32, chains across arbitrary splits, and no byte outside the source
 * is read nor outside the destination written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <isa-l/crc.h>

#include "adapter/wire/crc_copy.h"

#define GUARD 64
#define GUARD_BYTE 0xa5
#define BIG 70000

typedef uint32_t crc_copy_fn(uint32_t crc, void *dst, const void *src, size_t len);

static const struct impl {
	const char *name;
	crc_copy_fn *fn;
} impls[] = {
	{ "wire_crc_copy", wire_crc_copy },
	{ "wire_crc_copy_generic", wire_crc_copy_generic },
};
#define FOR_EACH_IMPL(im) \
	for (const struct impl *im = impls; im < impls + sizeof(impls) / sizeof(impls[0]); im++)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* CRC-32 one bit at a time (reflected 0x04C11DB7), zlib convention. */
static uint32_t bit_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* Copies LEN bytes of SRC into the middle of DST_AREA (GUARD bytes of
 * GUARD_BYTE either side) with IM, checks the CRC against ISA-L from
 * CRC0, the copy, and the guards. */
static void check_one(const struct impl *im, uint32_t crc0, uint8_t *dst_area,
		      size_t dst_off, const uint8_t *src, size_t len)
{
	uint8_t *dst = dst_area + GUARD + dst_off;
	uint32_t want = crc32_gzip_refl(crc0, src, len), got;
	size_t area = GUARD + dst_off + len + GUARD;

	memset(dst_area, GUARD_BYTE, area);
	got = im->fn(crc0, dst, src, len);
	if (got != want)
		fail_msg("%s: len %zu src%%16 %zu dst%%16 %zu crc0 %08x: crc %08x, want %08x",
			 im->name, len, (size_t)((uintptr_t)src % 16), (size_t)((uintptr_t)dst % 16),
			 crc0, got, want);
	if (len && memcmp(dst, src, len) != 0)
		fail_msg("%s: len %zu: the copy differs from the source", im->name, len);
	for (size_t i = 0; i < area; i++) {
		if (dst_area + i >= dst && dst_area + i < dst + len)
			continue;
		if (dst_area[i] != GUARD_BYTE)
			fail_msg("%s: len %zu src+%zu dst+%zu: byte %td outside dst written",
				 im->name, len, (size_t)((uintptr_t)src % 16), dst_off,
				 dst_area + i - dst);
	}
}

static uint8_t *xmalloc(size_t n)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, 64, n), 0);
	return p;
}

static void crc_of_123456789_is_cbf43926(void **state)
{
	uint8_t dst[9];

	FOR_EACH_IMPL(im) {
		assert_int_equal(im->fn(0, dst, "123456789", 9), 0xcbf43926);
		assert_memory_equal(dst, "123456789", 9);
	}
}

static void matches_bitwise_crc32_up_to_4096(void **state)
{
	uint8_t *src = xmalloc(4096), *dst = xmalloc(4096);

	fill(src, 4096);
	FOR_EACH_IMPL(im)
		for (size_t len = 0; len <= 4096; len += len < 300 ? 1 : 61) {
			uint32_t crc0 = len & 1 ? rnd() : 0;

			assert_int_equal(im->fn(crc0, dst, src, len), bit_crc32(crc0, src, len));
		}
	free(src);
	free(dst);
}

static void every_length_to_600_every_misalignment_matches_isal(void **state)
{
	/* both 64-byte aligned: the offsets are the misalignments */
	uint8_t *src = xmalloc(16 + 600), *area = xmalloc(GUARD + 16 + 600 + GUARD);

	fill(src, 16 + 600);
	FOR_EACH_IMPL(im)
		for (size_t len = 0; len <= 600; len++)
			for (size_t so = 0; so < 16; so++)
				for (size_t d = 0; d < 16; d++)
					check_one(im, (uint32_t)(len * 16 + d) * 0x01000193u, area, d,
						  src + so, len);
	free(src);
	free(area);
}

static void random_lengths_to_70000_match_isal(void **state)
{
	uint8_t *src = xmalloc(16 + BIG), *area = xmalloc(GUARD + 16 + BIG + GUARD);

	fill(src, 16 + BIG);
	FOR_EACH_IMPL(im)
		for (int i = 0; i < 300; i++) {
			size_t len = rnd() % (BIG + 1);

			check_one(im, rnd(), area, rnd() % 16, src + rnd() % 16, len);
		}
	free(src);
	free(area);
}

/* crc(crc(c0, A), B) == crc(c0, A || B), cut in up to 5 pieces anywhere. */
static void chained_over_any_split_equals_whole(void **state)
{
	uint8_t *src = xmalloc(9000), *dst = xmalloc(9000);

	fill(src, 9000);
	FOR_EACH_IMPL(im)
		for (int i = 0; i < 2000; i++) {
			size_t len = i < 1000 ? rnd() % 300 : rnd() % 9000, off = 0;
			uint32_t crc0 = i % 3 ? rnd() : 0, crc = crc0;
			int pieces = 1 + (int)(rnd() % 5);

			memset(dst, 0, len);
			for (int p = 0; p < pieces && off < len; p++) {
				size_t n = p == pieces - 1 ? len - off : rnd() % (len - off + 1);

				crc = im->fn(crc, dst + off, src + off, n);
				off += n;
			}
			crc = im->fn(crc, dst + off, src + off, len - off);
			assert_int_equal(crc, crc32_gzip_refl(crc0, src, len));
			assert_memory_equal(dst, src, len);
		}
	free(src);
	free(dst);
}

/* A readable and writable page between two PROT_NONE pages. */
static uint8_t *fenced_page(long pg)
{
	uint8_t *p = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p, (size_t)pg, PROT_NONE), 0);
	assert_int_equal(mprotect(p + 2 * pg, (size_t)pg, PROT_NONE), 0);
	return p + pg;
}

/* Source and destination flush against unmapped pages on either side: a
 * byte read before SRC or past SRC + LEN (or written outside DST) faults. */
static void touches_nothing_outside_src_and_dst_pages(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *sp = fenced_page(pg), *dp = fenced_page(pg);

	fill(sp, (size_t)pg);
	FOR_EACH_IMPL(im)
		for (size_t len = 0; len <= (size_t)pg; len += len < 200 ? 1 : 487) {
			const uint8_t *srcs[2] = { sp, sp + pg - len };
			uint8_t *dsts[2] = { dp, dp + pg - len };

			for (int a = 0; a < 2; a++)
				for (int b = 0; b < 2; b++) {
					assert_int_equal(im->fn(7, dsts[b], srcs[a], len),
							 crc32_gzip_refl(7, srcs[a], len));
					assert_memory_equal(dsts[b], srcs[a], len);
				}
		}
	munmap(sp - pg, (size_t)pg * 3);
	munmap(dp - pg, (size_t)pg * 3);
}

/* A prefix (16 to 128 bytes, read only) then a span: the CRC of the two
 * one after the other, the span copied (wire_crc_copy_pre) or only read
 * (wire_crc_pre), nothing else written. */
static void a_prefix_folds_as_the_bytes_in_front(void **state)
{
	uint8_t *pre = xmalloc(16 + 128), *src = xmalloc(16 + 600);
	uint8_t *area = xmalloc(GUARD + 16 + 600 + GUARD), *whole = xmalloc(128 + 600);

	fill(pre, 16 + 128);
	fill(src, 16 + 600);
	for (size_t prelen = 16; prelen <= 128; prelen += 16)
		for (size_t len = 0; len <= 600; len += len < 300 ? 1 : 7) {
			const uint8_t *p = pre + len % 16, *s = src + (len / 16) % 16;
			uint8_t *dst = area + GUARD + len % 7;
			uint32_t crc0 = len % 3 ? rnd() : 0, want, got;

			memcpy(whole, p, prelen);
			memcpy(whole + prelen, s, len);
			want = crc32_gzip_refl(crc0, whole, prelen + len);
			memset(area, GUARD_BYTE, GUARD + 16 + 600 + GUARD);
			got = wire_crc_copy_pre(crc0, p, prelen, dst, s, len);
			if (got != want)
				fail_msg("copy: prefix %zu len %zu: crc %08x, want %08x", prelen, len, got, want);
			if (len)
				assert_memory_equal(dst, s, len);
			for (uint8_t *b = area; b < area + GUARD + 16 + 600 + GUARD; b++)
				if ((b < dst || b >= dst + len) && *b != GUARD_BYTE)
					fail_msg("prefix %zu len %zu: byte %td outside dst written", prelen,
						 len, b - dst);
			got = wire_crc_pre(crc0, p, prelen, s, len);
			if (got != want)
				fail_msg("no copy: prefix %zu len %zu: crc %08x, want %08x", prelen, len,
					 got, want);
		}
	free(pre);
	free(src);
	free(area);
	free(whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc_of_123456789_is_cbf43926),
		cmocka_unit_test(matches_bitwise_crc32_up_to_4096),
		cmocka_unit_test(every_length_to_600_every_misalignment_matches_isal),
		cmocka_unit_test(random_lengths_to_70000_match_isal),
		cmocka_unit_test(chained_over_any_split_equals_whole),
		cmocka_unit_test(touches_nothing_outside_src_and_dst_pages),
		cmocka_unit_test(a_prefix_folds_as_the_bytes_in_front),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
