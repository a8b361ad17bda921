/* SPDX-License-Identifier: MIT */
/*
 * Fabric ports in state.json (root member "ports", saved with the
 * endpoints) and the ports that are configured but not open (port_cfg.h).
 * A port whose QoS is not the default has a member "qos" holding the text
 * forms `ciovctl port set` takes ({"sl2vl": "0:0,...", "vlarb_high":
 * "none", "vlarb_low": "0:255", "high_limit": 4}), parsed back by the
 * admin socket's parser (vlarb_cfg.c).
 *
 * Security model: as state.c: the file is ciovd's own but parsed
 * defensively; an entry of the wrong type, out of range, with a bad name
 * or address, a duplicate name, or more than PORT_MAX entries stops ciovd
 * rather than being half-applied. A file without "ports" (an older
 * ciovd's) restores with no port, a port without "qos" (idem) with the
 * default QoS; a "qos" that port set would refuse stops ciovd too. A
 * well-formed port that cannot be opened (its address is not on any
 * interface yet, its UDP port is taken) does not stop ciovd: it is logged,
 * kept in the configuration as DOWN with its QoS, and retried (port_cfg.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "adapter/adapter.h"
#include "adapter/log.h"
#include "adapter/port_cfg.h"
#include "adapter/scheduler.h"
#include "adapter/state.h"

/* ciovd has one adapter: its DOWN ports and their retry timer. */
static struct {
	struct adapter *ad;
	struct port_down list[PORT_MAX];
	unsigned n;
	struct loop_src timer; /* timerfd, armed while n > 0; fn NULL when closed */
} down;

/* ------------------------------------------------------------------------ */
/* The configuration of one port. */

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

int port_cfg_parse(const char *name, const char *addr, uint64_t udp, uint64_t mtu,
		   struct port_cfg *cfg, char *why, size_t wlen)
{
	size_t len = strlen(name);
	uint8_t ip[16];

	memset(cfg, 0, sizeof(*cfg));
	port_qos_default(&cfg->qos);
	if (len == 0 || len >= PORT_NAME_MAX || name[0] == '-' || name[0] == '.')
		goto bad_name;
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			goto bad_name;
	memcpy(cfg->name, name, len + 1);

	if (inet_pton(AF_INET, addr, ip) == 1) {
		cfg->family = AF_INET;
		if (ip[0] == 0 || ip[0] >= 224 || ip[0] == 127) {
			snprintf(why, wlen, "address %.64s is not a unicast address an interface can carry (no 0.x, 127.x, multicast or broadcast)",
				 addr);
			return -EINVAL;
		}
	} else if (inet_pton(AF_INET6, addr, ip) == 1) {
		static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
		static const uint8_t zero[16];

		cfg->family = AF_INET6;
		if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
			snprintf(why, wlen, "address %.64s is IPv4-mapped: give the IPv4 address itself",
				 addr);
			return -EINVAL;
		}
		if (memcmp(ip, zero, 16) == 0 || ip[0] == 0xff ||
		    (memcmp(ip, zero, 15) == 0 && ip[15] == 1)) {
			snprintf(why, wlen, "address %.64s is not a unicast address an interface can carry (no ::, ::1 or multicast)",
				 addr);
			return -EINVAL;
		}
	} else {
		snprintf(why, wlen, "address '%.64s' is not an IPv4 or IPv6 address (10.0.0.1, fd00::1)",
			 addr);
		return -EINVAL;
	}
	inet_ntop(cfg->family, ip, cfg->addr, sizeof(cfg->addr));

	if (udp < 1 || udp > 65535) {
		snprintf(why, wlen, "udp %llu is not a UDP port: 1..65535 (RoCEv2's is 4791)",
			 (unsigned long long)udp);
		return -EINVAL;
	}
	cfg->udp = (uint16_t)udp;
	if (mtu != 0 && mtu != 256 && mtu != 512 && mtu != 1024 && mtu != 2048 && mtu != 4096) {
		snprintf(why, wlen, "mtu %llu is not an IB MTU: 256, 512, 1024, 2048 or 4096",
			 (unsigned long long)mtu);
		return -EINVAL;
	}
	cfg->mtu = (uint32_t)mtu;
	return 0;
bad_name:
	snprintf(why, wlen, "bad port name '%.64s': use 1-%d characters of A-Z a-z 0-9 _ . -, not starting with - or .",
		 name, PORT_NAME_MAX - 1);
	return -EINVAL;
}

void port_cfg_of(const struct port *p, struct port_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->name, sizeof(cfg->name), "%s", p->name);
	cfg->family = p->family;
	if (!inet_ntop(p->family, p->addr, cfg->addr, sizeof(cfg->addr)))
		snprintf(cfg->addr, sizeof(cfg->addr), "?");
	cfg->udp = p->udp_port;
	cfg->mtu = p->mtu_cfg;
	cfg->qos = p->vl.cfg;
}

