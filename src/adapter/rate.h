/* SPDX-License-Identifier: MIT */
/*
 * Rate objects, with the semantics of `devlink rate`: a leaf per endpoint
 * (embedded in struct endpoint) and named group nodes (adapter-wide), each
 * with a guaranteed minimum (tx_share), a cap (tx_max), a weight for the
 * rest (tx_weight), a strict priority (tx_priority) and an optional parent
 * group. Groups nest.
 *
 * This is the configuration only; the scheduler that enforces it reads
 * these nodes. Rates are in bytes per second; 0 means "not set".
 */
#ifndef CIOV_RATE_H
#define CIOV_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ciov/abi.h>

struct adapter;
struct endpoint;

#define RATE_BPS_MAX 125000000000ull /* 1 Tbit/s in bytes/s: above is a mistake */
#define RATE_WEIGHT_MAX 100	     /* tx_weight 1..100; 0 = not set (counts as 1) */
#define RATE_PRIO_MAX 7		     /* tx_priority 0..7, higher is served first */
#define RATE_GROUPS_MAX 1024	     /* groups in all */
#define RATE_DEPTH_MAX 8	     /* groups above a node, at most */

enum rate_type {
	RATE_LEAF, /* an endpoint's */
	RATE_NODE, /* a group */
};

/* The settable attributes of a node. */
struct rate_attr {
	uint64_t tx_share; /* guaranteed minimum, bytes/s, 0 = none */
	uint64_t tx_max;   /* cap, bytes/s, 0 = none */
	uint32_t tx_weight;
	uint32_t tx_priority;
	struct rate_node *parent; /* a group, or NULL */
};

/* The scheduler's running state of a node (sched.c). */
struct rate_run {
	int64_t max_tokens;   /* bytes the cap still allows (may go negative) */
	int64_t share_tokens; /* bytes the guarantee still owes */
	int64_t deficit[2];   /* deficit round robin, per VL arbitration class */
	uint64_t last_ns;     /* last refill */
	uint64_t bytes_guaranteed; /* moved under the guarantee */
	uint64_t throttled_ns;	   /* time it had work but its cap held it */
	uint64_t held_pass;	   /* the pass that last counted it held */
	uint64_t busy_pass[2];	   /* the pass that last saw it (or a child) backlogged, per class */
	uint64_t wsum;		   /* weights of its backlogged children (groups) */
};

struct rate_node {
	enum rate_type type;
	struct rate_run run;
	struct rate_attr a;
	struct endpoint *ep;	   /* the leaf's endpoint; NULL for a group */
	char name[CIOV_NAME_MAX];  /* the group's name; leaves use ep->name */
	struct rate_node *next;	   /* groups: the adapter's list, in creation order */
	uint64_t scratch;	   /* rate_check's working sum */
};

/* The adapter's groups. */
struct rate_groups {
	struct rate_node *head; /* in creation order */
	uint32_t n;
};

/* Initializes EP's leaf (no settings). */
void rate_leaf_init(struct rate_node *leaf, struct endpoint *ep);
/* Frees every group (adapter teardown). */
void rate_fini(struct adapter *ad);

/* The node's name: the endpoint's or the group's. */
const char *rate_name(const struct rate_node *n);
/* The group NAME, or NULL. */
struct rate_node *rate_group_find(struct adapter *ad, const char *name);
/* An endpoint's leaf or a group called NAME, or NULL. */
struct rate_node *rate_find(struct adapter *ad, const char *name);
/* Nodes whose parent is N. */
uint32_t rate_nchildren(struct adapter *ad, const struct rate_node *n);
/* Iterates leaves (endpoint order) then groups (creation order); start
 * with *pos = NULL and h = 0. NULL at the end. */
struct rate_node *rate_next(struct adapter *ad, uint32_t *h, struct rate_node **pos);

/*
 * Checks the whole hierarchy as it would be if TARGET had attributes A
 * (TARGET may be a new group not yet listed, or NULL to check the tree as
 * it is). 0, or -EINVAL with WHY saying which rule broke. Nothing changes.
 */
int rate_check(struct adapter *ad, const struct rate_node *target, const struct rate_attr *a,
	       char *why, size_t wlen);

/* Checks a group name: -EINVAL (bad characters), -EEXIST (an endpoint or
 * group has it), -ENOSPC (too many groups). */
int rate_group_name_check(struct adapter *ad, const char *name);
/* Allocates a group NAME with attributes A (unchecked: rate_check first)
 * and lists it. 0 or -ENOMEM. */
int rate_group_add(struct adapter *ad, const char *name, const struct rate_attr *a,
		   struct rate_node **ret);
/* Unlists and frees G; the caller checked it has no children. */
void rate_group_del(struct adapter *ad, struct rate_node *g);

/* Persistence (state_rate.c): a node's attributes as stored in state.json,
 * the groups as stored, and the restore (after the endpoints are back):
 * 0, or -EINVAL with a logged reason. */
struct json_object;
struct json_object *state_rate_json(const struct rate_node *n);
struct json_object *state_rate_groups_json(struct adapter *ad);
int state_rate_load(struct adapter *ad, struct json_object *root);

#endif
