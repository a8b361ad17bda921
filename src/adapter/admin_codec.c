/* SPDX-License-Identifier: MIT */
/*
 * JSON <-> struct codec driven by struct codec_struct tables.
 *
 * Security model: the JSON comes from an admin client, which is trusted to
 * manage the adapter but not to be well-formed. Every member is type- and
 * range-checked against the table before it is stored; an unknown member
 * fails the request instead of being ignored (a misspelt member must not
 * provision something else than was meant); a member name echoed in a
 * message is truncated; bytes are written only at table offsets, and the
 * tables are checked against abi.h at build time (admin_codec.h). Nesting
 * is bounded by the tables, not by the input.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter/admin_codec.h"

#define CODEC_PATH_MAX 160 /* "attr.ah_attr.dgid" and a truncated unknown name */
#define CODEC_NAME_MAX 32  /* longest name in a name table, lowercased */

struct dec {
	const char *ctx; /* the command, for messages */
	char *why;
	size_t wlen;
};

/* ------------------------------------------------------------------------ */
/* Storage: members are accessed with memcpy (the buffer is aligned, but a
 * table entry must not be able to cause an unaligned access). */

static void put_uint(void *buf, const struct codec_field *f, uint64_t v)
{
	uint8_t *p = (uint8_t *)buf + f->off;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (f->size) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	case 8:
		memcpy(p, &v, 8);
		break;
	}
}

static uint64_t get_uint(const void *buf, const struct codec_field *f)
{
	const uint8_t *p = (const uint8_t *)buf + f->off;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v = 0;

	switch (f->size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	case 8:
		memcpy(&v, p, 8);
		return v;
	}
	return 0;
}

static uint64_t width_max(uint32_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* A JSON integer, or a string of decimal or 0x-hex digits (for 64-bit
 * addresses that some JSON libraries cannot hold exactly), in 0..MAX. */
static bool json_uint(struct json_object *v, uint64_t max, uint64_t *out)
{
	uint64_t x;

	if (json_object_is_type(v, json_type_int)) {
		/* json-c keeps big positives as uint64, negatives as int64 */
		if (json_object_get_int64(v) < 0)
			return false;
		x = json_object_get_uint64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;

		/* strtoull would accept spaces and signs: demand a digit */
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		x = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
		if (errno || *end)
			return false;
	} else {
		return false;
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Name tables. */

static const struct codec_name *name_find(const struct codec_names *t, const char *s)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].name, s) == 0)
			return &t->v[i];
	return NULL;
}

static const struct codec_name *value_find(const struct codec_names *t, uint64_t v)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].value == v)
			return &t->v[i];
	return NULL;
}

/* "a, b, c" (truncated to LEN). */
static const char *names_list(const struct codec_names *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < t->n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", t->v[i].name);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return buf;
}

static const char *lower(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Decode. */

static int bad(struct dec *d, const char *path, const char *must, const char *what)
{
	snprintf(d->why, d->wlen, "bad member '%s' for %s: must be %s%s", path, d->ctx, must,
		 what);
	return -EINVAL;
}

static int dec_struct(struct dec *d, const struct codec_struct *s, struct json_object *obj,
		      void *buf, const char *prefix, const char *const *skip);

static int dec_enum(struct dec *d, const struct codec_field *f, struct json_object *v,
		    uint64_t *out, const char *path)
{
	const struct codec_names *t = f->names;
	const struct codec_name *n = NULL;
	char list[256];
	uint64_t x;

	if (t->numeric && json_uint(v, UINT64_MAX, &x)) {
		for (uint32_t i = 0; i < t->n && !n; i++)
			if (strtoull(t->v[i].name, NULL, 10) == x)
				n = &t->v[i];
	} else if (!t->numeric && json_object_is_type(v, json_type_string)) {
		n = name_find(t, json_object_get_string(v));
	}
	if (!n)
		return bad(d, path, "one of ", names_list(t, list, sizeof(list)));
	*out = n->value;
	return 0;
}

static int dec_flags(struct dec *d, const struct codec_field *f, struct json_object *v,
		     uint64_t *out, const char *path)
{
	const struct codec_names *t = f->names;
	uint64_t max = width_max(f->size);
	char list[256];
	size_t len;

	if (json_uint(v, max, out))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(d, path, "a number or a list of ", names_list(t, list, sizeof(list)));
	*out = 0;
	len = json_object_array_length(v);
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const struct codec_name *n = NULL;

		if (json_object_is_type(e, json_type_string))
			n = name_find(t, json_object_get_string(e));
		if (!n) {
			snprintf(d->why, d->wlen, "bad member '%s' for %s: '%.32s' is not one of %s",
				 path, d->ctx,
				 json_object_is_type(e, json_type_string) ? json_object_get_string(e)
									  : "(not a string)",
				 names_list(t, list, sizeof(list)));
			return -EINVAL;
		}
		*out |= n->value;
	}
	return *out <= max ? 0 : bad(d, path, "within the member's width", "");
}

