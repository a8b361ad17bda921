/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: QPs, SRQs and address handles, and the translation of
 * their attributes. ciov numbers QP states, types, attribute mask bits
 * and access flags as libibverbs does (abi.h); the structs differ and are
 * copied field by field.
 *
 * RoCE: an address vector must carry a GRH (is_global), the peer's GID
 * being its only address, as on RoCE hardware. The device's GID table has
 * one entry (0), its fabric port's GID: libciov's source GID index of that
 * port replaces it, so the adapter sends from the device's port.
 */
#include <stdlib.h>
#include <string.h>

#include "verbs/compat.h"

/* The modify/query mask bits ciov knows: IBV_QP_STATE .. IBV_QP_DEST_QPN. */
#define CV_QP_MASK_ALL ((unsigned)IBV_QP_DEST_QPN * 2 - 1)

static int ah_to_ciov(const struct cv_context *c, const struct ibv_ah_attr *in,
		      struct ciov_ah_attr *out)
{
	if (!in->is_global)
		return -EINVAL; /* RoCE: the GRH is the address */
	if (in->grh.sgid_index != 0)
		return -EINVAL; /* past the GID table (gid_tbl_len 1) */
	memset(out, 0, sizeof(*out));
	memcpy(out->dgid, in->grh.dgid.raw, sizeof(out->dgid));
	out->flow_label = in->grh.flow_label;
	out->sgid_index = c->sgid_index;
	out->hop_limit = in->grh.hop_limit;
	out->traffic_class = in->grh.traffic_class;
	out->sl = in->sl;
	out->port_num = in->port_num;
	out->static_rate = in->static_rate;
	out->dlid = in->dlid;
	return 0;
}

static void ah_from_ciov(const struct ciov_ah_attr *in, struct ibv_ah_attr *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->grh.dgid.raw, in->dgid, sizeof(in->dgid));
	out->grh.flow_label = in->flow_label;
	out->grh.sgid_index = 0; /* the device's one GID (ah_to_ciov) */
	out->grh.hop_limit = in->hop_limit;
	out->grh.traffic_class = in->traffic_class;
	out->sl = in->sl;
	out->port_num = in->port_num;
	out->static_rate = in->static_rate;
	out->dlid = in->dlid;
	out->is_global = 1;
}

static void cap_to_ciov(const struct ibv_qp_cap *in, struct ciov_qp_cap *out)
{
	*out = (struct ciov_qp_cap){
		.max_send_wr = in->max_send_wr,
		.max_recv_wr = in->max_recv_wr,
		.max_send_sge = in->max_send_sge,
		.max_recv_sge = in->max_recv_sge,
		.max_inline_data = in->max_inline_data,
	};
}

static void cap_from_ciov(const struct ciov_qp_cap *in, struct ibv_qp_cap *out)
{
	*out = (struct ibv_qp_cap){
		.max_send_wr = in->max_send_wr,
		.max_recv_wr = in->max_recv_wr,
		.max_send_sge = in->max_send_sge,
		.max_recv_sge = in->max_recv_sge,
		.max_inline_data = in->max_inline_data,
	};
}

struct ibv_qp *cv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct cv_context *c = cv_ctx(pd->context);
	struct ciov_qp_init_attr ca = {0};
	struct cv_qp *q;
	struct ibv_qp *qp;
	int err;

	if (attr->qp_type != IBV_QPT_RC && attr->qp_type != IBV_QPT_UD)
		return cv_null(-EOPNOTSUPP); /* UC, XRC, raw packet */
	if (!attr->send_cq || !attr->recv_cq)
		return cv_null(-EINVAL);
	ca.qp_type = (enum ciov_qp_type)attr->qp_type;
	ca.send_cq = CV_OF(cv_cq, attr->send_cq)->ccq;
	ca.recv_cq = CV_OF(cv_cq, attr->recv_cq)->ccq;
	ca.srq = attr->srq ? CV_OF(cv_srq, attr->srq)->csrq : NULL;
	cap_to_ciov(&attr->cap, &ca.cap);
	ca.sq_sig_all = attr->sq_sig_all;
	q = calloc(1, sizeof(*q));
	if (!q)
		return cv_null(-ENOMEM);
	err = ciov_create_qp(CV_OF(cv_pd, pd)->cpd, &ca, &q->cqp);
	if (err) {
		free(q);
		return cv_null(err);
	}
	cap_from_ciov(&q->cqp->cap, &attr->cap); /* verbs: the caps granted */
	qp = &q->qpx.qp_base;
	qp->context = pd->context;
	qp->qp_context = attr->qp_context;
	qp->pd = pd;
	qp->send_cq = attr->send_cq;
	qp->recv_cq = attr->recv_cq;
	qp->srq = attr->srq;
	qp->handle = q->cqp->handle;
	qp->qp_num = q->cqp->qp_num;
	qp->state = IBV_QPS_RESET;
	qp->qp_type = attr->qp_type;
	pthread_mutex_init(&qp->mutex, NULL);
	pthread_cond_init(&qp->cond, NULL);
	cv_obj_add(c, &q->obj, CIOV_OBJ_QP, q->cqp->handle);
	return qp;
}

