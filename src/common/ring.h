/* SPDX-License-Identifier: MIT */
/*
 * Memory ordering on the shared rings, used by ciovd and libciov alike.
 *
 * A ring (struct ciov_ring_ctrl in abi.h) has one producer and one
 * consumer, in different processes. The producer writes an entry, then
 * publishes it with a release store of prod; the consumer acquire-loads
 * prod before it reads the entry. The consumer releases an entry with a
 * release store of cons once it has copied it out; the producer
 * acquire-loads cons before it overwrites a slot. Each call site names the
 * access it pairs with.
 *
 * The doorbell (need_kick) needs store->load ordering on both sides
 * (publish prod, then read need_kick; set need_kick, then re-read prod),
 * which acquire/release do not give: ring_fence() is the full barrier.
 */
#ifndef CIOV_COMMON_RING_H
#define CIOV_COMMON_RING_H

#include <stdint.h>

/* Reads an index written by the other side; later reads of ring memory are
 * not reordered before it. */
static inline uint32_t ring_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Publishes V; earlier reads and writes of ring memory are not reordered
 * after it. */
static inline void ring_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* A single-copy-atomic access with no ordering (flags, own indices). */
static inline uint32_t ring_load_relaxed(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void ring_store_relaxed(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Full barrier: orders an earlier store before a later load. */
static inline void ring_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Entries in use between free-running indices; correct across the 2^32
 * wrap because the subtraction is modulo 2^32. */
static inline uint32_t ring_used(uint32_t prod, uint32_t cons)
{
	return prod - cons;
}

#endif
