/* SPDX-License-Identifier: MIT */
/* DMA remapping table and IOTLB, tested directly (no daemon). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "adapter/iommu.h"

#define PG IOMMU_PAGE_SIZE

/* Fake host addresses: never dereferenced. */
static uint8_t *host(uintptr_t x)
{
	return (uint8_t *)x;
}

static int setup(void **state)
{
	struct iommu *mmu;

	if (iommu_create(&mmu))
		return -1;
	*state = mmu;
	return 0;
}

static int teardown(void **state)
{
	iommu_destroy(*state);
	return 0;
}

static void *xlate(struct iommu *mmu, uint64_t iova, uint64_t len, int *err)
{
	void *h = (void *)(uintptr_t)0xdead;

	*err = iommu_translate(mmu, iova, len, &h);
	return h;
}

static void translate_inside_mapping_returns_host_offset(void **state)
{
	struct iommu *mmu = *state;
	int err;

	assert_int_equal(iommu_map(mmu, 0x10000, 4 * PG, host(0x7000000), NULL), 0);
	assert_ptr_equal(xlate(mmu, 0x10000, 1, &err), host(0x7000000));
	assert_int_equal(err, 0);
	assert_ptr_equal(xlate(mmu, 0x10123, 100, &err), host(0x7000123));
	assert_int_equal(err, 0);
	/* The whole mapping in one piece, and its very last byte. */
	assert_ptr_equal(xlate(mmu, 0x10000, 4 * PG, &err), host(0x7000000));
	assert_int_equal(err, 0);
	assert_ptr_equal(xlate(mmu, 0x10000 + 4 * PG - 1, 1, &err), host(0x7000000 + 4 * PG - 1));
	assert_int_equal(err, 0);
}

static void translate_outside_or_across_the_end_is_EFAULT(void **state)
{
	struct iommu *mmu = *state;
	int err;

	assert_int_equal(iommu_map(mmu, 0x10000, 4 * PG, host(0x7000000), NULL), 0);
	assert_ptr_equal(xlate(mmu, 0x10000 - 1, 1, &err), (void *)0xdead);
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0x10000 - 1, 2, &err); /* starts before */
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0x10000 + 4 * PG, 1, &err); /* one past the end */
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0x10000 + 4 * PG - 1, 2, &err); /* crosses the end */
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0x10000, 4 * PG + 1, &err);
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0x10000, 0, &err); /* zero length translates nothing */
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0, 1, &err);
	assert_int_equal(err, -EFAULT);
}

static void translate_length_wrapping_past_2_64_is_EFAULT(void **state)
{
	struct iommu *mmu = *state;
	uint64_t top = UINT64_MAX - PG + 1; /* the last page of the I/O space */
	int err;

	assert_int_equal(iommu_map(mmu, top, PG, host(0x5000), NULL), 0);
	assert_ptr_equal(xlate(mmu, UINT64_MAX, 1, &err), host(0x5000 + PG - 1));
	assert_int_equal(err, 0);
	xlate(mmu, UINT64_MAX, 2, &err); /* iova + len wraps to 1 */
	assert_int_equal(err, -EFAULT);
	xlate(mmu, top, UINT64_MAX, &err);
	assert_int_equal(err, -EFAULT);
	xlate(mmu, top + 8, UINT64_MAX - 7, &err); /* wraps to exactly top */
	assert_int_equal(err, -EFAULT);
	/* Also the mapped length near 2^64 in a lower mapping. */
	assert_int_equal(iommu_map(mmu, 0x1000, PG, host(0x9000), NULL), 0);
	xlate(mmu, 0x1800, UINT64_MAX - 0x7ff, &err); /* iova + len == 2^64 + 1 */
	assert_int_equal(err, -EFAULT);
}

static void map_refuses_unaligned_zero_and_wrapping_ranges(void **state)
{
	struct iommu *mmu = *state;

	assert_int_equal(iommu_map(mmu, 0x1001, PG, host(1), NULL), -EINVAL);
	assert_int_equal(iommu_map(mmu, 0x1000, PG + 1, host(1), NULL), -EINVAL);
	assert_int_equal(iommu_map(mmu, 0x1000, 0, host(1), NULL), -EINVAL);
	assert_int_equal(iommu_map(mmu, UINT64_MAX - PG + 1, 2 * PG, host(1), NULL), -EINVAL);
	assert_int_equal(mmu->nmap, 0);
}

