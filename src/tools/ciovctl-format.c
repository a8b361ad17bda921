/* SPDX-License-Identifier: MIT */
/* ciovctl: human output (wrapped lines of "key value" items) and JSON output. */
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

#include "ciovctl.h"

struct json_object *json_member(struct json_object *o, const char *key)
{
	struct json_object *m;

	return json_object_object_get_ex(o, key, &m) ? m : NULL;
}

const char *json_str(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *m = json_member(o, key);

	return m ? json_object_get_string(m) : dflt;
}

int64_t json_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *m = json_member(o, key);

	return json_object_is_type(m, json_type_int) ? json_object_get_int64(m) : dflt;
}

/* Print label at indent; the items follow it and wrap under the first one. */
void line_start(struct ctl_line *l, FILE *f, int indent, const char *label)
{
	l->f = f;
	l->items = 0;
	fprintf(f, "%*s%s", indent, "", label);
	l->col = indent + (int)strlen(label);
	l->wrap_col = l->col + 2;
}

void line_item(struct ctl_line *l, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1; /* truncated */
	if (l->items > 0 && l->col + 2 + n > CTL_WIDTH) {
		fprintf(l->f, "\n%*s", l->wrap_col, "");
		l->col = l->wrap_col;
	} else {
		fputs("  ", l->f);
		l->col += 2;
	}
	fputs(buf, l->f);
	l->col += n;
	l->items++;
}

void line_end(struct ctl_line *l)
{
	fputc('\n', l->f);
}

/* One item for each member of o that is not an object or an array. */
void line_scalars(struct ctl_line *l, struct json_object *o)
{
	char buf[256];

	json_object_object_foreach(o, key, val)
	{
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			continue;
		format_value(buf, sizeof(buf), key, val);
		line_item(l, "%s %s", key, buf);
	}
}

/* Bytes in powers of 1024 as ciovctl reads them back: 512, 4G, 8.5M. */
void format_size(char *buf, size_t size, uint64_t v)
{
	static const char units[] = "KMGTPE";
	int u = 0;

	while (u < 6 && v >> (10 * (u + 1)))
		u++;
	if (u == 0)
		snprintf(buf, size, "%llu", (unsigned long long)v);
	else if (v & ((1ull << (10 * u)) - 1))
		snprintf(buf, size, "%.1f%c", (double)v / (double)(1ull << (10 * u)), units[u - 1]);
	else
		snprintf(buf, size, "%llu%c", (unsigned long long)(v >> (10 * u)), units[u - 1]);
}

static bool is_bytes_key(const char *key)
{
	size_t len = strlen(key);

	return len > 6 && !strcmp(key + len - 6, "_bytes");
}

/* A member's value for people: sizes for keys that end in "_bytes". */
void format_value(char *buf, size_t size, const char *key, struct json_object *v)
{
	if (is_bytes_key(key) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) >= 0)
		format_size(buf, size, (uint64_t)json_object_get_int64(v));
	else
		snprintf(buf, size, "%s", v ? json_object_get_string(v) : "-");
}

void print_json(const struct ctl *c, struct json_object *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= c->pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN;
	puts(json_object_to_json_string_ext(o, flags));
}

/* traffic  tx_msgs N tx_bytes N ... and, below, the completions seen. */
void print_traffic(struct json_object *t)
{
	struct json_object *wc = json_member(t, "completions");
	struct ctl_line l;

	if (!json_object_is_type(t, json_type_object))
		return;
	line_start(&l, stdout, 4, "traffic");
	line_scalars(&l, t);
	line_end(&l);
	if (json_object_is_type(wc, json_type_object) && json_object_object_length(wc)) {
		line_start(&l, stdout, 4, "completions");
		line_scalars(&l, wc);
		line_end(&l);
	}
}
