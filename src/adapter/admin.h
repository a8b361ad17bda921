/* SPDX-License-Identifier: MIT */
/* The admin socket: JSON lines (doc/admin-protocol.md). */
#ifndef CIOV_ADMIN_H
#define CIOV_ADMIN_H

#include <sys/types.h>

#include <json-c/json.h>

#include "adapter/loop.h"

struct adapter;
struct admin_conn;
struct endpoint;

/* The most bytes one request line may have. */
#define ADMIN_LINE_MAX (64 * 1024)

void admin_accept(struct loop_src *src, uint32_t events);

/* Builds a reply: {"ok":false,"errno":E,"error":MSG}. */
struct json_object *admin_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refuses a request CMD that has a member not among "cmd", "fds" and the N
 * names of MEMBERS (a NULL ends them early), or that came with fds: the
 * error reply, or NULL when it is well formed. */
struct json_object *admin_members(const char *cmd, struct json_object *req,
				  const char *const *members, int n, int nfds);
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

/*
 * Deferred replies, for a command that answers when something finishes
 * (port.capture). The command calls admin_defer() and returns NULL; the
 * connection then runs none of its further requests (they stay queued, in
 * order) until admin_complete(AC, REP) sends the reply (REP is consumed).
 * If the client disconnects first, admin.c calls CANCEL(ARG) once, and the
 * command must never use AC again, nor call admin_complete(). One request
 * at a time per connection can be deferred.
 */
void admin_defer(struct admin_conn *ac, void (*cancel)(void *arg), void *arg);
void admin_complete(struct admin_conn *ac, struct json_object *rep);
/* The client's uid and gid (SO_PEERCRED when it connected). */
void admin_conn_cred(const struct admin_conn *ac, uid_t *uid, gid_t *gid);

/* Port commands (admin_port.c): the reply, or NULL when CMD is not one,
 * or NULL after admin_defer(AC, ...). Checks REQ's members; NFDS must be
 * 0. */
struct json_object *admin_port(struct admin_conn *ac, struct adapter *ad, const char *cmd,
			       struct json_object *req, int nfds);

#endif
