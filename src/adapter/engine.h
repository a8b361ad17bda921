/* SPDX-License-Identifier: MIT */
/*
 * The engine: ciovd's data path. It consumes work requests from the
 * tenants' send queues, moves the data between registered memory of QPs on
 * this adapter (the loopback placement) and writes completions.
 *
 * Polling policy (DESIGN.md "Queues"): while there is work the engine runs
 * pass after pass; when a pass finds nothing it keeps polling for a bounded
 * time, yielding the CPU between passes (a 2-core machine has no core to
 * spare for a hard spinner), then announces that it sleeps (need_kick on
 * every send queue), re-checks, and sleeps in epoll until a doorbell, a
 * control message or a timer (RNR, retry) wakes it.
 *
 * Single-threaded, inside ciovd's event loop: control operations run
 * between passes, so an object can vanish between two chunks of a message;
 * every pass re-resolves what it uses.
 */
#ifndef CIOV_ENGINE_H
#define CIOV_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <ciov/abi.h>

#include "adapter/dma.h"
#include "adapter/loop.h"
#include "common/container.h"

struct adapter;
struct client;
struct endpoint;
struct qp;
struct xq;

/* Bytes one QP may move per pass before the next QP's turn. */
#define ENGINE_CHUNK (64u * 1024)
/* Under the scheduler, bytes one QP moves per turn: four chunks (a turn
 * costs the scheduler ~0.2 us of bookkeeping; at one chunk a turn that
 * cost 40% of the engine's copy bandwidth, at four about 10%). */
#define ENGINE_STEP (4 * ENGINE_CHUNK)
/* Work requests one QP may start per pass. */
#define ENGINE_WQE_BUDGET 32
/* How long an idle engine keeps polling before it sleeps (ns). */
#define ENGINE_SPIN_NS (200u * 1000)
/* Largest message: IBA 9.4 (2^31 bytes). */
#define ENGINE_MAX_MSG (1ull << 31)
/* Largest UD message: the path MTU. */
#define ENGINE_UD_MTU 4096u
/* GRH bytes at the head of every UD receive buffer (IBA 11.4.1.1). */
#define ENGINE_GRH_LEN 40u
/* The most SGEs a WQE may carry (abi: num_sge is a u8). */
#define ENGINE_MAX_SGE 32

/* Requester states (one step function each, in req.c). */
#define REQ_STATES(X)                                                          \
	X(IDLE)	     /* no WQE in hand: fetch the next */                      \
	X(EXEC)	     /* moving the current message, chunk by chunk */          \
	X(RNR_WAIT)  /* the responder had no receive WQE: wait, retry */      \
	X(RETRY_WAIT) /* the responder is unreachable: wait, retry */         \
	X(ERROR)     /* the QP is in error: flush */

enum req_state {
#define X(s) REQ_##s,
	REQ_STATES(X)
#undef X
};

const char *req_state_str(enum req_state s);

/* Per-QP counters (also summed per endpoint). */
struct qp_counters {
	uint64_t msgs_out[CIOV_WR_MAX];
	uint64_t bytes_out[CIOV_WR_MAX];
	uint64_t msgs_in[CIOV_WR_MAX];
	uint64_t bytes_in[CIOV_WR_MAX];
	uint64_t completions[CIOV_WC_GENERAL_ERR + 1];
	uint64_t rnr_waits;
	uint64_t retries;
};

/* SUM += C. */
void qp_counters_add(struct qp_counters *sum, const struct qp_counters *c);

/* The responder's side of a message in progress (the receive WQE). */
struct resp {
	bool have_wqe;
	bool from_srq;
	uint16_t wqe_idx; /* its index in the RQ (ciov_cqe.wqe_idx) */
	struct ciov_recv_wqe wqe;
	struct dma_seg seg[ENGINE_MAX_SGE];
	uint32_t nseg;
	uint64_t cap; /* bytes the receive buffers hold */
};

/* The requester's side: the WQE in hand, copied out of the ring. */
struct req {
	enum req_state state;
	union {
		struct ciov_send_wqe wqe;
		uint8_t raw[4096]; /* header + SGEs or inline data: RING_ENTRY_MAX */
	} w;
	uint64_t len;  /* message length */
	uint64_t done; /* bytes moved */
	uint64_t last_len; /* length of the last message completed */
	struct dma_seg lseg[ENGINE_MAX_SGE];
	uint32_t nlseg;
	uint64_t deadline_ns; /* RNR_WAIT / RETRY_WAIT */
	uint64_t retry_until_ns;
	uint8_t rnr_left;
	uint8_t started; /* responder side committed (recv WQE taken) */
};

/* The engine's part of a QP (embedded in struct qp). */
struct qp_exec {
	struct qp_exec *next, *prev; /* the engine's list of QPs */
	struct endpoint *peer_ep;    /* cache of ep_by_gid(dgid), checked by id */
	uint32_t peer_ep_id;
	struct req req;
	struct resp resp;
	struct qp_counters cnt;
	bool listed;
	bool sqd_notify; /* SQ_DRAINED due once the SQ is drained */
	struct xq *xq;	 /* RC peer across the fabric (fabric/xport.h), else NULL */
	uint64_t wire_bytes; /* fabric: bytes sent, or asked for by READs (the scheduler's charge) */
};

