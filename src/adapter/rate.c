/* SPDX-License-Identifier: MIT */
/* Rate objects: the devlink-rate hierarchy of endpoints and groups, and the
 * rules a configuration must keep (rate_check). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/endpoint.h"
#include "adapter/rate.h"

void rate_leaf_init(struct rate_node *leaf, struct endpoint *ep)
{
	memset(leaf, 0, sizeof(*leaf));
	leaf->type = RATE_LEAF;
	leaf->ep = ep;
}

void rate_fini(struct adapter *ad)
{
	struct rate_node *g = ad->rate_groups.head;

	while (g) {
		struct rate_node *next = g->next;

		free(g);
		g = next;
	}
	ad->rate_groups.head = NULL;
	ad->rate_groups.n = 0;
}

const char *rate_name(const struct rate_node *n)
{
	return n->type == RATE_LEAF ? n->ep->name : n->name;
}

struct rate_node *rate_group_find(struct adapter *ad, const char *name)
{
	for (struct rate_node *g = ad->rate_groups.head; g; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

struct rate_node *rate_find(struct adapter *ad, const char *name)
{
	struct endpoint *ep = ep_find(ad, name);

	return ep ? &ep->rate : rate_group_find(ad, name);
}

struct rate_node *rate_next(struct adapter *ad, uint32_t *h, struct rate_node **pos)
{
	struct endpoint *ep;

	if (!*pos) {
		ep = pool_next(&ad->endpoints, h);
		if (ep)
			return &ep->rate;
		*pos = ad->rate_groups.head;
	} else {
		*pos = (*pos)->next;
	}
	return *pos;
}

uint32_t rate_nchildren(struct adapter *ad, const struct rate_node *n)
{
	struct rate_node *pos = NULL, *c;
	uint32_t h = 0, k = 0;

	while ((c = rate_next(ad, &h, &pos)))
		k += c->a.parent == n;
	return k;
}

/* "1250000000 bytes/s (10 Gbit/s)", for messages. */
static void rate_str(char *buf, size_t len, uint64_t bytes)
{
	snprintf(buf, len, "%llu bytes/s (%.4g Gbit/s)", (unsigned long long)bytes,
		 (double)bytes * 8 / 1e9);
}

/* N's attributes in the configuration being checked. */
static const struct rate_attr *attr_of(const struct rate_node *n, const struct rate_node *target,
				       const struct rate_attr *a)
{
	return n == target ? a : &n->a;
}

/* Checks one node against its ancestors: no cycle, a bounded depth, and
 * neither its share nor its cap above an ancestor's cap. */
static int check_ancestors(const struct rate_node *n, const struct rate_node *target,
			   const struct rate_attr *a, char *why, size_t wlen)
{
	const struct rate_attr *na = attr_of(n, target, a);
	const struct rate_node *p;
	char r1[64], r2[64];
	int depth = 0;

	/* The chain first: a loop or a depth beyond the limit ends the walk
	 * (a loop above N, not through it, also ends here by depth). */
	for (p = na->parent; p; p = attr_of(p, target, a)->parent) {
		if (p == n) {
			snprintf(why, wlen, "parent loop: %s would be its own ancestor (through %s)",
				 rate_name(n), rate_name(na->parent));
			return -EINVAL;
		}
		if (++depth > RATE_DEPTH_MAX) {
			snprintf(why, wlen, "%s would be under more than %d groups (or in a parent loop)",
				 rate_name(n), RATE_DEPTH_MAX);
			return -EINVAL;
		}
	}
	for (p = na->parent; p; p = attr_of(p, target, a)->parent) {
		const struct rate_attr *pa = attr_of(p, target, a);

		if (!pa->tx_max)
			continue;
		if (na->tx_share > pa->tx_max || na->tx_max > pa->tx_max) {
			bool share = na->tx_share > pa->tx_max;

			rate_str(r1, sizeof(r1), share ? na->tx_share : na->tx_max);
			rate_str(r2, sizeof(r2), pa->tx_max);
			snprintf(why, wlen, "%s %s of %s is above tx_max %s of its ancestor %s",
				 share ? "tx_share" : "tx_max", r1, rate_name(n), r2, rate_name(p));
			return -EINVAL;
		}
	}
	return 0;
}

