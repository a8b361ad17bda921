/* SPDX-License-Identifier: MIT */
/*
 * ciov ABI: the formats shared between ciovd and its tenants.
 *
 *  - the control protocol on the tenant socket (SOCK_SEQPACKET, one message
 *    per request and per reply, fds passed with SCM_RIGHTS);
 *  - the shared-memory rings (send/receive queues, completion queues) and
 *    their entries.
 *
 * Every field is fixed width and little-endian; every size and offset that a
 * peer depends on is checked by a _Static_assert below. Nothing in here may
 * be trusted by the receiver: ciovd copies a message or ring entry out of the
 * shared buffer before validating it.
 */
#ifndef CIOV_ABI_H
#define CIOV_ABI_H

#include <stddef.h>
#include <stdint.h>

#define CIOV_ABI_VERSION 2
#define CIOV_CTL_MAGIC 0x564f4943u /* "CIOV" read as a little-endian u32 */
#define CIOV_RING_MAGIC 0x47524943u /* "CIRG" */

#define CIOV_NAME_MAX 64	 /* endpoint name, including the NUL */
#define CIOV_PORT_NAME_MAX 16 /* fabric port name, including the NUL */
#define CIOV_PORTS_MAX 8	 /* fabric ports of one adapter */
#define CIOV_CTL_MSG_MAX 1024 /* header + payload, either direction */
#define CIOV_CTL_FDS_MAX 4	 /* fds carried by one control message */
#define CIOV_CACHELINE 64

/* ------------------------------------------------------------------------ */
/* IBA enumerations. Numbering equals libibverbs' so the compatibility layer
 * maps them one to one. */

#define CIOV_WC_STATUSES(X)                                                    \
	X(SUCCESS, 0)                                                          \
	X(LOC_LEN_ERR, 1)                                                      \
	X(LOC_QP_OP_ERR, 2)                                                    \
	X(LOC_EEC_OP_ERR, 3)                                                   \
	X(LOC_PROT_ERR, 4)                                                     \
	X(WR_FLUSH_ERR, 5)                                                     \
	X(MW_BIND_ERR, 6)                                                      \
	X(BAD_RESP_ERR, 7)                                                     \
	X(LOC_ACCESS_ERR, 8)                                                   \
	X(REM_INV_REQ_ERR, 9)                                                  \
	X(REM_ACCESS_ERR, 10)                                                  \
	X(REM_OP_ERR, 11)                                                      \
	X(RETRY_EXC_ERR, 12)                                                   \
	X(RNR_RETRY_EXC_ERR, 13)                                               \
	X(LOC_RDD_VIOL_ERR, 14)                                                \
	X(REM_INV_RD_REQ_ERR, 15)                                              \
	X(REM_ABORT_ERR, 16)                                                   \
	X(INV_EECN_ERR, 17)                                                    \
	X(INV_EEC_STATE_ERR, 18)                                               \
	X(FATAL_ERR, 19)                                                       \
	X(RESP_TIMEOUT_ERR, 20)                                                \
	X(GENERAL_ERR, 21)

enum ciov_wc_status {
#define X(n, v) CIOV_WC_##n = v,
	CIOV_WC_STATUSES(X)
#undef X
};

#define CIOV_QP_STATES(X)                                                      \
	X(RESET, 0)                                                            \
	X(INIT, 1)                                                             \
	X(RTR, 2)                                                              \
	X(RTS, 3)                                                              \
	X(SQD, 4)                                                              \
	X(SQE, 5)                                                              \
	X(ERR, 6)

enum ciov_qp_state {
#define X(n, v) CIOV_QPS_##n = v,
	CIOV_QP_STATES(X)
#undef X
	CIOV_QPS_MAX
};

enum ciov_qp_type {
	CIOV_QPT_RC = 2, /* libibverbs IBV_QPT_RC */
	CIOV_QPT_UD = 4, /* libibverbs IBV_QPT_UD */
};

