/* SPDX-License-Identifier: MIT */
/* Queue pairs (IBA 10.2.4, 11.2.4): objects, rings, QPNs. */
#ifndef CIOV_ADAPTER_QP_H
#define CIOV_ADAPTER_QP_H

#include <stdbool.h>
#include <stdint.h>

#include <ciov/abi.h>

#include "adapter/engine.h"
#include "adapter/obj.h"
#include "adapter/ring.h"

struct caller;
struct cq;
struct endpoint;
struct pd;
struct srq;

struct qp {
	struct obj obj;
	/* References held on each. */
	struct pd *pd;
	struct cq *send_cq;
	struct cq *recv_cq;
	struct srq *srq; /* NULL: the QP has its own RQ */
	uint32_t qpn;
	enum ciov_qp_type type;
	bool sq_sig_all;
	enum ciov_qp_state state;
	struct ciov_qp_cap cap;		/* actual */
	struct ciov_qp_attr_wire attr;	/* modifiable attributes, as set */
	struct ring_mem mem;		/* SQ at 0, RQ at rq_offset */
	struct ring sq;
	struct ring rq; /* unused with an SRQ */
	uint64_t rq_offset;
	uint64_t wrs; /* charged to the wrs quota */
	struct qp_exec x; /* the engine's state (engine.h) */
};

#define QPN_MASK 0xffffffu
/* The QP of EP with QPN (the engine's lookup for incoming packets). */
struct qp *qp_find_qpn(struct endpoint *ep, uint32_t qpn);

/* The QP HANDLE that caller C may use (no reference taken). */
int qp_lookup(struct caller *c, uint32_t handle, struct qp **ret);

/* The completion opcode of a send-queue opcode (SEND for unknown ones). */
enum ciov_wc_opcode qp_wc_opcode(uint8_t wr_opcode);

/* Completes every WR outstanding on the SQ and RQ with WR_FLUSH_ERR (IBA
 * 10.3.1, Error state). 0, or the CQ's error if a CQ overran. */
int qp_flush(struct qp *qp);
/* The send queue only (UD in SQE: the receive queue keeps working). */
int qp_flush_sq(struct qp *qp);

#endif
