/* SPDX-License-Identifier: MIT */
/*
 * Queue pairs: creation, query, destruction, native attach, and flushing.
 * One sealed memfd per QP holds its send ring and, unless it uses an SRQ,
 * its receive ring at the next page boundary.
 *
 * Security model: every handle is looked up in the caller's endpoint among
 * the objects it may use; every capacity is bounded by the device limits
 * and charged to the endpoint's `wrs` quota before anything is allocated.
 * Ring contents are copied out (ring_peek) before use.
 */
#include <errno.h>
#include <string.h>

#include "adapter/cq.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "adapter/pd.h"
#include "adapter/qpn.h"
#include "adapter/qp.h"
#include "adapter/srq.h"

struct qp *qp_find_qpn(struct endpoint *ep, uint32_t qpn)
{
	struct qp *qp = qpn_find(&ep->ad->qpns, qpn);

	return qp && qp->obj.ep == ep ? qp : NULL;
}

int qp_lookup(struct caller *c, uint32_t handle, struct qp **ret)
{
	struct obj *o;
	int err = ctl_lookup(c, CIOV_OBJ_QP, handle, &o);

	if (!err)
		*ret = container_of(o, struct qp, obj);
	return err;
}

void qp_destroy(struct obj *o)
{
	struct qp *qp = container_of(o, struct qp, obj);

	engine_qp_del(&o->ep->ad->engine, qp);
	qpn_release(&o->ep->ad->qpns, qp);
	if (qp->pd)
		obj_put(obj_of(qp->pd));
	if (qp->send_cq)
		obj_put(obj_of(qp->send_cq));
	if (qp->recv_cq)
		obj_put(obj_of(qp->recv_cq));
	if (qp->srq)
		obj_put(obj_of(qp->srq));
	ep_uncharge(o->ep, CIOV_QUOTA_wrs, qp->wrs);
	ring_mem_destroy(&qp->mem);
}

/* ------------------------------------------------------------------------ */
/* Flush (IBA 10.3.1.8: in the Error state every WR completes in error). */

static const uint8_t wc_opcodes[CIOV_WR_MAX] = {
	[CIOV_WR_RDMA_WRITE] = CIOV_WC_OP_RDMA_WRITE,
	[CIOV_WR_RDMA_WRITE_WITH_IMM] = CIOV_WC_OP_RDMA_WRITE,
	[CIOV_WR_SEND] = CIOV_WC_OP_SEND,
	[CIOV_WR_SEND_WITH_IMM] = CIOV_WC_OP_SEND,
	[CIOV_WR_RDMA_READ] = CIOV_WC_OP_RDMA_READ,
	[CIOV_WR_ATOMIC_CMP_AND_SWP] = CIOV_WC_OP_COMP_SWAP,
	[CIOV_WR_ATOMIC_FETCH_AND_ADD] = CIOV_WC_OP_FETCH_ADD,
};

enum ciov_wc_opcode qp_wc_opcode(uint8_t wr_opcode)
{
	return wr_opcode < CIOV_WR_MAX ? (enum ciov_wc_opcode)wc_opcodes[wr_opcode] : CIOV_WC_OP_SEND;
}

/* Completes what is left on ring R into CQ with WR_FLUSH_ERR. */
static int qp_flush_ring(struct qp *qp, struct ring *r, struct cq *cq)
{
	union {
		uint8_t buf[RING_ENTRY_MAX];
		struct ciov_send_wqe send;
		struct ciov_recv_wqe recv;
	} wqe;
	int err;

	while ((err = ring_peek(r, wqe.buf)) == 0) {
		/* Only wr_id and the opcode are read, from our copy. */
		struct ciov_cqe cqe = {
			.status = CIOV_WC_WR_FLUSH_ERR,
			.qp_num = qp->qpn,
			.wqe_idx = (uint16_t)r->idx,
		};

		if (r->kind == CIOV_RING_SQ) {
			cqe.wr_id = wqe.send.wr_id;
			cqe.opcode = (uint8_t)qp_wc_opcode(wqe.send.opcode);
		} else {
			cqe.wr_id = wqe.recv.wr_id;
			cqe.opcode = CIOV_WC_OP_RECV;
		}
		err = cq_post(cq, &cqe, false);
		if (err) {
			log_warn_rl("qp#%u flush: cq#%u overrun, CQ in error", qp->qpn,
				    cq->obj.handle);
			return err;
		}
		ring_pop(r);
	}
	return err == -EAGAIN ? 0 : err;
}

