/* SPDX-License-Identifier: MIT */
/*
 * ciovctl rate: the QoS rate objects, devlink-rate style (rate.* of
 * doc/admin-protocol.md): a leaf per endpoint and named groups, with
 * tx_share, tx_max, tx_weight, tx_priority and a parent group.
 *
 * RATE values take tc's (and so devlink's) units; a bare number is bit/s.
 * ciovd speaks bytes/s.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "ciovctl.h"

/* tc's rate suffixes (iproute2 get_rate64), matched without case: bits/s
 * or BYTES/s ("bps"), SI (1000) or IEC (1024) multiples. */
static const struct rate_unit {
	const char *name;
	double bits; /* bits/s per unit */
} rate_units[] = {
	{"bit", 1.},
	{"kbit", 1e3},
	{"mbit", 1e6},
	{"gbit", 1e9},
	{"tbit", 1e12},
	{"kibit", 1024.},
	{"mibit", 1024. * 1024},
	{"gibit", 1024. * 1024 * 1024},
	{"tibit", 1024. * 1024 * 1024 * 1024},
	{"bps", 8.},
	{"kbps", 8e3},
	{"mbps", 8e6},
	{"gbps", 8e9},
	{"tbps", 8e12},
	{"kibps", 8. * 1024},
	{"mibps", 8. * 1024 * 1024},
	{"gibps", 8. * 1024 * 1024 * 1024},
	{"tibps", 8. * 1024 * 1024 * 1024 * 1024},
	{NULL, 0},
};

static void print_units(FILE *f)
{
	for (const struct rate_unit *u = rate_units; u->name; u++)
		fprintf(f, "%s%s", u == rate_units ? "" : ", ", u->name);
}

/* RATE (tc units) in bytes/s: 0, -EINVAL (not a rate), -ERANGE (beyond
 * 64 bits, or a non-zero rate below 1 byte/s). */
static int parse_rate(const char *s, uint64_t *bytes)
{
	const struct rate_unit *u;
	double bits;
	char *end;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return -EINVAL; /* no sign, no "inf", no "nan" */
	errno = 0;
	bits = strtod(s, &end);
	if (end == s || errno)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (*end) {
		for (u = rate_units; u->name; u++)
			if (!strcasecmp(end, u->name))
				break;
		if (!u->name)
			return -EINVAL;
		bits *= u->bits;
	}
	if (!isfinite(bits) || bits / 8 >= 18446744073709551616.0)
		return -ERANGE;
	*bytes = (uint64_t)(bits / 8);
	if (bits > 0 && *bytes == 0)
		return -ERANGE;
	return 0;
}

/* BYTES/s the way tc prints rates: bits with the largest unit that is
 * exact (SI first, then IEC), else 4 significant digits ("1.235Gbit"). */
static void format_rate(char *buf, size_t size, uint64_t bytes)
{
	static const char *const prefix[] = {"", "K", "M", "G", "T", "P"};
	unsigned __int128 bits = (unsigned __int128)bytes * 8;
	int si = 0, iec = 0;
	unsigned __int128 a = bits, b = bits;
	double d = (double)bits;

	if (bits == 0) {
		snprintf(buf, size, "0");
		return;
	}
	while (si < 5 && a % 1000 == 0) {
		a /= 1000;
		si++;
	}
	while (iec < 5 && b % 1024 == 0) {
		b /= 1024;
		iec++;
	}
	if (si && si >= iec) {
		snprintf(buf, size, "%llu%sbit", (unsigned long long)a, prefix[si]);
	} else if (iec) {
		snprintf(buf, size, "%llu%sibit", (unsigned long long)b, prefix[iec]);
	} else if (bits < 1000) {
		snprintf(buf, size, "%llubit", (unsigned long long)bits);
	} else {
		si = 0;
		while (si < 5 && d >= 1000) {
			d /= 1000;
			si++;
		}
		snprintf(buf, size, "%.4g%sbit", d, prefix[si]);
	}
}

static int parse_small(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

/* The arguments after NAME of add and set, into REQ. */
static int parse_attrs(struct ctl *c, struct json_object *req, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *k = argv[i];
		uint64_t v;
		int err;

		if (!strcmp(k, "noparent")) {
			json_object_object_add(req, "parent", NULL);
			continue;
		}
		if (strcmp(k, "tx_share") && strcmp(k, "tx_max") && strcmp(k, "tx_weight") &&
		    strcmp(k, "tx_priority") && strcmp(k, "parent"))
			return ctl_usage_error(c, "unknown argument '%s'", k);
		if (i + 1 >= argc)
			return ctl_usage_error(c, "%s needs a value", k);
		i++;
		if (!strcmp(k, "parent")) {
			json_object_object_add(req, "parent", json_object_new_string(argv[i]));
			continue;
		}
		if (!strcmp(k, "tx_share") || !strcmp(k, "tx_max")) {
			err = parse_rate(argv[i], &v);
			if (err == -ERANGE)
				return ctl_usage_error(c, "%s '%s' is out of range: 0 (not set), or from 8bit (1 byte/s) up",
						       k, argv[i]);
			if (err) {
				fprintf(stderr, "ciovctl: %s '%s' is not a rate: give a number and one of the units ",
					k, argv[i]);
				print_units(stderr);
				fputs(" (bit: bits/s, bps: BYTES/s; k m g t: powers of 1000,"
				      " ki mi gi ti: of 1024; a bare number is bits/s)\n",
				      stderr);
				return CTL_USAGE;
			}
		} else if (parse_small(argv[i], UINT32_MAX, &v)) {
			return ctl_usage_error(c, "%s '%s' is not a number", k, argv[i]);
		}
		json_object_object_add(req, k, json_object_new_uint64(v));
	}
	return CTL_OK;
}

