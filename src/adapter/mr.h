/* SPDX-License-Identifier: MIT */
/*
 * Memory regions (IBA 10.6): a range of the endpoint's I/O address space,
 * in one PD, with access rights, named by an lkey and an rkey.
 *
 * Keys: (pool index << 8) | tag. The index finds the MR in O(1); the 8-bit
 * tag is the IBA "key" portion. It is a keyed hash of (endpoint, index)
 * plus the slot's pool generation, so that tags are unpredictable from
 * outside and a stale key of a slot fails for the next 255 registrations
 * that reuse the slot (a purely random tag would match again 1 time in
 * 256). lkey == rkey today, but both are kept and checked separately.
 *
 * An MR may span several adjacent segments; it holds a reference on each,
 * and one on its PD, so none can go away under it.
 */
#ifndef CIOV_MR_H
#define CIOV_MR_H

#include <errno.h>
#include <stdint.h>

#include "adapter/endpoint.h"
#include "adapter/obj.h"
#include "adapter/pool.h"

struct pd;
struct seg;

#define MR_KEY_TAG_BITS 8
#define MR_KEY_INDEX_BITS (32 - MR_KEY_TAG_BITS)
_Static_assert(POOL_INDEX_BITS <= MR_KEY_INDEX_BITS, "pool index must fit the key's index");

enum mr_state {
	MR_STATE_INVALID = 0, /* being built or torn down: keys do not match */
	MR_STATE_VALID = 1,
};

struct mr {
	struct obj obj;
	enum mr_state state;
	struct pd *pd;	  /* referenced */
	uint64_t iova;
	uint64_t length;
	uint32_t lkey;
	uint32_t rkey;
	uint32_t access;  /* enum ciov_access_flags */
	uint32_t nsegs;
	struct seg **segs; /* referenced, in iova order */
};

enum mr_key_type { MR_LKEY, MR_RKEY };

static inline uint32_t mr_key_index(uint32_t key)
{
	return key >> MR_KEY_TAG_BITS;
}

/*
 * The data path's key lookup: the valid MR of EP whose lkey (or rkey, per
 * TYPE) is KEY, or NULL. O(1): the index selects the pool slot, then the
 * whole key (index and tag) must equal the MR's. KEY is hostile.
 */
static inline struct mr *mr_from_key(struct endpoint *ep, uint32_t key, enum mr_key_type type)
{
	const struct pool *p = &ep->obj[CIOV_OBJ_MR];
	uint32_t i = mr_key_index(key);
	struct mr *mr;

	if (i == 0 || i >= p->cap || !p->slot[i])
		return NULL;
	mr = container_of((struct obj *)p->slot[i], struct mr, obj);
	if (mr->state != MR_STATE_VALID || (type == MR_LKEY ? mr->lkey : mr->rkey) != key)
		return NULL;
	return mr;
}

/*
 * Checks an access to [iova, iova + len) of MR through PD needing ACCESS
 * (enum ciov_access_flags; 0 for a local read, e.g. a send gather).
 * Returns 0, or:
 *   -EPERM   MR is not in PD (IBA 10.6.3: the QP's PD must be the MR's)
 *   -EFAULT  the range is not inside the MR, or wraps past 2^64
 *   -EACCES  the MR lacks an access right ACCESS asks for
 * The engine maps these to LOC_PROT_ERR / LOC_ACCESS_ERR / REM_ACCESS_ERR.
 * len 0 passes the bounds check: a zero-length transfer touches no byte
 * (whether to validate its key at all is the caller's call, per opcode).
 */
static inline int mr_check(const struct mr *mr, const struct pd *pd, uint64_t iova, uint64_t len,
			   unsigned access)
{
	if (mr->pd != pd)
		return -EPERM;
	/* iova - mr->iova cannot wrap once iova >= mr->iova; then the range
	 * fits when len <= length - offset (no iova + len overflow). */
	if (len && (iova < mr->iova || iova - mr->iova > mr->length ||
		    len > mr->length - (iova - mr->iova)))
		return -EFAULT;
	if ((mr->access & access) != access)
		return -EACCES;
	return 0;
}

#endif
