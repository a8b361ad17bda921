/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: protection domains and memory regions.
 *
 * ciov registers any memory of the process with iova == its address
 * (libciov re-backs the pages with a sealed memfd): ibv_reg_mr(malloc())
 * works unmodified. An MR at an I/O address other than its virtual address
 * (ibv_reg_mr_iova2 with iova != addr) is not supported yet.
 */
#include <stdint.h>
#include <stdlib.h>

#include "verbs/compat.h"

/* Access flags with the same bits in ciov (abi.h). IBV_ACCESS_MW_BIND is
 * accepted and ignored (there are no memory windows to bind); the optional
 * range (relaxed ordering...) may be ignored by definition. */
#define CV_ACCESS_MAPPED                                                                   \
	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |      \
	 IBV_ACCESS_REMOTE_ATOMIC)
#define CV_ACCESS_IGNORED (IBV_ACCESS_MW_BIND | IBV_ACCESS_OPTIONAL_RANGE)

struct ibv_pd *ibv_alloc_pd(struct ibv_context *context)
{
	struct cv_context *c = cv_ctx(context);
	struct cv_pd *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return cv_null(-ENOMEM);
	err = ciov_alloc_pd(c->ep, &p->cpd);
	if (err) {
		free(p);
		return cv_null(err);
	}
	p->pd.context = context;
	p->pd.handle = p->cpd->handle;
	return &p->pd;
}

int ibv_dealloc_pd(struct ibv_pd *pd)
{
	struct cv_pd *p = CV_OF(cv_pd, pd);
	int err = ciov_dealloc_pd(p->cpd);

	if (err)
		return cv_err(err);
	free(p);
	return 0;
}

struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length, uint64_t iova,
				unsigned int access)
{
	struct cv_mr *m;
	int err;

	if (access & ~(CV_ACCESS_MAPPED | CV_ACCESS_IGNORED))
		return cv_null(-EOPNOTSUPP); /* zero-based, on-demand paging, huge... */
	if (iova != (uintptr_t)addr)
		return cv_null(-EOPNOTSUPP);
	m = calloc(1, sizeof(*m));
	if (!m)
		return cv_null(-ENOMEM);
	err = ciov_reg_mr(CV_OF(cv_pd, pd)->cpd, addr, length, access & CV_ACCESS_MAPPED, &m->cmr);
	if (err) {
		free(m);
		return cv_null(err);
	}
	m->mr.context = pd->context;
	m->mr.pd = pd;
	m->mr.addr = addr;
	m->mr.length = length;
	m->mr.handle = m->cmr->handle;
	m->mr.lkey = m->cmr->lkey;
	m->mr.rkey = m->cmr->rkey;
	return &m->mr;
}

#undef ibv_reg_mr
struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access)
{
	return ibv_reg_mr_iova2(pd, addr, length, (uintptr_t)addr, (unsigned)access);
}

#undef ibv_reg_mr_iova
struct ibv_mr *ibv_reg_mr_iova(struct ibv_pd *pd, void *addr, size_t length, uint64_t iova,
			       int access)
{
	return ibv_reg_mr_iova2(pd, addr, length, iova, (unsigned)access);
}

int ibv_dereg_mr(struct ibv_mr *mr)
{
	struct cv_mr *m = CV_OF(cv_mr, mr);
	int err = ciov_dereg_mr(m->cmr);

	if (err)
		return cv_err(err);
	free(m);
	return 0;
}