static int rate_change(struct ctl *c, const char *cmd, int argc, char **argv)
{
	if (argc < 1)
		return ctl_usage_error(c, "which %s? NAME is missing",
				       strcmp(cmd, "rate.add") ? "endpoint or group" : "group");
	if (!strcmp(cmd, "rate.set") && argc < 2)
		return ctl_usage_error(c, "nothing to set: give tx_share, tx_max, tx_weight, tx_priority, parent or noparent");
	return admin_send_attrs(c, cmd, argv[0], argc - 1, argv + 1, parse_attrs, "rate");
}

static int rate_set(struct ctl *c, int argc, char **argv)
{
	return rate_change(c, "rate.set", argc, argv);
}

static int rate_add(struct ctl *c, int argc, char **argv)
{
	return rate_change(c, "rate.add", argc, argv);
}

static int rate_del(struct ctl *c, int argc, char **argv)
{
	struct json_object *req;

	if (argc < 1)
		return ctl_usage_error(c, "which group? NAME is missing");
	if (argc > 1)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[1]);
	req = named_request("rate.del", argv[0]);
	if (!req)
		return CTL_FAILED;
	return admin_send(c, req, NULL);
}

/* vm1  type leaf  tx_share 1Gbit  tx_max 2Gbit  tx_weight 3  tx_priority 1  parent g1
 * (devlink prints the attributes that are set; so do we). */
static void print_rate(struct json_object *r)
{
	struct ctl_line l;
	const char *parent = json_str(r, "parent", NULL);
	char buf[64];

	line_start(&l, stdout, 0, json_str(r, "name", "?"));
	line_item(&l, "type %s", json_str(r, "type", "?"));
	if (json_int(r, "tx_share", 0) > 0) {
		format_rate(buf, sizeof(buf), (uint64_t)json_int(r, "tx_share", 0));
		line_item(&l, "tx_share %s", buf);
	}
	if (json_int(r, "tx_max", 0) > 0) {
		format_rate(buf, sizeof(buf), (uint64_t)json_int(r, "tx_max", 0));
		line_item(&l, "tx_max %s", buf);
	}
	if (json_int(r, "tx_weight", 0) > 0)
		line_item(&l, "tx_weight %lld", (long long)json_int(r, "tx_weight", 0));
	if (json_int(r, "tx_priority", 0) > 0)
		line_item(&l, "tx_priority %lld", (long long)json_int(r, "tx_priority", 0));
	if (parent)
		line_item(&l, "parent %s", parent);
	line_end(&l);
}

static int rate_show(struct ctl *c, int argc, char **argv)
{
	return admin_show_list(c, argc, argv, "rate.show", "rates", print_rate);
}

static void rate_notes(FILE *f)
{
	fputs("RATE  := a number with a unit (tc's and devlink's): ", f);
	print_units(f);
	fputs("\n         bit = bits/s, bps = BYTES/s; k m g t = powers of 1000,\n"
	      "         ki mi gi ti = powers of 1024; any case; a bare number is bits/s.\n"
	      "         0 = not set. ciovd accepts up to 1tbit.\n"
	      "N     := tx_weight 1..100 (0 = default), tx_priority 0..7 (higher first)\n",
	      f);
}

static const struct ctl_cmd rate_cmds[] = {
	{"show", "list", rate_show, "[ENDPOINT|GROUP]"},
	{"set", NULL, rate_set,
	 "ENDPOINT|GROUP [tx_share RATE] [tx_max RATE] [tx_weight N] [tx_priority N] [parent GROUP|noparent]"},
	{"add", NULL, rate_add,
	 "GROUP [tx_share RATE] [tx_max RATE] [tx_weight N] [tx_priority N] [parent GROUP|noparent]"},
	{"del", "delete", rate_del, "GROUP"},
	{NULL, NULL, NULL, NULL},
};

const struct ctl_object rate_object = {
	.name = "rate",
	.alias = NULL,
	.cmds = rate_cmds,
	.dflt = "show",
	.notes = rate_notes,
};
