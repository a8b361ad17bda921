/* SPDX-License-Identifier: MIT */
/*
 * Rate objects in state.json: each endpoint's leaf attributes (member
 * "rate" of the endpoint) and the groups (root member "rate_groups").
 *
 * Security model: as state.c: the file is ciovd's own but parsed
 * defensively; a value of the wrong type or out of range, an unknown or
 * duplicate group, or a hierarchy that breaks a rule of rate_check stops
 * ciovd rather than being half-applied. A file without these members (an
 * older ciovd's) restores with no rate settings.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "adapter/adapter.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "adapter/rate.h"

static void attrs_to_json(struct json_object *o, const struct rate_attr *a)
{
	json_object_object_add(o, "tx_share", json_object_new_uint64(a->tx_share));
	json_object_object_add(o, "tx_max", json_object_new_uint64(a->tx_max));
	json_object_object_add(o, "tx_weight", json_object_new_uint64(a->tx_weight));
	json_object_object_add(o, "tx_priority", json_object_new_uint64(a->tx_priority));
	json_object_object_add(o, "parent",
			       a->parent ? json_object_new_string(rate_name(a->parent)) : NULL);
}

struct json_object *state_rate_json(const struct rate_node *n)
{
	struct json_object *o = json_object_new_object();

	attrs_to_json(o, &n->a);
	return o;
}

struct json_object *state_rate_groups_json(struct adapter *ad)
{
	struct json_object *arr = json_object_new_array();

	for (const struct rate_node *g = ad->rate_groups.head; g; g = g->next) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(g->name));
		attrs_to_json(o, &g->a);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Member KEY of O, absent = 0, else a non-negative integer up to MAX. */
static int get_num(struct json_object *o, const char *key, uint64_t max, uint64_t *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_uint64(v) > max)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

/* The attributes stored in O, parent included (groups must exist). */
static int attrs_from_json(struct adapter *ad, struct json_object *o, struct rate_attr *a)
{
	struct json_object *v;
	uint64_t w, p;

	if (!json_object_is_type(o, json_type_object) ||
	    get_num(o, "tx_share", RATE_BPS_MAX, &a->tx_share) ||
	    get_num(o, "tx_max", RATE_BPS_MAX, &a->tx_max) ||
	    get_num(o, "tx_weight", RATE_WEIGHT_MAX, &w) ||
	    get_num(o, "tx_priority", RATE_PRIO_MAX, &p))
		return -EINVAL;
	a->tx_weight = (uint32_t)w;
	a->tx_priority = (uint32_t)p;
	a->parent = NULL;
	if (json_object_object_get_ex(o, "parent", &v) && v) {
		if (!json_object_is_type(v, json_type_string))
			return -EINVAL;
		a->parent = rate_group_find(ad, json_object_get_string(v));
		if (!a->parent)
			return -ENOENT;
	}
	return 0;
}

static int load_groups(struct adapter *ad, struct json_object *arr)
{
	size_t n = json_object_array_length(arr);
	struct rate_node *g;
	int err;

	/* First every group, then their parents (which may come later). */
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *v;
		struct rate_attr none = {0};

		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "name", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			log_err("state: rate group #%zu has no name", i);
			return -EINVAL;
		}
		err = rate_group_name_check(ad, json_object_get_string(v));
		if (err) {
			log_err("state: rate group #%zu '%.64s': %s", i, json_object_get_string(v),
				err == -EEXIST ? "the name is taken" : strerror(-err));
			return -EINVAL;
		}
		err = rate_group_add(ad, json_object_get_string(v), &none, NULL);
		if (err)
			return err;
	}
	g = ad->rate_groups.head;
	for (size_t i = 0; i < n; i++, g = g->next) {
		err = attrs_from_json(ad, json_object_array_get_idx(arr, i), &g->a);
		if (err) {
			log_err("state: rate group %s: bad attributes or unknown parent", g->name);
			return -EINVAL;
		}
	}
	return 0;
}

int state_rate_load(struct adapter *ad, struct json_object *root)
{
	struct json_object *arr, *o, *v, *r;
	char why[320];
	int err;

	if (json_object_object_get_ex(root, "rate_groups", &arr)) {
		if (!json_object_is_type(arr, json_type_array)) {
			log_err("state: rate_groups is not an array");
			return -EINVAL;
		}
		err = load_groups(ad, arr);
		if (err)
			return err;
	}
	/* state_load restored these endpoints and checked the array. */
	json_object_object_get_ex(root, "endpoints", &arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct endpoint *ep;

		o = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(o, "rate", &r))
			continue;
		if (!json_object_object_get_ex(o, "name", &v) ||
		    !(ep = ep_find(ad, json_object_get_string(v))) ||
		    attrs_from_json(ad, r, &ep->rate.a)) {
			log_err("state: endpoint #%zu: bad rate attributes or unknown parent group", i);
			return -EINVAL;
		}
	}
	err = rate_check(ad, NULL, NULL, why, sizeof(why));
	if (err) {
		log_err("state: rate settings break a rule: %s", why);
		return err;
	}
	return 0;
}
