/* SPDX-License-Identifier: MIT */
/*
 * Completion channels: a pipe per channel, created by ciovd. ciovd keeps
 * the write end, the tenant gets the read end; one byte per event.
 *
 * Security model: a pipe's two ends are separate open file descriptions,
 * so nothing the tenant does to its end (clearing O_NONBLOCK, not reading)
 * can make ciovd's non-blocking write block: a full pipe is EAGAIN, and
 * the tenant has unread events then anyway. (An eventfd shared by dup
 * would share its flags with the tenant.)
 */
#include <errno.h>
#include <fcntl.h>
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
	static const char one = 1;

	if (write(ch->efd, &one, 1) < 0) {
		/* EAGAIN: the pipe is full of unread events already. */
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
	{
		int p[2];

		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
			ch->efd = -1;
			err = -errno;
			goto err_free;
		}
		ch->efd = p[1];
		fds_out[0] = p[0]; /* the dispatcher sends and closes it */
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
