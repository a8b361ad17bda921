/* SPDX-License-Identifier: MIT */
/* Per-endpoint DMA remapping: I/O virtual address -> ciovd's mapping of a
 * tenant segment, with an IOTLB cache in front. */
#ifndef CIOV_IOMMU_H
#define CIOV_IOMMU_H

#include <stdint.h>

struct iommu;

int iommu_create(struct iommu **ret);
void iommu_destroy(struct iommu *mmu);
void iommu_stats(const struct iommu *mmu, uint64_t *hits, uint64_t *misses);

#endif
