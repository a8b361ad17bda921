/* SPDX-License-Identifier: MIT */
/*
 * Security model: the event ring is ciovd's to produce; the tenant's only
 * write is its consumer index, which ring_push() checks (a hostile index
 * puts the ring in error and stops delivery to that tenant, nobody else).
 * The pipe's write end is ciovd's own file description: non-blocking
 * whatever the tenant does to its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "adapter/async.h"
#include "adapter/client.h"
#include "adapter/endpoint.h"
#include "adapter/obj.h"

int async_init(struct async_q *q, int *fds_out, struct ciov_ctl_open_rep *rp)
{
	uint32_t esize = sizeof(struct ciov_async_event);
	int p[2], err;

	*q = (struct async_q){.mem = {.fd = -1}, .pipe_w = -1};
	err = ring_mem_create(ring_bytes(ASYNC_ENTRIES, esize), &q->mem);
	if (err)
		return err;
	ring_init(&q->ring, q->mem.base, CIOV_RING_ASYNC, ASYNC_ENTRIES, esize, 0);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	q->pipe_w = p[1];
	fds_out[1] = p[0];
	fds_out[0] = ring_mem_dup(&q->mem);
	if (fds_out[0] < 0)
		return fds_out[0];
	rp->async_entries = ASYNC_ENTRIES;
	rp->async_map_size = q->mem.size;
	return 0;
}

void async_fini(struct async_q *q)
{
	ring_mem_destroy(&q->mem);
	if (q->pipe_w >= 0)
		close(q->pipe_w);
	q->pipe_w = -1;
}

static void async_deliver(struct client *c, const struct ciov_async_event *ev)
{
	static const char one = 1;

	if (c->dead || c->async.pipe_w < 0 || ring_push(&c->async.ring, ev)) {
		c->async.dropped++;
		return;
	}
	if (write(c->async.pipe_w, &one, 1) < 0) {
		/* EAGAIN: the tenant has unread events; the ring holds this. */
	}
}

void async_post(struct obj *o, enum ciov_async_event_type type)
{
	struct ciov_async_event ev = {.type = type, .obj_type = o->type, .handle = o->handle};

	for (struct client *c = o->ep->clients; c; c = c->ep_next)
		if (c == o->owner || (!o->owner && client_attached(c, o)))
			async_deliver(c, &ev);
}
