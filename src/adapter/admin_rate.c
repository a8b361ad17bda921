/* SPDX-License-Identifier: MIT */
/*
 * The admin socket's rate commands: rate.show, rate.set, rate.add, rate.del
 * (doc/admin-protocol.md, "Rate commands").
 *
 * Security model: as admin.c: the caller is root or the admin group, but
 * the request is parsed whole and checked against every rule of the
 * hierarchy (rate_check) before anything changes; a request that breaks one
 * changes nothing, and neither does one whose state cannot be saved.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/admin.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "adapter/rate.h"
#include "adapter/scheduler.h"
#include "adapter/state.h"

static struct json_object *admin_rate_json(const struct rate_node *n)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(rate_name(n)));
	json_object_object_add(o, "type", json_object_new_string(n->type == RATE_LEAF ? "leaf" : "node"));
	json_object_object_add(o, "tx_share", json_object_new_uint64(n->a.tx_share));
	json_object_object_add(o, "tx_max", json_object_new_uint64(n->a.tx_max));
	json_object_object_add(o, "tx_weight", json_object_new_uint64(n->a.tx_weight));
	json_object_object_add(o, "tx_priority", json_object_new_uint64(n->a.tx_priority));
	json_object_object_add(o, "parent",
			       n->a.parent ? json_object_new_string(rate_name(n->a.parent)) : NULL);
	return o;
}

static struct json_object *rate_reply(const struct rate_node *n)
{
	struct json_object *r = admin_ok();

	json_object_object_add(r, "rate", admin_rate_json(n));
	return r;
}

static const char *req_name(struct json_object *req)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, "name", &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int get_num(struct json_object *v, const char *key, uint64_t max, uint64_t *out, char *why,
		   size_t wlen)
{
	/* json-c keeps big positives as uint64, negatives as int64 */
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		snprintf(why, wlen, "%s must be a non-negative integer", key);
		return -EINVAL;
	}
	*out = json_object_get_uint64(v);
	if (*out > max) {
		snprintf(why, wlen, "%s %llu is above its limit %llu%s", key,
			 (unsigned long long)*out, (unsigned long long)max,
			 max == RATE_BPS_MAX ? " bytes/s (1 Tbit/s)" : "");
		return -EINVAL;
	}
	return 0;
}

/*
 * Applies the attribute members of REQ to *A (a copy of the node's), and
 * resolves "parent". Nothing outside *A changes. 0, -EINVAL or -ENOENT.
 */
static int parse_attrs(struct adapter *ad, struct json_object *req, struct rate_attr *a, char *why,
		       size_t wlen)
{
	struct json_object *v;
	uint64_t x;
	int err;

	if (json_object_object_get_ex(req, "tx_share", &v)) {
		err = get_num(v, "tx_share", RATE_BPS_MAX, &a->tx_share, why, wlen);
		if (err)
			return err;
	}
	if (json_object_object_get_ex(req, "tx_max", &v)) {
		err = get_num(v, "tx_max", RATE_BPS_MAX, &a->tx_max, why, wlen);
		if (err)
			return err;
	}
	if (json_object_object_get_ex(req, "tx_weight", &v)) {
		err = get_num(v, "tx_weight", RATE_WEIGHT_MAX, &x, why, wlen);
		if (err)
			return err;
		a->tx_weight = (uint32_t)x;
	}
	if (json_object_object_get_ex(req, "tx_priority", &v)) {
		err = get_num(v, "tx_priority", RATE_PRIO_MAX, &x, why, wlen);
		if (err)
			return err;
		a->tx_priority = (uint32_t)x;
	}
	if (json_object_object_get_ex(req, "parent", &v)) {
		const char *p;

		if (!v) { /* null: noparent */
			a->parent = NULL;
			return 0;
		}
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(why, wlen, "parent must be a group name or null");
			return -EINVAL;
		}
		p = json_object_get_string(v);
		a->parent = rate_group_find(ad, p);
		if (!a->parent) {
			if (ep_find(ad, p)) {
				snprintf(why, wlen, "parent %.64s is an endpoint; only groups can be parents", p);
				return -EINVAL;
			}
			snprintf(why, wlen, "no rate group %.64s: add it with rate.add first", p);
			return -ENOENT;
		}
	}
	return 0;
}

static struct json_object *cmd_rate_show(struct adapter *ad, struct json_object *req)
{
	struct json_object *r, *arr = json_object_new_array(), *v;
	struct rate_node *pos = NULL, *n;
	uint32_t h = 0;

	if (json_object_object_get_ex(req, "name", &v)) {
		const char *name = req_name(req);

		json_object_put(arr);
		if (!name)
			return admin_error(EINVAL, "\"name\" must be a string");
		n = rate_find(ad, name);
		if (!n)
			return admin_error(ENOENT, "no endpoint or rate group %.64s", name);
		arr = json_object_new_array();
		json_object_array_add(arr, admin_rate_json(n));
	} else {
		while ((n = rate_next(ad, &h, &pos)))
			json_object_array_add(arr, admin_rate_json(n));
	}
	r = admin_ok();
	json_object_object_add(r, "rates", arr);
	return r;
}

