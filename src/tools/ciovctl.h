/* SPDX-License-Identifier: MIT */
/*
 * ciovctl: the management CLI of ciovd, shared declarations of its parts.
 *
 * Grammar (iproute2's): ciovctl [OPTIONS] OBJECT COMMAND [ARGS]. Each object
 * is a table of commands; a handler returns one of the exit codes below and
 * prints its own errors.
 */
#ifndef CIOV_TOOLS_CIOVCTL_H
#define CIOV_TOOLS_CIOVCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

/* Exit codes that scripts can trust. */
enum {
	CTL_OK = 0,	/* done */
	CTL_FAILED = 1, /* ciovd refused or failed the request */
	CTL_USAGE = 2,	/* bad command line; nothing was sent */
	CTL_NOCONN = 3, /* cannot reach ciovd */
};

struct ctl;

/* One command of an object: `ciovctl OBJECT name ARGS`. */
struct ctl_cmd {
	const char *name;
	const char *alias; /* another accepted spelling, or NULL */
	int (*fn)(struct ctl *c, int argc, char **argv); /* argv: the ARGS */
	const char *help; /* the ARGS as the usage shows them */
};

/* An object: a command table ended by a NULL name. */
struct ctl_object {
	const char *name;
	const char *alias;	/* another accepted spelling, or NULL */
	const struct ctl_cmd *cmds;
	const char *dflt;	/* the command run when none is given */
	void (*notes)(FILE *f); /* more usage text, or NULL */
};

/* The options of one run. */
struct ctl {
	bool json;			/* -j: print ciovd's JSON */
	bool pretty;			/* indent that JSON */
	const char *runtime_dir;	/* where admin.sock is */
	const struct ctl_object *obj;	/* the object being run, for its usage */
	int timeout_sec;		/* for a reply: 0 the default, -1 none */
};

extern const struct ctl_object endpoint_object;
extern const struct ctl_object adapter_object;
extern const struct ctl_object qp_object;
extern const struct ctl_object rate_object;
extern const struct ctl_object port_object;

/* ciovctl.c: "ciovctl: message" on stderr; the usage error also prints the
 * object's usage and returns CTL_USAGE. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_usage_error(const struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* True if word is a non-empty prefix of name (iproute2's matches()). */
bool ctl_matches(const char *word, const char *name);

/*
 * ciovctl-admin.c: send one request line to ciovd and read its reply line.
 * Returns CTL_OK with *reply (owned by the caller) a reply whose "ok" is
 * true; otherwise prints why and returns CTL_FAILED or CTL_NOCONN.
 */
int admin_call(const struct ctl *c, struct json_object *req, struct json_object **reply);
/* A request object {"cmd": cmd}, or NULL when out of memory. */
struct json_object *admin_request(const char *cmd);
/* A request {"cmd": CMD, "name": NAME}, or NULL after saying why. */
struct json_object *named_request(const char *cmd, const char *name);
/* Sends REQ (consumed); with -j prints the reply's member KEY. */
int admin_send(struct ctl *c, struct json_object *req, const char *key);
/* {"cmd": CMD, "name": NAME} plus what PARSE makes of ARGV, sent; with
 * -j prints the reply's member KEY. */
int admin_send_attrs(struct ctl *c, const char *cmd, const char *name, int argc, char **argv,
		     int (*parse)(struct ctl *c, struct json_object *req, int argc, char **argv),
		     const char *key);
/* "show [NAME]": CMD's reply array KEY, as JSON with -j, else PRINT each. */
int admin_show_list(struct ctl *c, int argc, char **argv, const char *cmd, const char *key,
		    void (*print)(struct json_object *item));

/* ciovctl-args.c: parsers of command-line values; 0 or a negative errno. */
int args_parse_u64(const char *s, uint64_t *out);
int args_parse_owner(const char *s, char *out, size_t size);
int args_quota_key(const char *s);
void args_print_quota_keys(FILE *f, int col);

/* ciovctl-format.c: human output. */
#define CTL_WIDTH 80 /* wrap lines of items before this column */

/* A line of "key value" items that wraps under its first item. */
struct ctl_line {
	FILE *f;
	int col;
	int wrap_col;
	int items;
};
void line_start(struct ctl_line *l, FILE *f, int indent, const char *label);
void line_item(struct ctl_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void line_end(struct ctl_line *l);
void print_traffic(struct json_object *traffic);
void line_scalars(struct ctl_line *l, struct json_object *o);
void format_size(char *buf, size_t size, uint64_t v);
void format_value(char *buf, size_t size, const char *key, struct json_object *v);
void print_json(const struct ctl *c, struct json_object *o);

/* Members of a daemon reply, with defaults when absent. */
struct json_object *json_member(struct json_object *o, const char *key);
const char *json_str(struct json_object *o, const char *key, const char *dflt);
int64_t json_int(struct json_object *o, const char *key, int64_t dflt);

#endif
