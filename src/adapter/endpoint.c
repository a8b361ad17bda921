/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "adapter/client.h"
#include "adapter/endpoint.h"
#include "adapter/iommu.h"
#include "adapter/obj.h"
#include "adapter/qp.h"

static const uint64_t default_quota[CIOV_QUOTA_MAX] = {
#define X(n, d) [CIOV_QUOTA_##n] = (d),
	CIOV_QUOTAS(X)
#undef X
};

uint64_t ep_default_quota(enum ciov_quota q)
{
	return default_quota[q];
}

bool ep_name_valid(const char *name)
{
	size_t n = strnlen(name, CIOV_NAME_MAX);

	if (n == 0 || n >= CIOV_NAME_MAX || name[0] == '-' || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

struct endpoint *ep_find(struct adapter *ad, const char *name)
{
	struct endpoint *ep;
	uint32_t h = 0;

	while ((ep = pool_next(&ad->endpoints, &h)))
		if (strcmp(ep->name, name) == 0)
			return ep;
	return NULL;
}

struct endpoint *ep_by_gid(struct adapter *ad, const uint8_t gid[16])
{
	struct endpoint *ep;
	uint32_t h = 0;

	/* Every endpoint GID shares the adapter's prefix: a cheap reject for
	 * foreign GIDs before the walk. */
	if (memcmp(gid, ad->gid_prefix, 8) != 0)
		return NULL;
	while ((ep = pool_next(&ad->endpoints, &h)))
		if (memcmp(ep->gid_addr, gid, 16) == 0)
			return ep;
	return NULL;
}

/* GID: the adapter's 64-bit prefix, then a random 64-bit interface id.
 * Random rather than derived from the id so that a GID is never reused by
 * a later endpoint (peers may still remember the old one), and so that an
 * endpoint can carry its GID to another adapter when it migrates. */
const uint8_t *ep_fabric_gid(const struct endpoint *ep)
{
	return ep->ad->nports ? ep->ad->ports[0]->gid : ep->gid_addr;
}

bool ep_gid_names(const struct endpoint *ep, const uint8_t gid[16])
{
	return memcmp(ep->gid_addr, gid, 16) == 0 || port_by_gid(ep->ad, gid) != NULL;
}

static int ep_make_gid(struct endpoint *ep)
{
	memcpy(ep->gid_addr, ep->ad->gid_prefix, 8);
	return getrandom(ep->gid_addr + 8, 8, 0) == 8 ? 0 : -EIO;
}

int ep_create(struct adapter *ad, const char *name, uint32_t id, struct endpoint **ret)
{
	struct endpoint *ep;
	int err;

	if (!ep_name_valid(name))
		return -EINVAL;
	if (ep_find(ad, name) || rate_group_find(ad, name))
		return -EEXIST;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->ad = ad;
	strcpy(ep->name, name);
	ep->gid = EP_NO_GID;
	rate_leaf_init(&ep->rate, ep);
	memcpy(ep->quota, default_quota, sizeof(ep->quota));
	for (int t = 0; t < CIOV_OBJ_MAX; t++)
		pool_init(&ep->obj[t], POOL_MAX_ENTRIES);
	err = iommu_create(&ep->iommu);
	if (err)
		goto err_free;
	/* The id is a pool handle: its generation bits make a re-created
	 * endpoint's id (and so its GID) differ from the deleted one's. */
	if (id) {
		ep->id = id;
		err = pool_insert(&ad->endpoints, ep, id);
	} else {
		err = pool_add(&ad->endpoints, ep, &ep->id);
	}
	if (err)
		goto err_iommu;
	err = ep_make_gid(ep);
	if (err) {
		pool_del(&ad->endpoints, ep->id);
		goto err_iommu;
	}
	*ret = ep;
	return 0;

err_iommu:
	iommu_destroy(ep->iommu);
err_free:
	free(ep);
	return err;
}

/* Destruction order: dependents before what they depend on. */
static const enum ciov_obj_type teardown_order[] = {
	CIOV_OBJ_QP, CIOV_OBJ_AH, CIOV_OBJ_SRQ, CIOV_OBJ_CQ,
	CIOV_OBJ_CHAN, CIOV_OBJ_MR, CIOV_OBJ_PD, CIOV_OBJ_SEG,
};

void ep_destroy_objects(struct endpoint *ep, struct client *owner, bool all)
{
	for (size_t i = 0; i < sizeof(teardown_order) / sizeof(teardown_order[0]); i++) {
		enum ciov_obj_type t = teardown_order[i];
		uint32_t h = 0;
		struct obj *o;

		while ((o = pool_next(&ep->obj[t], &h)))
			if (all || o->owner == owner)
				obj_free(o);
	}
}

void ep_destroy(struct endpoint *ep)
{
	if (!ep)
		return;
	while (ep->clients)
		client_kill(ep->clients);
	ep_destroy_objects(ep, NULL, true);
	for (int t = 0; t < CIOV_OBJ_MAX; t++)
		pool_fini(&ep->obj[t]);
	iommu_destroy(ep->iommu);
	pool_del(&ep->ad->endpoints, ep->id);
	free(ep);
}

uint32_t ep_nobjects(const struct endpoint *ep)
{
	uint32_t n = 0;

	for (int t = 1; t < CIOV_OBJ_MAX; t++)
		n += ep->obj[t].used;
	return n;
}

uint32_t ep_nclients(const struct endpoint *ep)
{
	uint32_t n = 0;

	for (const struct client *c = ep->clients; c; c = c->ep_next)
		n++;
	return n;
}

int ep_charge(struct endpoint *ep, enum ciov_quota q, uint64_t n)
{
	if (n > ep->quota[q] || ep->usage[q] > ep->quota[q] - n)
		return -EDQUOT;
	ep->usage[q] += n;
	return 0;
}

void ep_uncharge(struct endpoint *ep, enum ciov_quota q, uint64_t n)
{
	ep->usage[q] = n > ep->usage[q] ? 0 : ep->usage[q] - n;
}

static enum ep_error ep_error_of(int err)
{
	switch (-err) {
#define X(e)                                                                   \
	case e:                                                                \
		return EP_ERR_##e;
		EP_ERRORS(X)
#undef X
	}
	return EP_ERR_OTHER;
}

void ep_count_op(struct endpoint *ep, int err)
{
	ep->cnt.ctl_ops++;
	if (err) {
		ep->cnt.ctl_errors++;
		ep->cnt.errors[ep_error_of(err)]++;
	}
}

const char *ep_error_name(enum ep_error e)
{
	static const char *const names[EP_ERR_MAX] = {
#define X(e) [EP_ERR_##e] = #e,
		EP_ERRORS(X)
#undef X
		[EP_ERR_OTHER] = "other",
	};
	return (unsigned)e < EP_ERR_MAX ? names[e] : "other";
}

void ep_traffic(const struct endpoint *ep, struct qp_counters *sum)
{
	const struct obj *o;
	uint32_t h = 0;

	*sum = ep->retired;
	while ((o = pool_next(&ep->obj[CIOV_OBJ_QP], &h)))
		qp_counters_add(sum, &container_of(o, struct qp, obj)->x.cnt);
}

bool ep_may_open(const struct endpoint *ep, uint32_t uid, uint32_t gid)
{
	return uid == 0 || uid == ep->uid || (ep->gid != EP_NO_GID && (int64_t)gid == ep->gid);
}
