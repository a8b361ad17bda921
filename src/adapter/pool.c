/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/pool.h"

#define POOL_MIN_CAP 16
#define POOL_GEN_MASK ((1u << (32 - POOL_INDEX_BITS)) - 1)

static uint32_t pool_handle(const struct pool *p, uint32_t i)
{
	return (p->gen[i] & POOL_GEN_MASK) << POOL_INDEX_BITS | i;
}

void pool_init(struct pool *p, uint32_t limit)
{
	*p = (struct pool){.limit = limit < POOL_MAX_ENTRIES ? limit : POOL_MAX_ENTRIES, .next = 1};
}

void pool_fini(struct pool *p)
{
	free(p->slot);
	free(p->gen);
	*p = (struct pool){0};
}

static int pool_grow(struct pool *p)
{
	uint32_t ncap = p->cap ? p->cap * 2 : POOL_MIN_CAP;
	void **slot;
	uint16_t *gen;

	if (ncap > p->limit + 1)
		ncap = p->limit + 1;
	slot = realloc(p->slot, ncap * sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	p->slot = slot;
	gen = realloc(p->gen, ncap * sizeof(*gen));
	if (!gen)
		return -ENOMEM;
	p->gen = gen;
	memset(slot + p->cap, 0, (ncap - p->cap) * sizeof(*slot));
	memset(gen + p->cap, 0, (ncap - p->cap) * sizeof(*gen));
	p->cap = ncap;
	return 0;
}

int pool_add(struct pool *p, void *obj, uint32_t *handle)
{
	uint32_t i;

	if (p->used >= p->limit)
		return -ENOSPC;
	if (p->used + 1 >= p->cap) {
		int err = pool_grow(p);

		if (err)
			return err;
	}
	/* A free slot exists in 1..cap-1: used < cap - 1 after growing. */
	for (i = p->next;; i = i + 1 < p->cap ? i + 1 : 1)
		if (i != 0 && !p->slot[i])
			break;
	p->slot[i] = obj;
	p->used++;
	p->next = i + 1 < p->cap ? i + 1 : 1;
	*handle = pool_handle(p, i); /* never 0: index 0 is never used */
	return 0;
}

int pool_insert(struct pool *p, void *obj, uint32_t handle)
{
	uint32_t i = pool_index(handle);

	if (i == 0 || i > p->limit)
		return -EINVAL;
	while (i >= p->cap) {
		int err = pool_grow(p);

		if (err)
			return err;
	}
	if (p->slot[i])
		return -EEXIST;
	p->slot[i] = obj;
	p->gen[i] = (uint16_t)(handle >> POOL_INDEX_BITS);
	p->used++;
	return 0;
}

void *pool_get(const struct pool *p, uint32_t handle)
{
	uint32_t i = pool_index(handle);

	if (i == 0 || i >= p->cap || !p->slot[i])
		return NULL;
	if (handle != pool_handle(p, i))
		return NULL;
	return p->slot[i];
}

void pool_del(struct pool *p, uint32_t handle)
{
	uint32_t i = pool_index(handle);

	if (!pool_get(p, handle))
		return;
	p->slot[i] = NULL;
	p->gen[i]++;
	p->used--;
}

void *pool_next(const struct pool *p, uint32_t *handle)
{
	for (uint32_t i = pool_index(*handle) + 1; i < p->cap; i++) {
		if (p->slot[i]) {
			*handle = pool_handle(p, i);
			return p->slot[i];
		}
	}
	return NULL;
}
