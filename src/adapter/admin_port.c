/* SPDX-License-Identifier: MIT */
/*
 * The admin socket's port commands: port.add, port.del, port.show,
 * port.set (SL->VL and VL arbitration, doc/qos.md) and port.capture
 * (doc/admin-protocol.md, "Port commands"; doc/fabric.md).
 *
 * Security model: as admin.c: the caller is root or the admin group, but
 * every member is type- and range-checked (port_cfg_parse, port_qos_apply
 * and port_qos_check on a copy of the port's QoS) before anything changes;
 * a request that fails, or whose state cannot be saved, changes nothing.
 * A capture file is named by an absolute path, must not be a symlink, a
 * directory or a device, and is opened with the caller's uid and gid
 * (setfsuid), so that the admin group cannot make root-owned files say
 * what it likes.
 *
 * port.capture answers when the capture ends (admin_defer). Its context
 * lives until the port calls DONE; a client that hangs up first stops the
 * capture (capture_cancel), and port.del stops a capture of its port before
 * the port goes, so DONE never finds a freed connection or port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#include "adapter/adapter.h"
#include "adapter/admin.h"
#include "adapter/log.h"
#include "adapter/port_cfg.h"
#include "adapter/scheduler.h"
#include "adapter/state.h"

#define CAPTURE_SEC_MAX 86400		   /* a day: longer is a mistake */
#define CAPTURE_COUNT_MAX 1000000000000ull /* 10^12 packets */

/* ------------------------------------------------------------------------ */
/* Running captures (one per port). */

struct capture {
	struct capture *next;
	struct admin_conn *ac; /* who waits for the reply; NULL once gone */
	struct port *port;     /* NULL once stopped for port.del */
	char name[PORT_NAME_MAX];
	char file[PATH_MAX];
	bool started; /* port_capture_start has returned */
	bool done;    /* DONE came inside port_capture_start */
	uint64_t pkts;
	int err;
};

static struct capture *captures; /* ciovd has one adapter */

static struct capture *capture_of(const struct port *p)
{
	for (struct capture *c = captures; c; c = c->next)
		if (c->port == p)
			return c;
	return NULL;
}

static void capture_unlink(struct capture *c)
{
	for (struct capture **pp = &captures; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static struct json_object *capture_reply(const struct capture *c, uint64_t pkts, int err)
{
	struct json_object *r;

	if (err)
		r = admin_error(err, "capture on port %s to %s stopped after %llu packets: %s", c->name,
				c->file, (unsigned long long)pkts, strerror(err < 0 ? -err : err));
	else
		r = admin_ok();
	json_object_object_add(r, "packets", json_object_new_uint64(pkts));
	return r;
}

/* The port's DONE: the capture has ended (count, duration, stop, error). */
static void capture_done(void *arg, uint64_t pkts, int err)
{
	struct capture *c = arg;

	if (err == -ECANCELED) /* port_capture_stop: port.del, or the client left */
		err = 0;
	if (!c->started) { /* inside port_capture_start: it replies */
		c->done = true;
		c->pkts = pkts;
		c->err = err;
		return;
	}
	capture_unlink(c);
	log_info("port %s: capture to %s: %llu packets%s%s", c->name, c->file,
		 (unsigned long long)pkts, err ? ", " : "", err ? strerror(err < 0 ? -err : err) : "");
	if (c->ac)
		admin_complete(c->ac, capture_reply(c, pkts, err));
	free(c);
}

/* admin.c: the client hung up. DONE frees C, now or later. */
static void capture_cancel(void *arg)
{
	struct capture *c = arg;

	c->ac = NULL;
	if (c->port)
		port_capture_stop(c->port);
}

/* ------------------------------------------------------------------------ */
/* A port as JSON. */

static void mac_str(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static const char *family_str(int family)
{
	return family == AF_INET ? "inet" : "inet6";
}

static struct json_object *counters_json(const struct port_counters *cnt)
{
	struct json_object *o = json_object_new_object();

#define PORT_CNT_JSON(name, doc) json_object_object_add(o, #name, json_object_new_uint64(cnt->name));
	PORT_COUNTERS(PORT_CNT_JSON)
#undef PORT_CNT_JSON
	return o;
}

static struct json_object *table_json(const struct vlarb_table *t)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; i < t->n && i < VLARB_ENTRIES; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "vl", json_object_new_int(t->e[i].vl));
		json_object_object_add(e, "weight", json_object_new_int(t->e[i].weight));
		json_object_array_add(a, e);
	}
	return a;
}