struct engine {
	struct adapter *ad;
	struct qp_exec qps; /* list head: every QP that exists */
	uint32_t nqps;
	uint64_t last_work_ns;
	bool asleep;
	uint64_t passes;
	bool rates; /* some rate setting exists: passes go through sched.c */
	uint32_t chunk; /* bytes a message moves per step (the scheduler may lower it) */
	uint32_t step;	/* under the scheduler: bytes a QP moves per turn */
	/* When set, a step copies PKT bytes at a time and ends early (between
	 * two packets, or two messages) once PREEMPT(PREEMPT_ARG) is true:
	 * a low-priority turn that high-priority work interrupts. */
	bool (*preempt)(const void *arg);
	const void *preempt_arg;
	uint32_t pkt;
	bool held;  /* work waits for a cap to refill */
	uint64_t sched_last_ns; /* the scheduler's previous pass */
	uint64_t wakeups;
	struct xq *xdue; /* fabric QPs with responses or ACKs to send */
	uint64_t sleeps;
};

int engine_init(struct engine *e, struct adapter *ad);
void engine_fini(struct engine *e);

/* QP lifecycle hooks (qp.c): a QP exists for the engine from create to
 * destroy; modify tells it the state changed. */
void engine_qp_add(struct engine *e, struct qp *qp);
void engine_qp_del(struct engine *e, struct qp *qp);
void engine_qp_modified(struct engine *e, struct qp *qp);

/* Puts QP in the error state: flushes what it holds (IBA 10.3.1). */
void engine_qp_error(struct qp *qp);
/* A UD send error (IBA 10.3.1.6, SQE): only the send queue stops and
 * flushes; receives go on; SQE -> RTS resumes. */
void engine_qp_sq_error(struct qp *qp);

/* Registers a tenant's doorbell eventfd with the loop. */
int engine_watch_doorbell(struct engine *e, struct client *c);
void engine_unwatch_doorbell(struct engine *e, struct client *c);

/* The QP that embeds X. */
#define qp_of_exec(xp) container_of(xp, struct qp, x)

/* req.c: one step of QP's requester state machine; whether work moved. */
bool req_step(struct qp *qp, uint64_t now);

/* Completes send WQE W (LEN bytes) with STATUS: counters, frees its SQ
 * slot, the CQE when signaled or failed, and the QP to error (SQE for a
 * UD send error) on a failure. */
void req_post_completion(struct qp *qp, const struct ciov_send_wqe *w, uint64_t len,
			 enum ciov_wc_status status);
/* Copies the send WQE AT places behind the SQ's head into qp->x.req and
 * checks its shape and local buffers (r->len, r->lseg): -EAGAIN when
 * there is none (or the ring is corrupt and the QP now in error), else 0
 * and *ST, the status it must complete with if not SUCCESS. */
int req_take(struct qp *qp, uint32_t at, enum ciov_wc_status *st);
/* IBA table 45: RNR NAK timer code V in microseconds. */
uint64_t rnr_timer_us(uint8_t v);
/* IBA 9.7.6.1.3: the local ACK timeout of code T in ns (0: infinite). */
uint64_t ack_timeout_ns(uint8_t t);

/* resp.c: the responder's side of a message arriving at QP. */
/* Takes QP's next receive WQE (RQ or SRQ) and checks its buffers:
 * CIOV_WC_SUCCESS, -EAGAIN when there is none (RNR), or the WC status the
 * receive WQE completes with. */
int resp_take_recv(struct qp *qp);
/* IBA 8.3: the 40-byte GRH a UD receiver finds before the payload. */
void resp_grh(uint8_t grh[ENGINE_GRH_LEN], uint32_t paylen, uint8_t hop_limit,
	      const uint8_t sgid[16], const uint8_t dgid[16]);
/* Whether RESP's MR named by RKEY covers [VA, VA+LEN) with ACCESS, in
 * RESP's PD, and RESP allows ACCESS (IBA C9-88). LEN 0 needs no key. */
bool rkey_ok(struct qp *resp, uint32_t rkey, uint64_t va, uint64_t len, unsigned access);
/* Completes the receive WQE in hand. */
void resp_complete(struct qp *qp, enum ciov_wc_status status, enum ciov_wc_opcode op,
		   uint32_t byte_len, uint32_t imm, unsigned wc_flags, uint32_t src_qp, bool solicited);

/* flush.c: completes every WQE QP holds with WR_FLUSH_ERR (QP in error);
 * returns how many. */
unsigned engine_flush(struct qp *qp);

/* Work arrived from outside the tenants' doorbells (a packet on a fabric
 * port): wakes the engine if it sleeps. */
void engine_kick(struct engine *e);

/* The loop's idle hook: runs passes; returns the epoll timeout (ms). */
int engine_idle(void *arg);

uint64_t engine_now_ns(void);

#endif