static struct json_object *cmd_rate_set(struct adapter *ad, struct json_object *req)
{
	const char *name = req_name(req);
	struct rate_attr a, old;
	struct rate_node *n;
	char why[320];
	int err;

	if (!name)
		return admin_error(EINVAL, "rate.set needs \"name\" (an endpoint or a rate group)");
	n = rate_find(ad, name);
	if (!n)
		return admin_error(ENOENT, "no endpoint or rate group %.64s", name);
	a = n->a;
	err = parse_attrs(ad, req, &a, why, sizeof(why));
	if (!err)
		err = rate_check(ad, n, &a, why, sizeof(why));
	if (err)
		return admin_error(err, "%s", why);
	old = n->a;
	n->a = a;
	ad->engine.rates = sched_active(ad); /* the engine schedules from now on */
	err = state_save(ad);
	if (err) {
		n->a = old;
		return admin_error(err, "cannot save state: %s", strerror(-err));
	}
	log_info("rate %s: set tx_share %llu tx_max %llu tx_weight %u tx_priority %u parent %s",
		 name, (unsigned long long)a.tx_share, (unsigned long long)a.tx_max, a.tx_weight,
		 a.tx_priority, a.parent ? rate_name(a.parent) : "none");
	return rate_reply(n);
}

static struct json_object *cmd_rate_add(struct adapter *ad, struct json_object *req)
{
	const char *name = req_name(req);
	struct rate_node tmp = {.type = RATE_NODE}, *g;
	struct rate_attr a = {0};
	char why[320];
	int err;

	if (!name)
		return admin_error(EINVAL, "rate.add needs \"name\"");
	err = rate_group_name_check(ad, name);
	if (err == -EINVAL)
		return admin_error(err, "bad rate group name '%.64s': use 1-63 characters of A-Z a-z 0-9 _ . -",
				   name);
	if (err == -EEXIST)
		return admin_error(err, "%s %.64s already exists",
				   ep_find(ad, name) ? "an endpoint called" : "rate group", name);
	if (err == -ENOSPC)
		return admin_error(err, "the adapter has its maximum of %d rate groups",
				   RATE_GROUPS_MAX);
	err = parse_attrs(ad, req, &a, why, sizeof(why));
	if (err)
		return admin_error(err, "%s", why);
	snprintf(tmp.name, sizeof(tmp.name), "%s", name);
	tmp.a = a;
	err = rate_check(ad, &tmp, &a, why, sizeof(why));
	if (err)
		return admin_error(err, "%s", why);
	err = rate_group_add(ad, name, &a, &g);
	if (err)
		return admin_error(err, "cannot add rate group %s: %s", name, strerror(-err));
	ad->engine.rates = sched_active(ad); /* the engine schedules from now on */
	err = state_save(ad);
	if (err) {
		rate_group_del(ad, g);
		return admin_error(err, "cannot save state: %s", strerror(-err));
	}
	log_info("rate %s: group added", name);
	return rate_reply(g);
}

static struct json_object *cmd_rate_del(struct adapter *ad, struct json_object *req)
{
	const char *name = req_name(req);
	struct rate_node *g;
	uint32_t k;
	int err;

	if (!name)
		return admin_error(EINVAL, "rate.del needs \"name\"");
	g = rate_group_find(ad, name);
	if (!g) {
		if (ep_find(ad, name))
			return admin_error(EINVAL, "%.64s is an endpoint: its leaf goes with endpoint.del; reset it with rate.set",
					   name);
		return admin_error(ENOENT, "no rate group %.64s", name);
	}
	k = rate_nchildren(ad, g);
	if (k)
		return admin_error(EBUSY, "rate group %s has %u children: move them (rate.set ... parent) first",
				   name, k);
	rate_group_del(ad, g);
	ad->engine.rates = sched_active(ad); /* the engine schedules from now on */
	err = state_save(ad);
	if (err)
		return admin_error(err, "rate group deleted, but cannot save state: %s",
				   strerror(-err));
	log_info("rate %s: group deleted", name);
	return admin_ok();
}

#define RATE_MEMBERS_MAX 6

static const struct rate_cmd {
	const char *name;
	struct json_object *(*fn)(struct adapter *ad, struct json_object *req);
	/* Members the command takes besides "cmd" and "fds". */
	const char *members[RATE_MEMBERS_MAX];
} rate_cmds[] = {
	{"rate.show", cmd_rate_show, {"name"}},
	{"rate.set", cmd_rate_set, {"name", "tx_share", "tx_max", "tx_weight", "tx_priority", "parent"}},
	{"rate.add", cmd_rate_add, {"name", "tx_share", "tx_max", "tx_weight", "tx_priority", "parent"}},
	{"rate.del", cmd_rate_del, {"name"}},
};

struct json_object *admin_rate(struct adapter *ad, const char *cmd, struct json_object *req,
			       int nfds)
{
	for (size_t i = 0; i < sizeof(rate_cmds) / sizeof(rate_cmds[0]); i++) {
		const struct rate_cmd *c = &rate_cmds[i];
		struct json_object *bad;

		if (strcmp(cmd, c->name) != 0)
			continue;
		bad = admin_members(cmd, req, c->members, RATE_MEMBERS_MAX, nfds);
		if (bad)
			return bad;
		return c->fn(ad, req);
	}
	return NULL;
}
