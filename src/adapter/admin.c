/* SPDX-License-Identifier: MIT */
/*
 * The admin socket: one JSON object per line in, one per line out.
 *
 * Security model: only root or the configured admin group get past accept,
 * but their bytes are still parsed defensively: a line is bounded
 * (ADMIN_LINE_MAX), every member is type-checked before use, fds that come
 * with a line are counted against the request's "fds" and closed on any
 * mismatch, and a client that does not read its replies is disconnected
 * once its backlog exceeds ADMIN_OUT_MAX.
 *
 * A deferred request (admin_defer: port.capture) holds its connection: the
 * lines after it wait, unread from the socket beyond what is buffered,
 * until its reply is sent; a client that hangs up meanwhile cancels it.
 * A request that saved the state file is deferred the same way until the
 * save is durable (state_writer.h), so that "ok" means "on disk".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "adapter/adapter.h"
#include "adapter/admin.h"
#include "adapter/client.h"
#include "adapter/endpoint.h"
#include "adapter/iommu.h"
#include "adapter/log.h"
#include "adapter/obj.h"
#include "adapter/qp.h"
#include "adapter/state.h"
#include "adapter/state_writer.h"
#include "common/fdmsg.h"

#define ADMIN_OUT_MAX (256u << 20) /* reply backlog before we give up on a client */
#define ADMIN_FDS_MAX 4		   /* fds pending for the next line */

struct admin_conn {
	struct loop_src src;
	struct loop_deferred reap;
	struct adapter *ad;
	char in[ADMIN_LINE_MAX + 1];
	size_t in_len;
	char *out;
	size_t out_len;
	size_t out_off;
	int fds[ADMIN_FDS_MAX];
	int nfds;
	bool dead;
	struct ucred cred;
	/* A request whose reply comes later (admin_defer). */
	bool deferred;
	void (*cancel)(void *arg);
	void *cancel_arg;
	/* Runs the lines that waited for a deferred reply (admin_complete). */
	struct loop_deferred resume;
	bool resume_pending; /* then resume, not reap, frees a dead conn */
	/* A reply held until its request's save is durable. */
	struct json_object *held;
	struct state_waiter saved;
};

struct json_object *admin_ok(void)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

struct json_object *admin_error(int err, const char *fmt, ...)
{
	struct json_object *r = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "errno", json_object_new_int(err < 0 ? -err : err));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

