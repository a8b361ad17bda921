/* SPDX-License-Identifier: MIT */
/*
 * Affiliated asynchronous events (IBA 11.6.3): SRQ limit reached, CQ
 * overrun, SQ drained. Each tenant connection has an event ring in shared
 * memory (ciovd produces) and a pipe that gets one byte per event.
 */
#ifndef CIOV_ASYNC_H
#define CIOV_ASYNC_H

#include <stdint.h>

#include <ciov/abi.h>

#include "adapter/ring.h"

struct obj;

#define ASYNC_ENTRIES 256

struct async_q {
	struct ring_mem mem;
	struct ring ring;
	int pipe_w;	  /* ciovd's end; the tenant reads the other */
	uint64_t dropped; /* events lost to a full ring */
};

/* Creates Q; fds_out[0] = the ring's memfd, fds_out[1] = the pipe's read
 * end (the caller sends and closes them). Fills the OPEN reply's fields. */
int async_init(struct async_q *q, int *fds_out, struct ciov_ctl_open_rep *rp);
/* Accepts a zeroed or half-built Q. */
void async_fini(struct async_q *q);

/* Delivers event TYPE about O to the connection that created O, or, for a
 * provisioned object, to every tenant that opened it. */
void async_post(struct obj *o, enum ciov_async_event_type type);

#endif
