/* SPDX-License-Identifier: MIT */
/* Shared receive queues (IBA 10.2.9.5, 11.2.3). */
#ifndef CIOV_ADAPTER_SRQ_H
#define CIOV_ADAPTER_SRQ_H

#include <stdint.h>

#include "adapter/obj.h"
#include "adapter/ring.h"

struct caller;
struct pd;

struct srq {
	struct obj obj;
	struct pd *pd; /* reference held */
	struct ring_mem mem;
	struct ring ring; /* kind CIOV_RING_SRQ: the tenant produces */
	uint32_t max_sge; /* actual, as reported */
	uint32_t srq_limit;
	uint64_t wrs; /* charged to the wrs quota */
};

/* Arms (LIMIT > 0) or disarms the SRQ limit event. */
void srq_set_limit(struct srq *srq, uint32_t limit);

/* The SRQ HANDLE that caller C may use (no reference taken). */
int srq_lookup(struct caller *c, uint32_t handle, struct srq **ret);

#endif