struct json_object *admin_members(const char *cmd, struct json_object *req,
				  const char *const *members, int n, int nfds)
{
	json_object_object_foreach(req, key, val)
	{
		bool known = !strcmp(key, "cmd") || !strcmp(key, "fds");

		for (int m = 0; m < n && members[m] && !known; m++)
			known = !strcmp(key, members[m]);
		if (!known)
			return admin_error(EINVAL, "unknown member '%.64s' for %s", key, cmd);
		(void)val;
	}
	return nfds ? admin_error(EINVAL, "%s takes no fds", cmd) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Endpoint as JSON. */

static void gid_str(const uint8_t gid[16], char *buf, size_t len)
{
	if (!inet_ntop(AF_INET6, gid, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static struct json_object *quota_json(const uint64_t *v)
{
	struct json_object *o = json_object_new_object();

	for (int q = 0; q < CIOV_QUOTA_MAX; q++)
		json_object_object_add(o, ciov_quota_name(q), json_object_new_uint64(v[q]));
	return o;
}

static const char *const wr_opcode_names[CIOV_WR_MAX] = {
#define X(n, v) [CIOV_WR_##n] = #n,
	CIOV_WR_OPCODES(X)
#undef X
};

/* Traffic counters: totals, per opcode (those used), completions by status
 * (those seen). */
static struct json_object *traffic_json(const struct qp_counters *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ops = json_object_new_object();
	struct json_object *wc = json_object_new_object();
	uint64_t t[4] = {0};

	for (int op = 0; op < CIOV_WR_MAX; op++) {
		struct json_object *one;

		t[0] += c->msgs_out[op];
		t[1] += c->bytes_out[op];
		t[2] += c->msgs_in[op];
		t[3] += c->bytes_in[op];
		if (!c->msgs_out[op] && !c->msgs_in[op])
			continue;
		one = json_object_new_object();
		json_object_object_add(one, "tx_msgs", json_object_new_uint64(c->msgs_out[op]));
		json_object_object_add(one, "tx_bytes", json_object_new_uint64(c->bytes_out[op]));
		json_object_object_add(one, "rx_msgs", json_object_new_uint64(c->msgs_in[op]));
		json_object_object_add(one, "rx_bytes", json_object_new_uint64(c->bytes_in[op]));
		json_object_object_add(ops, wr_opcode_names[op], one);
	}
	json_object_object_add(o, "tx_msgs", json_object_new_uint64(t[0]));
	json_object_object_add(o, "tx_bytes", json_object_new_uint64(t[1]));
	json_object_object_add(o, "rx_msgs", json_object_new_uint64(t[2]));
	json_object_object_add(o, "rx_bytes", json_object_new_uint64(t[3]));
	json_object_object_add(o, "rnr_waits", json_object_new_uint64(c->rnr_waits));
	json_object_object_add(o, "retries", json_object_new_uint64(c->retries));
	for (int st = 0; st <= CIOV_WC_GENERAL_ERR; st++)
		if (c->completions[st])
			json_object_object_add(wc, ciov_wc_status_str(st),
					       json_object_new_uint64(c->completions[st]));
	json_object_object_add(o, "by_opcode", ops);
	json_object_object_add(o, "completions", wc);
	return o;
}

struct json_object *admin_ep_json(const struct endpoint *ep)
{
	struct qp_counters traffic;
	struct json_object *o = json_object_new_object();
	struct json_object *owner = json_object_new_object();
	struct json_object *cnt = json_object_new_object();
	struct json_object *errs = json_object_new_object();
	uint64_t hits, misses;
	char gid[64];

	json_object_object_add(o, "name", json_object_new_string(ep->name));
	json_object_object_add(o, "id", json_object_new_uint64(ep->id));
	json_object_object_add(o, "mode", json_object_new_string(ciov_mode_str(ep->mode)));
	json_object_object_add(owner, "uid", json_object_new_uint64(ep->uid));
	json_object_object_add(owner, "gid", json_object_new_int64(ep->gid));
	json_object_object_add(o, "owner", owner);
	gid_str(ep->gid_addr, gid, sizeof(gid));
	json_object_object_add(o, "gid", json_object_new_string(gid));
	json_object_object_add(o, "quota", quota_json(ep->quota));
	json_object_object_add(o, "usage", quota_json(ep->usage));
	json_object_object_add(o, "connections", json_object_new_uint64(ep_nclients(ep)));
	json_object_object_add(cnt, "ctl_ops", json_object_new_uint64(ep->cnt.ctl_ops));
	json_object_object_add(cnt, "ctl_errors", json_object_new_uint64(ep->cnt.ctl_errors));
	for (int e = 0; e < EP_ERR_MAX; e++)
		json_object_object_add(errs, ep_error_name(e),
				       json_object_new_uint64(ep->cnt.errors[e]));
	json_object_object_add(cnt, "errors", errs);
	iommu_stats(ep->iommu, &hits, &misses);
	json_object_object_add(cnt, "iotlb_hits", json_object_new_uint64(hits));
	json_object_object_add(cnt, "iotlb_misses", json_object_new_uint64(misses));
	json_object_object_add(o, "counters", cnt);
	ep_traffic(ep, &traffic);
	json_object_object_add(o, "traffic", traffic_json(&traffic));
	{
		/* What the rate scheduler did to this endpoint. */
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "bytes_guaranteed",
				       json_object_new_uint64(ep->rate.run.bytes_guaranteed));
		json_object_object_add(r, "throttled_ms",
				       json_object_new_uint64(ep->rate.run.throttled_ns / 1000000));
		json_object_object_add(o, "qos", r);
	}
	return o;
}

/* ------------------------------------------------------------------------ */
/* Endpoint settings from a request: parsed whole before anything changes. */

struct ep_settings {
	bool has_mode, has_owner;
	enum ciov_mode mode;
	uint32_t uid;
	int64_t gid;
	bool has_quota[CIOV_QUOTA_MAX];
	uint64_t quota[CIOV_QUOTA_MAX];
};

static bool json_get_u64(struct json_object *v, uint64_t *out)
{
	/* json-c keeps big positives as uint64, negatives as int64 */
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

static int parse_owner(struct json_object *v, struct ep_settings *s, char *why, size_t wlen)
{
	uint64_t uid, gid;

	if (json_object_is_type(v, json_type_object)) {
		struct json_object *u, *g;

		if (!json_object_object_get_ex(v, "uid", &u) || !json_get_u64(u, &uid))
			goto bad;
		s->gid = EP_NO_GID;
		if (json_object_object_get_ex(v, "gid", &g)) {
			if (json_object_is_type(g, json_type_int) && json_object_get_int64(g) == -1)
				gid = (uint64_t)-1;
			else if (!json_get_u64(g, &gid))
				goto bad;
			s->gid = gid == (uint64_t)-1 ? EP_NO_GID : (int64_t)gid;
		}
	} else if (json_object_is_type(v, json_type_string)) {
		const char *str = json_object_get_string(v);
		char *end;

		if (*str < '0' || *str > '9')
			goto bad;
		errno = 0;
		uid = strtoull(str, &end, 10);
		if (errno)
			goto bad;
		s->gid = EP_NO_GID;
		if (*end == ':') {
			const char *g = end + 1;

			if (*g < '0' || *g > '9')
				goto bad;
			gid = strtoull(g, &end, 10);
			if (errno || gid > UINT32_MAX - 1)
				goto bad;
			s->gid = (int64_t)gid;
		}
		if (*end)
			goto bad;
	} else if (json_object_is_type(v, json_type_int) && json_get_u64(v, &uid)) {
		s->gid = EP_NO_GID;
	} else {
		goto bad;
	}
	if (uid > UINT32_MAX - 1 || (s->gid != EP_NO_GID && s->gid > (int64_t)UINT32_MAX - 1))
		goto bad;
	s->uid = (uint32_t)uid;
	s->has_owner = true;
	return 0;
bad:
	snprintf(why, wlen, "owner must be \"UID\" or \"UID:GID\" (numbers)");
	return -EINVAL;
}

static int parse_quota(struct json_object *v, struct ep_settings *s, char *why, size_t wlen)
{
	if (!json_object_is_type(v, json_type_object)) {
		snprintf(why, wlen, "quota must be an object of KEY: N");
		return -EINVAL;
	}
	json_object_object_foreach(v, key, val)
	{
		int q;

		for (q = 0; q < CIOV_QUOTA_MAX; q++)
			if (strcmp(key, ciov_quota_name(q)) == 0)
				break;
		if (q == CIOV_QUOTA_MAX) {
			snprintf(why, wlen, "unknown quota key '%.64s'", key);
			return -EINVAL;
		}
		if (!json_get_u64(val, &s->quota[q])) {
			snprintf(why, wlen, "quota %s must be a non-negative integer", key);
			return -EINVAL;
		}
		s->has_quota[q] = true;
	}
	return 0;
}

static int parse_settings(struct json_object *req, struct ep_settings *s, char *why, size_t wlen)
{
	memset(s, 0, sizeof(*s));
	json_object_object_foreach(req, key, val)
	{
		int err = 0;

		if (strcmp(key, "mode") == 0) {
			const char *m = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string))
				m = "";
			if (strcmp(m, "passthrough") == 0)
				s->mode = CIOV_MODE_PASSTHROUGH;
			else if (strcmp(m, "native") == 0)
				s->mode = CIOV_MODE_NATIVE;
			else {
				snprintf(why, wlen, "mode must be 'native' or 'passthrough'");
				return -EINVAL;
			}
			s->has_mode = true;
		} else if (strcmp(key, "owner") == 0) {
			err = parse_owner(val, s, why, wlen);
		} else if (strcmp(key, "quota") == 0) {
			err = parse_quota(val, s, why, wlen);
		}
		if (err)
			return err;
	}
	return 0;
}

/* Checks S against EP's current use; nothing changes on failure. */
static int settings_check(const struct endpoint *ep, const struct ep_settings *s, char *why,
			  size_t wlen)
{
	if (s->has_mode && s->mode != ep->mode && (ep->clients || ep_nobjects(ep))) {
		snprintf(why, wlen, "endpoint %s is in use: close its tenants and objects before changing the mode",
			 ep->name);
		return -EBUSY;
	}
	for (int q = 0; q < CIOV_QUOTA_MAX; q++) {
		if (s->has_quota[q] && s->quota[q] < ep->usage[q]) {
			snprintf(why, wlen, "quota %s %llu is below current usage %llu",
				 ciov_quota_name(q), (unsigned long long)s->quota[q],
				 (unsigned long long)ep->usage[q]);
			return -EBUSY;
		}
	}
	return 0;
}

static void settings_apply(struct endpoint *ep, const struct ep_settings *s)
{
	if (s->has_mode)
		ep->mode = s->mode;
	if (s->has_owner) {
		ep->uid = s->uid;
		ep->gid = s->gid;
	}
	for (int q = 0; q < CIOV_QUOTA_MAX; q++)
		if (s->has_quota[q])
			ep->quota[q] = s->quota[q];
}

/* ------------------------------------------------------------------------ */
/* Commands. */

static const char *req_name(struct json_object *req)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, "name", &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *ep_reply(struct endpoint *ep)
{
	struct json_object *r = admin_ok();

	json_object_object_add(r, "endpoint", admin_ep_json(ep));
	return r;
}

static struct json_object *cmd_endpoint_add(struct adapter *ad, struct json_object *req)
{
	const char *name = req_name(req);
	struct ep_settings s;
	struct endpoint *ep;
	char why[256];
	int err;

	if (!name)
		return admin_error(EINVAL, "endpoint.add needs \"name\"");
	err = parse_settings(req, &s, why, sizeof(why));
	if (err)
		return admin_error(err, "%s", why);
	if (ad->endpoints.used >= ad->lim.endpoints)
		return admin_error(ENOSPC, "the adapter has its maximum of %u endpoints",
				   ad->lim.endpoints);
	err = ep_create(ad, name, 0, &ep);
	if (err == -EINVAL)
		return admin_error(err, "bad endpoint name '%.64s': use 1-63 characters of A-Z a-z 0-9 _ . -",
				   name);
	if (err == -EEXIST)
		return admin_error(err, "%s %s already exists", ep_find(ad, name) ? "endpoint" : "rate group", name);
	if (err)
		return admin_error(err, "cannot create endpoint %s: %s", name, strerror(-err));
	settings_apply(ep, &s);
	err = state_save(ad);
	if (err) {
		ep_destroy(ep);
		return admin_error(err, "cannot save state: %s", strerror(-err));
	}
	log_info("endpoint %s: added (id %u, mode %s)", ep->name, ep->id, ciov_mode_str(ep->mode));
	return ep_reply(ep);
}

static struct json_object *cmd_endpoint_set(struct adapter *ad, struct json_object *req)
{
	const char *name = req_name(req);
	struct ep_settings s, old;
	struct endpoint *ep;
	char why[256];
	int err;

	if (!name)
		return admin_error(EINVAL, "endpoint.set needs \"name\"");
	ep = ep_find(ad, name);
	if (!ep)
		return admin_error(ENOENT, "no endpoint %.64s", name);
	err = parse_settings(req, &s, why, sizeof(why));
	if (!err)
		err = settings_check(ep, &s, why, sizeof(why));
	if (err)
		return admin_error(err, "%s", why);
	/* Keep the old settings to roll back if the state cannot be saved. */
	old = (struct ep_settings){.has_mode = true, .has_owner = true, .mode = ep->mode,
				   .uid = ep->uid, .gid = ep->gid};
	for (int q = 0; q < CIOV_QUOTA_MAX; q++) {
		old.has_quota[q] = true;
		old.quota[q] = ep->quota[q];
	}
	settings_apply(ep, &s);
	err = state_save(ad);
	if (err) {
		settings_apply(ep, &old);
		return admin_error(err, "cannot save state: %s", strerror(-err));
	}
	return ep_reply(ep);
}

static struct json_object *cmd_endpoint_del(struct adapter *ad, struct json_object *req)
{
	const char *name = req_name(req);
	struct json_object *v;
	struct endpoint *ep;
	bool force = false;
	int err;

	if (!name)
		return admin_error(EINVAL, "endpoint.del needs \"name\"");
	if (json_object_object_get_ex(req, "force", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return admin_error(EINVAL, "\"force\" must be true or false");
		force = json_object_get_boolean(v);
	}
	ep = ep_find(ad, name);
	if (!ep)
		return admin_error(ENOENT, "no endpoint %.64s", name);
	if (!force && (ep->clients || ep_nobjects(ep)))
		return admin_error(EBUSY,
				   "endpoint %s has %u connections and %u objects: use force to delete anyway",
				   ep->name, ep_nclients(ep), ep_nobjects(ep));
	ep_destroy(ep);
	err = state_save(ad);
	if (err)
		return admin_error(err, "endpoint deleted, but cannot save state: %s",
				   strerror(-err));
	log_info("endpoint %s: deleted", name);
	return admin_ok();
}

static struct json_object *cmd_endpoint_show(struct adapter *ad, struct json_object *req)
{
	struct json_object *r, *arr;
	struct json_object *v;
	struct endpoint *ep;
	uint32_t h = 0;

	if (json_object_object_get_ex(req, "name", &v)) {
		const char *name = req_name(req);

		if (!name)
			return admin_error(EINVAL, "\"name\" must be a string");
		ep = ep_find(ad, name);
		if (!ep)
			return admin_error(ENOENT, "no endpoint %.64s", name);
		r = admin_ok();
		arr = json_object_new_array();
		json_object_array_add(arr, admin_ep_json(ep));
		json_object_object_add(r, "endpoints", arr);
		return r;
	}
	r = admin_ok();
	arr = json_object_new_array();
	while ((ep = pool_next(&ad->endpoints, &h)))
		json_object_array_add(arr, admin_ep_json(ep));
	json_object_object_add(r, "endpoints", arr);
	return r;
}

static struct json_object *cmd_qp_show(struct adapter *ad, struct json_object *req)
{
	struct json_object *v, *r, *arr;
	const struct obj *o;
	struct endpoint *ep;
	uint32_t h = 0;

	if (!json_object_object_get_ex(req, "endpoint", &v) ||
	    !json_object_is_type(v, json_type_string))
		return admin_error(EINVAL, "qp.show needs \"endpoint\"");
	ep = ep_find(ad, json_object_get_string(v));
	if (!ep)
		return admin_error(ENOENT, "no endpoint %.64s", json_object_get_string(v));
	arr = json_object_new_array();
	while ((o = pool_next(&ep->obj[CIOV_OBJ_QP], &h))) {
		const struct qp *qp = container_of(o, struct qp, obj);
		struct json_object *q = json_object_new_object();

		json_object_object_add(q, "handle", json_object_new_uint64(o->handle));
		json_object_object_add(q, "qpn", json_object_new_uint64(qp->qpn));
		json_object_object_add(q, "type", json_object_new_string(qp->type == CIOV_QPT_RC ? "rc" : "ud"));
		json_object_object_add(q, "state", json_object_new_string(ciov_qp_state_str(qp->state)));
		json_object_object_add(q, "requester", json_object_new_string(req_state_str(qp->x.req.state)));
		json_object_object_add(q, "dest_qpn", json_object_new_uint64(qp->attr.dest_qp_num));
		json_object_object_add(q, "sl", json_object_new_int(qp->attr.ah_attr.sl));
		json_object_object_add(q, "provisioned", json_object_new_boolean(o->owner == NULL));
		json_object_object_add(q, "traffic", traffic_json(&qp->x.cnt));
		json_object_array_add(arr, q);
	}
	r = admin_ok();
	json_object_object_add(r, "qps", arr);
	return r;
}

static struct json_object *cmd_adapter_show(struct adapter *ad, struct json_object *req)
{
	struct json_object *r = admin_ok();
	struct json_object *a = json_object_new_object();
	struct json_object *l = json_object_new_object();

	json_object_object_add(a, "version", json_object_new_string(CIOV_VERSION));
	json_object_object_add(a, "abi", json_object_new_int(CIOV_ABI_VERSION));
	json_object_object_add(a, "endpoints", json_object_new_uint64(ad->endpoints.used));
	json_object_object_add(a, "connections", json_object_new_uint64(ad->nconns));
	json_object_object_add(l, "endpoints", json_object_new_uint64(ad->lim.endpoints));
	json_object_object_add(l, "connections", json_object_new_uint64(ad->lim.connections));
	json_object_object_add(l, "max_sge", json_object_new_uint64(ad->lim.max_sge));
	json_object_object_add(l, "max_inline", json_object_new_uint64(ad->lim.max_inline));
	json_object_object_add(l, "max_qp_wr", json_object_new_uint64(ad->lim.max_qp_wr));
	json_object_object_add(l, "max_cqe", json_object_new_uint64(ad->lim.max_cqe));
	json_object_object_add(l, "max_mr_size", json_object_new_uint64(ad->lim.max_mr_size));
	json_object_object_add(a, "limits", l);
	{
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "qps", json_object_new_uint64(ad->engine.nqps));
		json_object_object_add(e, "asleep", json_object_new_boolean(ad->engine.asleep));
		json_object_object_add(e, "passes", json_object_new_uint64(ad->engine.passes));
		json_object_object_add(e, "wakeups", json_object_new_uint64(ad->engine.wakeups));
		json_object_object_add(e, "sleeps", json_object_new_uint64(ad->engine.sleeps));
		json_object_object_add(a, "engine", e);
	}
	json_object_object_add(r, "adapter", a);
	return r;
}

#define ADMIN_MEMBERS_MAX 6

static const struct admin_cmd {
	const char *name;
	struct json_object *(*fn)(struct adapter *ad, struct json_object *req);
	/* Members the command takes besides "cmd" and "fds". */
	const char *members[ADMIN_MEMBERS_MAX];
} admin_cmds[] = {
	{"endpoint.add", cmd_endpoint_add, {"name", "mode", "owner", "quota"}},
	{"endpoint.set", cmd_endpoint_set, {"name", "mode", "owner", "quota"}},
	{"endpoint.del", cmd_endpoint_del, {"name", "force"}},
	{"endpoint.show", cmd_endpoint_show, {"name"}},
	{"adapter.show", cmd_adapter_show, {NULL}},
	{"qp.show", cmd_qp_show, {"endpoint"}},
};

/* NULL when every member of REQ is one CMD takes, else the first that is
 * not. */
static const char *unknown_member(const struct admin_cmd *cmd, struct json_object *req)
{
	json_object_object_foreach(req, key, val)
	{
		bool known = !strcmp(key, "cmd") || !strcmp(key, "fds");

		for (int i = 0; i < ADMIN_MEMBERS_MAX && cmd->members[i] && !known; i++)
			known = !strcmp(key, cmd->members[i]);
		if (!known)
			return key;
		(void)val;
	}
	return NULL;
}

/* Runs one request line; takes the pending fds. */
static struct json_object *admin_run(struct admin_conn *ac, const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req, *v, *rep = NULL;
	const char *cmd;
	int64_t want_fds = 0;
	int nfds = ac->nfds;

	ac->nfds = 0;
	req = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
	if (!req || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(req, json_type_object)) {
		rep = admin_error(EINVAL, "request is not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string)) {
		rep = admin_error(EINVAL, "request needs a string member \"cmd\"");
		goto out;
	}
	cmd = json_object_get_string(v);
	if (json_object_object_get_ex(req, "fds", &v))
		want_fds = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
	if (want_fds != nfds) {
		rep = admin_error(EINVAL, "request says %lld fds, %d came with it",
				  (long long)want_fds, nfds);
		goto out;
	}
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		if (strcmp(cmd, admin_cmds[i].name) == 0) {
			const char *bad = unknown_member(&admin_cmds[i], req);

			if (bad) {
				rep = admin_error(EINVAL, "unknown member '%.64s' for %s", bad, cmd);
				goto out;
			}
			if (nfds) {
				rep = admin_error(EINVAL, "%s takes no fds", cmd);
				goto out;
			}
			rep = admin_cmds[i].fn(ac->ad, req);
			goto out;
		}
	}
	rep = admin_rate(ac->ad, cmd, req, nfds);
	if (rep)
		goto out;
	rep = admin_port(ac, ac->ad, cmd, req, nfds);
	if (rep || ac->deferred)
		goto out;
	rep = admin_provision(ac->ad, cmd, req, ac->fds, nfds);
	nfds = 0; /* handed over */
	if (!rep)
		rep = admin_error(EINVAL, "unknown command '%.64s'", cmd);
out:
	fdmsg_close_all(ac->fds, nfds);
	json_object_put(req);
	if (tok)
		json_tokener_free(tok);
	return rep;
}

/* ------------------------------------------------------------------------ */
/* Connection handling. */

static void admin_reap(struct loop_deferred *d)
{
	struct admin_conn *ac = container_of(d, struct admin_conn, reap);

	free(ac->out);
	free(ac);
}

static void admin_kill(struct admin_conn *ac)
{
	if (ac->dead)
		return;
	ac->dead = true;
	if (ac->deferred) {
		/* The client is gone: its command stops and forgets AC. */
		ac->deferred = false;
		ac->cancel(ac->cancel_arg);
	}
	loop_del(&ac->ad->loop, &ac->src);
	ac->src.fn = NULL;
	close(ac->src.fd);
	fdmsg_close_all(ac->fds, ac->nfds);
	ac->nfds = 0;
	ac->ad->nadmin--;
	if (ac->resume_pending)
		return; /* admin_resume frees it */
	ac->reap.fn = admin_reap;
	loop_defer(&ac->ad->loop, &ac->reap);
}

/* Writes what is pending; returns -errno to drop the connection. */
static int admin_flush(struct admin_conn *ac)
{
	while (ac->out_off < ac->out_len) {
		ssize_t n = send(ac->src.fd, ac->out + ac->out_off, ac->out_len - ac->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		ac->out_off += (size_t)n;
	}
	if (ac->out_off == ac->out_len)
		ac->out_off = ac->out_len = 0;
	/* Backpressure: while replies are pending, read no more requests. */
	return loop_mod(&ac->ad->loop, &ac->src, ac->out_len ? EPOLLOUT : EPOLLIN);
}

static int admin_queue(struct admin_conn *ac, struct json_object *rep)
{
	size_t len;
	const char *s = json_object_to_json_string_length(rep, JSON_C_TO_STRING_PLAIN, &len);
	char *out;

	if (ac->out_len + len + 1 > ADMIN_OUT_MAX) {
		json_object_put(rep);
		return -ENOBUFS;
	}
	out = realloc(ac->out, ac->out_len + len + 1);
	if (!out) {
		json_object_put(rep);
		return -ENOMEM;
	}
	memcpy(out + ac->out_len, s, len);
	out[ac->out_len + len] = '\n';
	ac->out = out;
	ac->out_len += len + 1;
	json_object_put(rep);
	return 0;
}

/* The save a held reply waited for is durable (ERR 0) or failed: the
 * change is made, in memory, either way. */
static void held_saved(void *arg, int err)
{
	struct admin_conn *ac = arg;
	struct json_object *rep = ac->held;

	ac->held = NULL;
	if (err) {
		json_object_put(rep);
		rep = admin_error(-err, "applied, but the state file could not be saved: %s",
				  strerror(-err));
	}
	admin_complete(ac, rep);
}

static void held_cancel(void *arg)
{
	struct admin_conn *ac = arg;

	state_writer_unwait(&ac->saved);
	json_object_put(ac->held);
	ac->held = NULL;
}

/* Handles every complete line in the input buffer, up to a deferred one. */
static int admin_lines(struct admin_conn *ac)
{
	char *nl;

	while (ac->out_len == 0 && !ac->deferred && (nl = memchr(ac->in, '\n', ac->in_len))) {
		size_t len = (size_t)(nl - ac->in);
		uint64_t saves = state_writer_last();
		struct json_object *rep = admin_run(ac, ac->in, len);
		int err;

		memmove(ac->in, nl + 1, ac->in_len - len - 1);
		ac->in_len -= len + 1;
		if (rep && state_writer_last() != saves) {
			/* It saved: the reply waits for the disk. */
			ac->held = rep;
			admin_defer(ac, held_cancel, ac);
			state_writer_wait(&ac->saved, state_writer_last(), held_saved, ac);
			if (!ac->deferred)
				continue; /* already durable: replied */
			rep = NULL;
		}
		if (!rep) /* deferred: only a hang-up (EPOLLHUP, EPOLLERR) wakes us */
			return loop_mod(&ac->ad->loop, &ac->src, 0);
		err = admin_queue(ac, rep);
		if (err)
			return err;
		err = admin_flush(ac);
		if (err)
			return err;
	}
	if (!ac->deferred && ac->in_len >= ADMIN_LINE_MAX) {
		/* No way to find the next line: reply, then hang up. */
		admin_queue(ac, admin_error(EMSGSIZE, "request line longer than %u bytes",
					    ADMIN_LINE_MAX));
		admin_flush(ac);
		return -EMSGSIZE;
	}
	return 0;
}

static int admin_read(struct admin_conn *ac)
{
	int fds[ADMIN_FDS_MAX];
	int nfds;
	ssize_t n;

	n = fdmsg_recv(ac->src.fd, ac->in + ac->in_len, ADMIN_LINE_MAX - ac->in_len, fds,
		       ADMIN_FDS_MAX - ac->nfds, &nfds);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0)
		return n ? (int)n : -ECONNRESET;
	memcpy(ac->fds + ac->nfds, fds, sizeof(int) * (size_t)nfds);
	ac->nfds += nfds;
	ac->in_len += (size_t)n;
	return admin_lines(ac);
}

static void admin_event(struct loop_src *src, uint32_t events)
{
	struct admin_conn *ac = container_of(src, struct admin_conn, src);
	int err = 0;

	if (ac->deferred) {
		/* Polled for nothing but a hang-up: a client that only shut
		 * down its writing side still waits for the reply. */
		if (events & (EPOLLHUP | EPOLLERR))
			admin_kill(ac);
		return;
	}
	if (events & EPOLLOUT) {
		err = admin_flush(ac);
		if (!err && ac->out_len == 0)
			err = admin_lines(ac); /* requests left while we waited */
	}
	if (!err && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && ac->out_len == 0)
		err = admin_read(ac);
	if (err)
		admin_kill(ac);
}

static void admin_resume(struct loop_deferred *d)
{
	struct admin_conn *ac = container_of(d, struct admin_conn, resume);

	ac->resume_pending = false;
	if (ac->dead) {
		admin_reap(&ac->reap);
		return;
	}
	/* Not while ciovd shuts down (adapter_fini runs the deferred work). */
	if (!ac->ad->loop.stop && ac->out_len == 0 && admin_lines(ac))
		admin_kill(ac);
}

void admin_defer(struct admin_conn *ac, void (*cancel)(void *arg), void *arg)
{
	ac->deferred = true;
	ac->cancel = cancel;
	ac->cancel_arg = arg;
}

void admin_complete(struct admin_conn *ac, struct json_object *rep)
{
	int err;

	if (ac->dead) { /* cannot happen: cancel came first */
		json_object_put(rep);
		return;
	}
	ac->deferred = false;
	ac->cancel = NULL;
	err = admin_queue(ac, rep);
	if (!err)
		err = admin_flush(ac); /* polls EPOLLIN again, or EPOLLOUT */
	if (err) {
		admin_kill(ac);
		return;
	}
	/* The lines that waited run from the loop, not from the caller's
	 * stack (a port callback, maybe inside port_del). */
	if (!ac->resume_pending) {
		ac->resume_pending = true;
		ac->resume.fn = admin_resume;
		loop_defer(&ac->ad->loop, &ac->resume);
	}
}

void admin_conn_cred(const struct admin_conn *ac, uid_t *uid, gid_t *gid)
{
	*uid = ac->cred.uid;
	*gid = ac->cred.gid;
}

static bool admin_allowed(const struct adapter *ad, const struct ucred *cr)
{
	return cr->uid == 0 || (ad->has_admin_gid && cr->gid == ad->admin_gid);
}

void admin_accept(struct loop_src *src, uint32_t events)
{
	struct listener *l = container_of(src, struct listener, src);
	struct adapter *ad = l->ad;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct admin_conn *ac;
	int fd;

	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || !admin_allowed(ad, &cr) ||
	    ad->nadmin >= ad->lim.admin_conns) {
		static const char msg[] =
			"{\"ok\":false,\"errno\":1,\"error\":\"admin socket: permission denied or too many admin connections\"}\n";

		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("admin: refused client went away");
		close(fd);
		return;
	}
	ac = calloc(1, sizeof(*ac));
	if (!ac) {
		close(fd);
		return;
	}
	ac->ad = ad;
	ac->cred = cr;
	ac->src.fd = fd;
	ac->src.fn = admin_event;
	if (loop_add(&ad->loop, &ac->src, EPOLLIN) < 0) {
		close(fd);
		free(ac);
		return;
	}
	ad->nadmin++;
	(void)events;
}
