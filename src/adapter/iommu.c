/* SPDX-License-Identifier: MIT */
/*
 * DMA remapping table and IOTLB (see iommu.h for the design).
 *
 * Security model: iova and len reach here from tenants (segment attach)
 * and from work requests; every range is checked for alignment and wrap
 * before it is stored, and a translation only ever returns an address
 * inside a mapping that is present at the time of the call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/iommu.h"

static void iotlb_flush(struct iommu *mmu)
{
	for (size_t i = 0; i < IOTLB_ENTRIES; i++)
		mmu->tlb[i].tag = IOTLB_TAG_NONE;
	mmu->mru.tag = IOTLB_TAG_NONE;
}

int iommu_create(struct iommu **ret)
{
	struct iommu *mmu = calloc(1, sizeof(*mmu));

	if (!mmu)
		return -ENOMEM;
	iotlb_flush(mmu);
	*ret = mmu;
	return 0;
}

void iommu_destroy(struct iommu *mmu)
{
	if (!mmu)
		return;
	free(mmu->map);
	free(mmu);
}

void iommu_stats(const struct iommu *mmu, uint64_t *hits, uint64_t *misses)
{
	*hits = mmu->hits;
	*misses = mmu->misses;
}

/* Index of the first mapping whose last byte is >= IOVA (nmap if none):
 * the only mapping that can contain IOVA. */
static size_t iommu_search(const struct iommu *mmu, uint64_t iova)
{
	size_t lo = 0, hi = mmu->nmap;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mmu->map[mid].last < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct iommu_mapping *iommu_find(const struct iommu *mmu, uint64_t iova)
{
	size_t i = iommu_search(mmu, iova);

	if (i == mmu->nmap || mmu->map[i].iova > iova)
		return NULL;
	return &mmu->map[i];
}

const struct iommu_mapping *iommu_next(const struct iommu *mmu, const struct iommu_mapping *m)
{
	size_t i = (size_t)(m - mmu->map) + 1;

	return i < mmu->nmap ? &mmu->map[i] : NULL;
}

const struct iotlb_entry *iommu_fill(struct iommu *mmu, uint64_t iova)
{
	const struct iommu_mapping *m = iommu_find(mmu, iova);
	uint64_t tag = iova >> IOMMU_PAGE_SHIFT;
	struct iotlb_entry *e;

	if (!m)
		return NULL;
	/* Mappings are page-aligned, so the whole page of IOVA is in M and
	 * any later address with this tag translates through M. */
	e = &mmu->tlb[tag & (IOTLB_ENTRIES - 1)];
	e->tag = tag;
	e->first = m->iova;
	e->last = m->last;
	e->delta = (uintptr_t)m->host - (uintptr_t)m->iova;
	mmu->mru = *e;
	return e;
}

int iommu_map(struct iommu *mmu, uint64_t iova, uint64_t len, void *host, void *owner)
{
	uint64_t last = iova + len - 1;
	size_t i;

	if (len == 0 || last < iova || (iova | len) & (IOMMU_PAGE_SIZE - 1))
		return -EINVAL;
	i = iommu_search(mmu, iova);
	/* map[i] is the first mapping ending at or after iova: it overlaps
	 * unless it starts after our last byte. */
	if (i < mmu->nmap && mmu->map[i].iova <= last)
		return -EEXIST;
	if (mmu->nmap == mmu->cap) {
		size_t ncap = mmu->cap ? mmu->cap * 2 : 16;
		struct iommu_mapping *nm = realloc(mmu->map, ncap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		mmu->map = nm;
		mmu->cap = ncap;
	}
	memmove(&mmu->map[i + 1], &mmu->map[i], (mmu->nmap - i) * sizeof(*mmu->map));
	mmu->map[i] = (struct iommu_mapping){
		.iova = iova, .last = last, .host = host, .owner = owner,
	};
	mmu->nmap++;
	/* Nothing to invalidate: the IOTLB caches only hits, and no cached
	 * page lies in a range that was unmapped until now. */
	return 0;
}

int iommu_unmap(struct iommu *mmu, uint64_t iova, uint64_t len)
{
	const struct iommu_mapping *m = iommu_find(mmu, iova);
	size_t i;

	if (!m || m->iova != iova || m->last - m->iova != len - 1 || len == 0)
		return -ENOENT;
	/* Invalidate precisely the entries filled from this mapping: an
	 * entry's range is a copy of exactly one mapping's range. */
	for (i = 0; i < IOTLB_ENTRIES; i++)
		if (mmu->tlb[i].tag != IOTLB_TAG_NONE && mmu->tlb[i].first == m->iova)
			mmu->tlb[i].tag = IOTLB_TAG_NONE;
	if (mmu->mru.tag != IOTLB_TAG_NONE && mmu->mru.first == m->iova)
		mmu->mru.tag = IOTLB_TAG_NONE;
	i = (size_t)(m - mmu->map);
	memmove(&mmu->map[i], &mmu->map[i + 1], (mmu->nmap - i - 1) * sizeof(*mmu->map));
	mmu->nmap--;
	return 0;
}
