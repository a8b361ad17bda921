/* SPDX-License-Identifier: MIT */
/*
 * ciovd's side of the shared-memory rings (abi.h, struct ciov_ring_ctrl).
 *
 * A ring_mem is one sealed memfd mapped in ciovd and handed to the tenant;
 * it holds one ring (CQ, SRQ) or two (a QP's SQ and RQ, each at a
 * page-aligned offset). A struct ring is ciovd's private view of one ring:
 * its geometry and its own index are kept here and never read back from
 * shared memory, which the tenant may scribble on at any time.
 */
#ifndef CIOV_ADAPTER_RING_H
#define CIOV_ADAPTER_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ciov/abi.h>

struct ring_mem {
	int fd;	    /* memfd, -1 when none */
	void *base; /* ciovd's MAP_SHARED mapping, NULL when none */
	size_t size;
};

struct ring {
	struct ciov_ring_ctrl *ctrl; /* shared: hostile */
	uint8_t *slots;		     /* shared: hostile */
	uint32_t entries;	     /* power of two */
	uint32_t mask;		     /* entries - 1 */
	uint32_t entry_size;
	uint32_t kind; /* enum ciov_ring_kind */
	/* ciovd's own index: cons for the rings it consumes (SQ, RQ, SRQ),
	 * prod for those it produces (CQ). The shared copy is only written. */
	uint32_t idx;
	bool error;
};

/* Largest ring: 2^20 entries (beyond every device limit). */
#define RING_MAX_ENTRIES (1u << 20)
/* Largest entry: what a consumer's stack copy must hold. */
#define RING_ENTRY_MAX 4096u

/* The smallest power of two >= N (N 1..RING_MAX_ENTRIES), or 0. */
uint32_t ring_entries_for(uint32_t n);
/* Bytes one ring takes, control block included, rounded up to pages. */
size_t ring_bytes(uint32_t entries, uint32_t entry_size);

/* Creates a memfd of SIZE bytes (a multiple of the page size), sealed
 * against shrinking, growing and further sealing, and maps it. */
int ring_mem_create(size_t size, struct ring_mem *m);
/* Unmaps and closes; accepts a zeroed or half-built ring_mem with fd -1. */
void ring_mem_destroy(struct ring_mem *m);
/* A dup of the memfd for the tenant (-errno on failure). */
int ring_mem_dup(const struct ring_mem *m);

/* Lays ring R out at BASE (memory of ring_bytes() bytes) and writes its
 * control block. need_kick starts at 1 for the rings the tenant produces:
 * no engine is watching them yet. */
void ring_init(struct ring *r, void *base, enum ciov_ring_kind kind, uint32_t entries,
	       uint32_t entry_size, uint32_t owner);
/* Empties the ring (QP to RESET): indices and error cleared. */
void ring_reset(struct ring *r);
/* Marks the ring corrupt: ciovd stops using it; the tenant sees
 * ctrl->error != 0. */
void ring_set_error(struct ring *r);
/* Only tells the tenant the queue is in error (QP in ERR) or not any more;
 * ciovd keeps using the ring (to flush it). */
void ring_show_error(struct ring *r, bool on);

/* Consumer side (SQ, RQ, SRQ: the tenant produces).
 * ring_peek copies the next entry (entry_size bytes) to OUT before anything
 * looks at it: 0, -EAGAIN when empty, -EPROTO when the tenant's prod claims
 * more than the ring holds (the ring is put in error). ring_pop then
 * releases the slot to the producer. */
int ring_peek(struct ring *r, void *out);
/* The same for the entry AT places after the next (a consumer that keeps
 * several entries in flight and pops them in order). */
int ring_peek_at(struct ring *r, uint32_t at, void *out);
void ring_pop(struct ring *r);
/* Entries the tenant has published and ciovd not consumed (0 on error). */
uint32_t ring_pending(struct ring *r);

/* Producer side (CQ: ciovd produces). Copies ENTRY (entry_size bytes) into
 * the next slot and publishes it: 0, -ENOSPC when full (CQ overrun), or
 * -EPROTO when the tenant's cons is not within the ring (put in error). */
int ring_push(struct ring *r, const void *entry);

#endif
