/* SPDX-License-Identifier: MIT */
/*
 * Per-endpoint DMA remapping: I/O virtual address -> ciovd's mapping of a
 * tenant segment, with an IOTLB cache in front.
 *
 * The table is a sorted array of disjoint, page-aligned mappings (binary
 * search on a miss). The IOTLB is direct-mapped, IOTLB_ENTRIES entries
 * indexed by the low bits of the I/O page number; an entry caches the
 * range and host offset of the mapping that filled it, so a hit costs one
 * tag compare and one bounds compare, no search. Only positive results are
 * cached. iommu_unmap() invalidates exactly the entries that cache the
 * removed mapping, before it returns: no stale translation survives it.
 *
 * Single-threaded (ciovd's loop): no locks.
 */
#ifndef CIOV_IOMMU_H
#define CIOV_IOMMU_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define IOMMU_PAGE_SHIFT 12 /* I/O page: the IOTLB's tag granule */
#define IOMMU_PAGE_SIZE (1ull << IOMMU_PAGE_SHIFT)
#define IOTLB_ENTRIES 64 /* power of two */

/* Tag of an empty IOTLB entry: no I/O page number reaches it (they are
 * below 2^52). */
#define IOTLB_TAG_NONE UINT64_MAX

struct iommu_mapping {
	uint64_t iova;	/* first byte */
	uint64_t last;	/* last byte (inclusive: a mapping may end at 2^64) */
	uint8_t *host;	/* ciovd's address of iova */
	void *owner;	/* the caller's cookie (the segment) */
};

struct iotlb_entry {
	uint64_t tag;	 /* iova >> IOMMU_PAGE_SHIFT of the page that filled it */
	uint64_t first;	 /* the cached mapping's range */
	uint64_t last;
	uintptr_t delta; /* host address - iova, modulo 2^64 */
};

struct iommu {
	struct iotlb_entry tlb[IOTLB_ENTRIES];
	/* The mapping used last, whatever page: a transfer walking a large
	 * buffer page after page hits here (valid unless tag is NONE). */
	struct iotlb_entry mru;
	struct iommu_mapping *map; /* sorted by iova, disjoint */
	size_t nmap;
	size_t cap;
	uint64_t hits;
	uint64_t misses;
};

int iommu_create(struct iommu **ret);
/* Frees the table (not what the mappings point to). Accepts NULL. */
void iommu_destroy(struct iommu *mmu);
void iommu_stats(const struct iommu *mmu, uint64_t *hits, uint64_t *misses);

/* Maps [iova, iova + len) to HOST with cookie OWNER. iova and len must be
 * multiples of IOMMU_PAGE_SIZE, len > 0, no wrap past 2^64 (-EINVAL); the
 * range must not overlap a mapping (-EEXIST). */
int iommu_map(struct iommu *mmu, uint64_t iova, uint64_t len, void *host, void *owner);
/* Removes the mapping that is exactly [iova, iova + len) (-ENOENT if none)
 * and invalidates the IOTLB entries that cache it. */
int iommu_unmap(struct iommu *mmu, uint64_t iova, uint64_t len);
/* The mapping containing IOVA, or NULL (no IOTLB, no stats: control path). */
const struct iommu_mapping *iommu_find(const struct iommu *mmu, uint64_t iova);
/* The mapping after M in iova order, or NULL. */
const struct iommu_mapping *iommu_next(const struct iommu *mmu, const struct iommu_mapping *m);

/* Miss path of the translations below: searches the table, fills the
 * IOTLB entry of IOVA's page. Returns the entry or NULL if IOVA is not
 * mapped. */
const struct iotlb_entry *iommu_fill(struct iommu *mmu, uint64_t iova);

static inline const struct iotlb_entry *iommu_entry(struct iommu *mmu, uint64_t iova)
{
	uint64_t tag = iova >> IOMMU_PAGE_SHIFT;
	const struct iotlb_entry *e = &mmu->tlb[tag & (IOTLB_ENTRIES - 1)];

	if (__builtin_expect(e->tag == tag, 1)) {
		mmu->hits++;
		return e;
	}
	if (mmu->mru.tag != IOTLB_TAG_NONE && iova >= mmu->mru.first && iova <= mmu->mru.last) {
		mmu->hits++;
		return &mmu->mru;
	}
	mmu->misses++;
	return iommu_fill(mmu, iova);
}

/*
 * The data path's translation: *host = ciovd's address of IOVA when
 * [iova, iova + len) lies entirely in one mapping. -EFAULT otherwise
 * (unmapped, crossing a mapping boundary, len 0, or wrapping past 2^64);
 * *host is then untouched. Every call counts one IOTLB hit or miss.
 */
static inline int iommu_translate(struct iommu *mmu, uint64_t iova, uint64_t len, void **host)
{
	const struct iotlb_entry *e = iommu_entry(mmu, iova);

	/* e->last >= iova holds for a filled entry, so the subtraction cannot
	 * wrap; len - 1 wraps to UINT64_MAX for len 0, which never fits. */
	if (__builtin_expect(!e || len - 1 > e->last - iova, 0))
		return -EFAULT;
	*host = (void *)(uintptr_t)(iova + e->delta);
	return 0;
}

/*
 * For callers that walk a range crossing mappings: *host = ciovd's address
 * of IOVA and *chunk = the bytes from IOVA that are contiguous there
 * (min(len, to the end of IOVA's mapping)). -EFAULT if IOVA is unmapped or
 * len is 0. Loop: iova += chunk, len -= chunk.
 */
static inline int iommu_translate_chunk(struct iommu *mmu, uint64_t iova, uint64_t len,
					void **host, uint64_t *chunk)
{
	const struct iotlb_entry *e = iommu_entry(mmu, iova);
	uint64_t room;

	if (__builtin_expect(!e || len == 0, 0))
		return -EFAULT;
	room = e->last - iova; /* bytes after iova in the mapping, minus one */
	*chunk = len - 1 > room ? room + 1 : len;
	*host = (void *)(uintptr_t)(iova + e->delta);
	return 0;
}

#endif
