/* SPDX-License-Identifier: MIT */
/* libciov: affiliated asynchronous events (SRQ limit, CQ error, SQ
 * drained), read from the connection's event ring. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/ring.h"

int lib_async_attach(struct ciov_endpoint *ep, int memfd, int pipe_r)
{
	void *map;
	int err;

	ep->async_fd = pipe_r;
	map = mmap(NULL, ep->info.async_map_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	close(memfd);
	if (map == MAP_FAILED)
		return -errno;
	ep->async_map = map;
	ep->async_ring = calloc(1, sizeof(*ep->async_ring));
	if (!ep->async_ring)
		return -ENOMEM;
	err = lib_ring_attach(ep->async_ring, map, ep->info.async_map_size, 0, CIOV_RING_ASYNC);
	if (err)
		return err;
	return pthread_spin_init(&ep->async_ring->lock, PTHREAD_PROCESS_PRIVATE) ? -ENOMEM : 0;
}

void lib_async_detach(struct ciov_endpoint *ep)
{
	if (ep->async_ring) {
		pthread_spin_destroy(&ep->async_ring->lock);
		free(ep->async_ring);
	}
	if (ep->async_map)
		munmap(ep->async_map, ep->info.async_map_size);
	if (ep->async_fd >= 0)
		close(ep->async_fd);
	ep->async_ring = NULL;
	ep->async_map = NULL;
	ep->async_fd = -1;
}

int ciov_async_fd(struct ciov_endpoint *ep)
{
	return ep ? ep->async_fd : -EINVAL;
}

/* Takes one event off the ring: 0, or -EAGAIN when it is empty. */
static int async_pop(struct lib_ring *r, struct ciov_async_event *ev)
{
	uint32_t cons = ring_load_relaxed(&r->ctrl->cons);
	/* Pairs with ciovd's release of prod in ring_push(). */
	uint32_t prod = ring_load_acquire(&r->ctrl->prod);

	if (prod == cons)
		return -EAGAIN;
	memcpy(ev, r->slots + (size_t)(cons & r->mask) * r->entry_size, sizeof(*ev));
	/* Pairs with ciovd's acquire of cons: the slot is read. */
	ring_store_release(&r->ctrl->cons, cons + 1);
	return 0;
}

int ciov_get_async_event(struct ciov_endpoint *ep, struct ciov_async_event *ev)
{
	if (!ep || !ev || !ep->async_ring)
		return -EINVAL;
	for (;;) {
		char buf[64];
		ssize_t n;
		int err;

		pthread_spin_lock(&ep->async_ring->lock);
		err = async_pop(ep->async_ring, ev);
		pthread_spin_unlock(&ep->async_ring->lock);
		if (!err)
			return 0;
		/* Empty: wait for a byte on the pipe (ciovd writes one per
		 * event, after publishing it). */
		n = read(ep->async_fd, buf, sizeof(buf));
		if (n == 0)
			return -ENOTCONN;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

const char *ciov_event_type_str(enum ciov_async_event_type type)
{
	switch (type) {
#define X(n, v)                                                                \
	case CIOV_EVENT_##n:                                                   \
		return #n;
		CIOV_ASYNC_EVENTS(X)
#undef X
	}
	return "UNKNOWN";
}
