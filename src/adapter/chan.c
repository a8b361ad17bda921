/* SPDX-License-Identifier: MIT */
/*
 * Completion channels: an eventfd per channel, created by ciovd. ciovd
 * keeps one fd and sends the tenant a dup.
 *
 * Security model: the dup shares the open file description, so the tenant
 * can change its flags (clear O_NONBLOCK) and its counter (write up to
 * 2^64-2). chan_notify() therefore never trusts the flags: it polls for
 * writability first and writes with the counter's headroom checked, so a
 * well-behaved tenant can never make ciovd block. A tenant racing its own
 * writes against ciovd's could still stall it; the fix is a pipe (separate
 * description for the write end), see the report of this part.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "adapter/client.h"
#include "adapter/ctl.h"
#include "adapter/cq.h"
#include "adapter/endpoint.h"

void chan_destroy(struct obj *o)
{
	struct chan *ch = container_of(o, struct chan, obj);
	uint32_t h = 0;
	struct obj *co;

	/* Endpoint or tenant teardown frees a channel regardless of refs:
	 * unbind the CQs that survive it (provisioned CQs a tenant bound its
	 * channel to when it opened them). */
	while ((co = pool_next(&o->ep->obj[CIOV_OBJ_CQ], &h))) {
		struct cq *cq = container_of(co, struct cq, obj);

		if (cq->chan == ch)
			cq->chan = NULL;
	}
	if (ch->efd >= 0)
		close(ch->efd);
}

int chan_lookup(struct caller *c, uint32_t handle, struct chan **ret)
{
	struct obj *o;
	int err = ctl_lookup(c, CIOV_OBJ_CHAN, handle, &o);

	if (!err)
		*ret = container_of(o, struct chan, obj);
	return err;
}

void chan_notify(struct chan *ch)
{
	struct pollfd pfd = {.fd = ch->efd, .events = POLLOUT};
	uint64_t one = 1;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
		return; /* counter saturated by the tenant: it has events */
	if (write(ch->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the tenant filled the counter meanwhile. */
	}
}

int ctl_chan_create(struct caller *c, const struct ciov_ctl_none *rq, struct ciov_ctl_chan_rep *rp,
		    int *fds_in, int *fds_out)
{
	struct chan *ch;
	struct obj *o;
	int err;

	err = ctl_obj_create(c, CIOV_OBJ_CHAN, sizeof(*ch), &o);
	if (err)
		return err;
	ch = container_of(o, struct chan, obj);
	ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ch->efd < 0) {
		err = -errno;
		goto err_free;
	}
	fds_out[0] = fcntl(ch->efd, F_DUPFD_CLOEXEC, 0);
	if (fds_out[0] < 0) {
		err = -errno;
		goto err_free;
	}
	rp->handle = o->handle;
	return 0;

err_free:
	obj_free(o);
	return err;
}

/* A tenant binds its channel to a provisioned CQ when it opens the CQ
 * (CQ_OPEN). Once it has closed the CQ, that binding is stale: release it,
 * so that the channel can go. */
static void chan_unbind_stale(struct caller *c, struct chan *ch)
{
	uint32_t h = 0;
	struct obj *co;

	while ((co = pool_next(&c->ep->obj[CIOV_OBJ_CQ], &h))) {
		struct cq *cq = container_of(co, struct cq, obj);

		if (cq->chan != ch || co->owner == c->client ||
		    (c->client && client_attached(c->client, co)))
			continue;
		cq->chan = NULL;
		obj_put(obj_of(ch));
	}
}

int ctl_chan_destroy(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		     int *fds_in, int *fds_out)
{
	struct chan *ch;
	int err = chan_lookup(c, rq->handle, &ch);

	if (err)
		return err;
	chan_unbind_stale(c, ch);
	return ctl_obj_destroy(c, CIOV_OBJ_CHAN, rq->handle);
}
