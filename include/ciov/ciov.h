/* SPDX-License-Identifier: MIT */
/*
 * libciov: the tenant's driver for a ciov adapter.
 *
 * Control operations travel over the adapter's tenant socket; the data path
 * (post_send, post_recv, poll_cq) only touches shared-memory rings and, when
 * the engine sleeps, a doorbell pipe.
 *
 * Conventions: every int function returns 0 (or a count where documented) or
 * a negative errno; constructors write *ret only on success; destructors
 * accept NULL. Objects returned to the caller are owned by the caller until
 * it destroys them; closing an endpoint destroys everything created through
 * it. The library does not log.
 *
 * Errors worth knowing:
 *   -ENOENT  no such endpoint / handle     -EACCES  not the endpoint's owner
 *   -EPERM   the endpoint's mode forbids   -EDQUOT  over the endpoint's quota
 *   -EBUSY   object still in use           -EINVAL  bad attribute or state
 *   -ECONNREFUSED / -ENOTCONN  no adapter, or the adapter went away
 */
#ifndef CIOV_CIOV_H
#define CIOV_CIOV_H

#include <stddef.h>
#include <stdint.h>

#include <ciov/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIOV_DEFAULT_RUNTIME_DIR "/run/ciov"
#define CIOV_TENANT_SOCKET "tenant.sock"
#define CIOV_ADMIN_SOCKET "admin.sock"

struct ciov_adapter;
struct ciov_endpoint;

struct ciov_pd {
	struct ciov_endpoint *ep;
	uint32_t handle;
};

/* A segment: a range of the endpoint's I/O address space backed by memory. */
struct ciov_seg {
	struct ciov_endpoint *ep;
	uint32_t handle;
	void *addr;	 /* where this process sees it */
	uint64_t iova;	 /* where the adapter sees it */
	uint64_t length;
};

struct ciov_mr {
	struct ciov_pd *pd;
	void *addr;	/* this process's address of iova (NULL if unknown) */
	uint64_t iova;	/* address to use in SGEs and remote_addr */
	uint64_t length;
	uint32_t handle;
	uint32_t lkey;
	uint32_t rkey;
	uint32_t access; /* enum ciov_access_flags */
};

struct ciov_comp_channel {
	struct ciov_endpoint *ep;
	uint32_t handle;
	int fd; /* readable when a CQ attached to it has an event */
};

struct ciov_cq {
	struct ciov_endpoint *ep;
	struct ciov_comp_channel *channel;
	uint32_t handle;
	uint32_t cqe; /* entries */
	void *cq_context;
};

struct ciov_srq_attr {
	uint32_t max_wr;
	uint32_t max_sge;
	uint32_t srq_limit;
};

enum ciov_srq_attr_mask {
	CIOV_SRQ_MAX_WR = 1 << 0,
	CIOV_SRQ_LIMIT = 1 << 1,
};

struct ciov_srq {
	struct ciov_pd *pd;
	uint32_t handle;
	struct ciov_srq_attr attr;
};

struct ciov_qp_init_attr {
	enum ciov_qp_type qp_type;
	struct ciov_cq *send_cq;
	struct ciov_cq *recv_cq;
	struct ciov_srq *srq; /* NULL: the QP has its own receive queue */
	struct ciov_qp_cap cap;
	int sq_sig_all;
};

struct ciov_qp {
	struct ciov_pd *pd;
	struct ciov_cq *send_cq;
	struct ciov_cq *recv_cq;
	struct ciov_srq *srq;
	uint32_t handle;
	uint32_t qp_num;
	enum ciov_qp_type qp_type;
	enum ciov_qp_state state; /* as last set or queried */
	struct ciov_qp_cap cap;
	void *qp_context;
};

/* Modify/query attributes: struct ciov_qp_attr_wire with host-side names. */
typedef struct ciov_qp_attr_wire ciov_qp_attr_t;
#define ciov_qp_attr ciov_qp_attr_wire

struct ciov_ah {
	struct ciov_pd *pd;
	uint32_t handle;
	struct ciov_ah_attr attr;
};

struct ciov_send_wr {
	uint64_t wr_id;
	struct ciov_send_wr *next;
	struct ciov_sge *sg_list;
	int num_sge;
	enum ciov_wr_opcode opcode;
	unsigned send_flags; /* enum ciov_send_flags */
	uint32_t imm_data;
	union {
		struct {
			uint64_t remote_addr;
			uint32_t rkey;
		} rdma;
		struct {
			uint64_t remote_addr;
			uint64_t compare_add;
			uint64_t swap;
			uint32_t rkey;
		} atomic;
		struct {
			struct ciov_ah *ah;
			uint32_t remote_qpn;
			uint32_t remote_qkey;
		} ud;
	} wr;
};