void port_set_qos(struct port *p, const struct port_qos *q)
{
	p->vl.cfg = *q;
	port_vl_derive(&p->vl);
	/* The arbiter starts a fresh round; the byte counters stay. */
	memset(p->vl.deficit, 0, sizeof(p->vl.deficit));
	p->vl.high_run = 0;
}

/* ------------------------------------------------------------------------ */
/* DOWN ports. */

unsigned port_down_count(void)
{
	return down.n;
}

const struct port_down *port_down_at(unsigned i)
{
	return i < down.n ? &down.list[i] : NULL;
}

const struct port_down *port_down_find(const char *name)
{
	for (unsigned i = 0; i < down.n; i++)
		if (strcmp(down.list[i].cfg.name, name) == 0)
			return &down.list[i];
	return NULL;
}

static void down_remove(unsigned i)
{
	memmove(&down.list[i], &down.list[i + 1], (down.n - i - 1) * sizeof(down.list[0]));
	down.n--;
}

static void timer_close(void)
{
	if (!down.timer.fn)
		return;
	loop_del(&down.ad->loop, &down.timer);
	close(down.timer.fd);
	down.timer.fn = NULL;
}

int port_down_set_qos(const char *name, const struct port_qos *q)
{
	for (unsigned i = 0; i < down.n; i++) {
		if (strcmp(down.list[i].cfg.name, name) == 0) {
			down.list[i].cfg.qos = *q;
			return 0;
		}
	}
	return -ENOENT;
}

void port_down_del(struct adapter *ad, const char *name)
{
	for (unsigned i = 0; i < down.n; i++) {
		if (strcmp(down.list[i].cfg.name, name) == 0) {
			down_remove(i);
			break;
		}
	}
	if (down.n == 0)
		timer_close();
	(void)ad;
}

/* Tries to open D; true when it did. */
static bool down_try(struct adapter *ad, struct port_down *d, bool quiet)
{
	const char *msg = NULL;
	struct port *p;
	int err;

	err = port_add(ad, d->cfg.name, d->cfg.addr, d->cfg.udp, d->cfg.mtu, &p, &msg);
	if (!err) { /* port_add logged it */
		port_set_qos(p, &d->cfg.qos);
		return true;
	}
	/* Log a reason once, not at every retry. */
	if (!quiet || err != d->err)
		log_warn("port %s: cannot open on %s: %s; kept DOWN, retried every %d ms",
			 d->cfg.name, d->cfg.addr, msg ? msg : strerror(-err), PORT_CFG_RETRY_MS);
	d->err = err;
	snprintf(d->why, sizeof(d->why), "%s", msg ? msg : strerror(-err));
	return false;
}

