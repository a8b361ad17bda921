/* SPDX-License-Identifier: MIT */
/* The admin socket: JSON lines (doc/admin-protocol.md). */
#ifndef CIOV_ADMIN_H
#define CIOV_ADMIN_H

#include <json-c/json.h>

#include "adapter/loop.h"

struct adapter;
struct endpoint;

/* The most bytes one request line may have. */
#define ADMIN_LINE_MAX (64 * 1024)

void admin_accept(struct loop_src *src, uint32_t events);

/* Builds a reply: {"ok":false,"errno":E,"error":MSG}. */
struct json_object *admin_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* {"ok":true} to add members to. */
struct json_object *admin_ok(void);

/* The endpoint as endpoint.show describes it. */
struct json_object *admin_ep_json(const struct endpoint *ep);

/*
 * Provisioning: "TYPE.OP" requests run the tenant protocol's control
 * operation as the endpoint's manager. FDS/NFDS are the fds that came with
 * the line; the callee owns them (closes what it does not keep). Returns
 * the reply object, or NULL when CMD is not a provisioning command.
 */
struct json_object *admin_provision(struct adapter *ad, const char *cmd, struct json_object *req,
				    int *fds, int nfds);

/* Rate commands (admin_rate.c): the reply, or NULL when CMD is not one.
 * Checks REQ's members; NFDS must be 0. */
struct json_object *admin_rate(struct adapter *ad, const char *cmd, struct json_object *req,
			       int nfds);

#endif