static struct json_object *qos_json(const struct port_qos *q)
{
	struct json_object *o = json_object_new_object(), *sl2vl = json_object_new_array();

	for (unsigned sl = 0; sl < VLARB_SLS; sl++)
		json_object_array_add(sl2vl, json_object_new_int(q->sl2vl[sl]));
	json_object_object_add(o, "sl2vl", sl2vl);
	json_object_object_add(o, "vlarb_high", table_json(&q->high));
	json_object_object_add(o, "vlarb_low", table_json(&q->low));
	json_object_object_add(o, "high_limit", json_object_new_int(q->high_limit));
	return o;
}

/* "sl_bytes" and "vl_bytes": the counters of the scheduler (NULL: zeros). */
static void vl_counters_json(struct json_object *o, const struct port_vl *vl)
{
	struct json_object *sl = json_object_new_array(), *v = json_object_new_array();

	for (unsigned i = 0; i < VLARB_SLS; i++)
		json_object_array_add(sl, json_object_new_uint64(vl ? vl->sl_bytes[i] : 0));
	for (unsigned i = 0; i < VLARB_VLS; i++)
		json_object_array_add(v, json_object_new_uint64(vl ? vl->vl_bytes[i] : 0));
	json_object_object_add(o, "sl_bytes", sl);
	json_object_object_add(o, "vl_bytes", v);
}

/* Members common to open and DOWN ports. */
static struct json_object *cfg_json(const struct port_cfg *cfg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(cfg->name));
	json_object_object_add(o, "addr", json_object_new_string(cfg->addr));
	json_object_object_add(o, "family", json_object_new_string(family_str(cfg->family)));
	json_object_object_add(o, "udp", json_object_new_int(cfg->udp));
	json_object_object_add(o, "qos", qos_json(&cfg->qos));
	return o;
}

static struct json_object *port_json(struct port *p)
{
	struct json_object *o, *gids = json_object_new_array(), *g = json_object_new_object();
	const struct capture *c = capture_of(p);
	char buf[INET6_ADDRSTRLEN];
	struct port_cfg cfg;