static int dec_field(struct dec *d, const struct codec_field *f, struct json_object *v, void *buf,
		     const char *path)
{
	uint64_t x = 0;
	int err = 0;
	char lim[32];

	switch (f->fmt) {
	case CF_UINT:
		if (!json_uint(v, width_max(f->size), &x)) {
			snprintf(lim, sizeof(lim), "%llu", (unsigned long long)width_max(f->size));
			return bad(d, path, "an integer 0..", lim);
		}
		break;
	case CF_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			x = json_object_get_boolean(v) ? 1 : 0;
		else if (!json_uint(v, 1, &x))
			return bad(d, path, "true or false", "");
		break;
	case CF_ENUM:
		err = dec_enum(d, f, v, &x, path);
		break;
	case CF_FLAGS:
		err = dec_flags(d, f, v, &x, path);
		break;
	case CF_GID:
		if (!json_object_is_type(v, json_type_string) ||
		    inet_pton(AF_INET6, json_object_get_string(v), (uint8_t *)buf + f->off) != 1)
			return bad(d, path, "a GID written as an IPv6 address, e.g. fd00::1", "");
		return 0;
	case CF_STRUCT:
		if (!json_object_is_type(v, json_type_object))
			return bad(d, path, "an object", "");
		{
			char prefix[CODEC_PATH_MAX + 1]; /* path and a dot */

			snprintf(prefix, sizeof(prefix), "%s.", path);
			return dec_struct(d, f->sub, v, (uint8_t *)buf + f->off, prefix, NULL);
		}
	}
	if (!err)
		put_uint(buf, f, x);
	return err;
}

static bool skipped(const char *const *skip, const char *key)
{
	for (; skip && *skip; skip++)
		if (strcmp(*skip, key) == 0)
			return true;
	return false;
}

static int dec_struct(struct dec *d, const struct codec_struct *s, struct json_object *obj,
		      void *buf, const char *prefix, const char *const *skip)
{
	uint64_t seen = 0; /* bit i: member i was given */
	char path[CODEC_PATH_MAX];

	if (s->n > 64) {
		snprintf(d->why, d->wlen, "%s: codec table %s too large", d->ctx, s->name);
		return -EINVAL;
	}
	json_object_object_foreach(obj, key, v)
	{
		uint32_t i;
		int err;

		if (skipped(skip, key))
			continue;
		for (i = 0; i < s->n; i++)
			if (strcmp(s->f[i].name, key) == 0)
				break;
		snprintf(path, sizeof(path), "%s%.64s", prefix, key);
		if (i == s->n) {
			char list[256];
			size_t off = 0;

			list[0] = '\0';
			for (uint32_t j = 0; j < s->n && off < sizeof(list); j++) {
				int n = snprintf(list + off, sizeof(list) - off, "%s%s", j ? ", " : "",
						 s->f[j].name);
				if (n < 0)
					break;
				off += (size_t)n;
			}
			snprintf(d->why, d->wlen, "unknown member '%s' for %s (%s%s)", path, d->ctx,
				 s->n ? "members: " : "it takes no members", list);
			return -EINVAL;
		}
		err = dec_field(d, &s->f[i], v, buf, path);
		if (err)
			return err;
		seen |= 1ull << i;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->f[i].required && !(seen & (1ull << i))) {
			snprintf(d->why, d->wlen, "missing member '%s%s' for %s", prefix, s->f[i].name,
				 d->ctx);
			return -EINVAL;
		}
	}
	return 0;
}

int codec_decode(const struct codec_struct *s, struct json_object *obj, void *buf,
		 const char *const *skip, const char *ctx, char *why, size_t wlen)
{
	struct dec d = {ctx, why, wlen};

	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(why, wlen, "%s: request is not an object", ctx);
		return -EINVAL;
	}
	return dec_struct(&d, s, obj, buf, "", skip);
}

/* ------------------------------------------------------------------------ */
/* Encode. */

static struct json_object *enc_field(const struct codec_field *f, const void *buf)
{
	const struct codec_names *t = f->names;
	char name[CODEC_NAME_MAX];
	uint64_t x;

	switch (f->fmt) {
	case CF_UINT:
		return json_object_new_uint64(get_uint(buf, f));
	case CF_BOOL:
		return json_object_new_boolean(get_uint(buf, f) != 0);
	case CF_ENUM: {
		const struct codec_name *n = value_find(t, get_uint(buf, f));

		if (!n) /* a value without a name: say the number */
			return json_object_new_uint64(get_uint(buf, f));
		if (t->numeric)
			return json_object_new_uint64(strtoull(n->name, NULL, 10));
		return json_object_new_string(lower(n->name, name, sizeof(name)));
	}
	case CF_FLAGS: {
		struct json_object *a = json_object_new_array();
		uint64_t rest;

		x = rest = get_uint(buf, f);
		for (uint32_t i = 0; i < t->n; i++) {
			if (t->v[i].value && (x & t->v[i].value) == t->v[i].value) {
				json_object_array_add(a, json_object_new_string(
								 lower(t->v[i].name, name, sizeof(name))));
				rest &= ~t->v[i].value;
			}
		}
		if (!rest)
			return a;
		json_object_put(a); /* bits without names: say the number */
		return json_object_new_uint64(x);
	}
	case CF_GID: {
		char s[INET6_ADDRSTRLEN];

		if (!inet_ntop(AF_INET6, (const uint8_t *)buf + f->off, s, sizeof(s)))
			return NULL;
		return json_object_new_string(s);
	}
	case CF_STRUCT: {
		struct json_object *o = json_object_new_object();

		codec_encode(f->sub, (const uint8_t *)buf + f->off, o);
		return o;
	}
	}
	return NULL;
}

void codec_encode(const struct codec_struct *s, const void *buf, struct json_object *obj)
{
	for (uint32_t i = 0; i < s->n; i++)
		json_object_object_add(obj, s->f[i].name, enc_field(&s->f[i], buf));
}
