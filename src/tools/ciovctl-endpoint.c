/* SPDX-License-Identifier: MIT */
/*
 * ciovctl endpoint: add, set, del and show the adapter's endpoints
 * (endpoint.* of doc/admin-protocol.md).
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "ciovctl.h"

static const char *const modes[] = {"passthrough", "native", NULL};

/* An argument of add and set: a keyword and its values. */
struct attr {
	const char *name;
	/* argv: the words after the keyword; *used: how many it took */
	int (*parse)(struct ctl *c, struct json_object *req, int argc, char **argv, int *used);
};

static int attr_mode(struct ctl *c, struct json_object *req, int argc, char **argv, int *used)
{
	if (argc < 1)
		return ctl_usage_error(c, "mode needs a value");
	for (int i = 0; modes[i]; i++) {
		if (!strcmp(argv[0], modes[i])) {
			json_object_object_add(req, "mode", json_object_new_string(modes[i]));
			*used = 1;
			return CTL_OK;
		}
	}
	return ctl_usage_error(c, "mode '%s' is unknown", argv[0]);
}

static int attr_owner(struct ctl *c, struct json_object *req, int argc, char **argv, int *used)
{
	char owner[32];
	int rc;

	if (argc < 1)
		return ctl_usage_error(c, "owner needs USER[:GROUP]");
	rc = args_parse_owner(argv[0], owner, sizeof(owner));
	if (rc == -ENOENT)
		return ctl_usage_error(c, "owner '%s': no such user or group", argv[0]);
	if (rc < 0)
		return ctl_usage_error(c, "owner '%s' is not USER[:GROUP]", argv[0]);
	json_object_object_add(req, "owner", json_object_new_string(owner));
	*used = 1;
	return CTL_OK;
}

/* KEY N into the request's quota object. */
static int quota_pair(struct ctl *c, struct json_object *quota, int argc, char **argv)
{
	uint64_t n;
	int rc;

	if (argc < 1)
		return ctl_usage_error(c, "quota needs KEY N");
	if (args_quota_key(argv[0]) < 0)
		return ctl_usage_error(c, "unknown quota key '%s'", argv[0]);
	if (argc < 2)
		return ctl_usage_error(c, "quota %s needs a number", argv[0]);
	rc = args_parse_u64(argv[1], &n);
	if (rc == -ERANGE)
		return ctl_usage_error(c, "quota %s %s is too large", argv[0], argv[1]);
	if (rc < 0)
		return ctl_usage_error(c, "quota %s: '%s' is not a number", argv[0], argv[1]);
	json_object_object_add(quota, argv[0], json_object_new_int64((int64_t)n));
	return CTL_OK;
}

/* quota KEY N [KEY N]... */
static int attr_quota(struct ctl *c, struct json_object *req, int argc, char **argv, int *used)
{
	struct json_object *quota = json_member(req, "quota");
	int i = 0, rc;

	if (!quota) {
		quota = json_object_new_object();
		json_object_object_add(req, "quota", quota);
	}
	do {
		rc = quota_pair(c, quota, argc - i, argv + i);
		i += 2;
	} while (rc == CTL_OK && i < argc && args_quota_key(argv[i]) >= 0);
	*used = i;
	return rc;
}

static const struct attr attrs[] = {
	{"mode", attr_mode},
	{"owner", attr_owner},
	{"quota", attr_quota},
	{NULL, NULL},
};

static int unknown_attr(struct ctl *c, const char *word)
{
	if (args_quota_key(word) >= 0)
		return ctl_usage_error(c, "unknown argument '%s' (did you mean 'quota %s N'?)",
				       word, word);
	return ctl_usage_error(c, "unknown argument '%s'", word);
}

/* The arguments after NAME of add and set, into req. */
static int parse_attrs(struct ctl *c, struct json_object *req, int argc, char **argv)
{
	int i = 0, rc = CTL_OK;

	while (rc == CTL_OK && i < argc) {
		const struct attr *a = attrs;
		int used = 0;

		while (a->name && !ctl_matches(argv[i], a->name))
			a++;
		if (!a->name)
			return unknown_attr(c, argv[i]);
		rc = a->parse(c, req, argc - i - 1, argv + i + 1, &used);
		i += 1 + used;
	}
	return rc;
}

/* add and set: NAME ATTRS */
static int endpoint_change(struct ctl *c, const char *cmd, int argc, char **argv)
{
	if (argc < 1)
		return ctl_usage_error(c, "which endpoint? NAME is missing");
	if (!strcmp(cmd, "endpoint.set") && argc < 2)
		return ctl_usage_error(c, "nothing to set: give mode, owner or quota");
	return admin_send_attrs(c, cmd, argv[0], argc - 1, argv + 1, parse_attrs, "endpoint");
}

static int endpoint_add(struct ctl *c, int argc, char **argv)
{
	return endpoint_change(c, "endpoint.add", argc, argv);
}

static int endpoint_set(struct ctl *c, int argc, char **argv)
{
	return endpoint_change(c, "endpoint.set", argc, argv);
}

