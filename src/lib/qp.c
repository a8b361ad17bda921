/* SPDX-License-Identifier: MIT */
/* libciov: queue pairs (control side; posting is in post.c). */
#include <errno.h>
#include <stdlib.h>

#include "lib/ring.h"

static void qp_free(struct qp_priv *q)
{
	if (q->pub.send_cq)
		lib_cq_unlink_qp(q);
	lib_ring_detach(&q->sq);
	lib_ring_detach(&q->rq);
	if (q->map)
		munmap(q->map, q->map_size);
	free(q);
}

static void qp_release(struct lib_obj *lo)
{
	qp_free(lib_container_of(lo, struct qp_priv, lo));
}

/* Builds the library's QP from a QP_CREATE / QP_OPEN reply (takes FD). */
static int qp_new(struct ciov_pd *pd, const struct ciov_ctl_qp_rep *rp, int fd,
		  struct ciov_cq *send_cq, struct ciov_cq *recv_cq, struct ciov_srq *srq,
		  int opened, struct ciov_qp **ret)
{
	struct qp_priv *q = calloc(1, sizeof(*q));
	int err;

	if (!q) {
		close(fd);
		return -ENOMEM;
	}
	err = lib_ring_map(fd, rp->map_size, &q->map);
	if (err)
		goto err_free;
	q->map_size = (size_t)rp->map_size;
	err = lib_ring_attach(&q->sq, q->map, q->map_size, rp->sq_offset, CIOV_RING_SQ);
	if (!err && !srq)
		err = lib_ring_attach(&q->rq, q->map, q->map_size, rp->rq_offset, CIOV_RING_RQ);
	if (err)
		goto err_free;
	q->pub.pd = pd;
	q->pub.srq = srq;
	q->pub.handle = rp->handle;
	q->pub.send_cq = send_cq; /* linked into them below */
	q->pub.recv_cq = recv_cq;
	q->pub.qp_num = rp->qpn;
	q->pub.qp_type = (enum ciov_qp_type)rp->qp_type;
	q->pub.state = CIOV_QPS_RESET;
	q->pub.cap = rp->cap;
	q->opened = opened;
	/* A QP opened in native mode may have had WQEs already. */
	q->sq_done = ring_load_relaxed(&q->sq.ctrl->cons);
	if (q->rq.ctrl)
		q->rq_done = ring_load_relaxed(&q->rq.ctrl->cons);
	lib_cq_link_qp(q);
	lib_track(pd->ep, &q->lo, qp_release);
	*ret = &q->pub;
	return 0;

err_free:
	qp_free(q);
	return err;
}

int ciov_create_qp(struct ciov_pd *pd, const struct ciov_qp_init_attr *attr, struct ciov_qp **ret)
{
	struct ciov_ctl_qp_create_req rq;
	struct ciov_ctl_qp_rep rp;
	int fd, err;

	if (!pd || !attr || !ret || !attr->send_cq || !attr->recv_cq)
		return -EINVAL;
	rq = (struct ciov_ctl_qp_create_req){
		.pd = pd->handle,
		.qp_type = attr->qp_type,
		.send_cq = attr->send_cq->handle,
		.recv_cq = attr->recv_cq->handle,
		.srq = attr->srq ? attr->srq->handle : 0,
		.sq_sig_all = attr->sq_sig_all != 0,
		.cap = attr->cap,
	};
	err = lib_call(pd->ep, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd,
		       1);
	if (err)
		return err;
	err = qp_new(pd, &rp, fd, attr->send_cq, attr->recv_cq, attr->srq, 0, ret);
	if (err) {
		struct ciov_ctl_handle d = {.handle = rp.handle};
		struct ciov_ctl_none n;

		lib_call(pd->ep, CIOV_CTL_QP_DESTROY, &d, sizeof(d), &n, sizeof(n), NULL, 0, NULL,
			 0);
	}
	return err;
}

int ciov_open_qp(struct ciov_pd *pd, uint32_t handle, struct ciov_cq *send_cq,
		 struct ciov_cq *recv_cq, struct ciov_srq *srq, struct ciov_qp **ret)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_qp_rep rp;
	int fd, err;

	if (!pd || !send_cq || !recv_cq || !ret)
		return -EINVAL;
	err = lib_call(pd->ep, CIOV_CTL_QP_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd, 1);
	if (err)
		return err;
	/* The objects given must be the ones the QP was provisioned with. */
	if (rp.pd != pd->handle || rp.send_cq != send_cq->handle ||
	    rp.recv_cq != recv_cq->handle || rp.srq != (srq ? srq->handle : 0)) {
		close(fd);
		err = -EINVAL;
	} else {
		err = qp_new(pd, &rp, fd, send_cq, recv_cq, srq, 1, ret);
	}
	if (err)
		lib_close_handle(pd->ep, CIOV_OBJ_QP, handle);
	return err;
}

/* RESET emptied the queues (ciovd's indices are 0 again): so are ours.
 * A CQE of before, still in a CQ, no longer frees anything (see
 * wq_retire in post.c). */
static void qp_reset_done(struct qp_priv *q)
{
	__atomic_store_n(&q->sq_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&q->rq_done, 0, __ATOMIC_RELAXED);
}

int ciov_modify_qp(struct ciov_qp *qp, const struct ciov_qp_attr *attr, unsigned mask)
{
	struct ciov_ctl_qp_modify_req rq;
	struct ciov_ctl_none rp;
	int err;

	if (!qp || !attr)
		return -EINVAL;
	rq = (struct ciov_ctl_qp_modify_req){.handle = qp->handle, .mask = mask, .attr = *attr};
	err = lib_call(qp->pd->ep, CIOV_CTL_QP_MODIFY, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
		       NULL, 0);
	if (!err && (mask & CIOV_QP_STATE)) {
		qp->state = (enum ciov_qp_state)attr->qp_state;
		if (qp->state == CIOV_QPS_RESET)
			qp_reset_done(qp_priv_of(qp));
	}
	return err;
}

int ciov_query_qp(struct ciov_qp *qp, struct ciov_qp_attr *attr)
{
	struct ciov_ctl_handle rq;
	struct ciov_ctl_qp_query_rep rp;
	int err;

	if (!qp || !attr)
		return -EINVAL;
	rq = (struct ciov_ctl_handle){.handle = qp->handle};
	err = lib_call(qp->pd->ep, CIOV_CTL_QP_QUERY, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
		       NULL, 0);
	if (err)
		return err;
	*attr = rp.attr;
	qp->state = (enum ciov_qp_state)rp.attr.qp_state;
	return 0;
}

int ciov_destroy_qp(struct ciov_qp *qp)
{
	struct qp_priv *q;
	int err;

	if (!qp)
		return 0;
	q = qp_priv_of(qp);
	if (q->opened) {
		err = lib_close_handle(qp->pd->ep, CIOV_OBJ_QP, qp->handle);
	} else {
		struct ciov_ctl_handle rq = {.handle = qp->handle};
		struct ciov_ctl_none rp;

		err = lib_call(qp->pd->ep, CIOV_CTL_QP_DESTROY, &rq, sizeof(rq), &rp, sizeof(rp),
			       NULL, 0, NULL, 0);
	}
	if (err)
		return err;
	lib_untrack(&q->lo);
	qp_free(q);
	return 0;
}