/* Work request opcodes (send queue). */
#define CIOV_WR_OPCODES(X)                                                     \
	X(RDMA_WRITE, 0)                                                       \
	X(RDMA_WRITE_WITH_IMM, 1)                                              \
	X(SEND, 2)                                                             \
	X(SEND_WITH_IMM, 3)                                                    \
	X(RDMA_READ, 4)                                                        \
	X(ATOMIC_CMP_AND_SWP, 5)                                               \
	X(ATOMIC_FETCH_AND_ADD, 6)

enum ciov_wr_opcode {
#define X(n, v) CIOV_WR_##n = v,
	CIOV_WR_OPCODES(X)
#undef X
	CIOV_WR_MAX
};

/* Completion opcodes. */
#define CIOV_WC_OPCODES(X)                                                     \
	X(SEND, 0)                                                             \
	X(RDMA_WRITE, 1)                                                       \
	X(RDMA_READ, 2)                                                        \
	X(COMP_SWAP, 3)                                                        \
	X(FETCH_ADD, 4)                                                        \
	X(RECV, 128)                                                           \
	X(RECV_RDMA_WITH_IMM, 129)

enum ciov_wc_opcode {
#define X(n, v) CIOV_WC_OP_##n = v,
	CIOV_WC_OPCODES(X)
#undef X
};

enum ciov_access_flags {
	CIOV_ACCESS_LOCAL_WRITE = 1,
	CIOV_ACCESS_REMOTE_WRITE = 2,
	CIOV_ACCESS_REMOTE_READ = 4,
	CIOV_ACCESS_REMOTE_ATOMIC = 8,
};
#define CIOV_ACCESS_ALL 0xfu

/* Modify-QP attribute mask; bits equal libibverbs' enum ibv_qp_attr_mask. */
enum ciov_qp_attr_mask {
	CIOV_QP_STATE = 1 << 0,
	CIOV_QP_CUR_STATE = 1 << 1,
	CIOV_QP_EN_SQD_ASYNC_NOTIFY = 1 << 2,
	CIOV_QP_ACCESS_FLAGS = 1 << 3,
	CIOV_QP_PKEY_INDEX = 1 << 4,
	CIOV_QP_PORT = 1 << 5,
	CIOV_QP_QKEY = 1 << 6,
	CIOV_QP_AV = 1 << 7,
	CIOV_QP_PATH_MTU = 1 << 8,
	CIOV_QP_TIMEOUT = 1 << 9,
	CIOV_QP_RETRY_CNT = 1 << 10,
	CIOV_QP_RNR_RETRY = 1 << 11,
	CIOV_QP_RQ_PSN = 1 << 12,
	CIOV_QP_MAX_QP_RD_ATOMIC = 1 << 13,
	CIOV_QP_ALT_PATH = 1 << 14,
	CIOV_QP_MIN_RNR_TIMER = 1 << 15,
	CIOV_QP_SQ_PSN = 1 << 16,
	CIOV_QP_MAX_DEST_RD_ATOMIC = 1 << 17,
	CIOV_QP_PATH_MIG_STATE = 1 << 18,
	CIOV_QP_CAP = 1 << 19,
	CIOV_QP_DEST_QPN = 1 << 20,
};

enum ciov_mtu { CIOV_MTU_256 = 1, CIOV_MTU_512, CIOV_MTU_1024, CIOV_MTU_2048, CIOV_MTU_4096 };

enum ciov_send_flags {
	CIOV_SEND_FENCE = 1 << 0,
	CIOV_SEND_SIGNALED = 1 << 1,
	CIOV_SEND_SOLICITED = 1 << 2,
	CIOV_SEND_INLINE = 1 << 3,
};

enum ciov_wc_flags {
	CIOV_WC_WITH_IMM = 1 << 1,
	CIOV_WC_GRH = 1 << 0,
};

/* Object types that have handles in an endpoint. */
#define CIOV_OBJ_TYPES(X)                                                      \
	X(SEG, seg)                                                            \
	X(PD, pd)                                                              \
	X(MR, mr)                                                              \
	X(CHAN, channel)                                                       \
	X(CQ, cq)                                                              \
	X(SRQ, srq)                                                            \
	X(QP, qp)                                                              \
	X(AH, ah)

