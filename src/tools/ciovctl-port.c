/* SPDX-License-Identifier: MIT */
/*
 * ciovctl port: the adapter's fabric ports (port.* of
 * doc/admin-protocol.md, doc/fabric.md): add, del, show, set (SL->VL and
 * VL arbitration, doc/qos.md), and capture to a pcap file.
 *
 * Values are checked for form here (a number is a number) and for range
 * by ciovd, which has the rules. The values of set go to ciovd as text:
 * its one parser (vlarb_cfg.c) checks them, as it checks the state file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ciovctl.h"

/* A decimal number for udp and mtu (ciovd checks the range). */
static int parse_num(struct ctl *c, const char *key, const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return ctl_usage_error(c, "%s '%s' is not a number", key, s);
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > INT64_MAX)
		return ctl_usage_error(c, "%s '%s' is not a number", key, s);
	return CTL_OK;
}

/* The arguments after NAME of add: addr IP [udp PORT] [mtu N]. */
static int parse_add(struct ctl *c, struct json_object *req, int argc, char **argv)
{
	bool has_addr = false;

	for (int i = 0; i < argc; i++) {
		const char *k = argv[i];
		uint64_t v = 0;
		int rc;

		if (strcmp(k, "addr") && strcmp(k, "udp") && strcmp(k, "mtu"))
			return ctl_usage_error(c, "unknown argument '%s'", k);
		if (i + 1 >= argc)
			return ctl_usage_error(c, "%s needs a value", k);
		i++;
		if (!strcmp(k, "addr")) {
			json_object_object_add(req, "addr", json_object_new_string(argv[i]));
			has_addr = true;
			continue;
		}
		rc = parse_num(c, k, argv[i], &v);
		if (rc != CTL_OK)
			return rc;
		json_object_object_add(req, k, json_object_new_int64((int64_t)v));
	}
	if (!has_addr)
		return ctl_usage_error(c, "which address? give addr IP (an address of an interface, 10.0.0.1 or fd00::1)");
	return CTL_OK;
}

static int port_add(struct ctl *c, int argc, char **argv)
{
	if (argc < 1)
		return ctl_usage_error(c, "which port? NAME is missing");
	return admin_send_attrs(c, "port.add", argv[0], argc - 1, argv + 1, parse_add, "port");
}

static int port_del(struct ctl *c, int argc, char **argv)
{
	struct json_object *req;

	if (argc < 1)
		return ctl_usage_error(c, "which port? NAME is missing");
	if (argc > 1)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[1]);
	req = named_request("port.del", argv[0]);
	if (!req)
		return CTL_FAILED;
	return admin_send(c, req, NULL);
}

/* p0  state ACTIVE  addr 10.0.0.1  udp 4791  mtu 1024  netdev veth0  mac ...
 * One line that does not wrap, so that `grep ^NAME` finds the port. */
static void print_header(struct json_object *p)
{
	int64_t mtu_cfg = json_int(p, "mtu_cfg", 0);
	const char *ifname = json_str(p, "ifname", "");

	printf("%s  state %s  addr %s  udp %lld  mtu ", json_str(p, "name", "?"),
	       json_str(p, "state", "?"), json_str(p, "addr", "?"),
	       (long long)json_int(p, "udp", 0));
	if (json_int(p, "mtu", 0) > 0)
		printf("%lld", (long long)json_int(p, "mtu", 0));
	else
		printf("-");
	if (mtu_cfg > 0)
		printf(" (asked %lld)", (long long)mtu_cfg);
	if (*ifname)
		printf("  netdev %s  mac %s", ifname, json_str(p, "mac", "-"));
	putchar('\n');
}

/* "SL:VL,..." of the qos member's sl2vl array. */
static void print_sl2vl(struct json_object *a)
{
	if (!json_object_is_type(a, json_type_array))
		return;
	printf("    sl2vl ");
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf("%s%zu:%lld", i ? "," : "", i,
		       (long long)json_object_get_int64(json_object_array_get_idx(a, i)));
	putchar('\n');
}

/* KEY "VL:W,..." (or "none") of a qos member's table, as one item. */
static void line_table(struct ctl_line *l, struct json_object *qos, const char *key)
{
	struct json_object *t = json_member(qos, key);
	char buf[256];
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; json_object_is_type(t, json_type_array) &&
			   i < json_object_array_length(t) && o < sizeof(buf); i++) {
		struct json_object *e = json_object_array_get_idx(t, i);

		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%lld:%lld", i ? "," : "",
				      (long long)json_int(e, "vl", 0), (long long)json_int(e, "weight", 0));
	}
	line_item(l, "%s %s", key, buf[0] ? buf : "none");
}

/* LABEL then "INDEX:BYTES" for the nonzero counters of array KEY; no line
 * when all are zero. */
