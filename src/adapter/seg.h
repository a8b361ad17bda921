/* SPDX-License-Identifier: MIT */
/*
 * Segments: tenant memory (a sealed memfd range) that ciovd maps and places
 * in the endpoint's I/O address space (DESIGN.md, "Memory and DMA").
 */
#ifndef CIOV_SEG_H
#define CIOV_SEG_H

#include <stdint.h>

#include "adapter/obj.h"

/* refs: one per MR lying (partly) in the segment and one per tenant that
 * opened it; detach is refused (-EBUSY) while any remain. */
struct seg {
	struct obj obj;
	int fd;		 /* the memfd, kept for SEG_OPEN */
	uint8_t *host;	 /* ciovd's MAP_SHARED mapping of the range */
	uint64_t iova;
	uint64_t length;
	uint64_t offset; /* of the range in the memfd */
	uint64_t charged; /* to the seg_bytes quota */
};

static inline struct seg *seg_of(struct obj *o)
{
	return container_of(o, struct seg, obj);
}

#endif