	port_cfg_of(p, &cfg);
	o = cfg_json(&cfg);
	json_object_object_add(o, "mtu", json_object_new_int64(p->mtu));
	json_object_object_add(o, "mtu_cfg", json_object_new_int64(p->mtu_cfg));
	json_object_object_add(o, "ifname", json_object_new_string(p->ifname));
	json_object_object_add(o, "ifindex", json_object_new_int(p->ifindex));
	mac_str(p->mac, buf, sizeof(buf));
	json_object_object_add(o, "mac", json_object_new_string(buf));
	json_object_object_add(o, "state", json_object_new_string(p->up ? "ACTIVE" : "DOWN"));
	if (!inet_ntop(AF_INET6, p->gid, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	json_object_object_add(g, "index", json_object_new_int(0));
	json_object_object_add(g, "gid", json_object_new_string(buf));
	json_object_object_add(g, "type", json_object_new_string("RoCEv2"));
	json_object_array_add(gids, g);
	json_object_object_add(o, "gids", gids);
	port_rx_sync(p);
	json_object_object_add(o, "counters", counters_json(&p->cnt));
	vl_counters_json(o, &p->vl);
	json_object_object_add(o, "capture", c ? json_object_new_string(c->file) : NULL);
	return o;
}

/* A configured port that is not open: what is known, and why. */
static struct json_object *down_json(const struct port_down *d)
{
	struct json_object *o = cfg_json(&d->cfg);
	struct port_counters zero = {0};

	json_object_object_add(o, "mtu", json_object_new_int(0));
	json_object_object_add(o, "mtu_cfg", json_object_new_int64(d->cfg.mtu));
	json_object_object_add(o, "ifname", json_object_new_string(""));
	json_object_object_add(o, "ifindex", json_object_new_int(0));
	json_object_object_add(o, "mac", json_object_new_string(""));
	json_object_object_add(o, "state", json_object_new_string("DOWN"));
	json_object_object_add(o, "gids", json_object_new_array());
	json_object_object_add(o, "counters", counters_json(&zero));
	vl_counters_json(o, NULL);
	json_object_object_add(o, "capture", NULL);
	json_object_object_add(o, "error", json_object_new_string(d->why));
	return o;
}

/* ------------------------------------------------------------------------ */
/* Members of a request. */

static int get_str(struct json_object *req, const char *key, bool required, const char **out,
		   char *why, size_t wlen)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(req, key, &v)) {
		if (required)
			snprintf(why, wlen, "missing member '%s'", key);
		return required ? -EINVAL : 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, wlen, "'%s' must be a string", key);
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

/* An optional non-negative integer member; DFLT when absent. */
static int get_u64(struct json_object *req, const char *key, uint64_t dflt, uint64_t *out,
		   char *why, size_t wlen)
{
	struct json_object *v;

	*out = dflt;
	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	/* json-c keeps big positives as uint64, negatives as int64 */
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		snprintf(why, wlen, "'%s' must be a non-negative integer", key);
		return -EINVAL;
	}
	*out = json_object_get_uint64(v);
	return 0;
}

static struct port *find_port(struct adapter *ad, const char *name)
{
	return strlen(name) < PORT_NAME_MAX ? port_find(ad, name) : NULL;
}

static struct json_object *no_port(const char *name)
{
	return admin_error(ENOENT, "no port %.64s (ciovctl port show lists them)", name);
}

/* ------------------------------------------------------------------------ */
/* Commands. */

static struct json_object *port_reply(struct port *p)
{
	struct json_object *r = admin_ok();

	json_object_object_add(r, "port", port_json(p));
	return r;
}

static struct json_object *cmd_port_add(struct admin_conn *ac, struct adapter *ad,
					struct json_object *req)
{
	const char *name, *addr, *msg = NULL;
	struct port_cfg cfg;
	uint64_t udp, mtu;
	struct port *p;
	char why[320];
	int err;

	err = get_str(req, "name", true, &name, why, sizeof(why));
	if (!err)
		err = get_str(req, "addr", true, &addr, why, sizeof(why));
	if (!err)
		err = get_u64(req, "udp", PORT_CFG_UDP_DEFAULT, &udp, why, sizeof(why));
	if (!err)
		err = get_u64(req, "mtu", 0, &mtu, why, sizeof(why));
	if (!err)
		err = port_cfg_parse(name, addr, udp, mtu, &cfg, why, sizeof(why));
	if (err)
		return admin_error(err, "port.add: %s", why);
	if (find_port(ad, cfg.name))
		return admin_error(EEXIST, "port %s already exists", cfg.name);
	if (port_down_find(cfg.name))
		return admin_error(EEXIST, "port %s already exists (configured, DOWN): delete it first to change it",
				   cfg.name);
	if (port_count(ad) + port_down_count() >= PORT_MAX)
		return admin_error(ENOSPC, "the adapter has its maximum of %d ports", PORT_MAX);
	err = port_add(ad, cfg.name, cfg.addr, cfg.udp, cfg.mtu, &p, &msg);
	if (err == -EADDRNOTAVAIL)
		return admin_error(err, "cannot add port %s: %s (add the address to an interface in ciovd's network namespace first: ip addr add %s/LEN dev DEV)",
				   cfg.name, msg ? msg : "no interface has this address", cfg.addr);
	if (err)
		return admin_error(err, "cannot add port %s: %s", cfg.name, msg ? msg : strerror(-err));
	port_set_qos(p, &cfg.qos); /* the default */
	err = state_save(ad);
	if (err) {
		port_del(p);
		return admin_error(err, "cannot save state: %s", strerror(-err));
	}
	(void)ac; /* port_add logged it */
	return port_reply(p);
}

