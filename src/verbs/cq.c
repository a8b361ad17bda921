/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: completion channels and CQs (create, destroy, events,
 * arming). Polling is in post.c.
 *
 * The libciov CQ's cq_context points back at our cv_cq, so that an event
 * read from a channel finds the ibv_cq; the application's cq_context lives
 * in struct ibv_cq.
 */
#include <stdlib.h>

#include "verbs/compat.h"

struct ibv_comp_channel *ibv_create_comp_channel(struct ibv_context *context)
{
	struct cv_channel *ch = calloc(1, sizeof(*ch));
	int err;

	if (!ch)
		return cv_null(-ENOMEM);
	err = ciov_create_comp_channel(cv_ctx(context)->ep, &ch->cch);
	if (err) {
		free(ch);
		return cv_null(err);
	}
	ch->ch.context = context;
	ch->ch.fd = ch->cch->fd;
	ch->ch.refcnt = 0;
	return &ch->ch;
}

int ibv_destroy_comp_channel(struct ibv_comp_channel *channel)
{
	struct cv_channel *ch = CV_OF(cv_channel, channel);
	int err;

	if (channel->refcnt)
		return EBUSY; /* CQs still use it (libibverbs' rule) */
	err = ciov_destroy_comp_channel(ch->cch);
	if (err)
		return cv_err(err);
	free(ch);
	return 0;
}

struct cv_cq *cv_create_cq(struct ibv_context *context, int cqe, void *cq_context,
			   struct ibv_comp_channel *channel, int comp_vector)
{
	struct cv_context *c = cv_ctx(context);
	struct cv_cq *q;
	int err;

	if (cqe <= 0 || comp_vector < 0 || comp_vector >= context->num_comp_vectors)
		return cv_null(-EINVAL);
	q = calloc(1, sizeof(*q));
	if (!q)
		return cv_null(-ENOMEM);
	err = ciov_create_cq(c->ep, cqe, q, channel ? CV_OF(cv_channel, channel)->cch : NULL,
			     &q->ccq);
	if (err) {
		free(q);
		return cv_null(err);
	}
	q->cq.context = context;
	q->cq.channel = channel;
	q->cq.cq_context = cq_context;
	q->cq.handle = q->ccq->handle;
	q->cq.cqe = (int)q->ccq->cqe;
	pthread_mutex_init(&q->cq.mutex, NULL);
	pthread_cond_init(&q->cq.cond, NULL);
	if (channel)
		__atomic_add_fetch(&channel->refcnt, 1, __ATOMIC_RELAXED);
	cv_obj_add(c, &q->obj, CIOV_OBJ_CQ, q->ccq->handle);
	return q;
}

struct ibv_cq *ibv_create_cq(struct ibv_context *context, int cqe, void *cq_context,
			     struct ibv_comp_channel *channel, int comp_vector)
{
	struct cv_cq *q = cv_create_cq(context, cqe, cq_context, channel, comp_vector);

	return q ? &q->cq : NULL;
}

/* What an extended CQ can report: everything struct ibv_wc has. No
 * timestamps, VLANs, flow tags or tag matching. */
#define CV_WC_EX_FLAGS                                                                     \
	(IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM | IBV_WC_EX_WITH_QP_NUM |              \
	 IBV_WC_EX_WITH_SRC_QP | IBV_WC_EX_WITH_SLID | IBV_WC_EX_WITH_SL |                 \
	 IBV_WC_EX_WITH_DLID_PATH_BITS)

struct ibv_cq_ex *cv_create_cq_ex(struct ibv_context *context, struct ibv_cq_init_attr_ex *attr)
{
	struct cv_cq *q;

	if (attr->comp_mask & ~(uint32_t)(IBV_CQ_INIT_ATTR_MASK_FLAGS | IBV_CQ_INIT_ATTR_MASK_PD))
		return cv_null(-EINVAL);
	if (attr->wc_flags & ~(uint64_t)CV_WC_EX_FLAGS)
		return cv_null(-EOPNOTSUPP);
	if (attr->comp_mask & IBV_CQ_INIT_ATTR_MASK_FLAGS &&
	    attr->flags & ~(uint32_t)IBV_CREATE_CQ_ATTR_SINGLE_THREADED)
		return cv_null(-EOPNOTSUPP);
	if (attr->cqe > INT32_MAX)
		return cv_null(-EINVAL);
	q = cv_create_cq(context, (int)attr->cqe, attr->cq_context, attr->channel,
			 (int)attr->comp_vector);
	if (!q)
		return NULL;
	cv_cq_ex_init(q);
	return &q->cqx;
}

int ibv_destroy_cq(struct ibv_cq *cq)
{
	struct cv_cq *q = CV_OF(cv_cq, cq);
	struct ibv_comp_channel *channel = cq->channel;
	int err = ciov_destroy_cq(q->ccq);

	if (err)
		return cv_err(err);
	cv_obj_del(cv_ctx(cq->context), &q->obj);
	if (channel)
		__atomic_sub_fetch(&channel->refcnt, 1, __ATOMIC_RELAXED);
	pthread_cond_destroy(&cq->cond);
	pthread_mutex_destroy(&cq->mutex);
	free(q);
	return 0;
}

int ibv_get_cq_event(struct ibv_comp_channel *channel, struct ibv_cq **cq, void **cq_context)
{
	struct ciov_cq *ccq;
	void *priv;
	struct cv_cq *q;
	int err;

	err = ciov_get_cq_event(CV_OF(cv_channel, channel)->cch, &ccq, &priv);
	if (err) {
		errno = -err;
		return -1; /* libibverbs' convention for this call */
	}
	q = priv;
	*cq = &q->cq;
	*cq_context = q->cq.cq_context;
	return 0;
}

void ibv_ack_cq_events(struct ibv_cq *cq, unsigned int nevents)
{
	ciov_ack_cq_events(CV_OF(cv_cq, cq)->ccq, nevents);
	pthread_mutex_lock(&cq->mutex);
	cq->comp_events_completed += nevents;
	pthread_cond_signal(&cq->cond);
	pthread_mutex_unlock(&cq->mutex);
}

int cv_req_notify_cq(struct ibv_cq *cq, int solicited_only)
{
	return cv_err(ciov_req_notify_cq(CV_OF(cv_cq, cq)->ccq, solicited_only));
}
