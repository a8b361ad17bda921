/* SPDX-License-Identifier: MIT */
/* ciovctl qp: an endpoint's queue pairs and their traffic (qp.show). */
#include <json-c/json.h>

#include "ciovctl.h"

/*
 * qp 0x100002  handle 2  rc  RTS  requester IDLE  dest_qpn 0x100003  sl 0
 *     traffic  tx_msgs 12 tx_bytes 786432 rx_msgs 0 ...
 */
static void print_qp(struct json_object *qp)
{
	struct ctl_line l;

	line_start(&l, stdout, 0, "qp");
	line_scalars(&l, qp);
	line_end(&l);
	print_traffic(json_member(qp, "traffic"));
}

static int qp_show(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply, *qps;
	int rc;

	if (argc != 1)
		return ctl_usage_error(c, argc ? "unexpected argument '%s'" : "which endpoint?",
				       argc ? argv[1] : "");
	req = admin_request("qp.show");
	if (!req) {
		ctl_err("out of memory");
		return CTL_FAILED;
	}
	json_object_object_add(req, "endpoint", json_object_new_string(argv[0]));
	rc = admin_call(c, req, &reply);
	json_object_put(req);
	if (rc != CTL_OK)
		return rc;
	qps = json_member(reply, "qps");
	if (!json_object_is_type(qps, json_type_array)) {
		ctl_err("ciovd's reply has no qps array");
		rc = CTL_FAILED;
	} else if (c->json) {
		print_json(c, qps);
	} else {
		for (size_t i = 0; i < json_object_array_length(qps); i++)
			print_qp(json_object_array_get_idx(qps, i));
	}
	json_object_put(reply);
	return rc;
}

static const struct ctl_cmd qp_cmds[] = {
	{"show", "list", qp_show, "ENDPOINT"},
	{NULL, NULL, NULL, NULL},
};

const struct ctl_object qp_object = {
	.name = "qp",
	.alias = NULL,
	.cmds = qp_cmds,
	.dflt = NULL,
	.notes = NULL,
};
