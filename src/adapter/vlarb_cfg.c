/* SPDX-License-Identifier: MIT */
/*
 * A port's SL->VL table and VL arbitration tables as text (vlarb.h): the
 * one parser of `ciovctl port set` (admin_port.c) and of the state file
 * (state_port.c), and the forms `port show` prints.
 *
 * Security model: the text comes from the admin socket or a file and is
 * hostile until checked. Numbers are plain decimal (digits only: no sign,
 * no space, no hex, no leading zero), bounded before they are stored (SL
 * 0-15, VL 0-7, weight 0-255, high_limit 0-255), a table has at most
 * VLARB_ENTRIES entries, a value at most QOS_VALUE_MAX bytes, and nothing
 * may follow the last entry. Messages quote the bad token, truncated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "adapter/vlarb.h"

/* The longest value accepted: 32 entries of "7:255," are 192 bytes. */
#define QOS_VALUE_MAX 256
/* How much of a bad token a message quotes. */
#define TOKEN_QUOTE 24

void port_qos_default(struct port_qos *q)
{
	memset(q, 0, sizeof(*q));
	q->low.n = 1;
	q->low.e[0].vl = 0;
	q->low.e[0].weight = VLARB_WEIGHT_MAX;
	q->high_limit = VLARB_LIMIT_DEFAULT;
}

static bool table_eq(const struct vlarb_table *a, const struct vlarb_table *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (a->e[i].vl != b->e[i].vl || a->e[i].weight != b->e[i].weight)
			return false;
	return true;
}

bool port_qos_is_default(const struct port_qos *q)
{
	struct port_qos d;

	port_qos_default(&d);
	return memcmp(q->sl2vl, d.sl2vl, sizeof(d.sl2vl)) == 0 && table_eq(&q->high, &d.high) &&
	       table_eq(&q->low, &d.low) && q->high_limit == d.high_limit;
}

/*
 * The decimal number S[0..LEN) into *OUT if it is at most MAX: 0, or
 * -EINVAL with WHY ("KEY: WHAT 'S' ..."). WHAT names the field (SL, VL).
 */
static int parse_dec(const char *key, const char *what, const char *s, size_t len,
		     unsigned max, unsigned *out, char *why, size_t wlen)
{
	unsigned v = 0;

	if (len == 0) {
		snprintf(why, wlen, "%s: %s is missing", key, what);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, wlen, "%s: %s '%.*s' is not a decimal number", key, what,
				 (int)(len < TOKEN_QUOTE ? len : TOKEN_QUOTE), s);
			return -EINVAL;
		}
	}
	if (len > 1 && s[0] == '0') {
		snprintf(why, wlen, "%s: %s '%.*s' has a leading zero (write it in plain decimal)",
			 key, what, (int)(len < TOKEN_QUOTE ? len : TOKEN_QUOTE), s);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max) {
			snprintf(why, wlen, "%s: %s %.*s is out of range 0-%u", key, what,
				 (int)(len < TOKEN_QUOTE ? len : TOKEN_QUOTE), s, max);
			return -EINVAL;
		}
	}
	*out = v;
	return 0;
}

/*
 * Calls FN for each "A:B" entry of VALUE (comma-separated, none empty),
 * with A and B checked against AMAX and BMAX; stops at FN's error.
 */
