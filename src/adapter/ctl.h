/* SPDX-License-Identifier: MIT */
/*
 * Control operations: one implementation of each, called from the tenant
 * socket (binary, a struct client) and from the admin socket (JSON, the
 * endpoint's manager). The endpoint's mode decides who may call what
 * (ctl.c's authorization matrix); handlers never test the mode themselves.
 */
#ifndef CIOV_CTL_H
#define CIOV_CTL_H

#include <stddef.h>

#include <ciov/abi.h>

struct endpoint;
struct client;
struct obj;

struct caller {
	struct endpoint *ep;
	struct client *client; /* NULL: the endpoint's manager */
};

/*
 * Handlers: REQ is a private copy (validated length); REP is zeroed.
 * FDS_IN holds the request's fds: a handler that keeps one sets its slot
 * to -1, the rest are closed by the dispatcher. FDS_OUT is filled with the
 * reply's fds, which the dispatcher closes after sending (dup what you
 * keep). Return 0 or -errno; on error nothing may be left created.
 */
#define X(N, n, req, rep, fi, fo)                                              \
	int ctl_##n(struct caller *c, const struct req *rq, struct rep *rp, int *fds_in,     \
		    int *fds_out);
CIOV_CTL_OPS(X)
#undef X

/* Runs OP for caller C after authorization. REQ_LEN must equal the op's
 * request size and NFDS_IN its fd count (else -EINVAL, fds closed). On
 * return every fds_in slot is closed or handed over; *nfds_out is the
 * number of reply fds, owned by the caller. */
int ctl_call(struct caller *c, enum ciov_ctl_op op, const void *req, size_t req_len, void *rep,
	     size_t *rep_len, int *fds_in, int nfds_in, int *fds_out, int *nfds_out);

/* The op's name ("qp_create"), NULL when out of range. */
const char *ctl_op_name(enum ciov_ctl_op op);

/* Finds the object of TYPE with HANDLE that caller C may use: one it
 * created, or (tenants) one it opened. -ENOENT otherwise: a tenant learns
 * nothing about objects that are not its own. */
int ctl_lookup(struct caller *c, enum ciov_obj_type type, uint32_t handle, struct obj **ret);
/* Same, for a provisioned object that a tenant may open (owner NULL). */
int ctl_lookup_provisioned(struct caller *c, enum ciov_obj_type type, uint32_t handle,
			   struct obj **ret);

/* Creates an object owned by the caller (see obj_create). */
int ctl_obj_create(struct caller *c, enum ciov_obj_type type, size_t size, struct obj **ret);
/* Destroy op shared by every type: looks up, refuses an object the caller
 * only opened (-EPERM), destroys (-EBUSY while in use). */
int ctl_obj_destroy(struct caller *c, enum ciov_obj_type type, uint32_t handle);
/* Open op shared by every type: attaches a tenant to a provisioned
 * object. */
int ctl_obj_open(struct caller *c, enum ciov_obj_type type, uint32_t handle, struct obj **ret);

#endif
