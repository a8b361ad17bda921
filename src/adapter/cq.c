/* SPDX-License-Identifier: MIT */
/*
 * Completion queues (IBA 11.2.8): one ring in one sealed memfd per CQ;
 * ciovd produces CQEs, the tenant consumes them.
 *
 * Security model: request fields (cqe, channel handle) are checked here;
 * the ring's shared indices are checked by ring.c on every use.
 */
#include <errno.h>

#include "adapter/async.h"
#include "adapter/ctl.h"
#include "adapter/cq.h"
#include "adapter/endpoint.h"
#include "common/ring.h"

void cq_destroy(struct obj *o)
{
	struct cq *cq = container_of(o, struct cq, obj);

	if (cq->chan)
		obj_put(obj_of(cq->chan));
	ring_mem_destroy(&cq->mem);
}

int cq_lookup(struct caller *c, uint32_t handle, struct cq **ret)
{
	struct obj *o;
	int err = ctl_lookup(c, CIOV_OBJ_CQ, handle, &o);

	if (!err)
		*ret = container_of(o, struct cq, obj);
	return err;
}

/* Binds CH (may be NULL) as CQ's channel: -EBUSY if another one is bound. */
static int cq_bind(struct cq *cq, struct chan *ch)
{
	if (!ch || cq->chan == ch)
		return 0;
	if (cq->chan)
		return -EBUSY;
	obj_get(obj_of(ch));
	cq->chan = ch;
	return 0;
}

/* The reply for CQ_CREATE and CQ_OPEN, with a dup of the ring fd. */
static int cq_describe(struct cq *cq, struct ciov_ctl_cq_rep *rp, int *fds_out)
{
	int fd = ring_mem_dup(&cq->mem);

	if (fd < 0)
		return fd;
	fds_out[0] = fd; /* closed by the dispatcher if the op fails later */
	rp->handle = cq->obj.handle;
	rp->cqe = cq->ring.entries;
	rp->channel = cq->chan ? cq->chan->obj.handle : 0;
	rp->ring_offset = 0;
	rp->map_size = cq->mem.size;
	return 0;
}

int ctl_cq_create(struct caller *c, const struct ciov_ctl_cq_create_req *rq,
		  struct ciov_ctl_cq_rep *rp, int *fds_in, int *fds_out)
{
	const struct adapter_limits *lim = &c->ep->ad->lim;
	struct chan *ch = NULL;
	uint32_t entries;
	struct obj *o;
	struct cq *cq;
	int err;

	/* IBA 11.2.8.1: at least one entry, at most the device's. */
	if (rq->cqe < 1 || rq->cqe > lim->max_cqe)
		return -EINVAL;
	entries = ring_entries_for(rq->cqe);
	if (!entries)
		return -EINVAL;
	if (rq->channel) {
		err = chan_lookup(c, rq->channel, &ch);
		if (err)
			return err;
	}
	err = ctl_obj_create(c, CIOV_OBJ_CQ, sizeof(*cq), &o);
	if (err)
		return err;
	cq = container_of(o, struct cq, obj);
	cq->mem.fd = -1;
	err = ring_mem_create(ring_bytes(entries, sizeof(struct ciov_cqe)), &cq->mem);
	if (err)
		goto err_free;
	ring_init(&cq->ring, cq->mem.base, CIOV_RING_CQ, entries, sizeof(struct ciov_cqe),
		  o->handle);
	cq_bind(cq, ch); /* a fresh CQ has no channel: cannot fail */
	err = cq_describe(cq, rp, fds_out);
	if (err)
		goto err_free;
	return 0;

err_free:
	obj_free(o);
	return err;
}

int ctl_cq_destroy(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		   int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_CQ, rq->handle);
}

int ctl_cq_open(struct caller *c, const struct ciov_ctl_cq_open_req *rq,
		struct ciov_ctl_cq_rep *rp, int *fds_in, int *fds_out)
{
	struct chan *ch = NULL;
	struct obj *o;
	struct cq *cq;
	int err;

	if (rq->channel) {
		err = chan_lookup(c, rq->channel, &ch);
		if (err)
			return err;
	}
	err = ctl_lookup_provisioned(c, CIOV_OBJ_CQ, rq->handle, &o);
	if (err)
		return err;
	cq = container_of(o, struct cq, obj);
	if (ch && cq->chan && cq->chan != ch)
		return -EBUSY; /* another opener's channel is bound */
	err = cq_describe(cq, rp, fds_out);
	if (err)
		return err;
	err = ctl_obj_open(c, CIOV_OBJ_CQ, rq->handle, &o);
	if (err)
		return err;
	cq_bind(cq, ch); /* checked above: cannot fail */
	rp->channel = ch ? ch->obj.handle : rp->channel;
	return 0;
}

int cq_post(struct cq *cq, const struct ciov_cqe *cqe, bool solicited)
{
	struct ciov_ring_ctrl *ctrl = cq->ring.ctrl;
	uint32_t arm;
	int err;

	err = ring_push(&cq->ring, cqe);
	if (err) {
		bool first = !cq->ring.error;

		ring_set_error(&cq->ring); /* IBA 11.4.2.1: CQ overrun */
		if (first)
			async_post(&cq->obj, CIOV_EVENT_CQ_ERR);
		return err;
	}
	/* The tenant arms, then polls (its atomic add is a full barrier); we
	 * publish the CQE, then look at the arm. Store then load on each side:
	 * without a full barrier here our load may pass our store, and the
	 * tenant's poll miss the CQE while we miss the arm, an event lost and
	 * a tenant asleep for good (ibv_rc_pingpong -e across two hosts hung
	 * in 23 of 80 runs). */
	ring_fence();
	/* Pairs with the release store of arm_seq in ciov_req_notify_cq():
	 * arm_solicited is read as the tenant set it for this arm. */
	arm = ring_load_acquire(&ctrl->arm_seq);
	if (arm == cq->arm_served)
		return 0;
	/* IBA 11.4.2.2: a solicited-only request is also satisfied by a
	 * completion in error. */
	if (ring_load_relaxed(&ctrl->arm_solicited) && !solicited && cqe->status == CIOV_WC_SUCCESS)
		return 0;
	cq->arm_served = arm;
	cq->event_seq++;
	/* Pairs with the library's acquire of event_seq after it read the
	 * channel: the CQE pushed above is visible with the event. */
	ring_store_release(&ctrl->event_seq, cq->event_seq);
	if (cq->chan)
		chan_notify(cq->chan);
	return 0;
}