struct ibv_qp *ibv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	return cv_create_qp(pd, attr);
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask)
{
	struct ciov_qp_attr a = {0};
	unsigned mask = (unsigned)attr_mask;
	int err;

	if (mask & ~CV_QP_MASK_ALL)
		return EINVAL; /* rate limit and other extensions */
	a.qp_state = attr->qp_state;
	a.cur_qp_state = attr->cur_qp_state;
	a.path_mtu = attr->path_mtu;
	a.qkey = attr->qkey;
	a.rq_psn = attr->rq_psn;
	a.sq_psn = attr->sq_psn;
	a.dest_qp_num = attr->dest_qp_num;
	a.qp_access_flags = (uint32_t)attr->qp_access_flags;
	cap_to_ciov(&attr->cap, &a.cap);
	if (mask & IBV_QP_AV) {
		err = ah_to_ciov(cv_ctx(qp->context), &attr->ah_attr, &a.ah_attr);
		if (err)
			return cv_err(err);
	}
	a.pkey_index = attr->pkey_index;
	a.en_sqd_async_notify = attr->en_sqd_async_notify;
	a.max_rd_atomic = attr->max_rd_atomic;
	a.max_dest_rd_atomic = attr->max_dest_rd_atomic;
	a.min_rnr_timer = attr->min_rnr_timer;
	a.port_num = attr->port_num;
	a.timeout = attr->timeout;
	a.retry_cnt = attr->retry_cnt;
	a.rnr_retry = attr->rnr_retry;
	err = ciov_modify_qp(CV_OF(cv_qp, qp)->cqp, &a, mask);
	if (err)
		return cv_err(err);
	if (mask & IBV_QP_STATE)
		qp->state = attr->qp_state;
	return 0;
}

int ibv_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask,
		 struct ibv_qp_init_attr *init_attr)
{
	struct cv_qp *q = CV_OF(cv_qp, qp);
	struct ciov_qp_attr a;
	int err = ciov_query_qp(q->cqp, &a);

	if (err)
		return cv_err(err);
	memset(attr, 0, sizeof(*attr));
	attr->qp_state = (enum ibv_qp_state)a.qp_state;
	attr->cur_qp_state = (enum ibv_qp_state)a.qp_state;
	attr->path_mtu = (enum ibv_mtu)a.path_mtu;
	attr->qkey = a.qkey;
	attr->rq_psn = a.rq_psn;
	attr->sq_psn = a.sq_psn;
	attr->dest_qp_num = a.dest_qp_num;
	attr->qp_access_flags = (unsigned)a.qp_access_flags;
	cap_from_ciov(&q->cqp->cap, &attr->cap);
	if (qp->qp_type == IBV_QPT_RC)
		ah_from_ciov(&a.ah_attr, &attr->ah_attr);
	attr->pkey_index = a.pkey_index;
	attr->en_sqd_async_notify = a.en_sqd_async_notify;
	attr->sq_draining = a.sq_draining;
	attr->max_rd_atomic = a.max_rd_atomic;
	attr->max_dest_rd_atomic = a.max_dest_rd_atomic;
	attr->min_rnr_timer = a.min_rnr_timer;
	attr->port_num = a.port_num;
	attr->timeout = a.timeout;
	attr->retry_cnt = a.retry_cnt;
	attr->rnr_retry = a.rnr_retry;
	qp->state = attr->qp_state;
	if (init_attr) {
		memset(init_attr, 0, sizeof(*init_attr));
		init_attr->qp_context = qp->qp_context;
		init_attr->send_cq = qp->send_cq;
		init_attr->recv_cq = qp->recv_cq;
		init_attr->srq = qp->srq;
		init_attr->cap = attr->cap;
		init_attr->qp_type = qp->qp_type;
	}
	return 0;
}

int ibv_destroy_qp(struct ibv_qp *qp)
{
	struct cv_qp *q = CV_OF(cv_qp, qp);
	int err = ciov_destroy_qp(q->cqp);

	if (err)
		return cv_err(err);
	cv_obj_del(cv_ctx(qp->context), &q->obj);
	cv_wr_free(q);
	pthread_cond_destroy(&qp->cond);
	pthread_mutex_destroy(&qp->mutex);
	free(q);
	return 0;
}

/* The extended QP of a QP created with IBV_QP_INIT_ATTR_SEND_OPS_FLAGS
 * (its ibv_wr_* builders), else NULL, as libibverbs. */
struct ibv_qp_ex *ibv_qp_to_qp_ex(struct ibv_qp *qp)
{
	struct cv_qp *q = CV_OF(cv_qp, qp);

	return q->wb ? &q->qpx : cv_null(-EOPNOTSUPP);
}

