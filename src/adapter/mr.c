/* SPDX-License-Identifier: MIT */
/*
 * Memory regions: MR_REG, MR_DEREG, MR_OPEN (see mr.h for keys).
 *
 * Security model: pd, access, iova and length come from a tenant or the
 * manager and may be anything. Access bits are checked against IBA's rules,
 * the range for wrap and size, and the whole range must lie in segments the
 * caller itself may use: an MR never depends on another connection's
 * segment, whose owner could tear it down (client_kill frees regardless of
 * references).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "adapter/ctl.h"
#include "adapter/client.h"
#include "adapter/endpoint.h"
#include "adapter/iommu.h"
#include "adapter/log.h"
#include "adapter/mr.h"
#include "adapter/pd.h"
#include "adapter/seg.h"

#define mr_refuse(ep, err, fmt, ...)                                           \
	({                                                                     \
		log_warn_rl("endpoint %s: mr_reg: " fmt, (ep)->name, ##__VA_ARGS__); \
		(err);                                                         \
	})

/* splitmix64's finalizer: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The tag of the MR in pool slot INDEX, generation GEN (see mr.h). The
 * secret is drawn once per ciovd run. */
static uint8_t mr_tag(const struct endpoint *ep, uint32_t index, uint32_t gen)
{
	static uint64_t secret;
	static int seeded;

	if (!seeded) {
		if (getrandom(&secret, sizeof(secret), 0) != sizeof(secret))
			secret = (uint64_t)(uintptr_t)&secret ^ 0x9e3779b97f4a7c15ull;
		seeded = 1;
	}
	return (uint8_t)(mix64(secret ^ ((uint64_t)ep->id << 32 | index)) + gen);
}

void mr_destroy(struct obj *o)
{
	struct mr *mr = container_of(o, struct mr, obj);

	mr->state = MR_STATE_INVALID;
	for (uint32_t i = 0; i < mr->nsegs; i++)
		obj_put(obj_of(mr->segs[i]));
	free(mr->segs);
	if (mr->pd)
		obj_put(obj_of(mr->pd));
	ep_uncharge(o->ep, CIOV_QUOTA_mr_bytes, mr->length);
}

/* Whether caller C may build on segment S (created by it, or opened). */
static int mr_seg_usable(struct caller *c, struct seg *s)
{
	const struct obj *o = obj_of(s);

	return o->owner == c->client || (c->client && client_attached(c->client, o));
}

/*
 * Collects the segments covering [iova, last]: they must be adjacent in the
 * I/O space and usable by C. Returns the count in *n and a malloc'ed array
 * in *ret (caller frees), or -EFAULT if a byte is not covered.
 */