static int endpoint_del(struct ctl *c, int argc, char **argv)
{
	struct json_object *req;
	bool force = argc >= 2 && ctl_matches(argv[1], "force");

	if (argc < 1)
		return ctl_usage_error(c, "which endpoint? NAME is missing");
	if (argc > 2 || (argc == 2 && !force))
		return ctl_usage_error(c, "unexpected argument '%s'", argv[force ? 2 : 1]);
	req = named_request("endpoint.del", argv[0]);
	if (!req)
		return CTL_FAILED;
	if (force)
		json_object_object_add(req, "force", json_object_new_boolean(1));
	return admin_send(c, req, NULL);
}

/* "UID", "UID:GID", or whatever ciovd sent */
static void format_owner(char *buf, size_t size, struct json_object *owner)
{
	int64_t uid = json_int(owner, "uid", -1);
	int64_t gid = json_int(owner, "gid", -1);

	if (!json_object_is_type(owner, json_type_object))
		snprintf(buf, size, "%s", owner ? json_object_get_string(owner) : "-");
	else if (gid < 0)
		snprintf(buf, size, "%lld", (long long)uid);
	else
		snprintf(buf, size, "%lld:%lld", (long long)uid, (long long)gid);
}

/* One line that does not wrap, so that `grep ^NAME` finds the endpoint. */
static void print_header(struct json_object *ep)
{
	char owner[64];

	format_owner(owner, sizeof(owner), json_member(ep, "owner"));
	printf("%s  id %s  mode %s  owner %s  gid %s\n", json_str(ep, "name", "?"),
	       json_str(ep, "id", "?"), json_str(ep, "mode", "?"), owner, json_str(ep, "gid", "-"));
}

/* quota  KEY USAGE/QUOTA ... */
static void print_quota(struct json_object *ep)
{
	struct json_object *quota = json_member(ep, "quota");
	struct json_object *usage = json_member(ep, "usage");
	struct ctl_line l;
	char u[64], q[64];

	if (!json_object_is_type(quota, json_type_object))
		return;
	line_start(&l, stdout, 4, "quota");
	json_object_object_foreach(quota, key, val)
	{
		format_value(u, sizeof(u), key, json_member(usage, key));
		format_value(q, sizeof(q), key, val);
		line_item(&l, "%s %s/%s", key, u, q);
	}
	line_end(&l);
}

/* errors  NAME COUNT ..., only those that happened */
static void print_errors(struct json_object *errors)
{
	struct ctl_line l = {.items = 0};

	if (!json_object_is_type(errors, json_type_object))
		return;
	json_object_object_foreach(errors, key, val)
	{
		if (json_object_get_int64(val) == 0)
			continue;
		if (!l.f)
			line_start(&l, stdout, 4, "errors");
		line_item(&l, "%s %s", key, json_object_get_string(val));
	}
	if (l.f)
		line_end(&l);
}

static void print_counters(struct json_object *ep)
{
	struct json_object *counters = json_member(ep, "counters");
	struct ctl_line l;

	if (!json_object_is_type(counters, json_type_object))
		return;
	line_start(&l, stdout, 4, "counters");
	line_scalars(&l, counters);
	line_end(&l);
	print_errors(json_member(counters, "errors"));
}

static void print_endpoint(struct json_object *ep)
{
	print_header(ep);
	print_quota(ep);
	print_counters(ep);
	print_traffic(json_member(ep, "traffic"));
	if (json_object_is_type(json_member(ep, "qos"), json_type_object)) {
		struct ctl_line l;

		line_start(&l, stdout, 4, "qos");
		line_scalars(&l, json_member(ep, "qos"));
		line_end(&l);
	}
}

static int endpoint_show(struct ctl *c, int argc, char **argv)
{
	return admin_show_list(c, argc, argv, "endpoint.show", "endpoints", print_endpoint);
}

static void endpoint_notes(FILE *f)
{
	fputs("MODE  := { ", f);
	for (int i = 0; modes[i]; i++)
		fprintf(f, "%s%s", i ? " | " : "", modes[i]);
	fputs(" }\nKEY   := { ", f);
	args_print_quota_keys(f, 11);
	fputs(" }\n"
	      "N     := a number, with an optional K, M, G or T suffix (powers of 1024)\n"
	      "USER, GROUP: names or numbers; \"USER:\" means the user's login group\n",
	      f);
}

static const struct ctl_cmd endpoint_cmds[] = {
	{"add", NULL, endpoint_add, "NAME [mode MODE] [owner USER[:GROUP]] [quota KEY N]..."},
	{"set", NULL, endpoint_set, "NAME [mode MODE] [owner USER[:GROUP]] [quota KEY N]..."},
	{"del", "delete", endpoint_del, "NAME [force]"},
	{"show", "list", endpoint_show, "[NAME]"},
	{NULL, NULL, NULL, NULL},
};

const struct ctl_object endpoint_object = {
	.name = "endpoint",
	.alias = "ep",
	.cmds = endpoint_cmds,
	.dflt = "show",
	.notes = endpoint_notes,
};
