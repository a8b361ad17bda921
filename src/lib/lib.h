/* SPDX-License-Identifier: MIT */
/* libciov internals shared by its parts. */
#ifndef CIOV_LIB_H
#define CIOV_LIB_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <ciov/ciov.h>

/* Every object the library hands out is tracked by its endpoint so that
 * ciov_close_endpoint() can free what the application did not. */
struct lib_obj {
	struct lib_obj *prev, *next;
	void (*release)(struct lib_obj *lo); /* frees the containing object */
};

struct mem_map; /* src/lib/mem.c: segments backing registered memory */

struct ciov_adapter {
	char runtime_dir[PATH_MAX];
};

struct ciov_endpoint {
	struct ciov_adapter *ad;
	int sock;
	uint32_t seq;
	int doorbell; /* pipe write end: kick when a ring says need_kick */
	struct ciov_ctl_open_rep info;
	char name[CIOV_NAME_MAX];
	struct lib_obj objs; /* list head */
	struct mem_map *mem;
	int async_fd;		      /* pipe read end: a byte per event */
	void *async_map;	      /* the event ring's memory */
	struct lib_ring *async_ring;
};

#define lib_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

void lib_track(struct ciov_endpoint *ep, struct lib_obj *lo, void (*release)(struct lib_obj *));
void lib_untrack(struct lib_obj *lo);

/*
 * One control round trip: sends OP with REQ (REQ_LEN bytes) and NFDS_IN
 * fds, waits for the matching reply, copies up to REP_LEN bytes of payload
 * to REP and stores exactly NFDS_OUT received fds in FDS_OUT (the caller
 * owns them). Returns the adapter's status (0 or -errno), or -ENOTCONN /
 * -EPROTO when the adapter went away or answered nonsense.
 */
int lib_call(struct ciov_endpoint *ep, enum ciov_ctl_op op, const void *req, size_t req_len,
	     void *rep, size_t rep_len, const int *fds_in, int nfds_in, int *fds_out,
	     int nfds_out);

/* CLOSE: releases an object this connection opened (native attach). */
int lib_close_handle(struct ciov_endpoint *ep, enum ciov_obj_type type, uint32_t handle);

struct lib_ring;
/* async.c: maps the OPEN reply's event ring (takes MEMFD) and keeps PIPE_R. */
int lib_async_attach(struct ciov_endpoint *ep, int memfd, int pipe_r);
void lib_async_detach(struct ciov_endpoint *ep);

/* Part hooks called by ciov_close_endpoint (after the socket is closed). */
void mem_fini(struct ciov_endpoint *ep);

#endif
