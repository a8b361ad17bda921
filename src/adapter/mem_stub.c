/* SPDX-License-Identifier: MIT */
/* Placeholder for segments, MRs and the IOMMU (being written). */
#include <errno.h>
#include <stdlib.h>

#include "adapter/ctl.h"
#include "adapter/iommu.h"
#include "adapter/obj.h"

struct iommu {
	uint64_t hits, misses;
};

int iommu_create(struct iommu **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void iommu_destroy(struct iommu *mmu)
{
	free(mmu);
}

void iommu_stats(const struct iommu *mmu, uint64_t *hits, uint64_t *misses)
{
	*hits = mmu->hits;
	*misses = mmu->misses;
}

void seg_destroy(struct obj *o)
{
}

void mr_destroy(struct obj *o)
{
}

#define STUB(n, req, rep)                                                      \
	int ctl_##n(struct caller *c, const struct req *rq, struct rep *rp, int *fds_in,     \
		    int *fds_out)                                              \
	{                                                                      \
		return -EOPNOTSUPP;                                            \
	}
STUB(seg_attach, ciov_ctl_seg_attach_req, ciov_ctl_seg_rep)
STUB(seg_detach, ciov_ctl_handle, ciov_ctl_none)
STUB(seg_open, ciov_ctl_handle, ciov_ctl_seg_rep)
STUB(mr_reg, ciov_ctl_mr_reg_req, ciov_ctl_mr_rep)
STUB(mr_dereg, ciov_ctl_handle, ciov_ctl_none)
STUB(mr_open, ciov_ctl_handle, ciov_ctl_mr_rep)
