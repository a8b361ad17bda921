/* SPDX-License-Identifier: MIT */
/* libciov: shared receive queues (control side; posting is in post.c). */
#include <errno.h>
#include <stdlib.h>

#include "lib/ring.h"

static void srq_free(struct srq_priv *s)
{
	lib_ring_detach(&s->ring);
	if (s->map)
		munmap(s->map, s->map_size);
	free(s);
}

static void srq_release(struct lib_obj *lo)
{
	srq_free(lib_container_of(lo, struct srq_priv, lo));
}

static void srq_attr_from(struct ciov_srq_attr *a, const struct ciov_ctl_srq_rep *rp)
{
	a->max_wr = rp->max_wr;
	a->max_sge = rp->max_sge;
	a->srq_limit = rp->srq_limit;
}

/* Builds the library's SRQ from an SRQ_CREATE / SRQ_OPEN reply (takes FD). */
static int srq_new(struct ciov_pd *pd, const struct ciov_ctl_srq_rep *rp, int fd, int opened,
		   struct ciov_srq **ret)
{
	struct srq_priv *s = calloc(1, sizeof(*s));
	int err;

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	err = lib_ring_map(fd, rp->map_size, &s->map);
	if (err)
		goto err_free;
	s->map_size = (size_t)rp->map_size;
	err = lib_ring_attach(&s->ring, s->map, s->map_size, rp->ring_offset, CIOV_RING_SRQ);
	if (err)
		goto err_free;
	s->pub.pd = pd;
	s->pub.handle = rp->handle;
	srq_attr_from(&s->pub.attr, rp);
	s->opened = opened;
	lib_track(pd->ep, &s->lo, srq_release);
	*ret = &s->pub;
	return 0;

err_free:
	srq_free(s);
	return err;
}

int ciov_create_srq(struct ciov_pd *pd, const struct ciov_srq_attr *attr, struct ciov_srq **ret)
{
	struct ciov_ctl_srq_create_req rq;
	struct ciov_ctl_srq_rep rp;
	int fd, err;

	if (!pd || !attr || !ret)
		return -EINVAL;
	rq = (struct ciov_ctl_srq_create_req){
		.pd = pd->handle,
		.max_wr = attr->max_wr,
		.max_sge = attr->max_sge,
		.srq_limit = attr->srq_limit,
	};
	err = lib_call(pd->ep, CIOV_CTL_SRQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
		       &fd, 1);
	if (err)
		return err;
	err = srq_new(pd, &rp, fd, 0, ret);
	if (err) {
		struct ciov_ctl_handle d = {.handle = rp.handle};
		struct ciov_ctl_none n;

		lib_call(pd->ep, CIOV_CTL_SRQ_DESTROY, &d, sizeof(d), &n, sizeof(n), NULL, 0, NULL,
			 0);
	}
	return err;
}

int ciov_open_srq(struct ciov_pd *pd, uint32_t handle, struct ciov_srq **ret)
{
	struct ciov_ctl_handle rq = {.handle = handle};
	struct ciov_ctl_srq_rep rp;
	int fd, err;

	if (!pd || !ret)
		return -EINVAL;
	err = lib_call(pd->ep, CIOV_CTL_SRQ_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd,
		       1);
	if (err)
		return err;
	if (rp.pd != pd->handle) {
		close(fd); /* the SRQ is in another PD */
		err = -EINVAL;
	} else {
		err = srq_new(pd, &rp, fd, 1, ret);
	}
	if (err)
		lib_close_handle(pd->ep, CIOV_OBJ_SRQ, handle);
	return err;
}

/* SRQ_MODIFY: with mask 0 it is the query. */
static int srq_modify(struct ciov_srq *srq, const struct ciov_srq_attr *attr, unsigned mask)
{
	struct ciov_ctl_srq_modify_req rq = {.handle = srq->handle, .mask = mask};
	struct ciov_ctl_srq_rep rp;
	int err;

	if (attr) {
		rq.max_wr = attr->max_wr;
		rq.srq_limit = attr->srq_limit;
	}
	err = lib_call(srq->pd->ep, CIOV_CTL_SRQ_MODIFY, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
		       NULL, 0);
	if (!err)
		srq_attr_from(&srq->attr, &rp);
	return err;
}

int ciov_modify_srq(struct ciov_srq *srq, const struct ciov_srq_attr *attr, unsigned mask)
{
	if (!srq || !attr)
		return -EINVAL;
	return srq_modify(srq, attr, mask);
}

int ciov_query_srq(struct ciov_srq *srq, struct ciov_srq_attr *attr)
{
	int err;

	if (!srq || !attr)
		return -EINVAL;
	err = srq_modify(srq, NULL, 0);
	if (!err)
		*attr = srq->attr;
	return err;
}

int ciov_destroy_srq(struct ciov_srq *srq)
{
	struct srq_priv *s;
	int err;

	if (!srq)
		return 0;
	s = srq_priv_of(srq);
	if (s->opened) {
		err = lib_close_handle(srq->pd->ep, CIOV_OBJ_SRQ, srq->handle);
	} else {
		struct ciov_ctl_handle rq = {.handle = srq->handle};
		struct ciov_ctl_none rp;

		err = lib_call(srq->pd->ep, CIOV_CTL_SRQ_DESTROY, &rq, sizeof(rq), &rp, sizeof(rp),
			       NULL, 0, NULL, 0);
	}
	if (err)
		return err; /* -EBUSY while QPs use it */
	lib_untrack(&s->lo);
	srq_free(s);
	return 0;
}
