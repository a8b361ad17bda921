/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: libibverbs' public API over libciov, loaded by LD_PRELOAD
 * (ciov-run). Compiled against the system's <infiniband/verbs.h> so that
 * every struct an application sees has exactly the layout it was compiled
 * with.
 *
 * Each ibv object is the first member of a private struct that holds the
 * libciov object it maps to (container_of). The static inlines of verbs.h
 * (ibv_post_send, ibv_poll_cq, ibv_query_port, ibv_query_device_ex,
 * ibv_create_qp_ex, ibv_create_cq_ex, ...) call through struct
 * ibv_context.ops and struct verbs_context, which cv_context fills; the
 * ibv_wr_* and ibv_start_poll inlines call through struct ibv_qp_ex and
 * struct ibv_cq_ex (wr.c, post.c).
 *
 * Error conventions: libciov returns negative errnos; libibverbs returns
 * positive errnos from int functions and NULL + errno from constructors.
 * The translation happens here, at the edge, and nowhere else.
 */
#ifndef CIOV_VERBS_COMPAT_H
#define CIOV_VERBS_COMPAT_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include <infiniband/verbs.h>

#include <ciov/ciov.h>

#include "common/container.h"

/* The vendor id (an IEEE OUI in libibverbs) of the ciov adapter: 02:C1:0F
 * has the locally administered bit set (SLAP AAI quadrant), so the IEEE can
 * never assign it to a vendor and no application mistakes ciov for one. */
#define CV_VENDOR_ID 0x02c10fu
#define CV_VENDOR_PART_ID 1u
#define CV_PORT 1 /* the one port of each device */

/* ibv_query_gid_type() reports libibverbs' sysfs GID types
 * (libibverbs/driver.h, not installed). */
enum cv_gid_type_sysfs { CV_GID_TYPE_SYSFS_IB_ROCE_V1 = 0, CV_GID_TYPE_SYSFS_ROCE_V2 = 1 };

/* Objects that async events name, found by (type, handle). */
struct cv_obj {
	struct cv_obj *next;
	uint32_t type; /* enum ciov_obj_type */
	uint32_t handle;
};

/* Device ciovN is the adapter's fabric port N (ciov0 alone, the loopback
 * device, when the adapter has none): one port, one GID. */
struct cv_device {
	struct ibv_device dev;
	struct ciov_endpoint_attr attr; /* as probed by ibv_get_device_list() */
	/* the port as probed; .sgid_index 0 for the loopback device (no
	 * fabric port: the endpoint's GID, attr's MTU) */
	struct ciov_port_attr port;
};

struct cv_context {
	struct verbs_context vctx; /* ends with struct ibv_context */
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	struct ciov_endpoint_attr attr;
	/* a copy: libibverbs' devices outlive ibv_free_device_list() while
	 * a context uses them, and applications rely on it */
	struct cv_device dev;
	/* libciov's source GID index of this device's port (0: loopback),
	 * given to every address vector made through this context */
	uint8_t sgid_index;
	pthread_mutex_t lock; /* objs */
	struct cv_obj *objs;
};

struct cv_pd {
	struct ibv_pd pd;
	struct ciov_pd *cpd;
};

struct cv_mr {
	struct ibv_mr mr;
	struct ciov_mr *cmr;
};

struct cv_channel {
	struct ibv_comp_channel ch;
	struct ciov_comp_channel *cch;
};

struct cv_cq {
	union {
		struct ibv_cq cq;
		struct ibv_cq_ex cqx; /* starts with struct ibv_cq's fields */
	};
	struct ciov_cq *ccq;
	struct cv_obj obj;
	struct ciov_wc cur; /* the completion ibv_start/next_poll reached */
};

struct cv_srq {
	struct ibv_srq srq;
	struct ciov_srq *csrq;
	struct cv_obj obj;
};

struct cv_wr_batch;

struct cv_qp {
	struct ibv_qp_ex qpx; /* starts with struct ibv_qp */
	struct ciov_qp *cqp;
	struct cv_obj obj;
	struct cv_wr_batch *wb; /* ibv_wr_* builders (wr.c); NULL: classic QP */
};

struct cv_ah {
	struct ibv_ah ah;
	struct ciov_ah *cah;
};

static inline struct cv_context *cv_ctx(struct ibv_context *c)
{
	return container_of(c, struct cv_context, vctx.context);
}

#define CV_OF(type, p) container_of(p, struct type, CV_FIRST_##type)
#define CV_FIRST_cv_pd pd
#define CV_FIRST_cv_mr mr
#define CV_FIRST_cv_channel ch
#define CV_FIRST_cv_cq cq
#define CV_FIRST_cv_srq srq
#define CV_FIRST_cv_qp qpx.qp_base
#define CV_FIRST_cv_ah ah

/* libciov's -errno to libibverbs' int convention (positive errno). */
static inline int cv_err(int err)
{
	return err < 0 ? -err : err;
}

/* For constructors: sets errno from libciov's -errno, returns NULL. */
static inline void *cv_null(int err)
{
	errno = err < 0 ? -err : (err ? err : EINVAL);
	return NULL;
}

/* Constructors shared by the classic and extended verbs (qp.c, cq.c). */
struct ibv_qp *cv_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr);
struct cv_cq *cv_create_cq(struct ibv_context *context, int cqe, void *cq_context,
			   struct ibv_comp_channel *channel, int comp_vector);

/* verbs_context ops (wr.c, cq.c). */
struct ibv_qp *cv_create_qp_ex(struct ibv_context *context, struct ibv_qp_init_attr_ex *attr);
struct ibv_cq_ex *cv_create_cq_ex(struct ibv_context *context, struct ibv_cq_init_attr_ex *attr);
/* Sets up qp's ibv_wr_* builders; 0 or -errno. Freed by cv_wr_free(). */
int cv_wr_init(struct cv_qp *q, uint64_t send_ops_flags);
void cv_wr_free(struct cv_qp *q);
/* Installs ibv_start_poll & co. on an extended CQ (post.c). */
void cv_cq_ex_init(struct cv_cq *q);

/* Async event bookkeeping (device.c). */
void cv_obj_add(struct cv_context *c, struct cv_obj *o, uint32_t type, uint32_t handle);
void cv_obj_del(struct cv_context *c, struct cv_obj *o);

/* Context ops installed by ibv_open_device() (post.c, cq.c). */
int cv_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad_wr);
int cv_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr);
int cv_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr);
int cv_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc);
int cv_req_notify_cq(struct ibv_cq *cq, int solicited_only);

#endif /* CIOV_VERBS_COMPAT_H */