static void print_nonzero(struct json_object *p, const char *key)
{
	struct json_object *a = json_member(p, key);
	struct ctl_line l;
	bool started = false;

	for (size_t i = 0; json_object_is_type(a, json_type_array) &&
			   i < json_object_array_length(a); i++) {
		uint64_t v = json_object_get_uint64(json_object_array_get_idx(a, i));
		char buf[32];

		if (!v)
			continue;
		if (!started)
			line_start(&l, stdout, 4, key);
		started = true;
		format_size(buf, sizeof(buf), v);
		line_item(&l, "%zu:%s", i, buf);
	}
	if (started)
		line_end(&l);
}

static void print_qos(struct json_object *p)
{
	struct json_object *qos = json_member(p, "qos");
	struct ctl_line l;

	if (!json_object_is_type(qos, json_type_object))
		return;
	print_sl2vl(json_member(qos, "sl2vl"));
	line_start(&l, stdout, 4, "vlarb");
	line_table(&l, qos, "vlarb_high");
	line_table(&l, qos, "vlarb_low");
	line_item(&l, "high_limit %lld", (long long)json_int(qos, "high_limit", 0));
	line_end(&l);
	print_nonzero(p, "sl_bytes");
	print_nonzero(p, "vl_bytes");
}

static void print_port(struct json_object *p)
{
	struct json_object *gids = json_member(p, "gids");
	struct json_object *counters = json_member(p, "counters");
	const char *capture = json_str(p, "capture", NULL);
	const char *error = json_str(p, "error", NULL);
	struct ctl_line l;

	print_header(p);
	if (error)
		printf("    error  %s\n", error);
	for (size_t i = 0; json_object_is_type(gids, json_type_array) &&
			   i < json_object_array_length(gids); i++) {
		struct json_object *g = json_object_array_get_idx(gids, i);

		printf("    gid %lld  %s  %s\n", (long long)json_int(g, "index", 0),
		       json_str(g, "gid", "?"), json_str(g, "type", "?"));
	}
	if (capture)
		printf("    capturing to %s\n", capture);
	if (json_object_is_type(counters, json_type_object)) {
		line_start(&l, stdout, 4, "counters");
		line_scalars(&l, counters);
		line_end(&l);
	}
	print_qos(p);
}

static int port_show(struct ctl *c, int argc, char **argv)
{
	return admin_show_list(c, argc, argv, "port.show", "ports", print_port);
}

/* The arguments after NAME of set: KEY VALUE pairs of the QoS keys, each
 * at most once, at least one. */
static int parse_set(struct ctl *c, struct json_object *req, int argc, char **argv)
{
	static const char *const keys[] = {"sl2vl", "vlarb_high", "vlarb_low", "high_limit"};

	if (argc < 1)
		return ctl_usage_error(c, "nothing to set: give sl2vl, vlarb_high, vlarb_low or high_limit");
	for (int i = 0; i < argc; i++) {
		const char *k = argv[i];
		bool known = false;

		for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			known = known || !strcmp(k, keys[j]);
		if (!known)
			return ctl_usage_error(c, "unknown argument '%s' (sl2vl, vlarb_high, vlarb_low, high_limit)", k);
		if (i + 1 >= argc)
			return ctl_usage_error(c, "%s needs a value", k);
		if (json_object_object_get_ex(req, k, NULL))
			return ctl_usage_error(c, "%s is given twice", k);
		i++;
		json_object_object_add(req, k, json_object_new_string(argv[i]));
	}
	return CTL_OK;
}

static int port_set(struct ctl *c, int argc, char **argv)
{
	if (argc < 1)
		return ctl_usage_error(c, "which port? NAME is missing");
	return admin_send_attrs(c, "port.set", argv[0], argc - 1, argv + 1, parse_set, "port");
}

/* SEC: seconds, decimals allowed ("1", "0.5"); ciovd checks the range. */
static int parse_duration(struct ctl *c, const char *s, double *sec)
{
	char *end;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return ctl_usage_error(c, "duration '%s' is not a number of seconds", s);
	errno = 0;
	*sec = strtod(s, &end);
	if (errno || *end || !isfinite(*sec))
		return ctl_usage_error(c, "duration '%s' is not a number of seconds", s);
	return CTL_OK;
}

/* FILE as ciovd needs it: absolute (ciovd has its own working directory). */
static int absolute_file(struct ctl *c, const char *file, char *out, size_t size)
{
	char cwd[PATH_MAX];
	int n;

	if (!*file)
		return ctl_usage_error(c, "FILE is empty");
	if (file[0] == '/') {
		n = snprintf(out, size, "%s", file);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			ctl_err("cannot find the working directory for '%s': %s; give an absolute path",
				file, strerror(errno));
			return CTL_FAILED;
		}
		n = snprintf(out, size, "%s/%s", strcmp(cwd, "/") ? cwd : "", file);
	}
	if (n < 0 || (size_t)n >= size)
		return ctl_usage_error(c, "FILE '%s' is too long", file);
	return CTL_OK;
}