static struct json_object *cmd_port_del(struct admin_conn *ac, struct adapter *ad,
					struct json_object *req)
{
	const char *name;
	struct capture *c;
	struct port *p;
	char why[128];
	int err;

	if (get_str(req, "name", true, &name, why, sizeof(why)))
		return admin_error(EINVAL, "port.del: %s", why);
	p = find_port(ad, name);
	if (!p) {
		if (!port_down_find(name))
			return no_port(name);
		port_down_del(ad, name);
	} else {
		c = capture_of(p);
		if (c) { /* its client gets the packets so far */
			c->port = NULL;
			port_capture_stop(p);
		}
		port_del(p);
		ad->engine.rates = sched_active(ad); /* it may have been the last QoS */
	}
	err = state_save(ad);
	if (err)
		return admin_error(err, "port deleted, but cannot save state: %s", strerror(-err));
	log_info("port %s: deleted", name);
	(void)ac;
	return admin_ok();
}

static struct json_object *cmd_port_show(struct admin_conn *ac, struct adapter *ad,
					 struct json_object *req)
{
	struct json_object *arr, *r;
	const struct port_down *d;
	const char *name;
	char why[128];
	struct port *p;

	(void)ac;
	if (get_str(req, "name", false, &name, why, sizeof(why)))
		return admin_error(EINVAL, "port.show: %s", why);
	arr = json_object_new_array();
	if (name) {
		p = find_port(ad, name);
		d = p ? NULL : port_down_find(name);
		if (!p && !d) {
			json_object_put(arr);
			return no_port(name);
		}
		json_object_array_add(arr, p ? port_json(p) : down_json(d));
	} else {
		for (unsigned i = 0; i < port_count(ad); i++)
			json_object_array_add(arr, port_json(port_at(ad, i)));
		for (unsigned i = 0; i < port_down_count(); i++)
			json_object_array_add(arr, down_json(port_down_at(i)));
	}
	r = admin_ok();
	json_object_object_add(r, "ports", arr);
	return r;
}

/* The settings of port.set, in the order they are applied. */
static const char *const qos_keys[] = {"sl2vl", "vlarb_high", "vlarb_low", "high_limit"};

/* Applies member KEY of REQ, if present, to Q: 0, or -EINVAL with WHY.
 * Values are the text forms of `ciovctl port set`; high_limit may also
 * be a JSON integer. *SET tells whether it was present. */
static int apply_member(struct json_object *req, const char *key, struct port_qos *q, bool *set,
			char *why, size_t wlen)
{
	struct json_object *v;
	const char *text;
	char num[24];

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	*set = true;
	if (!strcmp(key, "high_limit") && json_object_is_type(v, json_type_int)) {
		/* json-c keeps big positives as uint64, negatives as int64 */
		if (json_object_get_int64(v) < 0) {
			snprintf(why, wlen, "high_limit: %lld is out of range 0-%d",
				 (long long)json_object_get_int64(v), VLARB_LIMIT_NONE);
			return -EINVAL;
		}
		snprintf(num, sizeof(num), "%llu", (unsigned long long)json_object_get_uint64(v));
		text = num;
	} else if (json_object_is_type(v, json_type_string)) {
		text = json_object_get_string(v);
	} else {
		snprintf(why, wlen, "'%s' must be a string%s", key,
			 strcmp(key, "high_limit") ? "" : " or an integer");
		return -EINVAL;
	}
	return port_qos_apply(q, key, text, why, wlen);
}

static struct json_object *cmd_port_set(struct admin_conn *ac, struct adapter *ad,
					struct json_object *req)
{
	char why[400], sl2vl[96], high[200], low[200];
	const struct port_down *d = NULL;
	struct port_qos q, old;
	struct port_vl old_vl;
	struct port *p;
	const char *name;
	bool set = false;
	int err;

