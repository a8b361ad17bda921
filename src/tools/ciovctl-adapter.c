/* SPDX-License-Identifier: MIT */
/* ciovctl adapter: adapter-wide facts (adapter.show of doc/admin-protocol.md). */
#include <json-c/json.h>

#include "ciovctl.h"

/*
 * adapter  version 0.1.0  abi 1  endpoints 3 ...
 *     limits  endpoints 4096 ...
 * Printed from whatever members ciovd sends, so new facts show up as they come.
 */
static void print_adapter(struct json_object *ad)
{
	struct ctl_line l;

	line_start(&l, stdout, 0, "adapter");
	line_scalars(&l, ad);
	line_end(&l);
	json_object_object_foreach(ad, key, val)
	{
		if (!json_object_is_type(val, json_type_object))
			continue;
		line_start(&l, stdout, 4, key);
		line_scalars(&l, val);
		line_end(&l);
	}
}

static int adapter_show(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply, *ad;
	int rc;

	if (argc > 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	req = admin_request("adapter.show");
	if (!req) {
		ctl_err("out of memory");
		return CTL_FAILED;
	}
	rc = admin_call(c, req, &reply);
	json_object_put(req);
	if (rc != CTL_OK)
		return rc;
	ad = json_member(reply, "adapter");
	if (!json_object_is_type(ad, json_type_object)) {
		ctl_err("ciovd's reply has no adapter object");
		rc = CTL_FAILED;
	} else if (c->json) {
		print_json(c, ad);
	} else {
		print_adapter(ad);
	}
	json_object_put(reply);
	return rc;
}

static const struct ctl_cmd adapter_cmds[] = {
	{"show", "list", adapter_show, ""},
	{NULL, NULL, NULL, NULL},
};

const struct ctl_object adapter_object = {
	.name = "adapter",
	.alias = NULL,
	.cmds = adapter_cmds,
	.dflt = "show",
	.notes = NULL,
};
