/* SPDX-License-Identifier: MIT */
/* The data mover (dma.c) over real memory mapped through an IOMMU: the
 * packet-wise copy that a high-priority request may interrupt. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapter/dma.h"
#include "adapter/iommu.h"

#define PG IOMMU_PAGE_SIZE
#define SRC_IOVA 0x100000ull
#define DST_IOVA 0x400000ull
#define LEN (3 * PG + 123) /* not a whole number of packets */
#define PKT 1000u

struct fx {
	struct iommu *mmu;
	uint8_t *src, *dst;
	/* Both ends cut into segments of odd lengths, so that packets
	 * straddle them. */
	struct dma_seg sseg[3], dseg[2];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || iommu_create(&f->mmu))
		return -1;
	f->src = aligned_alloc(PG, 4 * PG);
	f->dst = aligned_alloc(PG, 4 * PG);
	if (!f->src || !f->dst || iommu_map(f->mmu, SRC_IOVA, 4 * PG, f->src, NULL) ||
	    iommu_map(f->mmu, DST_IOVA, 4 * PG, f->dst, NULL))
		return -1;
	for (size_t i = 0; i < 4 * PG; i++)
		f->src[i] = (uint8_t)(i * 7 + 1);
	memset(f->dst, 0, 4 * PG);
	f->sseg[0] = (struct dma_seg){SRC_IOVA, 777};
	f->sseg[1] = (struct dma_seg){SRC_IOVA + 777, 2 * PG};
	f->sseg[2] = (struct dma_seg){SRC_IOVA + 777 + 2 * PG, LEN - 777 - 2 * PG};
	f->dseg[0] = (struct dma_seg){DST_IOVA, PG + 5};
	f->dseg[1] = (struct dma_seg){DST_IOVA + PG + 5, LEN - PG - 5};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	iommu_destroy(f->mmu);
	free(f->src);
	free(f->dst);
	free(f);
	return 0;
}

static void cursors(struct fx *f, struct dma_cursor *d, struct dma_cursor *s)
{
	dma_cursor_sgl(d, f->mmu, f->dseg, 2);
	dma_cursor_sgl(s, f->mmu, f->sseg, 3);
}

/* A stop that says yes after *arg more looks. */
static bool stop_after(const void *arg)
{
	unsigned *left = (unsigned *)(uintptr_t)arg;

	if (!*left)
		return true;
	(*left)--;
	return false;
}

static void never_stopped_copies_everything(void **state)
{
	struct fx *f = *state;
	struct dma_cursor d, s;
	unsigned left = UINT32_MAX;

	cursors(f, &d, &s);
	assert_int_equal(dma_copy_pkts(&d, &s, LEN, PKT, stop_after, &left), LEN);
	assert_memory_equal(f->dst, f->src, LEN);
	assert_int_equal(f->dst[LEN], 0); /* not a byte more */
	/* one look before each packet but the first */
	assert_int_equal(UINT32_MAX - left, (LEN + PKT - 1) / PKT - 1);
}

static void a_stop_ends_the_copy_at_a_packet_and_the_cursors_resume(void **state)
{
	struct fx *f = *state;
	struct dma_cursor d, s;
	unsigned left = 2;
	int64_t n;

	cursors(f, &d, &s);
	n = dma_copy_pkts(&d, &s, LEN, PKT, stop_after, &left);
	assert_int_equal(n, 3 * PKT);
	assert_memory_equal(f->dst, f->src, 3 * PKT);
	assert_int_equal(f->dst[3 * PKT], 0);
	/* The rest, from where the cursors stopped. */
	assert_int_equal(dma_copy(&d, &s, LEN - (uint64_t)n), 0);
	assert_memory_equal(f->dst, f->src, LEN);
}

static void an_early_stop_still_moves_one_packet(void **state)
{
	struct fx *f = *state;
	struct dma_cursor d, s;
	unsigned left = 0;

	cursors(f, &d, &s);
	assert_int_equal(dma_copy_pkts(&d, &s, LEN, PKT, stop_after, &left), PKT);
	assert_memory_equal(f->dst, f->src, PKT);
	assert_int_equal(f->dst[PKT], 0);
	/* shorter than a packet: the whole of it */
	cursors(f, &d, &s);
	assert_int_equal(dma_copy_pkts(&d, &s, 10, PKT, stop_after, &left), 10);
}

static void unmapped_memory_is_a_fault(void **state)
{
	struct fx *f = *state;
	struct dma_seg bad = {DST_IOVA + 8 * PG, LEN};
	struct dma_cursor d, s;
	unsigned left = UINT32_MAX;

	dma_cursor_sgl(&d, f->mmu, &bad, 1);
	dma_cursor_sgl(&s, f->mmu, f->sseg, 3);
	assert_int_equal(dma_copy_pkts(&d, &s, LEN, PKT, stop_after, &left), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(never_stopped_copies_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(a_stop_ends_the_copy_at_a_packet_and_the_cursors_resume,
						setup, teardown),
		cmocka_unit_test_setup_teardown(an_early_stop_still_moves_one_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(unmapped_memory_is_a_fault, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