static void overlapping_map_is_EEXIST_and_changes_nothing(void **state)
{
	struct iommu *mmu = *state;
	int err;

	assert_int_equal(iommu_map(mmu, 0x10000, 4 * PG, host(0x100000), NULL), 0);
	assert_int_equal(iommu_map(mmu, 0x10000, PG, host(1), NULL), -EEXIST); /* same start */
	assert_int_equal(iommu_map(mmu, 0xf000, 2 * PG, host(1), NULL), -EEXIST); /* head */
	assert_int_equal(iommu_map(mmu, 0x13000, 2 * PG, host(1), NULL), -EEXIST); /* tail */
	assert_int_equal(iommu_map(mmu, 0x11000, PG, host(1), NULL), -EEXIST); /* inside */
	assert_int_equal(iommu_map(mmu, 0x0, 0x100000, host(1), NULL), -EEXIST); /* around */
	assert_int_equal(mmu->nmap, 1);
	assert_ptr_equal(xlate(mmu, 0x11000, 8, &err), host(0x101000));
	assert_int_equal(err, 0);
}

static void adjacent_mappings_translate_separately_and_chunks_split(void **state)
{
	struct iommu *mmu = *state;
	void *h;
	uint64_t chunk;
	int err;

	assert_int_equal(iommu_map(mmu, 0x20000, PG, host(0xa00000), (void *)1), 0);
	assert_int_equal(iommu_map(mmu, 0x21000, 2 * PG, host(0xb00000), (void *)2), 0);
	assert_int_equal(iommu_map(mmu, 0x1f000, PG, host(0xc00000), (void *)3), 0);
	/* A range crossing the boundary is not one translation ... */
	xlate(mmu, 0x20ff0, 0x20, &err);
	assert_int_equal(err, -EFAULT);
	/* ... but two chunks. */
	assert_int_equal(iommu_translate_chunk(mmu, 0x20ff0, 0x20, &h, &chunk), 0);
	assert_ptr_equal(h, host(0xa00ff0));
	assert_int_equal(chunk, 0x10);
	assert_int_equal(iommu_translate_chunk(mmu, 0x21000, 0x10, &h, &chunk), 0);
	assert_ptr_equal(h, host(0xb00000));
	assert_int_equal(chunk, 0x10);
	/* A chunk inside a mapping is the whole length. */
	assert_int_equal(iommu_translate_chunk(mmu, 0x21000, 100, &h, &chunk), 0);
	assert_int_equal(chunk, 100);
	assert_int_equal(iommu_translate_chunk(mmu, 0x24000, 1, &h, &chunk), -EFAULT);
	assert_int_equal(iommu_translate_chunk(mmu, 0x21000, 0, &h, &chunk), -EFAULT);
	/* Lookup order and owners. */
	const struct iommu_mapping *m = iommu_find(mmu, 0x1f800);

	assert_non_null(m);
	assert_ptr_equal(m->owner, (void *)3);
	m = iommu_next(mmu, m);
	assert_ptr_equal(m->owner, (void *)1);
	m = iommu_next(mmu, m);
	assert_ptr_equal(m->owner, (void *)2);
	assert_null(iommu_next(mmu, m));
	assert_null(iommu_find(mmu, 0x23000));
}

static void unmap_leaves_no_stale_translation(void **state)
{
	struct iommu *mmu = *state;
	int err;

	assert_int_equal(iommu_map(mmu, 0x40000, 2 * PG, host(0x100000), NULL), 0);
	assert_int_equal(iommu_map(mmu, 0x42000, PG, host(0x900000), NULL), 0);
	/* Fill the IOTLB for both pages and the neighbour. */
	xlate(mmu, 0x40000, 1, &err);
	xlate(mmu, 0x41000, 1, &err);
	xlate(mmu, 0x42000, 1, &err);
	xlate(mmu, 0x40000, 1, &err);
	assert_int_equal(iommu_unmap(mmu, 0x40000, 2 * PG), 0);
	xlate(mmu, 0x40000, 1, &err);
	assert_int_equal(err, -EFAULT);
	xlate(mmu, 0x41fff, 1, &err);
	assert_int_equal(err, -EFAULT);
	/* The neighbour still translates. */
	assert_ptr_equal(xlate(mmu, 0x42000, 1, &err), host(0x900000));
	assert_int_equal(err, 0);
	/* Re-mapped elsewhere: the new host address, never the old one. */
	assert_int_equal(iommu_map(mmu, 0x40000, PG, host(0x300000), NULL), 0);
	assert_ptr_equal(xlate(mmu, 0x40010, 1, &err), host(0x300010));
	assert_int_equal(err, 0);
	xlate(mmu, 0x41000, 1, &err);
	assert_int_equal(err, -EFAULT);
}