struct ciov_recv_wr {
	uint64_t wr_id;
	struct ciov_recv_wr *next;
	struct ciov_sge *sg_list;
	int num_sge;
};

struct ciov_wc {
	uint64_t wr_id;
	enum ciov_wc_status status;
	enum ciov_wc_opcode opcode;
	uint32_t byte_len;
	uint32_t imm_data;
	uint32_t qp_num;
	uint32_t src_qp;
	unsigned wc_flags; /* enum ciov_wc_flags */
	uint16_t pkey_index;
	uint8_t sl;
};

struct ciov_endpoint_attr {
	uint32_t endpoint_id;
	enum ciov_mode mode;
	uint8_t gid[16]; /* GID index 0: the first fabric port's (its own without one) */
	uint64_t quota[CIOV_QUOTA_MAX];
	uint64_t usage[CIOV_QUOTA_MAX];
	uint64_t iotlb_hits;
	uint64_t iotlb_misses;
	uint32_t max_sge;
	uint32_t max_inline;
	uint32_t max_qp_wr;
	uint32_t max_cqe;
	uint32_t active_mtu; /* bytes: the largest UD message, the path MTU RC uses at most */
	uint32_t num_ports;  /* the adapter's fabric ports: ciov_query_port() 0 .. num_ports - 1 */
};

/* A fabric port of the adapter. Its GID is entry sgid_index of the
 * endpoint's GID table: an address vector (struct ciov_ah_attr, RC QP or
 * UD AH) with that sgid_index sends from this port's GID, by this port,
 * whatever the route to the destination; sgid_index 0 (the endpoint's
 * GID) lets the adapter pick the port that routes to the destination. */
struct ciov_port_attr {
	char name[CIOV_PORT_NAME_MAX]; /* as in `ciovctl port add NAME` */
	uint8_t gid[16];	       /* RoCEv2: IPv4-mapped or IPv6 address */
	uint32_t active_mtu;	       /* bytes */
	enum ciov_port_state state;    /* ACTIVE or DOWN */
	uint8_t sgid_index;	       /* 1 + the port's index */
};

/* Names of enumerations; never NULL ("UNKNOWN" for values out of range). */
const char *ciov_wc_status_str(enum ciov_wc_status status);
const char *ciov_qp_state_str(enum ciov_qp_state state);
const char *ciov_mode_str(enum ciov_mode mode);
const char *ciov_quota_name(enum ciov_quota q);

/* The adapter: a runtime directory holding ciovd's sockets. runtime_dir NULL
 * means $CIOV_RUNTIME_DIR, else /run/ciov. Opening does not connect. */
int ciov_adapter_open(const char *runtime_dir, struct ciov_adapter **ret);
void ciov_adapter_close(struct ciov_adapter *adapter);

/* Connects and opens endpoint NAME (NULL: $CIOV_ENDPOINT). The adapter
 * checks the caller's uid/gid (SO_PEERCRED) against the endpoint's owner.
 * Each open endpoint is one connection; closing it destroys every object
 * created through it. */
int ciov_open_endpoint(struct ciov_adapter *adapter, const char *name,
		       struct ciov_endpoint **ret);
void ciov_close_endpoint(struct ciov_endpoint *ep);
int ciov_query_endpoint(struct ciov_endpoint *ep, struct ciov_endpoint_attr *attr);

/* The adapter's fabric port INDEX (0 .. num_ports - 1 of
 * ciov_query_endpoint(), in the order the ports were added), as it is now.
 * -EINVAL past the last port (ports come and go: query num_ports again). */
int ciov_query_port(struct ciov_endpoint *ep, unsigned index, struct ciov_port_attr *attr);

/* Handles of the objects of one type in the endpoint (e.g. those a manager
 * provisioned for a native endpoint). Returns the count written (<= max). */
int ciov_list(struct ciov_endpoint *ep, enum ciov_obj_type type, uint32_t *handles, int max);

/* Protection domains. */
int ciov_alloc_pd(struct ciov_endpoint *ep, struct ciov_pd **ret);
int ciov_dealloc_pd(struct ciov_pd *pd);

/* Memory. ciov_reg_mr registers any memory of this process: pages not yet
 * in a segment are re-backed by a sealed memfd (content preserved, same
 * address) and attached to the endpoint; iova equals addr. */
int ciov_reg_mr(struct ciov_pd *pd, void *addr, size_t length, unsigned access,
		struct ciov_mr **ret);
int ciov_dereg_mr(struct ciov_mr *mr);

/* Explicit segments (what ciov_reg_mr does implicitly): attach LENGTH bytes
 * of memfd FD at OFFSET at I/O address IOVA. The fd must be sealed with
 * F_SEAL_SHRINK. The caller keeps its fd. */