	(void)ac;
	if (get_str(req, "name", true, &name, why, sizeof(why)))
		return admin_error(EINVAL, "port.set: %s", why);
	p = find_port(ad, name);
	if (!p) {
		d = port_down_find(name);
		if (!d)
			return no_port(name);
	}
	/* Work on a copy: the port changes only if all of it is right. */
	q = p ? p->vl.cfg : d->cfg.qos;
	for (size_t i = 0; i < sizeof(qos_keys) / sizeof(qos_keys[0]); i++) {
		err = apply_member(req, qos_keys[i], &q, &set, why, sizeof(why));
		if (err)
			return admin_error(err, "port.set %s: %s; nothing was changed", name, why);
	}
	if (!set)
		return admin_error(EINVAL, "port.set %s: nothing to set: give sl2vl, vlarb_high, vlarb_low or high_limit",
				   name);
	err = port_qos_check(&q, why, sizeof(why));
	if (err)
		return admin_error(err, "port.set %s: %s; nothing was changed", name, why);

	if (p) {
		old_vl = p->vl;
		port_set_qos(p, &q);
	} else {
		old = d->cfg.qos;
		port_down_set_qos(name, &q);
	}
	err = state_save(ad);
	if (err) {
		if (p) {
			p->vl.cfg = old_vl.cfg;
			port_vl_derive(&p->vl);
			memcpy(p->vl.deficit, old_vl.deficit, sizeof(p->vl.deficit));
			p->vl.high_run = old_vl.high_run;
		} else {
			port_down_set_qos(name, &old);
		}
		return admin_error(err, "port.set %s: cannot save state: %s; nothing was changed",
				   name, strerror(-err));
	}
	ad->engine.rates = sched_active(ad); /* the engine schedules from now on */
	port_qos_sl2vl_str(&q, sl2vl, sizeof(sl2vl));
	vlarb_table_str(&q.high, high, sizeof(high));
	vlarb_table_str(&q.low, low, sizeof(low));
	log_info("port %s%s: qos sl2vl %s vlarb_high %s vlarb_low %s high_limit %u", name,
		 p ? "" : " (DOWN)", sl2vl, high, low, q.high_limit);
	if (p)
		return port_reply(p);
	{
		struct json_object *r = admin_ok();

		json_object_object_add(r, "port", down_json(port_down_find(name)));
		return r;
	}
}

