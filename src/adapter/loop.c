/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "adapter/loop.h"

#define LOOP_BATCH 64 /* events taken per epoll_wait */

int loop_init(struct loop *loop)
{
	*loop = (struct loop){.epfd = epoll_create1(EPOLL_CLOEXEC)};
	return loop->epfd < 0 ? -errno : 0;
}

void loop_fini(struct loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

static int loop_ctl(struct loop *loop, int op, struct loop_src *src, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = src};

	return epoll_ctl(loop->epfd, op, src->fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct loop *loop, struct loop_src *src, uint32_t events)
{
	return loop_ctl(loop, EPOLL_CTL_ADD, src, events);
}

int loop_mod(struct loop *loop, struct loop_src *src, uint32_t events)
{
	return loop_ctl(loop, EPOLL_CTL_MOD, src, events);
}

void loop_del(struct loop *loop, struct loop_src *src)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

void loop_defer(struct loop *loop, struct loop_deferred *d)
{
	d->next = loop->deferred;
	loop->deferred = d;
}

static void loop_run_deferred(struct loop *loop)
{
	while (loop->deferred) {
		struct loop_deferred *d = loop->deferred;

		loop->deferred = d->next;
		d->fn(d);
	}
}

int loop_run(struct loop *loop)
{
	struct epoll_event ev[LOOP_BATCH];

	while (!loop->stop) {
		int timeout;
		int n;

		loop_run_deferred(loop);
		timeout = loop->idle ? loop->idle(loop->idle_arg) : -1;
		n = epoll_wait(loop->epfd, ev, LOOP_BATCH, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !loop->stop; i++) {
			struct loop_src *src = ev[i].data.ptr;

			if (src->fn)
				src->fn(src, ev[i].events);
		}
	}
	loop_run_deferred(loop);
	return 0;
}