static int parse_pairs(const char *key, const char *value, const char *aname, unsigned amax,
		       const char *bname, unsigned bmax,
		       int (*fn)(void *arg, unsigned a, unsigned b, const char *tok, size_t toklen,
				 char *why, size_t wlen),
		       void *arg, char *why, size_t wlen)
{
	const char *s = value;

	if (!*value) {
		snprintf(why, wlen, "%s: the value is empty", key);
		return -EINVAL;
	}
	if (strlen(value) > QOS_VALUE_MAX) {
		snprintf(why, wlen, "%s: the value is longer than %d bytes", key, QOS_VALUE_MAX);
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(s, ","), alen;
		const char *colon = memchr(s, ':', len);
		unsigned a, b;
		int err;

		if (len == 0) {
			snprintf(why, wlen, "%s: empty entry in '%.*s' (entries are %s:%s, separated by commas)",
				 key, TOKEN_QUOTE * 2, value, aname, bname);
			return -EINVAL;
		}
		if (!colon) {
			snprintf(why, wlen, "%s: entry '%.*s' is not %s:%s", key,
				 (int)(len < TOKEN_QUOTE ? len : TOKEN_QUOTE), s, aname, bname);
			return -EINVAL;
		}
		alen = (size_t)(colon - s);
		err = parse_dec(key, aname, s, alen, amax, &a, why, wlen);
		if (!err)
			err = parse_dec(key, bname, colon + 1, len - alen - 1, bmax, &b, why, wlen);
		if (!err)
			err = fn(arg, a, b, s, len, why, wlen);
		if (err)
			return err;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

struct sl2vl_ctx {
	struct port_qos *q;
	uint16_t seen; /* SLs given so far (bit per SL) */
};

static int sl2vl_entry(void *arg, unsigned sl, unsigned vl, const char *tok, size_t toklen,
		       char *why, size_t wlen)
{
	struct sl2vl_ctx *c = arg;

	if (c->seen & (1u << sl)) {
		snprintf(why, wlen, "sl2vl: SL %u is given twice ('%.*s')", sl,
			 (int)(toklen < TOKEN_QUOTE ? toklen : TOKEN_QUOTE), tok);
		return -EINVAL;
	}
	c->seen |= (uint16_t)(1u << sl);
	c->q->sl2vl[sl] = (uint8_t)vl;
	return 0;
}

struct table_ctx {
	const char *key;
	struct vlarb_table t;
};

static int table_entry(void *arg, unsigned vl, unsigned weight, const char *tok, size_t toklen,
		       char *why, size_t wlen)
{
	struct table_ctx *c = arg;

	if (c->t.n == VLARB_ENTRIES) {
		snprintf(why, wlen, "%s: more than %d entries (at '%.*s')", c->key, VLARB_ENTRIES,
			 (int)(toklen < TOKEN_QUOTE ? toklen : TOKEN_QUOTE), tok);
		return -EINVAL;
	}
	c->t.e[c->t.n].vl = (uint8_t)vl;
	c->t.e[c->t.n].weight = (uint8_t)weight;
	c->t.n++;
	return 0;
}

int port_qos_apply(struct port_qos *q, const char *key, const char *value, char *why,
		   size_t wlen)
{
	if (!key || !value) {
		snprintf(why, wlen, "a key and a value are needed");
		return -EINVAL;
	}
	if (!strcmp(key, "sl2vl")) {
		struct sl2vl_ctx c = {.q = q};

		return parse_pairs(key, value, "SL", VLARB_SLS - 1, "VL", VLARB_VLS - 1, sl2vl_entry,
				   &c, why, wlen);
	}
	if (!strcmp(key, "vlarb_high") || !strcmp(key, "vlarb_low")) {
		struct table_ctx c = {.key = key};
		int err = 0;

		/* The whole table is replaced: unused entries stay zero, so
		 * that equal tables compare equal. */
		if (strcmp(value, "none") != 0)
			err = parse_pairs(key, value, "VL", VLARB_VLS - 1, "weight", VLARB_WEIGHT_MAX,
					  table_entry, &c, why, wlen);
		if (err)
			return err;
		*(!strcmp(key, "vlarb_high") ? &q->high : &q->low) = c.t;
		return 0;
	}
	if (!strcmp(key, "high_limit")) {
		size_t len = strlen(value);
		unsigned v;
		int err;

		if (len > QOS_VALUE_MAX) {
			snprintf(why, wlen, "high_limit: the value is longer than %d bytes",
				 QOS_VALUE_MAX);
			return -EINVAL;
		}
		err = parse_dec(key, "value", value, len, VLARB_LIMIT_NONE, &v, why, wlen);
		if (err)
			return err;
		q->high_limit = (uint8_t)v;
		return 0;
	}
	snprintf(why, wlen, "unknown QoS key '%.*s' (sl2vl, vlarb_high, vlarb_low, high_limit)",
		 TOKEN_QUOTE, key);
	return -EINVAL;
}

/* The total weight VL has in T. */
static unsigned table_weight(const struct vlarb_table *t, unsigned vl)
{
	unsigned w = 0;

	for (unsigned i = 0; i < t->n && i < VLARB_ENTRIES; i++)
		if (t->e[i].vl == vl)
			w += t->e[i].weight;
	return w;
}

int port_qos_check(const struct port_qos *q, char *why, size_t wlen)
{
	const struct vlarb_table *tables[2] = {&q->high, &q->low};
	uint16_t bad_sls = 0;
	unsigned bad_vl = 0;

	for (unsigned k = 0; k < 2; k++) {
		if (tables[k]->n > VLARB_ENTRIES) {
			snprintf(why, wlen, "%s: more than %d entries", k ? "vlarb_low" : "vlarb_high",
				 VLARB_ENTRIES);
			return -EINVAL;
		}
		for (unsigned i = 0; i < tables[k]->n; i++) {
			if (tables[k]->e[i].vl >= VLARB_VLS) {
				snprintf(why, wlen, "%s: VL %u is out of range 0-%d",
					 k ? "vlarb_low" : "vlarb_high", tables[k]->e[i].vl,
					 VLARB_VLS - 1);
				return -EINVAL;
			}
		}
	}
	for (unsigned sl = 0; sl < VLARB_SLS; sl++) {
		unsigned vl = q->sl2vl[sl];

		if (vl >= VLARB_VLS) {
			snprintf(why, wlen, "sl2vl: SL %u maps to VL %u, out of range 0-%d", sl, vl,
				 VLARB_VLS - 1);
			return -EINVAL;
		}
		/* IBA 7.6.9: a VL no table gives weight to is never served. */
		if (table_weight(&q->high, vl) || table_weight(&q->low, vl))
			continue;
		if (!bad_sls)
			bad_vl = vl;
		if (vl == bad_vl) /* name the SLs of the first such VL */
			bad_sls |= (uint16_t)(1u << sl);
	}
	if (bad_sls) {
		char sls[64]; /* 16 SLs "15," at most: 47 bytes */
		size_t o = 0;

		sls[0] = 0;
		for (unsigned sl = 0; sl < VLARB_SLS; sl++)
			if (bad_sls & (1u << sl))
				o += (size_t)snprintf(sls + o, sizeof(sls) - o, "%s%u", o ? "," : "", sl);
		snprintf(why, wlen, "sl2vl: SL %s map%s to VL %u, which neither vlarb_high nor vlarb_low gives a nonzero weight, so it would never be served: add it to a table (e.g. an entry %u:64 in vlarb_low) or map the SL elsewhere",
			 sls, strchr(sls, ',') ? "" : "s", bad_vl, bad_vl);
		return -EINVAL;
	}
	return 0;
}

void port_qos_sl2vl_str(const struct port_qos *q, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	out[0] = 0;
	for (unsigned sl = 0; sl < VLARB_SLS && o < len; sl++)
		o += (size_t)snprintf(out + o, len - o, "%s%u:%u", sl ? "," : "", sl, q->sl2vl[sl]);
}

void vlarb_table_str(const struct vlarb_table *t, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	if (t->n == 0) {
		snprintf(out, len, "none");
		return;
	}
	out[0] = 0;
	for (unsigned i = 0; i < t->n && i < VLARB_ENTRIES && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%u:%u", i ? "," : "", t->e[i].vl,
				      t->e[i].weight);
}