enum ciov_obj_type {
	CIOV_OBJ_NONE = 0,
#define X(n, s) CIOV_OBJ_##n,
	CIOV_OBJ_TYPES(X)
#undef X
	CIOV_OBJ_MAX
};

/* Affiliated asynchronous events (IBA 11.6.3); numbering equals
 * libibverbs' enum ibv_event_type. */
#define CIOV_ASYNC_EVENTS(X)                                                   \
	X(CQ_ERR, 0)                                                           \
	X(QP_FATAL, 1)                                                         \
	X(QP_REQ_ERR, 2)                                                       \
	X(QP_ACCESS_ERR, 3)                                                    \
	X(COMM_EST, 4)                                                         \
	X(SQ_DRAINED, 5)                                                       \
	X(SRQ_ERR, 14)                                                         \
	X(SRQ_LIMIT_REACHED, 15)                                               \
	X(QP_LAST_WQE_REACHED, 16)

enum ciov_async_event_type {
#define X(n, v) CIOV_EVENT_##n = v,
	CIOV_ASYNC_EVENTS(X)
#undef X
};

/* One entry of a connection's async event ring (CIOV_RING_ASYNC). */
struct ciov_async_event {
	uint32_t type;	   /* enum ciov_async_event_type */
	uint32_t obj_type; /* enum ciov_obj_type of the affiliated object */
	uint32_t handle;   /* its handle */
	uint32_t rsvd;
};
_Static_assert(sizeof(struct ciov_async_event) == 16, "async event");

/* Endpoint modes (DESIGN.md): who may create resources. */
enum ciov_mode {
	CIOV_MODE_PASSTHROUGH = 0,
	CIOV_MODE_NATIVE = 1,
	CIOV_MODE_SOFTWARE = 2,
};

/* Quotas: one limit for every resource a client controls. */
#define CIOV_QUOTAS(X)                                                         \
	X(pds, 64)                                                             \
	X(mrs, 4096)                                                           \
	X(mr_bytes, 1ull << 32)                                                \
	X(segments, 1024)                                                      \
	X(seg_bytes, 1ull << 36)                                               \
	X(channels, 64)                                                        \
	X(cqs, 256)                                                            \
	X(qps, 256)                                                            \
	X(srqs, 64)                                                            \
	X(ahs, 1024)                                                           \
	X(wrs, 65536)                                                          \
	X(connections, 16)

enum ciov_quota {
#define X(n, d) CIOV_QUOTA_##n,
	CIOV_QUOTAS(X)
#undef X
	CIOV_QUOTA_MAX
};

/* ------------------------------------------------------------------------ */
/* Control protocol (tenant socket). */

struct ciov_ctl_hdr {
	uint32_t magic;	  /* CIOV_CTL_MAGIC */
	uint16_t version; /* CIOV_ABI_VERSION */
	uint16_t op;	  /* enum ciov_ctl_op */
	uint32_t seq;	  /* echoed in the reply */
	int32_t status;	  /* reply: 0 or -errno; request: 0 */
	uint32_t len;	  /* payload bytes after this header */
	uint32_t rsvd;
};
_Static_assert(sizeof(struct ciov_ctl_hdr) == 24, "ctl hdr");

/* Payloads. A handle names an object inside the caller's endpoint. */
struct ciov_ctl_none {
	uint32_t rsvd;
};

struct ciov_ctl_handle {
	uint32_t handle;
	uint32_t rsvd;
};

struct ciov_ctl_close_req {
	uint32_t type; /* enum ciov_obj_type */
	uint32_t handle;
};

struct ciov_ctl_open_req {
	char name[CIOV_NAME_MAX]; /* NUL-terminated endpoint name */
	uint32_t abi;		  /* CIOV_ABI_VERSION the library speaks */
	uint32_t rsvd;
};