static int check_one(const struct rate_node *n, const struct rate_node *target,
		     const struct rate_attr *a, char *why, size_t wlen)
{
	const struct rate_attr *na = attr_of(n, target, a);

	if (na->tx_share > RATE_BPS_MAX || na->tx_max > RATE_BPS_MAX) {
		snprintf(why, wlen, "%s: rates above %llu bytes/s (1 Tbit/s) are not accepted",
			 rate_name(n), RATE_BPS_MAX);
		return -EINVAL;
	}
	if (na->tx_weight > RATE_WEIGHT_MAX) {
		snprintf(why, wlen, "%s: tx_weight %u is out of range 1..%d (0 = default)",
			 rate_name(n), na->tx_weight, RATE_WEIGHT_MAX);
		return -EINVAL;
	}
	if (na->tx_priority > RATE_PRIO_MAX) {
		snprintf(why, wlen, "%s: tx_priority %u is out of range 0..%d", rate_name(n),
			 na->tx_priority, RATE_PRIO_MAX);
		return -EINVAL;
	}
	if (na->parent && na->parent->type != RATE_NODE) {
		snprintf(why, wlen, "%s: parent %s is an endpoint; only groups can be parents",
			 rate_name(n), rate_name(na->parent));
		return -EINVAL;
	}
	if (na->tx_share && na->tx_max && na->tx_share > na->tx_max) {
		char r1[64], r2[64];

		rate_str(r1, sizeof(r1), na->tx_share);
		rate_str(r2, sizeof(r2), na->tx_max);
		snprintf(why, wlen, "%s: tx_share %s is above its own tx_max %s", rate_name(n), r1, r2);
		return -EINVAL;
	}
	return check_ancestors(n, target, a, why, wlen);
}

/* Every listed node, then EXTRA (a group being added) if not NULL. */
struct walk {
	uint32_t h;
	struct rate_node *pos;
	struct rate_node *extra;
};

static struct rate_node *walk_next(struct adapter *ad, struct walk *w)
{
	struct rate_node *n = rate_next(ad, &w->h, &w->pos);

	if (!n) {
		n = w->extra;
		w->extra = NULL;
	}
	return n;
}

static bool listed(struct adapter *ad, const struct rate_node *target)
{
	struct rate_node *pos = NULL, *n;
	uint32_t h = 0;

	while ((n = rate_next(ad, &h, &pos)))
		if (n == target)
			return true;
	return false;
}

int rate_check(struct adapter *ad, const struct rate_node *target, const struct rate_attr *a,
	       char *why, size_t wlen)
{
	struct rate_node *extra = target && !listed(ad, target) ? (struct rate_node *)target : NULL;
	struct walk w = {.extra = extra};
	struct rate_node *n;
	int err;

	while ((n = walk_next(ad, &w)))
		n->scratch = 0;
	/* The changed node first, so that the message is about it. */
	if (target) {
		err = check_one(target, target, a, why, wlen);
		if (err)
			return err;
	}
	/* Each node on its own and against its ancestors, summing shares. */
	w = (struct walk){.extra = extra};
	while ((n = walk_next(ad, &w))) {
		const struct rate_attr *na = attr_of(n, target, a);

		err = check_one(n, target, a, why, wlen);
		if (err)
			return err;
		if (na->parent)
			na->parent->scratch += na->tx_share;
	}
	/* The guarantees under a group must fit in its cap. */
	w = (struct walk){.extra = extra};
	while ((n = walk_next(ad, &w))) {
		const struct rate_attr *na = attr_of(n, target, a);

		if (n->type == RATE_NODE && na->tx_max && n->scratch > na->tx_max) {
			char r1[64], r2[64];

			rate_str(r1, sizeof(r1), n->scratch);
			rate_str(r2, sizeof(r2), na->tx_max);
			snprintf(why, wlen, "the tx_share of the children of %s add up to %s, above its tx_max %s",
				 rate_name(n), r1, r2);
			return -EINVAL;
		}
	}
	return 0;
}

int rate_group_name_check(struct adapter *ad, const char *name)
{
	if (!ep_name_valid(name))
		return -EINVAL;
	if (ep_find(ad, name) || rate_group_find(ad, name))
		return -EEXIST;
	if (ad->rate_groups.n >= RATE_GROUPS_MAX)
		return -ENOSPC;
	return 0;
}

int rate_group_add(struct adapter *ad, const char *name, const struct rate_attr *a,
		   struct rate_node **ret)
{
	struct rate_node *g = calloc(1, sizeof(*g)), **p;

	if (!g)
		return -ENOMEM;
	g->type = RATE_NODE;
	g->a = *a;
	snprintf(g->name, sizeof(g->name), "%s", name);
	for (p = &ad->rate_groups.head; *p; p = &(*p)->next)
		;
	*p = g;
	ad->rate_groups.n++;
	if (ret)
		*ret = g;
	return 0;
}

void rate_group_del(struct adapter *ad, struct rate_node *g)
{
	for (struct rate_node **p = &ad->rate_groups.head; *p; p = &(*p)->next) {
		if (*p == g) {
			*p = g->next;
			ad->rate_groups.n--;
			free(g);
			return;
		}
	}
}