static int mr_collect_segs(struct caller *c, uint64_t iova, uint64_t last, struct seg ***ret,
			   uint32_t *n)
{
	const struct iommu *mmu = c->ep->iommu;
	const struct iommu_mapping *m, *next, *first = iommu_find(mmu, iova);
	struct seg **segs;
	uint32_t cnt = 0;

	/* First pass: check coverage and count. At most quota[segments]
	 * mappings exist, so the walk is bounded. */
	for (m = first; m; m = next) {
		if (!mr_seg_usable(c, m->owner))
			return -EFAULT;
		cnt++;
		if (m->last >= last)
			break;
		next = iommu_next(mmu, m);
		if (!next || next->iova != m->last + 1)
			return -EFAULT; /* a hole */
	}
	if (!cnt)
		return -EFAULT;
	segs = malloc(cnt * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	m = first;
	for (uint32_t i = 0; i < cnt; i++, m = iommu_next(mmu, m))
		segs[i] = m->owner;
	*ret = segs;
	*n = cnt;
	return 0;
}

static void mr_fill_rep(const struct mr *mr, struct ciov_ctl_mr_rep *rp)
{
	rp->handle = mr->obj.handle;
	rp->pd = obj_of(mr->pd)->handle;
	rp->lkey = mr->lkey;
	rp->rkey = mr->rkey;
	rp->iova = mr->iova;
	rp->length = mr->length;
	rp->access = mr->access;
}

static int mr_check_req(struct endpoint *ep, const struct ciov_ctl_mr_reg_req *rq)
{
	if (rq->access & ~CIOV_ACCESS_ALL)
		return mr_refuse(ep, -EINVAL, "unknown access bits %#x", rq->access);
	/* IBA 10.6.3.1: Remote Write or Remote Atomic access requires Local
	 * Write access. */
	if (rq->access & (CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC) &&
	    !(rq->access & CIOV_ACCESS_LOCAL_WRITE))
		return mr_refuse(ep, -EINVAL, "remote write/atomic access without local write");
	if (rq->length == 0 || rq->length > ep->ad->lim.max_mr_size)
		return mr_refuse(ep, -EINVAL, "length %#llx not in 1..max_mr_size",
				 (unsigned long long)rq->length);
	if (rq->iova + rq->length - 1 < rq->iova)
		return mr_refuse(ep, -EINVAL, "iova %#llx + length %#llx wraps",
				 (unsigned long long)rq->iova, (unsigned long long)rq->length);
	return 0;
}

int ctl_mr_reg(struct caller *c, const struct ciov_ctl_mr_reg_req *rq, struct ciov_ctl_mr_rep *rp,
	       int *fds_in, int *fds_out)
{
	struct endpoint *ep = c->ep;
	struct seg **segs = NULL;
	uint32_t nsegs = 0, index;
	struct pd *pd;
	struct mr *mr;
	struct obj *o;
	int err;

	err = mr_check_req(ep, rq);
	if (err)
		return err;
	err = pd_lookup(c, rq->pd, &pd);
	if (err)
		return err;
	err = mr_collect_segs(c, rq->iova, rq->iova + rq->length - 1, &segs, &nsegs);
	if (err) {
		if (err == -EFAULT)
			mr_refuse(ep, err, "[%#llx, +%#llx) is not covered by the caller's segments",
				  (unsigned long long)rq->iova, (unsigned long long)rq->length);
		return err;
	}
	err = ep_charge(ep, CIOV_QUOTA_mr_bytes, rq->length);
	if (err)
		goto err_segs;
	err = ctl_obj_create(c, CIOV_OBJ_MR, sizeof(*mr), &o);
	if (err)
		goto err_uncharge;
	mr = container_of(o, struct mr, obj);
	index = pool_index(o->handle);
	if (index >= 1u << MR_KEY_INDEX_BITS) { /* cannot happen: see mr.h */
		obj_free(o); /* mr_destroy uncharges length 0: nothing set yet */
		err = -ENOSPC;
		goto err_uncharge;
	}
	/* From here on nothing fails; mr_destroy undoes all of it. */
	mr->pd = pd;
	obj_get(obj_of(pd));
	mr->segs = segs;
	mr->nsegs = nsegs;
	for (uint32_t i = 0; i < nsegs; i++)
		obj_get(obj_of(segs[i]));
	mr->iova = rq->iova;
	mr->length = rq->length;
	mr->access = rq->access;
	mr->lkey = index << MR_KEY_TAG_BITS | mr_tag(ep, index, o->handle >> POOL_INDEX_BITS);
	mr->rkey = mr->lkey;
	mr->state = MR_STATE_VALID;
	mr_fill_rep(mr, rp);
	return 0;

err_uncharge:
	ep_uncharge(ep, CIOV_QUOTA_mr_bytes, rq->length);
err_segs:
	free(segs);
	return err;
}

int ctl_mr_dereg(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		 int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_MR, rq->handle);
}

int ctl_mr_open(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_mr_rep *rp,
		int *fds_in, int *fds_out)
{
	struct obj *o;
	int err = ctl_obj_open(c, CIOV_OBJ_MR, rq->handle, &o);

	if (!err)
		mr_fill_rep(container_of(o, struct mr, obj), rp);
	return err;
}