struct ciov_ctl_open_rep {
	uint32_t endpoint_id;
	uint32_t mode;	     /* enum ciov_mode */
	uint8_t gid[16];     /* the endpoint's GID (RoCEv2 form) */
	uint64_t quota[CIOV_QUOTA_MAX];
	uint32_t max_sge;     /* per WQE */
	uint32_t max_inline;  /* bytes */
	uint32_t max_qp_wr;   /* per queue */
	uint32_t max_cqe;     /* per CQ */
	uint32_t async_entries; /* async event ring */
	uint32_t active_mtu;  /* bytes: the first fabric port's path MTU, 4096 without one */
	uint64_t async_map_size;
	/* fds: [0] the doorbell: write end of a pipe the tenant writes to when
	 * the engine sleeps; [1] the async event ring's memfd; [2] read end of
	 * a pipe, one byte per async event */
};

struct ciov_ctl_seg_attach_req {
	uint64_t iova;	 /* where the segment lives in the endpoint's I/O space */
	uint64_t length; /* bytes, multiple of the page size */
	uint64_t offset; /* offset of the range inside the memfd */
	/* fds: [0] a memfd sealed with F_SEAL_SHRINK */
};

struct ciov_ctl_seg_rep {
	uint32_t handle;
	uint32_t rsvd;
	uint64_t iova;
	uint64_t length;
	uint64_t offset;
	/* SEG_OPEN: fds [0] the segment's memfd */
};

struct ciov_ctl_mr_reg_req {
	uint32_t pd;
	uint32_t access; /* enum ciov_access_flags */
	uint64_t iova;
	uint64_t length;
};

struct ciov_ctl_mr_rep {
	uint32_t handle;
	uint32_t pd;
	uint32_t lkey;
	uint32_t rkey;
	uint64_t iova;
	uint64_t length;
	uint32_t access;
	uint32_t rsvd;
};

struct ciov_ctl_chan_rep {
	uint32_t handle;
	uint32_t rsvd;
	/* fds: [0] read end of a pipe: one byte per completion event */
};

struct ciov_ctl_cq_create_req {
	uint32_t cqe;	  /* minimum number of entries */
	uint32_t channel; /* channel handle, 0 = none */
};

struct ciov_ctl_cq_rep {
	uint32_t handle;
	uint32_t cqe;	       /* actual entries (power of two) */
	uint32_t channel;
	uint32_t rsvd;
	uint64_t ring_offset;  /* ring inside the fd */
	uint64_t map_size;     /* bytes to mmap */
	/* fds: [0] the ring's memfd */
};

struct ciov_qp_cap {
	uint32_t max_send_wr;
	uint32_t max_recv_wr;
	uint32_t max_send_sge;
	uint32_t max_recv_sge;
	uint32_t max_inline_data;
	uint32_t rsvd;
};

struct ciov_ctl_cq_open_req {
	uint32_t handle;
	uint32_t channel; /* the opener's channel to bind, 0 = none */
};

struct ciov_ctl_srq_create_req {
	uint32_t pd;
	uint32_t max_wr;
	uint32_t max_sge;
	uint32_t srq_limit;
};

struct ciov_ctl_srq_modify_req {
	uint32_t handle;
	uint32_t mask; /* 1 = max_wr (unsupported: EOPNOTSUPP), 2 = srq_limit */
	uint32_t max_wr;
	uint32_t srq_limit;
};

struct ciov_ctl_srq_rep {
	uint32_t handle;
	uint32_t pd;
	uint32_t max_wr;
	uint32_t max_sge;
	uint32_t srq_limit;
	uint32_t rsvd;
	uint64_t ring_offset;
	uint64_t map_size;
	/* fds: [0] ring memfd */
};

struct ciov_ctl_qp_create_req {
	uint32_t pd;
	uint32_t qp_type; /* enum ciov_qp_type */
	uint32_t send_cq;
	uint32_t recv_cq;
	uint32_t srq;	 /* 0 = none */
	uint32_t sq_sig_all;
	struct ciov_qp_cap cap;
};