int qp_flush_sq(struct qp *qp)
{
	return qp_flush_ring(qp, &qp->sq, qp->send_cq);
}

int qp_flush(struct qp *qp)
{
	int err = qp_flush_ring(qp, &qp->sq, qp->send_cq);

	if (!err && !qp->srq)
		err = qp_flush_ring(qp, &qp->rq, qp->recv_cq);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Control operations. */

/* Checks the requested capacities (IBA 11.2.4.1) against the device. With
 * an SRQ the receive capacities are ignored. */
static int qp_cap_check(const struct adapter_limits *lim, const struct ciov_qp_cap *cap,
			bool has_srq)
{
	if (cap->max_send_wr < 1 || cap->max_send_wr > lim->max_qp_wr ||
	    cap->max_send_sge < 1 || cap->max_send_sge > lim->max_sge ||
	    cap->max_inline_data > lim->max_inline)
		return -EINVAL;
	if (!has_srq && (cap->max_recv_wr < 1 || cap->max_recv_wr > lim->max_qp_wr ||
			 cap->max_recv_sge < 1 || cap->max_recv_sge > lim->max_sge))
		return -EINVAL;
	return 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Sizes the rings: actual capacities (what the entries really hold, within
 * the device limits) into qp->cap; returns the memfd size. */
static size_t qp_layout(struct qp *qp, const struct adapter_limits *lim,
			const struct ciov_qp_cap *req, uint32_t *sq_esize, uint32_t *rq_esize)
{
	const uint32_t sge = sizeof(struct ciov_sge);
	size_t sq_bytes, rq_bytes = 0;

	*sq_esize = ciov_send_wqe_size(req->max_send_sge, req->max_inline_data);
	qp->cap.max_send_wr = ring_entries_for(req->max_send_wr);
	qp->cap.max_send_sge =
		min_u32((*sq_esize - (uint32_t)sizeof(struct ciov_send_wqe)) / sge, lim->max_sge);
	qp->cap.max_inline_data =
		min_u32(*sq_esize - (uint32_t)sizeof(struct ciov_send_wqe), lim->max_inline);
	sq_bytes = ring_bytes(qp->cap.max_send_wr, *sq_esize);
	*rq_esize = 0;
	if (!qp->srq) {
		*rq_esize = ciov_recv_wqe_size(req->max_recv_sge);
		qp->cap.max_recv_wr = ring_entries_for(req->max_recv_wr);
		qp->cap.max_recv_sge = min_u32(
			(*rq_esize - (uint32_t)sizeof(struct ciov_recv_wqe)) / sge, lim->max_sge);
		rq_bytes = ring_bytes(qp->cap.max_recv_wr, *rq_esize);
		qp->rq_offset = sq_bytes;
	}
	return sq_bytes + rq_bytes;
}

static int qp_describe(const struct qp *qp, struct ciov_ctl_qp_rep *rp, int *fds_out)
{
	int fd = ring_mem_dup(&qp->mem);

	if (fd < 0)
		return fd;
	fds_out[0] = fd; /* closed by the dispatcher if the op fails later */
	rp->handle = qp->obj.handle;
	rp->qpn = qp->qpn;
	rp->pd = qp->pd->obj.handle;
	rp->qp_type = qp->type;
	rp->send_cq = qp->send_cq->obj.handle;
	rp->recv_cq = qp->recv_cq->obj.handle;
	rp->srq = qp->srq ? qp->srq->obj.handle : 0;
	rp->sq_sig_all = qp->sq_sig_all;
	rp->cap = qp->cap;
	rp->sq_offset = 0;
	rp->rq_offset = qp->rq_offset;
	rp->map_size = qp->mem.size;
	return 0;
}

/* The objects a new QP uses, looked up for caller C. */
struct qp_deps {
	struct pd *pd;
	struct cq *send_cq;
	struct cq *recv_cq;
	struct srq *srq;
};

static int qp_deps_lookup(struct caller *c, const struct ciov_ctl_qp_create_req *rq,
			  struct qp_deps *d)
{
	int err;

	err = pd_lookup(c, rq->pd, &d->pd);
	if (!err)
		err = cq_lookup(c, rq->send_cq, &d->send_cq);
	if (!err)
		err = cq_lookup(c, rq->recv_cq, &d->recv_cq);
	if (!err && rq->srq)
		err = srq_lookup(c, rq->srq, &d->srq);
	if (err)
		return err;
	/* IBA 10.2.9.5: a QP and its SRQ are in the same PD. */
	if (d->srq && d->srq->pd != d->pd)
		return -EINVAL;
	return 0;
}

int ctl_qp_create(struct caller *c, const struct ciov_ctl_qp_create_req *rq,
		  struct ciov_ctl_qp_rep *rp, int *fds_in, int *fds_out)
{
	const struct adapter_limits *lim = &c->ep->ad->lim;
	struct qp_deps d = {0};
	uint32_t sq_esize, rq_esize;
	struct qp *qp;
	struct obj *o;
	size_t size;
	int err;

	if (rq->qp_type != CIOV_QPT_RC && rq->qp_type != CIOV_QPT_UD)
		return -EINVAL;
	err = qp_cap_check(lim, &rq->cap, rq->srq != 0);
	if (err)
		return err;
	err = qp_deps_lookup(c, rq, &d);
	if (err)
		return err;
	err = ctl_obj_create(c, CIOV_OBJ_QP, sizeof(*qp), &o);
	if (err)
		return err;
	qp = container_of(o, struct qp, obj);
	qp->mem.fd = -1;
	qp->type = (enum ciov_qp_type)rq->qp_type;
	qp->sq_sig_all = rq->sq_sig_all != 0;
	qp->state = CIOV_QPS_RESET;
	/* References first: qp_destroy() drops what is set. */
	qp->pd = d.pd;
	obj_get(obj_of(d.pd));
	qp->send_cq = d.send_cq;
	obj_get(obj_of(d.send_cq));
	qp->recv_cq = d.recv_cq;
	obj_get(obj_of(d.recv_cq));
	qp->srq = d.srq;
	if (d.srq)
		obj_get(obj_of(d.srq));

	err = qpn_alloc(&c->ep->ad->qpns, qp);
	if (err)
		goto err_free;
	size = qp_layout(qp, lim, &rq->cap, &sq_esize, &rq_esize);
	if (sq_esize > RING_ENTRY_MAX || rq_esize > RING_ENTRY_MAX) {
		err = -EINVAL;
		goto err_free;
	}
	err = ep_charge(c->ep, CIOV_QUOTA_wrs, (uint64_t)qp->cap.max_send_wr + qp->cap.max_recv_wr);
	if (err)
		goto err_free;
	qp->wrs = (uint64_t)qp->cap.max_send_wr + qp->cap.max_recv_wr;
	err = ring_mem_create(size, &qp->mem);
	if (err)
		goto err_free;
	ring_init(&qp->sq, qp->mem.base, CIOV_RING_SQ, qp->cap.max_send_wr, sq_esize, qp->qpn);
	if (!qp->srq)
		ring_init(&qp->rq, (uint8_t *)qp->mem.base + qp->rq_offset, CIOV_RING_RQ,
			  qp->cap.max_recv_wr, rq_esize, qp->qpn);
	err = qp_describe(qp, rp, fds_out);
	if (err)
		goto err_free;
	engine_qp_add(&c->ep->ad->engine, qp);
	return 0;

err_free:
	obj_free(o);
	return err;
}

int ctl_qp_query(struct caller *c, const struct ciov_ctl_handle *rq,
		 struct ciov_ctl_qp_query_rep *rp, int *fds_in, int *fds_out)
{
	struct qp *qp;
	int err = qp_lookup(c, rq->handle, &qp);

	if (err)
		return err;
	rp->attr = qp->attr;
	rp->attr.qp_state = qp->state;
	rp->attr.cur_qp_state = qp->state;
	rp->attr.cap = qp->cap;
	return 0;
}

int ctl_qp_destroy(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		   int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_QP, rq->handle);
}

int ctl_qp_open(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_qp_rep *rp,
		int *fds_in, int *fds_out)
{
	struct obj *o;
	int err;

	err = ctl_lookup_provisioned(c, CIOV_OBJ_QP, rq->handle, &o);
	if (err)
		return err;
	err = qp_describe(container_of(o, struct qp, obj), rp, fds_out);
	if (err)
		return err;
	return ctl_obj_open(c, CIOV_OBJ_QP, rq->handle, &o);
}
