/* SPDX-License-Identifier: MIT */
/*
 * The common head of every object a tenant or manager can create in an
 * endpoint (segment, PD, MR, channel, CQ, SRQ, QP, AH). Objects live in
 * their endpoint's per-type pool; the handle is the pool handle.
 *
 * refs counts what depends on the object (MRs on a PD, QPs on a CQ,
 * tenants attached to a provisioned object); an object with refs cannot be
 * destroyed (-EBUSY). The daemon is single-threaded: no locks.
 */
#ifndef CIOV_OBJ_H
#define CIOV_OBJ_H

#include <stddef.h>
#include <stdint.h>

#include <ciov/abi.h>

#include "common/container.h"

struct endpoint;
struct client;

struct obj {
	enum ciov_obj_type type;
	uint32_t handle;
	uint32_t refs;
	struct endpoint *ep;
	struct client *owner; /* creating connection; NULL = the manager's */
};

struct obj_type {
	const char *name;
	enum ciov_quota quota;
	/* Releases what the object holds (refs on others, extra quota, memory
	 * maps) but not the object itself. Called with refs == 0. */
	void (*destroy)(struct obj *o);
};

extern const struct obj_type obj_types[CIOV_OBJ_MAX];

/* Allocates SIZE zeroed bytes starting with a struct obj of TYPE in EP,
 * charges one unit of the type's quota and gives it a handle. */
int obj_create(struct endpoint *ep, struct client *owner, enum ciov_obj_type type, size_t size,
	       struct obj **ret);
/* Destroys O if nothing depends on it: -EBUSY otherwise. */
int obj_destroy(struct obj *o);
/* Destroys O regardless of dependents (endpoint teardown, in dependency
 * order, so that dependents are gone first). */
void obj_free(struct obj *o);
/* The object of TYPE with HANDLE in EP, or NULL. */
struct obj *obj_find(struct endpoint *ep, enum ciov_obj_type type, uint32_t handle);

static inline void obj_get(struct obj *o)
{
	o->refs++;
}

static inline void obj_put(struct obj *o)
{
	if (o)
		o->refs--;
}

#define obj_of(ptr) (&(ptr)->obj)

/* Per-type teardown, implemented by each object's part. */
void seg_destroy(struct obj *o);
void pd_destroy(struct obj *o);
void mr_destroy(struct obj *o);
void chan_destroy(struct obj *o);
void cq_destroy(struct obj *o);
void srq_destroy(struct obj *o);
void qp_destroy(struct obj *o);
void ah_destroy(struct obj *o);

#endif