struct ciov_ctl_qp_rep {
	uint32_t handle;
	uint32_t qpn;
	uint32_t pd;
	uint32_t qp_type;
	uint32_t send_cq;
	uint32_t recv_cq;
	uint32_t srq;
	uint32_t sq_sig_all;
	struct ciov_qp_cap cap; /* actual */
	uint64_t sq_offset;	/* send ring inside the fd */
	uint64_t rq_offset;	/* receive ring inside the fd (0 with an SRQ) */
	uint64_t map_size;
	/* fds: [0] ring memfd */
};

/*
 * Address vector (IBA 10.2.3 / RoCEv2: the GRH carries the GIDs).
 *
 * The endpoint's GID table (sgid_index): entry 0 is the endpoint's GID
 * (the first fabric port's; without a port, the endpoint's own) and its
 * packets leave by the port that routes to dgid; entry 1 + i is fabric
 * port i's GID (QUERY_PORTS order) and its packets leave by port i,
 * whatever the route. An index past the adapter's ports is -EINVAL.
 * port_num is 1: the endpoint is one port of the adapter as IBA sees it.
 */
struct ciov_ah_attr {
	uint8_t dgid[16];
	uint32_t flow_label;
	uint8_t sgid_index;
	uint8_t hop_limit;
	uint8_t traffic_class;
	uint8_t sl;
	uint8_t port_num;
	uint8_t static_rate;
	uint16_t dlid;
};
_Static_assert(sizeof(struct ciov_ah_attr) == 28, "ah attr");

struct ciov_qp_attr_wire {
	uint32_t qp_state;
	uint32_t cur_qp_state;
	uint32_t path_mtu;
	uint32_t qkey;
	uint32_t rq_psn;
	uint32_t sq_psn;
	uint32_t dest_qp_num;
	uint32_t qp_access_flags;
	struct ciov_qp_cap cap;
	struct ciov_ah_attr ah_attr;
	uint16_t pkey_index;
	uint8_t en_sqd_async_notify;
	uint8_t sq_draining;
	uint8_t max_rd_atomic;
	uint8_t max_dest_rd_atomic;
	uint8_t min_rnr_timer;
	uint8_t port_num;
	uint8_t timeout;
	uint8_t retry_cnt;
	uint8_t rnr_retry;
	uint8_t rsvd;
};

struct ciov_ctl_qp_modify_req {
	uint32_t handle;
	uint32_t mask; /* enum ciov_qp_attr_mask */
	struct ciov_qp_attr_wire attr;
};

struct ciov_ctl_qp_query_rep {
	struct ciov_qp_attr_wire attr;
};

struct ciov_ctl_ah_create_req {
	uint32_t pd;
	uint32_t rsvd;
	struct ciov_ah_attr attr;
};

struct ciov_ctl_list_req {
	uint32_t type;	/* enum ciov_obj_type */
	uint32_t start; /* first handle to report (for paging) */
};

#define CIOV_CTL_LIST_MAX 64
struct ciov_ctl_list_rep {
	uint32_t count;
	uint32_t more; /* 1 when handles past the last one reported exist */
	uint32_t handles[CIOV_CTL_LIST_MAX];
};

struct ciov_ctl_query_ep_rep {
	uint32_t endpoint_id;
	uint32_t mode;
	uint64_t quota[CIOV_QUOTA_MAX];
	uint64_t usage[CIOV_QUOTA_MAX];
	uint64_t iotlb_hits;
	uint64_t iotlb_misses;
};

/* Port states: IBA 14.2.5.6 PortState numbering (libibverbs' enum
 * ibv_port_state). */
enum ciov_port_state {
	CIOV_PORT_DOWN = 1,
	CIOV_PORT_ACTIVE = 4,
};

/* One fabric port as a tenant sees it. */
struct ciov_port_info {
	char name[CIOV_PORT_NAME_MAX]; /* NUL-terminated */
	uint8_t gid[16];	       /* RoCEv2: IPv4-mapped or IPv6 address */
	uint32_t active_mtu;	       /* bytes: 256, 512, 1024, 2048 or 4096 */
	uint32_t state;		       /* enum ciov_port_state */
	uint32_t rsvd[2];
};
_Static_assert(sizeof(struct ciov_port_info) == 48, "port info");
_Static_assert(offsetof(struct ciov_port_info, gid) == 16, "port info gid");
_Static_assert(offsetof(struct ciov_port_info, active_mtu) == 32, "port info mtu");