static void timer_fired(struct loop_src *src, uint32_t events)
{
	uint64_t ticks;
	bool opened = false;

	if (read(src->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("port retry timer: %s", strerror(errno));
	for (unsigned i = 0; i < down.n;) {
		if (down_try(down.ad, &down.list[i], true)) {
			down_remove(i);
			opened = true;
		} else {
			i++;
		}
	}
	if (opened) /* its QoS may need the scheduler */
		down.ad->engine.rates = sched_active(down.ad);
	if (down.n == 0)
		timer_close();
	(void)events;
}

static int timer_open(struct adapter *ad)
{
	struct itimerspec its = {
		.it_interval = {.tv_sec = PORT_CFG_RETRY_MS / 1000,
				.tv_nsec = (PORT_CFG_RETRY_MS % 1000) * 1000000L},
	};
	int fd, err;

	if (down.timer.fn)
		return 0;
	its.it_value = its.it_interval;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	down.timer.fd = fd;
	down.timer.fn = timer_fired;
	err = loop_add(&ad->loop, &down.timer, EPOLLIN);
	if (err) {
		close(fd);
		down.timer.fn = NULL;
	}
	return err;
}

void state_port_fini(struct adapter *ad)
{
	if (down.ad == ad) {
		timer_close();
		down.n = 0;
	}
}

/* ------------------------------------------------------------------------ */
/* The state file. */

static struct json_object *cfg_json(const struct port_cfg *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "addr", json_object_new_string(c->addr));
	json_object_object_add(o, "udp", json_object_new_int(c->udp));
	json_object_object_add(o, "mtu", json_object_new_int64(c->mtu));
	if (!port_qos_is_default(&c->qos)) {
		struct json_object *q = json_object_new_object();
		char buf[256];

		port_qos_sl2vl_str(&c->qos, buf, sizeof(buf));
		json_object_object_add(q, "sl2vl", json_object_new_string(buf));
		vlarb_table_str(&c->qos.high, buf, sizeof(buf));
		json_object_object_add(q, "vlarb_high", json_object_new_string(buf));
		vlarb_table_str(&c->qos.low, buf, sizeof(buf));
		json_object_object_add(q, "vlarb_low", json_object_new_string(buf));
		json_object_object_add(q, "high_limit", json_object_new_int(c->qos.high_limit));
		json_object_object_add(o, "qos", q);
	}
	return o;
}

struct json_object *state_ports_json(struct adapter *ad)
{
	struct json_object *arr = json_object_new_array();
	struct port_cfg c;

	for (unsigned i = 0; i < port_count(ad); i++) {
		port_cfg_of(port_at(ad, i), &c);
		json_object_array_add(arr, cfg_json(&c));
	}
	for (unsigned i = 0; i < down.n; i++)
		json_object_array_add(arr, cfg_json(&down.list[i].cfg));
	return arr;
}

/* Member KEY of O: a string. */
static int get_str(struct json_object *o, const char *key, const char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	*out = json_object_get_string(v);
	return 0;
}

/* Member KEY of O: a non-negative integer; DFLT when absent. */
static int get_num(struct json_object *o, const char *key, uint64_t dflt, uint64_t *out)
{
	struct json_object *v;

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

/*
 * Member "qos" of port entry O, if any, onto Q (the default): every member
 * through port_qos_apply, then port_qos_check, as port.set does.
 */
static int get_qos(struct json_object *o, struct port_qos *q, char *why, size_t wlen)
{
	static const char *const keys[] = {"sl2vl", "vlarb_high", "vlarb_low", "high_limit"};
	struct json_object *qo;
	int err;

	if (!json_object_object_get_ex(o, "qos", &qo))
		return 0;
	if (!json_object_is_type(qo, json_type_object)) {
		snprintf(why, wlen, "qos is not an object");
		return -EINVAL;
	}
	json_object_object_foreach(qo, key, val)
	{
		char num[24];
		const char *text;
		bool known = false;

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			known = known || !strcmp(key, keys[k]);
		if (!known) {
			snprintf(why, wlen, "qos: unknown member '%.32s'", key);
			return -EINVAL;
		}
		if (!strcmp(key, "high_limit") && json_object_is_type(val, json_type_int)) {
			int64_t v = json_object_get_int64(val);

			if (v < 0 || v > VLARB_LIMIT_NONE) {
				snprintf(why, wlen, "qos: high_limit %lld is out of range 0-%d",
					 (long long)v, VLARB_LIMIT_NONE);
				return -EINVAL;
			}
			snprintf(num, sizeof(num), "%lld", (long long)v);
			text = num;
		} else if (json_object_is_type(val, json_type_string)) {
			text = json_object_get_string(val);
		} else {
			snprintf(why, wlen, "qos: %s is not a string", key);
			return -EINVAL;
		}
		err = port_qos_apply(q, key, text, why, wlen);
		if (err)
			return err;
	}
	return port_qos_check(q, why, wlen);
}

int state_port_load(struct adapter *ad, struct json_object *root)
{
	struct port_cfg cfgs[PORT_MAX];
	struct json_object *arr;
	char why[256];
	size_t n;
	int err;

	down.ad = ad;
	down.n = 0;
	if (!json_object_object_get_ex(root, "ports", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		log_err("state: ports is not an array");
		return -EINVAL;
	}
	n = json_object_array_length(arr);
	if (n > PORT_MAX) {
		log_err("state: %zu ports, at most %d", n, PORT_MAX);
		return -EINVAL;
	}
	/* Check every entry before opening any. */
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *name, *addr;
		uint64_t udp, mtu;

		if (!json_object_is_type(o, json_type_object) || get_str(o, "name", &name) ||
		    get_str(o, "addr", &addr) || get_num(o, "udp", PORT_CFG_UDP_DEFAULT, &udp) ||
		    get_num(o, "mtu", 0, &mtu)) {
			log_err("state: port #%zu: needs name and addr (strings), udp and mtu (integers)",
				i);
			return -EINVAL;
		}
		err = port_cfg_parse(name, addr, udp, mtu, &cfgs[i], why, sizeof(why));
		if (err) {
			log_err("state: port #%zu: %s", i, why);
			return err;
		}
		err = get_qos(o, &cfgs[i].qos, why, sizeof(why));
		if (err) {
			log_err("state: port %s: %s", cfgs[i].name, why);
			return err;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfgs[j].name, cfgs[i].name) == 0) {
				log_err("state: port %s appears twice", cfgs[i].name);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct port_down *d = &down.list[down.n];

		d->cfg = cfgs[i];
		d->err = 0;
		if (!down_try(ad, d, false))
			down.n++;
	}
	if (down.n) {
		err = timer_open(ad);
		if (err)
			log_err("state: cannot arm the port retry timer: %s; DOWN ports stay down",
				strerror(-err));
	}
	log_info("state: %zu ports configured, %u open", n, port_count(ad));
	return 0;
}
