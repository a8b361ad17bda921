/* SPDX-License-Identifier: MIT */
/* ciovd's event loop: one epoll instance, callbacks per fd. */
#ifndef CIOV_LOOP_H
#define CIOV_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop_src;
typedef void loop_fn(struct loop_src *src, uint32_t events);

/* Embed in the object that owns FD; the loop never frees it. */
struct loop_src {
	int fd;
	loop_fn *fn;
};

/* Work deferred to the end of the current batch of events, so that a
 * callback may tear down an object whose event is still pending. */
struct loop_deferred {
	struct loop_deferred *next;
	void (*fn)(struct loop_deferred *d);
};

struct loop {
	int epfd;
	struct loop_deferred *deferred;
	bool stop;
	/* Called once per iteration before sleeping; returns the timeout in ms
	 * the loop may sleep (-1 = until an event). The engine hooks here. */
	int (*idle)(void *arg);
	void *idle_arg;
};

int loop_init(struct loop *loop);
void loop_fini(struct loop *loop);
int loop_add(struct loop *loop, struct loop_src *src, uint32_t events);
int loop_mod(struct loop *loop, struct loop_src *src, uint32_t events);
void loop_del(struct loop *loop, struct loop_src *src);
/* Queues D to run after the current batch (before the next epoll_wait). */
void loop_defer(struct loop *loop, struct loop_deferred *d);
/* Runs until loop->stop; returns 0 or -errno. */
int loop_run(struct loop *loop);

#endif