/* QUERY_PORTS: the adapter's fabric ports, in the order they were added;
 * port[i]'s GID is GID table entry 1 + i (struct ciov_ah_attr). */
struct ciov_ctl_query_ports_rep {
	uint32_t count; /* entries of port[] that are valid, <= CIOV_PORTS_MAX */
	uint32_t rsvd;
	struct ciov_port_info port[CIOV_PORTS_MAX];
};
_Static_assert(offsetof(struct ciov_ctl_query_ports_rep, port) == 8, "query ports");
_Static_assert(sizeof(struct ciov_ctl_query_ports_rep) == 8 + 48 * CIOV_PORTS_MAX, "query ports");

/*
 * The control operations. X(NAME, name, request payload, reply payload,
 * fds in the request, fds in the reply). A request whose payload length or
 * fd count differs from the table fails with -EINVAL and every received fd
 * is closed. Authorization (who may call what in which mode) lives in ciovd.
 */
#define CIOV_CTL_OPS(X)                                                        \
	X(OPEN, open, ciov_ctl_open_req, ciov_ctl_open_rep, 0, 3)             \
	X(QUERY_EP, query_ep, ciov_ctl_none, ciov_ctl_query_ep_rep, 0, 0)     \
	X(LIST, list, ciov_ctl_list_req, ciov_ctl_list_rep, 0, 0)             \
	X(CLOSE, close, ciov_ctl_close_req, ciov_ctl_none, 0, 0)                 \
	X(SEG_ATTACH, seg_attach, ciov_ctl_seg_attach_req, ciov_ctl_seg_rep, 1, 0) \
	X(SEG_DETACH, seg_detach, ciov_ctl_handle, ciov_ctl_none, 0, 0)       \
	X(SEG_OPEN, seg_open, ciov_ctl_handle, ciov_ctl_seg_rep, 0, 1)        \
	X(PD_ALLOC, pd_alloc, ciov_ctl_none, ciov_ctl_handle, 0, 0)           \
	X(PD_DEALLOC, pd_dealloc, ciov_ctl_handle, ciov_ctl_none, 0, 0)       \
	X(PD_OPEN, pd_open, ciov_ctl_handle, ciov_ctl_handle, 0, 0)           \
	X(MR_REG, mr_reg, ciov_ctl_mr_reg_req, ciov_ctl_mr_rep, 0, 0)         \
	X(MR_DEREG, mr_dereg, ciov_ctl_handle, ciov_ctl_none, 0, 0)           \
	X(MR_OPEN, mr_open, ciov_ctl_handle, ciov_ctl_mr_rep, 0, 0)           \
	X(CHAN_CREATE, chan_create, ciov_ctl_none, ciov_ctl_chan_rep, 0, 1)   \
	X(CHAN_DESTROY, chan_destroy, ciov_ctl_handle, ciov_ctl_none, 0, 0)   \
	X(CQ_CREATE, cq_create, ciov_ctl_cq_create_req, ciov_ctl_cq_rep, 0, 1) \
	X(CQ_DESTROY, cq_destroy, ciov_ctl_handle, ciov_ctl_none, 0, 0)       \
	X(CQ_OPEN, cq_open, ciov_ctl_cq_open_req, ciov_ctl_cq_rep, 0, 1)           \
	X(SRQ_CREATE, srq_create, ciov_ctl_srq_create_req, ciov_ctl_srq_rep, 0, 1) \
	X(SRQ_MODIFY, srq_modify, ciov_ctl_srq_modify_req, ciov_ctl_srq_rep, 0, 0) \
	X(SRQ_DESTROY, srq_destroy, ciov_ctl_handle, ciov_ctl_none, 0, 0)     \
	X(SRQ_OPEN, srq_open, ciov_ctl_handle, ciov_ctl_srq_rep, 0, 1)        \
	X(QP_CREATE, qp_create, ciov_ctl_qp_create_req, ciov_ctl_qp_rep, 0, 1) \
	X(QP_MODIFY, qp_modify, ciov_ctl_qp_modify_req, ciov_ctl_none, 0, 0)  \
	X(QP_QUERY, qp_query, ciov_ctl_handle, ciov_ctl_qp_query_rep, 0, 0)   \
	X(QP_DESTROY, qp_destroy, ciov_ctl_handle, ciov_ctl_none, 0, 0)       \
	X(QP_OPEN, qp_open, ciov_ctl_handle, ciov_ctl_qp_rep, 0, 1)           \
	X(AH_CREATE, ah_create, ciov_ctl_ah_create_req, ciov_ctl_handle, 0, 0) \
	X(AH_DESTROY, ah_destroy, ciov_ctl_handle, ciov_ctl_none, 0, 0)       \
	X(QUERY_PORTS, query_ports, ciov_ctl_none, ciov_ctl_query_ports_rep, 0, 0)