int ciov_attach_seg(struct ciov_endpoint *ep, int fd, uint64_t offset, uint64_t length,
		    uint64_t iova, struct ciov_seg **ret);
int ciov_detach_seg(struct ciov_seg *seg);

/* Completion channels and CQs. */
int ciov_create_comp_channel(struct ciov_endpoint *ep, struct ciov_comp_channel **ret);
int ciov_destroy_comp_channel(struct ciov_comp_channel *ch);
int ciov_create_cq(struct ciov_endpoint *ep, int cqe, void *cq_context,
		   struct ciov_comp_channel *channel, struct ciov_cq **ret);
int ciov_destroy_cq(struct ciov_cq *cq);
/* Arms the CQ: the next completion (solicited only, if asked) writes one
 * event to its channel. */
int ciov_req_notify_cq(struct ciov_cq *cq, int solicited_only);
/* Blocks until an event arrives on CH (or fails with -EAGAIN if the fd is
 * non-blocking); *cq is the CQ that fired. */
int ciov_get_cq_event(struct ciov_comp_channel *ch, struct ciov_cq **cq, void **cq_context);
void ciov_ack_cq_events(struct ciov_cq *cq, unsigned nevents);
/* Returns the number of completions written to WC (0..n) or -errno. */
int ciov_poll_cq(struct ciov_cq *cq, int n, struct ciov_wc *wc);

/* Shared receive queues. */
int ciov_create_srq(struct ciov_pd *pd, const struct ciov_srq_attr *attr, struct ciov_srq **ret);
int ciov_modify_srq(struct ciov_srq *srq, const struct ciov_srq_attr *attr, unsigned mask);
int ciov_query_srq(struct ciov_srq *srq, struct ciov_srq_attr *attr);
int ciov_destroy_srq(struct ciov_srq *srq);
int ciov_post_srq_recv(struct ciov_srq *srq, const struct ciov_recv_wr *wr,
		       const struct ciov_recv_wr **bad_wr);

/* Queue pairs. modify follows the IBA QP state machine (IBA 10.3.1): a
 * transition with a missing required attribute or a forbidden optional one
 * fails with -EINVAL and changes nothing. */
int ciov_create_qp(struct ciov_pd *pd, const struct ciov_qp_init_attr *attr, struct ciov_qp **ret);
int ciov_modify_qp(struct ciov_qp *qp, const struct ciov_qp_attr *attr, unsigned mask);
int ciov_query_qp(struct ciov_qp *qp, struct ciov_qp_attr *attr);
int ciov_destroy_qp(struct ciov_qp *qp);
int ciov_post_send(struct ciov_qp *qp, const struct ciov_send_wr *wr,
		   const struct ciov_send_wr **bad_wr);
int ciov_post_recv(struct ciov_qp *qp, const struct ciov_recv_wr *wr,
		   const struct ciov_recv_wr **bad_wr);

/* Address handles (UD). */
int ciov_create_ah(struct ciov_pd *pd, const struct ciov_ah_attr *attr, struct ciov_ah **ret);
int ciov_destroy_ah(struct ciov_ah *ah);

/* Affiliated asynchronous events (SRQ limit reached, CQ overrun, SQ
 * drained). ciov_async_fd() becomes readable when one may be pending;
 * ciov_get_async_event() returns the next, blocking while there is none
 * (-EAGAIN instead if the fd was made non-blocking). */
int ciov_async_fd(struct ciov_endpoint *ep);
int ciov_get_async_event(struct ciov_endpoint *ep, struct ciov_async_event *ev);
const char *ciov_event_type_str(enum ciov_async_event_type type);

/* Native mode: attach to objects the endpoint's manager provisioned. The
 * returned object is released (not destroyed) by the matching destroy
 * function. */
int ciov_open_pd(struct ciov_endpoint *ep, uint32_t handle, struct ciov_pd **ret);
int ciov_open_seg(struct ciov_endpoint *ep, uint32_t handle, struct ciov_seg **ret);
int ciov_open_mr(struct ciov_pd *pd, uint32_t handle, struct ciov_mr **ret);
int ciov_open_cq(struct ciov_endpoint *ep, uint32_t handle, void *cq_context,
		 struct ciov_comp_channel *channel, struct ciov_cq **ret);
int ciov_open_srq(struct ciov_pd *pd, uint32_t handle, struct ciov_srq **ret);
int ciov_open_qp(struct ciov_pd *pd, uint32_t handle, struct ciov_cq *send_cq,
		 struct ciov_cq *recv_cq, struct ciov_srq *srq, struct ciov_qp **ret);

#ifdef __cplusplus
}
#endif

#endif /* CIOV_CIOV_H */