static void unmap_needs_the_exact_range(void **state)
{
	struct iommu *mmu = *state;

	assert_int_equal(iommu_map(mmu, 0x40000, 2 * PG, host(0x100000), NULL), 0);
	assert_int_equal(iommu_unmap(mmu, 0x40000, PG), -ENOENT);
	assert_int_equal(iommu_unmap(mmu, 0x41000, PG), -ENOENT);
	assert_int_equal(iommu_unmap(mmu, 0x40000, 3 * PG), -ENOENT);
	assert_int_equal(iommu_unmap(mmu, 0x40000, 0), -ENOENT);
	assert_int_equal(iommu_unmap(mmu, 0x80000, PG), -ENOENT);
	assert_int_equal(iommu_unmap(mmu, 0x40000, 2 * PG), 0);
	assert_int_equal(iommu_unmap(mmu, 0x40000, 2 * PG), -ENOENT);
	assert_int_equal(mmu->nmap, 0);
}

static void iotlb_counts_hits_and_misses(void **state)
{
	struct iommu *mmu = *state;
	uint64_t hits, misses;
	int err;

	assert_int_equal(iommu_map(mmu, 0, 256 * PG, host(0x1000000), NULL), 0);
	xlate(mmu, 0x100, 8, &err); /* miss, fills */
	xlate(mmu, 0x200, 8, &err); /* same page: hit */
	xlate(mmu, 0xff8, 8, &err); /* hit */
	iommu_stats(mmu, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 1);
	/* Another page of the same mapping (a buffer walked page by page)
	 * hits the most-recently-used entry. */
	xlate(mmu, 64 * PG, 8, &err);
	iommu_stats(mmu, &hits, &misses);
	assert_int_equal(hits, 3);
	assert_int_equal(misses, 1);
	/* Page 512 of another mapping uses page 0's IOTLB entry: alternating
	 * between them is a conflict miss each time. */
	assert_int_equal(iommu_map(mmu, 512 * PG, 256 * PG, host(0x2000000), NULL), 0);
	xlate(mmu, 512 * PG, 8, &err);
	xlate(mmu, 0x100, 8, &err);
	iommu_stats(mmu, &hits, &misses);
	assert_int_equal(hits, 3);
	assert_int_equal(misses, 3);
	/* An unmapped address is a miss, and is not cached. */
	xlate(mmu, 0x1000000, 8, &err);
	xlate(mmu, 0x1000000, 8, &err);
	assert_int_equal(err, -EFAULT);
	iommu_stats(mmu, &hits, &misses);
	assert_int_equal(hits, 3);
	assert_int_equal(misses, 5);
}

static void many_mappings_in_random_order_all_translate(void **state)
{
	struct iommu *mmu = *state;
	enum { N = 1000 };
	unsigned order[N];
	int err;

	for (unsigned i = 0; i < N; i++)
		order[i] = i;
	srand(7);
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* Mapping k: iova 3k pages, k%2+1 pages long (holes between). */
	for (unsigned i = 0; i < N; i++) {
		uint64_t k = order[i];

		assert_int_equal(iommu_map(mmu, 3 * k * PG, (k % 2 + 1) * PG, host(k << 20), NULL), 0);
	}
	for (uint64_t k = 0; k < N; k++) {
		uint64_t len = (k % 2 + 1) * PG;

		assert_ptr_equal(xlate(mmu, 3 * k * PG + len - 1, 1, &err), host((k << 20) + len - 1));
		assert_int_equal(err, 0);
		xlate(mmu, 3 * k * PG + PG, 1, &err); /* 2nd page: odd k only */
		assert_int_equal(err, k % 2 ? 0 : -EFAULT);
		xlate(mmu, 3 * k * PG + len, 1, &err);
		assert_int_equal(err, -EFAULT);
	}
	for (unsigned i = 0; i < N; i += 2)
		assert_int_equal(iommu_unmap(mmu, 3ull * order[i] * PG, (order[i] % 2 + 1) * PG), 0);
	for (unsigned i = 0; i < N; i++) {
		xlate(mmu, 3ull * order[i] * PG, 1, &err);
		assert_int_equal(err, i % 2 ? 0 : -EFAULT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(translate_inside_mapping_returns_host_offset),
		T(translate_outside_or_across_the_end_is_EFAULT),
		T(translate_length_wrapping_past_2_64_is_EFAULT),
		T(map_refuses_unaligned_zero_and_wrapping_ranges),
		T(overlapping_map_is_EEXIST_and_changes_nothing),
		T(adjacent_mappings_translate_separately_and_chunks_split),
		T(unmap_leaves_no_stale_translation),
		T(unmap_needs_the_exact_range),
		T(iotlb_counts_hits_and_misses),
		T(many_mappings_in_random_order_all_translate),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