/* The capture file: absolute, not a symlink, a directory or a device. */
static int check_file(const char *file, char *why, size_t wlen)
{
	struct stat st;

	if (file[0] != '/') {
		snprintf(why, wlen, "file '%.128s' must be an absolute path (ciovd does not share your working directory)",
			 file);
		return -EINVAL;
	}
	if (strlen(file) >= PATH_MAX) {
		snprintf(why, wlen, "file path longer than %d bytes", PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	if (lstat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "%.128s exists and is not a regular file (a symlink, directory or device)",
			 file);
		return -EINVAL;
	}
	return 0;
}

/* duration: seconds, an integer or a fraction, above 0, at most a day. */
static int get_duration(struct json_object *req, uint64_t *ms, char *why, size_t wlen)
{
	struct json_object *v;
	double sec;

	*ms = 0;
	if (!json_object_object_get_ex(req, "duration", &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		goto bad;
	sec = json_object_get_double(v);
	if (!isfinite(sec) || sec < 0.001 || sec > CAPTURE_SEC_MAX)
		goto bad;
	*ms = (uint64_t)(sec * 1000 + 0.5);
	return 0;
bad:
	snprintf(why, wlen, "duration must be a number of seconds from 0.001 to %d", CAPTURE_SEC_MAX);
	return -EINVAL;
}

static struct json_object *cmd_port_capture(struct admin_conn *ac, struct adapter *ad,
					    struct json_object *req)
{
	const char *name, *file;
	uint64_t count, ms;
	struct capture *c;
	char why[320];
	struct port *p;
	uid_t uid;
	gid_t gid;
	int err, old_uid, old_gid;

	err = get_str(req, "name", true, &name, why, sizeof(why));
	if (!err)
		err = get_str(req, "file", true, &file, why, sizeof(why));
	if (!err)
		err = get_u64(req, "count", 0, &count, why, sizeof(why));
	if (!err && json_object_object_get_ex(req, "count", NULL) &&
	    (count < 1 || count > CAPTURE_COUNT_MAX)) {
		snprintf(why, sizeof(why), "count must be 1..%llu packets (leave it out for no limit)",
			 CAPTURE_COUNT_MAX);
		err = -EINVAL;
	}
	if (!err)
		err = get_duration(req, &ms, why, sizeof(why));
	if (!err)
		err = check_file(file, why, sizeof(why));
	if (err)
		return admin_error(err, "port.capture: %s", why);
	p = find_port(ad, name);
	if (!p)
		return port_down_find(name)
			       ? admin_error(ENETDOWN, "port %s is DOWN (not open): nothing to capture", name)
			       : no_port(name);
	c = capture_of(p);
	if (c)
		return admin_error(EBUSY, "port %s is already capturing to %s", p->name, c->file);
	c = calloc(1, sizeof(*c));
	if (!c)
		return admin_error(ENOMEM, "out of memory");
	c->port = p;
	snprintf(c->name, sizeof(c->name), "%s", p->name);
	snprintf(c->file, sizeof(c->file), "%s", file);
	c->next = captures;
	captures = c;
	/* The file is the caller's: created and written with its ids. */
	admin_conn_cred(ac, &uid, &gid);
	old_gid = setfsgid(gid);
	old_uid = setfsuid(uid);
	err = port_capture_start(p, file, count, ms, capture_done, c);
	setfsuid((uid_t)old_uid);
	setfsgid((gid_t)old_gid);
	c->started = true;
	if (err || c->done) {
		struct json_object *r;

		capture_unlink(c);
		if (err == -EACCES)
			r = admin_error(err, "cannot capture port %s: cannot write %s (does its directory exist, and may you write there?)",
					p->name, file);
		else if (err)
			r = admin_error(err, "cannot capture port %s to %s: %s", p->name, file,
					strerror(-err));
		else
			r = capture_reply(c, c->pkts, c->err);
		free(c);
		return r;
	}
	log_info("port %s: capturing to %s (count %llu, duration %llu ms; 0 = no limit)", p->name,
		 file, (unsigned long long)count, (unsigned long long)ms);
	c->ac = ac;
	admin_defer(ac, capture_cancel, c);
	return NULL;
}

#define PORT_MEMBERS_MAX 5

static const struct port_cmd {
	const char *name;
	struct json_object *(*fn)(struct admin_conn *ac, struct adapter *ad,
				  struct json_object *req);
	/* Members the command takes besides "cmd" and "fds". */
	const char *members[PORT_MEMBERS_MAX];
} port_cmds[] = {
	{"port.add", cmd_port_add, {"name", "addr", "udp", "mtu"}},
	{"port.del", cmd_port_del, {"name"}},
	{"port.show", cmd_port_show, {"name"}},
	{"port.set", cmd_port_set, {"name", "sl2vl", "vlarb_high", "vlarb_low", "high_limit"}},
	{"port.capture", cmd_port_capture, {"name", "file", "count", "duration"}},
};

struct json_object *admin_port(struct admin_conn *ac, struct adapter *ad, const char *cmd,
			       struct json_object *req, int nfds)
{
	for (size_t i = 0; i < sizeof(port_cmds) / sizeof(port_cmds[0]); i++) {
		const struct port_cmd *c = &port_cmds[i];
		struct json_object *bad;

		if (strcmp(cmd, c->name) != 0)
			continue;
		bad = admin_members(cmd, req, c->members, PORT_MEMBERS_MAX, nfds);
		if (bad)
			return bad;
		return c->fn(ac, ad, req);
	}
	return NULL;
}