struct ibv_srq *ibv_create_srq(struct ibv_pd *pd, struct ibv_srq_init_attr *attr)
{
	struct cv_context *c = cv_ctx(pd->context);
	struct ciov_srq_attr sa = {
		.max_wr = attr->attr.max_wr,
		.max_sge = attr->attr.max_sge,
		.srq_limit = attr->attr.srq_limit,
	};
	struct cv_srq *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return cv_null(-ENOMEM);
	err = ciov_create_srq(CV_OF(cv_pd, pd)->cpd, &sa, &s->csrq);
	if (err) {
		free(s);
		return cv_null(err);
	}
	attr->attr.max_wr = s->csrq->attr.max_wr;
	attr->attr.max_sge = s->csrq->attr.max_sge;
	s->srq.context = pd->context;
	s->srq.srq_context = attr->srq_context;
	s->srq.pd = pd;
	s->srq.handle = s->csrq->handle;
	pthread_mutex_init(&s->srq.mutex, NULL);
	pthread_cond_init(&s->srq.cond, NULL);
	cv_obj_add(c, &s->obj, CIOV_OBJ_SRQ, s->csrq->handle);
	return &s->srq;
}

int ibv_modify_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr, int attr_mask)
{
	struct ciov_srq_attr sa = {
		.max_wr = attr->max_wr,
		.max_sge = attr->max_sge,
		.srq_limit = attr->srq_limit,
	};

	/* IBV_SRQ_MAX_WR and IBV_SRQ_LIMIT have ciov's bits */
	return cv_err(ciov_modify_srq(CV_OF(cv_srq, srq)->csrq, &sa, (unsigned)attr_mask));
}

int ibv_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr)
{
	struct ciov_srq_attr sa;
	int err = ciov_query_srq(CV_OF(cv_srq, srq)->csrq, &sa);

	if (err)
		return cv_err(err);
	attr->max_wr = sa.max_wr;
	attr->max_sge = sa.max_sge;
	attr->srq_limit = sa.srq_limit;
	return 0;
}

int ibv_destroy_srq(struct ibv_srq *srq)
{
	struct cv_srq *s = CV_OF(cv_srq, srq);
	int err = ciov_destroy_srq(s->csrq);

	if (err)
		return cv_err(err);
	cv_obj_del(cv_ctx(srq->context), &s->obj);
	pthread_cond_destroy(&srq->cond);
	pthread_mutex_destroy(&srq->mutex);
	free(s);
	return 0;
}

struct ibv_ah *ibv_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct ciov_ah_attr a;
	struct cv_ah *h;
	int err = ah_to_ciov(cv_ctx(pd->context), attr, &a);

	if (err)
		return cv_null(err);
	h = calloc(1, sizeof(*h));
	if (!h)
		return cv_null(-ENOMEM);
	err = ciov_create_ah(CV_OF(cv_pd, pd)->cpd, &a, &h->cah);
	if (err) {
		free(h);
		return cv_null(err);
	}
	h->ah.context = pd->context;
	h->ah.pd = pd;
	h->ah.handle = h->cah->handle;
	return &h->ah;
}

/* IBA 10.2.3.4 / libibverbs: the reply path of a UD receive is the GRH's
 * source GID (ciov always delivers the 40-byte GRH). */
int ibv_init_ah_from_wc(struct ibv_context *context, uint8_t port_num, struct ibv_wc *wc,
			struct ibv_grh *grh, struct ibv_ah_attr *ah_attr)
{
	if (!(wc->wc_flags & IBV_WC_GRH) || !grh)
		return EINVAL; /* RoCE: no GRH, no address */
	memset(ah_attr, 0, sizeof(*ah_attr));
	ah_attr->is_global = 1;
	ah_attr->grh.dgid = grh->sgid;
	ah_attr->grh.sgid_index = 0;
	ah_attr->grh.hop_limit = 0xff; /* libibverbs' choice for a reply */
	ah_attr->grh.traffic_class = (uint8_t)((be32toh(grh->version_tclass_flow) >> 20) & 0xff);
	ah_attr->grh.flow_label = be32toh(grh->version_tclass_flow) & 0xfffff;
	ah_attr->sl = wc->sl;
	ah_attr->port_num = port_num;
	return 0;
}

struct ibv_ah *ibv_create_ah_from_wc(struct ibv_pd *pd, struct ibv_wc *wc, struct ibv_grh *grh,
				     uint8_t port_num)
{
	struct ibv_ah_attr attr;
	int err = ibv_init_ah_from_wc(pd->context, port_num, wc, grh, &attr);

	if (err)
		return cv_null(-err);
	return ibv_create_ah(pd, &attr);
}

int ibv_destroy_ah(struct ibv_ah *ah)
{
	struct cv_ah *h = CV_OF(cv_ah, ah);
	int err = ciov_destroy_ah(h->cah);

	if (err)
		return cv_err(err);
	free(h);
	return 0;
}
