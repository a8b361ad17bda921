/* SPDX-License-Identifier: MIT */
/* Completion channels and completion queues (IBA 11.2.8, 11.4.2). */
#ifndef CIOV_ADAPTER_CQ_H
#define CIOV_ADAPTER_CQ_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter/obj.h"
#include "adapter/ring.h"

struct caller;

/* A completion channel: an eventfd written once per CQ event. */
struct chan {
	struct obj obj;
	int efd; /* ciovd's copy; the tenant holds a dup */
};

struct cq {
	struct obj obj;
	struct chan *chan; /* bound channel (reference held), or NULL */
	struct ring_mem mem;
	struct ring ring;	/* kind CIOV_RING_CQ: ciovd produces */
	uint32_t arm_served;	/* last ctrl->arm_seq an event was sent for */
	uint32_t event_seq;	/* ciovd's copy of ctrl->event_seq */
};

/* The channel / CQ HANDLE that caller C may use (no reference taken). */
int chan_lookup(struct caller *c, uint32_t handle, struct chan **ret);
int cq_lookup(struct caller *c, uint32_t handle, struct cq **ret);

/* Writes one event to CH without ever blocking ciovd. */
void chan_notify(struct chan *ch);

/* Engine: appends CQE to CQ and, if the tenant armed the CQ (for this kind
 * of completion), signals its channel. 0, or -ENOSPC on overrun / -EPROTO
 * on a corrupt ring: the CQ is in error then (IBA 11.4.2.1). */
int cq_post(struct cq *cq, const struct ciov_cqe *cqe, bool solicited);

#endif
