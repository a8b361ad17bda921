/* SPDX-License-Identifier: MIT */
/*
 * Shared receive queues: one ring of receive WQEs in one sealed memfd; the
 * tenant produces, the engine consumes on behalf of every QP attached.
 *
 * Security model: request fields are checked here against the device
 * limits; ring contents are checked by ring.c and the engine on use.
 */
#include <errno.h>

#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/pd.h"
#include "adapter/srq.h"
#include "common/ring.h"

/* ciov_srq_attr_mask (ciov.h) as the wire carries it. */
#define SRQ_MASK_MAX_WR 1u
#define SRQ_MASK_LIMIT 2u

void srq_destroy(struct obj *o)
{
	struct srq *srq = container_of(o, struct srq, obj);

	if (srq->pd)
		obj_put(obj_of(srq->pd));
	ep_uncharge(o->ep, CIOV_QUOTA_wrs, srq->wrs);
	ring_mem_destroy(&srq->mem);
}

int srq_lookup(struct caller *c, uint32_t handle, struct srq **ret)
{
	struct obj *o;
	int err = ctl_lookup(c, CIOV_OBJ_SRQ, handle, &o);

	if (!err)
		*ret = container_of(o, struct srq, obj);
	return err;
}

static void srq_describe(const struct srq *srq, struct ciov_ctl_srq_rep *rp)
{
	rp->handle = srq->obj.handle;
	rp->pd = srq->pd->obj.handle;
	rp->max_wr = srq->ring.entries;
	rp->max_sge = srq->max_sge;
	rp->srq_limit = srq->srq_limit;
	rp->ring_offset = 0;
	rp->map_size = srq->mem.size;
}

void srq_set_limit(struct srq *srq, uint32_t limit)
{
	srq->srq_limit = limit;
	/* The engine reads its own copy; the ring shows the tenant what is
	 * armed. */
	ring_store_relaxed(&srq->ring.ctrl->srq_limit, limit);
}

int ctl_srq_create(struct caller *c, const struct ciov_ctl_srq_create_req *rq,
		   struct ciov_ctl_srq_rep *rp, int *fds_in, int *fds_out)
{
	const struct adapter_limits *lim = &c->ep->ad->lim;
	uint32_t entries, esize;
	struct srq *srq;
	struct pd *pd;
	struct obj *o;
	int err;

	/* IBA 11.2.3.1: depth and scatter list within the device's limits;
	 * the limit must be below the depth (0 = not armed). */
	if (rq->max_wr < 1 || rq->max_wr > lim->max_srq_wr || rq->max_sge < 1 ||
	    rq->max_sge > lim->max_sge || rq->srq_limit >= rq->max_wr)
		return -EINVAL;
	entries = ring_entries_for(rq->max_wr);
	if (!entries)
		return -EINVAL;
	esize = ciov_recv_wqe_size(rq->max_sge);
	err = pd_lookup(c, rq->pd, &pd);
	if (err)
		return err;
	err = ctl_obj_create(c, CIOV_OBJ_SRQ, sizeof(*srq), &o);
	if (err)
		return err;
	srq = container_of(o, struct srq, obj);
	srq->mem.fd = -1;
	err = ep_charge(c->ep, CIOV_QUOTA_wrs, entries);
	if (err)
		goto err_free;
	srq->wrs = entries;
	srq->pd = pd;
	obj_get(obj_of(pd));
	err = ring_mem_create(ring_bytes(entries, esize), &srq->mem);
	if (err)
		goto err_free;
	ring_init(&srq->ring, srq->mem.base, CIOV_RING_SRQ, entries, esize, o->handle);
	/* Report what the entry size really holds, within the device limit. */
	srq->max_sge = (esize - (uint32_t)sizeof(struct ciov_recv_wqe)) / sizeof(struct ciov_sge);
	if (srq->max_sge > lim->max_sge)
		srq->max_sge = lim->max_sge;
	srq_set_limit(srq, rq->srq_limit);
	fds_out[0] = ring_mem_dup(&srq->mem);
	if (fds_out[0] < 0) {
		err = fds_out[0];
		goto err_free;
	}
	srq_describe(srq, rp);
	return 0;

err_free:
	obj_free(o);
	return err;
}

int ctl_srq_modify(struct caller *c, const struct ciov_ctl_srq_modify_req *rq,
		   struct ciov_ctl_srq_rep *rp, int *fds_in, int *fds_out)
{
	struct srq *srq;
	int err;

	err = srq_lookup(c, rq->handle, &srq);
	if (err)
		return err;
	if (rq->mask & ~(SRQ_MASK_MAX_WR | SRQ_MASK_LIMIT))
		return -EINVAL;
	/* IBA 11.2.3.3: resizing is optional; this device does not. */
	if (rq->mask & SRQ_MASK_MAX_WR)
		return -EOPNOTSUPP;
	if (rq->mask & SRQ_MASK_LIMIT) {
		if (rq->srq_limit >= srq->ring.entries)
			return -EINVAL;
		srq_set_limit(srq, rq->srq_limit);
	}
	/* Mask 0 is a query. */
	srq_describe(srq, rp);
	return 0;
}

int ctl_srq_destroy(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		    int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_SRQ, rq->handle);
}

int ctl_srq_open(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_srq_rep *rp,
		 int *fds_in, int *fds_out)
{
	struct srq *srq;
	struct obj *o;
	int err;

	err = ctl_lookup_provisioned(c, CIOV_OBJ_SRQ, rq->handle, &o);
	if (err)
		return err;
	srq = container_of(o, struct srq, obj);
	fds_out[0] = ring_mem_dup(&srq->mem);
	if (fds_out[0] < 0)
		return fds_out[0];
	err = ctl_obj_open(c, CIOV_OBJ_SRQ, rq->handle, &o);
	if (err)
		return err;
	srq_describe(srq, rp);
	return 0;
}
