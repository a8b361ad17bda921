/* SPDX-License-Identifier: MIT */
/*
 * The transport's private state: struct xq, one per RC QP connected across
 * the fabric, shared by the requester (xport_req.c), the completer
 * (xport_comp.c) and the responder (xport_resp.c).
 */
#ifndef CIOV_FABRIC_XPORT_INT_H
#define CIOV_FABRIC_XPORT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <ciov/abi.h>

#include "adapter/dma.h"
#include "adapter/engine.h"
#include "adapter/fabric/port.h"
#include "adapter/fabric/xport.h"

struct qp;

/* Messages one QP may have in flight (each also holds its SQ slot). */
#define XQ_WIN_MSGS 64
/* Unacknowledged packets one QP may have in flight (IBA 9.7.4: a bounded
 * window; 24-bit PSNs leave 2^23 for duplicate detection). */
#define XQ_WIN_PKTS 4096
/* The requester asks for an ACK at least every this many packets. */
#define XQ_ACKREQ_EVERY 32
/* Saved responder resources (READ and atomic, IBA 9.7.5.1.5 / 9.4.5). */
#define XQ_RD_MAX 16
/* The most inline bytes a WQE may carry (the adapter's max_inline). */
#define XQ_INLINE_MAX 256
/* Spans one packet's payload may gather from (SGEs split by pages). */
#define XQ_PKT_IOV 64
/* Packets the requester sends per QP per turn. */
#define XQ_BURST 64

/* 24-bit PSN arithmetic: A - B as a signed distance (IBA 9.7.1). */
static inline int32_t psn_diff(uint32_t a, uint32_t b)
{
	return (int32_t)((a - b) << 8) >> 8;
}

static inline uint32_t psn_add(uint32_t a, uint32_t n)
{
	return (a + n) & WIRE_PSN_MASK;
}

/* A send WQE in flight: copied out of the ring once and validated; it
 * keeps its SQ slot until it completes, in order. */
struct xwqe {
	struct ciov_send_wqe w;
	uint64_t len;
	uint32_t first_psn;
	uint32_t npsn;		/* PSNs it takes: packets, or READ responses */
	enum ciov_wc_status status; /* != SUCCESS: completes so when its turn comes */
	bool acked;		/* SEND/WRITE: an ACK covered its last PSN */
	bool done;		/* READ/atomic: its response landed */
	uint64_t rd_done;	/* READ: response bytes landed */
	uint32_t nlseg;
	struct dma_seg lseg[ENGINE_MAX_SGE];
	uint8_t inl[XQ_INLINE_MAX];
};

/* A READ or atomic the responder executed, kept to answer a duplicate
 * (IBA 9.7.5.1.5: READ responses are regenerated from memory; an atomic's
 * result is replayed, never executed twice). */
struct xrd {
	uint32_t kind;		/* 0 free, WIRE_READ, WIRE_ATOMIC */
	uint32_t psn;		/* the request's PSN */
	uint32_t npsn;
	uint64_t va;
	uint32_t rkey;
	uint32_t len;
	uint64_t orig;		/* atomic: the value before */
	uint32_t next;		/* READ: next response packet to send; npsn = none */
};

enum xq_ack {
	XQ_ACK_NONE,
	XQ_ACK_DUE, /* an ACK for ack_psn waits behind READ responses */
};

struct xq {
	struct qp *qp;
	struct port *port;
	struct port_dst dst;
	uint32_t pmtu;

	/* Requester and completer. */
	struct xwqe win[XQ_WIN_MSGS];
	uint32_t head, count;	/* ring of in-flight WQEs, oldest at head */
	uint32_t next_psn;	/* PSN of the next new message */
	uint32_t snd_psn;	/* next PSN to transmit */
	uint32_t snd_hi;	/* highest PSN sent + 1: below it, a retransmit */
	uint32_t una;		/* oldest PSN not acknowledged */
	uint64_t timer_ns;	/* local ACK timeout deadline, 0 = none */
	uint64_t rnr_until;	/* RNR NAK wait, 0 = none */
	uint64_t resolve_until; /* waiting for the link address, 0 = not */
	uint8_t retry_left;
	uint8_t rnr_left;
	uint32_t rd_goback;	/* READ response PSN already re-requested */
	bool sent_any;		/* a packet went out: sq_psn is history */

	/* Responder. */
	uint32_t epsn;		/* expected PSN */
	uint32_t msn;		/* messages completed (AETH) */
	bool nak_sent;		/* a sequence NAK for epsn is out (IBA 9.7.5.1: only one) */
	uint32_t cur;		/* message in progress: WIRE_SEND/WIRE_WRITE, 0 none */
	bool cur_imm;
	uint64_t rcv_off;	/* its bytes so far */
	uint64_t wr_va;
	uint32_t wr_len;
	enum xq_ack ack;
	uint32_t ack_psn;
	struct xrd rd[XQ_RD_MAX];
	uint32_t rd_head;	/* next slot to use (oldest overwritten) */
	struct xq *due_next;	/* list of QPs with responses to send */
	bool due;
};

static inline struct xwqe *xq_at(struct xq *xq, uint32_t i)
{
	return &xq->win[(xq->head + i) % XQ_WIN_MSGS];
}

/* xport.c */
struct xq *xq_of(const struct qp *qp);
/* Puts XQ on the engine's list of QPs with responses to send. */
void xq_due(struct xq *xq);
/* Builds the common part of a packet to XQ's peer. */
void xq_desc(const struct xq *xq, struct wire_pkt_desc *d, uint8_t opcode, uint32_t psn);
/* Queues a packet on XQ's port, flushing a full batch once. 0 or -errno. */
int xq_tx(struct xq *xq, const struct wire_pkt_desc *d, const struct iovec *iov, int iovcnt);

/* xport_req.c */
/* Retransmission from PSN (go-back-N, IBA 9.7.6). */
void xreq_go_back(struct xq *xq, uint32_t psn);
/* Re-arms the local ACK timer after progress (or stops it). */
void xreq_progress(struct xq *xq, uint64_t now);

/* xport_comp.c: a response packet (ACK, NAK, READ response, atomic ACK). */
void xcomp_rx(struct xq *xq, const struct wire_pkt *pkt, uint64_t now);
/* Completes the WQEs at the head that are finished; stops at the first
 * that is not. */
void xcomp_retire(struct xq *xq);

/* xport_resp.c: a request packet for XQ's responder, and its output. */
void xresp_rx(struct xq *xq, const struct wire_pkt *pkt);
/* Sends READ responses and the pending ACK; false when the port is full. */
bool xresp_output(struct xq *xq);

/* xport_rx.c: a packet from a port (port_rx_fn). */
void xport_rx(void *arg, struct port *p, const struct wire_pkt *pkt);

#endif
