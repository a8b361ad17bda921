/* SPDX-License-Identifier: MIT */
/*
 * Indexed object pool. A handle is (generation << POOL_INDEX_BITS | index);
 * index 0 is never used, so handle 0 means "none", and a stale handle (its
 * slot reused since) fails the generation check.
 */
#ifndef CIOV_POOL_H
#define CIOV_POOL_H

#include <stdint.h>

#define POOL_INDEX_BITS 20
#define POOL_INDEX_MASK ((1u << POOL_INDEX_BITS) - 1)
#define POOL_MAX_ENTRIES (POOL_INDEX_MASK) /* indices 1 .. 2^20-1 */

struct pool {
	void **slot;	/* slot[i]: the object, or NULL when free */
	uint16_t *gen;	/* generation of slot i: bumped on every free */
	uint32_t cap;	/* slots allocated (slot 0 included) */
	uint32_t used;	/* objects stored */
	uint32_t limit; /* most objects ever stored (<= POOL_MAX_ENTRIES) */
	uint32_t next;	/* where the search for a free slot starts */
};

void pool_init(struct pool *p, uint32_t limit);
/* Frees the table, not the objects. */
void pool_fini(struct pool *p);
/* Stores OBJ; *handle is its handle. -ENOSPC when full, -ENOMEM. */
int pool_add(struct pool *p, void *obj, uint32_t *handle);
/* Stores OBJ under a given HANDLE (restoring saved state): -EEXIST when
 * its slot is taken, -EINVAL for handle 0. */
int pool_insert(struct pool *p, void *obj, uint32_t handle);
/* The object for HANDLE, or NULL if none (never a stale one). */
void *pool_get(const struct pool *p, uint32_t handle);
/* Removes HANDLE's object; no-op for a stale or unknown handle. */
void pool_del(struct pool *p, uint32_t handle);
/* Iteration: *handle starts at 0; returns the next object after it (in
 * index order) and updates *handle, or NULL at the end. Deleting the
 * returned object during iteration is allowed. */
void *pool_next(const struct pool *p, uint32_t *handle);

static inline uint32_t pool_index(uint32_t handle)
{
	return handle & POOL_INDEX_MASK;
}

#endif