/* capture NAME FILE [count N] [duration SEC]: returns when it is done. */
static int port_capture(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply;
	char file[PATH_MAX];
	double sec = -1;
	int rc;

	if (argc < 1)
		return ctl_usage_error(c, "which port? NAME is missing");
	if (argc < 2)
		return ctl_usage_error(c, "where to? FILE is missing");
	rc = absolute_file(c, argv[1], file, sizeof(file));
	if (rc != CTL_OK)
		return rc;
	req = named_request("port.capture", argv[0]);
	if (!req)
		return CTL_FAILED;
	json_object_object_add(req, "file", json_object_new_string(file));
	for (int i = 2; i < argc && rc == CTL_OK; i++) {
		const char *k = argv[i];
		uint64_t n;

		if (strcmp(k, "count") && strcmp(k, "duration")) {
			rc = ctl_usage_error(c, "unknown argument '%s'", k);
		} else if (i + 1 >= argc) {
			rc = ctl_usage_error(c, "%s needs a value", k);
		} else if (!strcmp(k, "count")) {
			i++;
			if (args_parse_u64(argv[i], &n) < 0)
				rc = ctl_usage_error(c, "count '%s' is not a number", argv[i]);
			else
				json_object_object_add(req, "count", json_object_new_int64((int64_t)n));
		} else {
			i++;
			rc = parse_duration(c, argv[i], &sec);
			if (rc == CTL_OK)
				json_object_object_add(req, "duration",
						       sec < 1e15 && sec == (double)(int64_t)sec
							       ? json_object_new_int64((int64_t)sec)
							       : json_object_new_double(sec));
		}
	}
	if (rc != CTL_OK) {
		json_object_put(req);
		return rc;
	}
	/* ciovd answers when the capture ends: after DURATION, or never
	 * before COUNT packets came (Ctrl-C stops it). */
	c->timeout_sec = sec >= 0 && sec < 86400 ? (int)sec + 61 : -1;
	rc = admin_call(c, req, &reply);
	json_object_put(req);
	if (rc != CTL_OK)
		return rc;
	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "packets",
				       json_object_new_int64(json_int(reply, "packets", 0)));
		json_object_object_add(o, "file", json_object_new_string(file));
		print_json(c, o);
		json_object_put(o);
	} else {
		int64_t n = json_int(reply, "packets", 0);

		printf("%lld packet%s captured to %s\n", (long long)n, n == 1 ? "" : "s", file);
	}
	json_object_put(reply);
	return CTL_OK;
}

static void port_notes(FILE *f)
{
	fputs("IP    := an address of an interface in ciovd's network namespace (10.0.0.1, fd00::1)\n"
	      "PORT  := the UDP port to speak RoCEv2 on, 1..65535 (default 4791)\n"
	      "N     := mtu: 256, 512, 1024, 2048 or 4096 (default: the largest the link carries);\n"
	      "         count: packets, then stop; high_limit: 4 KiB units of high priority\n"
	      "         before one low-priority turn, 0..255, 255 = no limit (default 4)\n"
	      "SEC   := seconds, then stop (decimals allowed). Without count or duration a\n"
	      "         capture runs until interrupted (Ctrl-C).\n"
	      "SL:VL := service level 0..15 : data VL 0..7; the SLs listed change (default:\n"
	      "         every SL on VL 0)\n"
	      "VL:W  := VL 0..7 : weight 0..255 in 64-byte units, at most 32 entries; \"none\" empties\n"
	      "         the table (default: vlarb_high none, vlarb_low 0:255). Every VL sl2vl\n"
	      "         uses needs a nonzero weight in a table.\n",
	      f);
}

static const struct ctl_cmd port_cmds[] = {
	{"add", NULL, port_add, "NAME addr IP [udp PORT] [mtu N]"},
	{"del", "delete", port_del, "NAME"},
	{"show", "list", port_show, "[NAME]"},
	{"set", NULL, port_set,
	 "NAME [sl2vl SL:VL,...] [vlarb_high VL:W,...|none] [vlarb_low VL:W,...|none] [high_limit N]"},
	{"capture", NULL, port_capture, "NAME FILE [count N] [duration SEC]"},
	{NULL, NULL, NULL, NULL},
};

const struct ctl_object port_object = {
	.name = "port",
	.alias = NULL,
	.cmds = port_cmds,
	.dflt = "show",
	.notes = port_notes,
};