enum ciov_ctl_op {
	CIOV_CTL_INVALID = 0,
#define X(N, n, req, rep, fi, fo) CIOV_CTL_##N,
	CIOV_CTL_OPS(X)
#undef X
	CIOV_CTL_OP_MAX
};

#define X(N, n, req, rep, fi, fo)                                              \
	_Static_assert(sizeof(struct req) % 4 == 0 &&                          \
			       sizeof(struct ciov_ctl_hdr) + sizeof(struct req) <= \
				       CIOV_CTL_MSG_MAX &&                     \
			       sizeof(struct ciov_ctl_hdr) + sizeof(struct rep) <= \
				       CIOV_CTL_MSG_MAX &&                     \
			       (fi) <= CIOV_CTL_FDS_MAX && (fo) <= CIOV_CTL_FDS_MAX, \
		       #N " payload");
CIOV_CTL_OPS(X)
#undef X

/* ------------------------------------------------------------------------ */
/* Shared-memory rings.
 *
 * A ring is a control block of four cache lines followed by a power-of-two
 * array of fixed-size entries. prod and cons are free-running u32 indices;
 * the consumer always masks with (entries - 1). ciovd keeps its own copy of
 * entries and entry_size and never reads them back from shared memory.
 *
 * Doorbells (virtio event-idx style): the engine sets need_kick before it
 * sleeps; a producer that sees need_kick after publishing clears it and
 * writes the doorbell pipe. CQ arming: the tenant bumps arm_seq (with
 * arm_solicited for solicited-only); the engine, after publishing a CQE,
 * compares arm_seq with the last one it served, increments event_seq and
 * signals the channel; a library serving several CQs with one channel finds
 * the CQ that fired by its event_seq.
 */
struct ciov_ring_ctrl {
	/* line 0: written by ciovd at creation, constant afterwards */
	uint32_t magic;	  /* CIOV_RING_MAGIC */
	uint16_t version; /* CIOV_ABI_VERSION */
	uint16_t kind;	  /* enum ciov_ring_kind */
	uint32_t entries;
	uint32_t entry_size;
	uint32_t owner; /* QPN, CQ or SRQ handle */
	uint8_t pad0[CIOV_CACHELINE - 20];
	/* line 1: producer */
	uint32_t prod;
	uint8_t pad1[CIOV_CACHELINE - 4];
	/* line 2: consumer */
	uint32_t cons;
	uint8_t pad2[CIOV_CACHELINE - 4];
	/* line 3: notification */
	uint32_t need_kick;	/* engine: 1 = asleep, kick the doorbell */
	uint32_t arm_seq;	/* CQ: tenant increments to request an event */
	uint32_t arm_solicited; /* CQ: 1 = only solicited completions */
	uint32_t srq_limit;	/* SRQ: armed limit (0 = disarmed) */
	uint32_t error;		/* ciovd: nonzero once the queue is in error */
	uint32_t event_seq;	/* CQ: ciovd increments before each channel event */
	uint8_t pad3[CIOV_CACHELINE - 24];
};
_Static_assert(sizeof(struct ciov_ring_ctrl) == 4 * CIOV_CACHELINE, "ring ctrl");
_Static_assert(offsetof(struct ciov_ring_ctrl, prod) == CIOV_CACHELINE, "prod line");
_Static_assert(offsetof(struct ciov_ring_ctrl, cons) == 2 * CIOV_CACHELINE, "cons line");
_Static_assert(offsetof(struct ciov_ring_ctrl, need_kick) == 3 * CIOV_CACHELINE, "notify line");

enum ciov_ring_kind {
	CIOV_RING_SQ = 1,
	CIOV_RING_RQ = 2,
	CIOV_RING_CQ = 3,
	CIOV_RING_SRQ = 4,
	CIOV_RING_ASYNC = 5, /* ciovd produces struct ciov_async_event */
};

struct ciov_sge {
	uint64_t addr; /* I/O virtual address */
	uint32_t length;
	uint32_t lkey;
};
_Static_assert(sizeof(struct ciov_sge) == 16, "sge");

/* Send WQE: 64-byte header, then num_sge SGEs or inline_len bytes. */
struct ciov_send_wqe {
	uint64_t wr_id;
	uint8_t opcode; /* enum ciov_wr_opcode */
	uint8_t flags;	/* enum ciov_send_flags */
	uint8_t num_sge;
	uint8_t rsvd0;
	uint32_t imm_data; /* as the application gave it (network order) */
	uint64_t remote_addr;
	uint32_t rkey;
	uint32_t inline_len;
	uint64_t compare_add;
	uint64_t swap;
	uint32_t ah;	     /* UD: address handle */
	uint32_t remote_qpn; /* UD */
	uint32_t remote_qkey; /* UD */
	uint32_t rsvd1;
};
_Static_assert(sizeof(struct ciov_send_wqe) == 64, "send wqe");

/* Receive WQE: 16-byte header, then num_sge SGEs. */
struct ciov_recv_wqe {
	uint64_t wr_id;
	uint8_t num_sge;
	uint8_t rsvd[7];
};
_Static_assert(sizeof(struct ciov_recv_wqe) == 16, "recv wqe");

struct ciov_cqe {
	uint64_t wr_id;
	uint32_t byte_len;
	uint32_t imm_data;
	uint32_t qp_num;
	uint32_t src_qp;
	uint8_t status; /* enum ciov_wc_status */
	uint8_t opcode; /* enum ciov_wc_opcode */
	uint8_t flags;	/* enum ciov_wc_flags */
	uint8_t sl;
	uint16_t pkey_index;
	/* The low 16 bits of the ring index of the WQE this completes (its
	 * QP's SQ for a send completion, its RQ for a receive one; not
	 * meaningful for a receive from an SRQ). A WQE's slot stays the
	 * tenant's to reuse only once it has polled this CQE (or a later one
	 * of the same queue): a work request is outstanding until its
	 * completion is polled. Hence CIOV_WQ_MAX. */
	uint16_t wqe_idx;
};
_Static_assert(sizeof(struct ciov_cqe) == 32, "cqe");
/* The deepest SQ or RQ ring: a CQE names a slot in 16 bits. */
#define CIOV_WQ_MAX (1u << 15)

/* Entry sizes are powers of two so that an entry never straddles a line
 * more than it must. */
static inline uint32_t ciov_send_wqe_size(uint32_t max_sge, uint32_t max_inline)
{
	uint32_t body = max_sge * (uint32_t)sizeof(struct ciov_sge);
	uint32_t need = (uint32_t)sizeof(struct ciov_send_wqe) + (body > max_inline ? body : max_inline);
	uint32_t sz = 64;
	while (sz < need)
		sz <<= 1;
	return sz;
}

static inline uint32_t ciov_recv_wqe_size(uint32_t max_sge)
{
	uint32_t need = (uint32_t)sizeof(struct ciov_recv_wqe) + max_sge * (uint32_t)sizeof(struct ciov_sge);
	uint32_t sz = 32;
	while (sz < need)
		sz <<= 1;
	return sz;
}

#endif /* CIOV_ABI_H */
