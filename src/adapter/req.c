/* SPDX-License-Identifier: MIT */
/*
 * The requester (IBA 9.7 and ch. 10.8 work request semantics), loopback
 * placement: the responder QP is on this adapter, so a "packet" is a chunk
 * copied straight from one tenant's memory to the other's.
 *
 * Security model: the work request is the tenant's, the responder's memory
 * another tenant's. The WQE is copied out of the ring once (req.w) and only
 * that copy is read; every SGE, key, address and length is checked (keys
 * by index + tag, PD, bounds with wrap, access rights) before the first
 * byte moves, so a failed check touches no byte. Between chunks, control
 * operations may destroy anything: each chunk re-resolves the peer, and
 * every address goes through the owning endpoint's IOMMU, which no longer
 * maps a detached segment.
 */
#include <errno.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/ah.h"
#include "adapter/async.h"
#include "adapter/cq.h"
#include "adapter/endpoint.h"
#include "adapter/engine.h"
#include "adapter/fabric/xport.h"
#include "adapter/iommu.h"
#include "adapter/log.h"
#include "adapter/mr.h"
#include "adapter/pd.h"
#include "adapter/qp.h"
#include "adapter/qpn.h"
#include "adapter/srq.h"

_Static_assert(sizeof(((struct req *)0)->w.raw) >= RING_ENTRY_MAX, "a WQE fits the copy");

const char *req_state_str(enum req_state s)
{
	static const char *const names[] = {
#define X(n) [REQ_##n] = #n,
		REQ_STATES(X)
#undef X
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "UNKNOWN";
}

static const struct ciov_sge *wqe_sges(const struct req *r)
{
	return (const struct ciov_sge *)(r->w.raw + sizeof(struct ciov_send_wqe));
}

static const uint8_t *wqe_inline(const struct req *r)
{
	return r->w.raw + sizeof(struct ciov_send_wqe);
}

static bool wqe_is_inline(const struct req *r)
{
	return r->w.wqe.flags & CIOV_SEND_INLINE;
}

static bool op_is_atomic(uint8_t op)
{
	return op == CIOV_WR_ATOMIC_CMP_AND_SWP || op == CIOV_WR_ATOMIC_FETCH_AND_ADD;
}

static bool op_needs_recv(uint8_t op)
{
	return op == CIOV_WR_SEND || op == CIOV_WR_SEND_WITH_IMM ||
	       op == CIOV_WR_RDMA_WRITE_WITH_IMM;
}

/* ------------------------------------------------------------------------ */
/* Completion. */

void req_post_completion(struct qp *qp, const struct ciov_send_wqe *w, uint64_t len,
			 enum ciov_wc_status status)
{
	uint8_t op = w->opcode;
	bool signaled = qp->sq_sig_all || (w->flags & CIOV_SEND_SIGNALED);

	if (status == CIOV_WC_SUCCESS && op < CIOV_WR_MAX) {
		qp->x.cnt.msgs_out[op]++;
		qp->x.cnt.bytes_out[op] += len;
	}
	/* The WQE in hand is the ring's next: its index goes in the CQE
	 * (libciov frees the slot for posting when the CQE is polled). */
	uint16_t idx = (uint16_t)qp->sq.idx;

	ring_pop(&qp->sq);
	qp->x.cnt.completions[status]++;
	if (signaled || status != CIOV_WC_SUCCESS) {
		struct ciov_cqe cqe = {
			.wr_id = w->wr_id,
			.status = (uint8_t)status,
			.opcode = (uint8_t)qp_wc_opcode(op),
			.byte_len = (uint32_t)len,
			.qp_num = qp->qpn,
			.wqe_idx = idx,
		};

		if (cq_post(qp->send_cq, &cqe, false))
			status = CIOV_WC_GENERAL_ERR; /* CQ overrun: IBA 11.4.2.1 */
	}
	if (status == CIOV_WC_SUCCESS)
		return;
	/* IBA 10.3.1.6: a UD send error stops the send queue only (SQE). */
	if (qp->type == CIOV_QPT_UD && status != CIOV_WC_GENERAL_ERR)
		engine_qp_sq_error(qp);
	else
		engine_qp_error(qp);
}

/* Completes the WQE in hand with STATUS, frees its ring slot, and puts the
 * QP in error on a failure (IBA 10.8.3: the QP transitions to Error; the
 * WQEs behind it are flushed). */
static void req_complete(struct qp *qp, enum ciov_wc_status status)
{
	struct req *r = &qp->x.req;
	struct ciov_send_wqe w = r->w.wqe;
	uint64_t len = r->len;

	r->state = REQ_IDLE;
	r->last_len = r->len;
	r->done = r->len = 0;
	r->started = 0;
	req_post_completion(qp, &w, len, status);
}

/* ------------------------------------------------------------------------ */
/* Checks. */

/* Resolves the local SGEs of the WQE in hand into r->lseg, checking each
 * (IBA 10.6.3.2: L_Key valid, PD of the QP, bounds, access). Zero-length
 * SGEs are skipped unchecked. ACCESS: what the local buffers need
 * (LOCAL_WRITE for READ and atomic results). */
static enum ciov_wc_status req_resolve_local(struct qp *qp, unsigned access)
{
	struct req *r = &qp->x.req;
	struct endpoint *ep = qp->obj.ep;
	const struct ciov_sge *sge = wqe_sges(r);
	uint64_t total = 0;

	r->nlseg = 0;
	for (uint32_t i = 0; i < r->w.wqe.num_sge; i++) {
		struct mr *mr;

		if (sge[i].length == 0)
			continue;
		mr = mr_from_key(ep, sge[i].lkey, MR_LKEY);
		if (!mr || mr_check(mr, qp->pd, sge[i].addr, sge[i].length, access))
			return CIOV_WC_LOC_PROT_ERR;
		r->lseg[r->nlseg++] = (struct dma_seg){sge[i].addr, sge[i].length};
		total += sge[i].length;
	}
	r->len = total;
	return total > ENGINE_MAX_MSG ? CIOV_WC_LOC_LEN_ERR : CIOV_WC_SUCCESS;
}

/* Copies the next WQE out of the send queue and validates its shape (not
 * yet its buffers). -EAGAIN when the queue is empty. */
static int req_fetch(struct qp *qp, uint32_t at, enum ciov_wc_status *status)
{
	struct req *r = &qp->x.req;
	const struct ciov_send_wqe *w = &r->w.wqe;
	int err = ring_peek_at(&qp->sq, at, r->w.raw);

	if (err == -EAGAIN)
		return err;
	if (err) {
		/* The tenant corrupted its ring: nothing in it can be trusted,
		 * not even the WQE we would complete. */
		log_warn_rl("qp#%u: corrupt send queue, QP to error", qp->qpn);
		engine_qp_error(qp);
		return -EAGAIN;
	}
	*status = CIOV_WC_SUCCESS;
	r->len = r->done = 0;
	r->started = 0;
	r->rnr_left = qp->attr.rnr_retry;
	r->retry_until_ns = 0;
	if (w->opcode >= CIOV_WR_MAX ||
	    (qp->type == CIOV_QPT_UD && w->opcode != CIOV_WR_SEND && w->opcode != CIOV_WR_SEND_WITH_IMM))
		*status = CIOV_WC_LOC_QP_OP_ERR;
	else if (wqe_is_inline(r) ? (w->inline_len > qp->cap.max_inline_data || op_is_atomic(w->opcode) ||
				     w->opcode == CIOV_WR_RDMA_READ)
				  : w->num_sge > qp->cap.max_send_sge)
		*status = CIOV_WC_LOC_LEN_ERR;
	return 0;
}

/* Checks the WQE's local side; sets r->len. */
static enum ciov_wc_status req_check_local(struct qp *qp)
{
	struct req *r = &qp->x.req;
	uint8_t op = r->w.wqe.opcode;
	enum ciov_wc_status st;

	if (wqe_is_inline(r)) {
		r->len = r->w.wqe.inline_len;
		return CIOV_WC_SUCCESS;
	}
	st = req_resolve_local(qp, op == CIOV_WR_RDMA_READ || op_is_atomic(op)
					   ? CIOV_ACCESS_LOCAL_WRITE : 0);
	if (st != CIOV_WC_SUCCESS)
		return st;
	/* Atomics: one 8-byte result buffer (IBA 9.4.5). */
	if (op_is_atomic(op) && r->len != 8)
		return CIOV_WC_LOC_LEN_ERR;
	if (qp->type == CIOV_QPT_UD && r->len > ENGINE_UD_MTU)
		return CIOV_WC_LOC_LEN_ERR;
	return CIOV_WC_SUCCESS;
}

int req_take(struct qp *qp, uint32_t at, enum ciov_wc_status *st)
{
	if (req_fetch(qp, at, st))
		return -EAGAIN;
	if (*st == CIOV_WC_SUCCESS)
		*st = req_check_local(qp);
	return 0;
}

/* The remote MR range of an RDMA or atomic request, checked against the
 * responder (IBA 9.7.4.1.5 / C9-88: R_Key, PD of the responder QP, bounds,
 * the QP's and the MR's access). */
bool rkey_ok(struct qp *resp, uint32_t rkey, uint64_t va, uint64_t len, unsigned access)
{
	struct mr *mr;

	if (len == 0)
		return true; /* zero-length RDMA checks no R_Key */
	if ((resp->attr.qp_access_flags & access) != access)
		return false;
	mr = mr_from_key(resp->obj.ep, rkey, MR_RKEY);
	return mr && !mr_check(mr, resp->pd, va, len, access);
}

static enum ciov_wc_status req_check_remote(struct qp *qp, struct qp *peer, unsigned access,
					    uint64_t len)
{
	const struct ciov_send_wqe *w = &qp->x.req.w.wqe;

	return rkey_ok(peer, w->rkey, w->remote_addr, len, access) ? CIOV_WC_SUCCESS
								   : CIOV_WC_REM_ACCESS_ERR;
}

/* ------------------------------------------------------------------------ */
/* The responder, found by (GID, QPN). */

/* The endpoint of GID, through QP's one-entry cache (validated by the
 * endpoint's id, whose generation changes when a slot is reused). */
static struct endpoint *req_peer_ep(struct qp *qp, const uint8_t gid[16])
{
	struct qp_exec *x = &qp->x;
	struct adapter *ad = qp->obj.ep->ad;

	if (x->peer_ep && pool_get(&ad->endpoints, x->peer_ep_id) == x->peer_ep &&
	    memcmp(x->peer_ep->gid_addr, gid, 16) == 0)
		return x->peer_ep;
	x->peer_ep = ep_by_gid(ad, gid);
	x->peer_ep_id = x->peer_ep ? x->peer_ep->id : 0;
	return x->peer_ep;
}

/* The QP numbered QPN at GID on this adapter: GID an endpoint's own, or
 * a port's (QPNs are unique on the adapter). */
static struct qp *req_peer_qp(struct qp *qp, const uint8_t gid[16], uint32_t qpn)
{
	struct adapter *ad = qp->obj.ep->ad;
	struct endpoint *ep = req_peer_ep(qp, gid);

	if (ep)
		return qp_find_qpn(ep, qpn);
	return port_by_gid(ad, gid) ? qpn_find(&ad->qpns, qpn) : NULL;
}

static struct qp *req_peer_rc(struct qp *qp)
{
	struct qp *peer = req_peer_qp(qp, qp->attr.ah_attr.dgid, qp->attr.dest_qp_num);

	if (!peer || peer->type != CIOV_QPT_RC)
		return NULL;
	/* A responder receives in RTR, RTS and SQD (IBA 10.3.1). */
	if (peer->state != CIOV_QPS_RTR && peer->state != CIOV_QPS_RTS &&
	    peer->state != CIOV_QPS_SQD)
		return NULL;
	/* An RC responder serves only the QP it is connected to (its
	 * dest_qp_num and dgid name us): anyone else who knows its GID and
	 * QPN must not drive it, nor put it in error with a bad key. To the
	 * stranger it does not answer (IBA 9.7.6: the requester times out). */
	if (peer->attr.dest_qp_num != qp->qpn || !ep_gid_names(qp->obj.ep, peer->attr.ah_attr.dgid))
		return NULL;
	return peer;
}

/* IBA 9.7.5.2.8 / table 45: the RNR NAK timer values, in microseconds. */
uint64_t rnr_timer_us(uint8_t v)
{
	static const uint32_t us[32] = {
		655360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320,
		480, 640, 960, 1280, 1920, 2560, 3840, 5120, 7680, 10240,
		15360, 20480, 30720, 40960, 61440, 81920, 122880, 163840, 245760, 327680,
		491520,
	};
	return us[v & 31];
}

/* IBA 9.7.6.1.3: local ACK timeout = 4.096 us * 2^timeout (0 = infinite). */
uint64_t ack_timeout_ns(uint8_t t)
{
	return t ? 4096ull << (t > 31 ? 31 : t) : 0;
}

/* The responder did not answer (gone, or not ready): wait a local ACK
 * timeout and retry, retry_cnt times, then RETRY_EXC_ERR (IBA 9.7.6.1). */
static bool req_unreachable(struct qp *qp, uint64_t now)
{
	struct req *r = &qp->x.req;
	uint64_t t = ack_timeout_ns(qp->attr.timeout);

	if (t == 0) {
		r->state = REQ_RETRY_WAIT;
		r->deadline_ns = now + 100000000; /* infinite: look again in 100 ms */
		return false;
	}
	if (!r->retry_until_ns)
		r->retry_until_ns = now + t * ((uint64_t)qp->attr.retry_cnt + 1);
	if (now >= r->retry_until_ns) {
		req_complete(qp, CIOV_WC_RETRY_EXC_ERR);
		return true;
	}
	qp->x.cnt.retries++;
	r->state = REQ_RETRY_WAIT;
	r->deadline_ns = now + t < r->retry_until_ns ? now + t : r->retry_until_ns;
	return false;
}

/* No receive WQE at the responder: RNR NAK (IBA 9.7.5.2.8). rnr_retry 7
 * means retry forever. */
static bool req_rnr(struct qp *qp, struct qp *peer, uint64_t now)
{
	struct req *r = &qp->x.req;

	qp->x.cnt.rnr_waits++;
	if (qp->attr.rnr_retry != 7) {
		if (r->rnr_left == 0) {
			req_complete(qp, CIOV_WC_RNR_RETRY_EXC_ERR);
			return true;
		}
		r->rnr_left--;
	}
	r->state = REQ_RNR_WAIT;
	r->deadline_ns = now + rnr_timer_us(peer->attr.min_rnr_timer) * 1000;
	return false;
}

/* ------------------------------------------------------------------------ */
/* Moving data. */

static void cursor_local(struct qp *qp, struct dma_cursor *c)
{
	struct req *r = &qp->x.req;

	if (wqe_is_inline(r))
		dma_cursor_buf(c, (void *)wqe_inline(r));
	else
		dma_cursor_sgl(c, qp->obj.ep->iommu, r->lseg, r->nlseg);
	dma_skip(c, r->done);
}

/* Moves the next chunk of the message between QP and PEER. */
static int req_move(struct qp *qp, struct qp *peer)
{
	struct req *r = &qp->x.req;
	const struct ciov_send_wqe *w = &r->w.wqe;
	struct engine *e = &qp->obj.ep->ad->engine;
	struct dma_seg rseg = {w->remote_addr, r->len};
	struct dma_cursor local, remote, *to, *from;
	uint64_t n = r->len - r->done;
	int64_t m;

	if (n > e->chunk)
		n = e->chunk;
	cursor_local(qp, &local);
	if (op_needs_recv(w->opcode) && w->opcode != CIOV_WR_RDMA_WRITE_WITH_IMM)
		dma_cursor_sgl(&remote, peer->obj.ep->iommu, peer->x.resp.seg, peer->x.resp.nseg);
	else
		dma_cursor_sgl(&remote, peer->obj.ep->iommu, &rseg, 1);
	dma_skip(&remote, r->done);
	to = w->opcode == CIOV_WR_RDMA_READ ? &local : &remote;
	from = to == &local ? &remote : &local;
	if (!e->preempt) {
		r->done += n;
		return dma_copy(to, from, n);
	}
	m = dma_copy_pkts(to, from, n, e->pkt, e->preempt, e->preempt_arg);
	if (m < 0)
		return (int)m;
	r->done += (uint64_t)m;
	return 0;
}

/* IBA 9.4.5: the atomic, on the responder's memory, result to the local
 * buffer. Atomic against other atomics (one engine) and against tenants'
 * own CPU atomics on the same memory (real atomic instructions). */
static enum ciov_wc_status req_atomic(struct qp *qp, struct qp *peer)
{
	struct req *r = &qp->x.req;
	const struct ciov_send_wqe *w = &r->w.wqe;
	struct dma_cursor local, src;
	uint64_t *target, old;
	void *p;

	if (w->remote_addr & 7)
		return CIOV_WC_REM_INV_REQ_ERR; /* IBA 9.4.5: misaligned atomic */
	if (iommu_translate(peer->obj.ep->iommu, w->remote_addr, 8, &p))
		return CIOV_WC_REM_ACCESS_ERR;
	target = p;
	if (w->opcode == CIOV_WR_ATOMIC_CMP_AND_SWP) {
		old = w->compare_add;
		__atomic_compare_exchange_n(target, &old, w->swap, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	} else {
		old = __atomic_fetch_add(target, w->compare_add, __ATOMIC_SEQ_CST);
	}
	cursor_local(qp, &local);
	dma_cursor_buf(&src, &old);
	r->done = 8;
	return dma_copy(&local, &src, 8) ? CIOV_WC_LOC_PROT_ERR : CIOV_WC_SUCCESS;
}

/* The responder's start of the message: access checks, the receive WQE. */
static int req_begin_remote(struct qp *qp, struct qp *peer, enum ciov_wc_status *st)
{
	struct req *r = &qp->x.req;
	uint8_t op = r->w.wqe.opcode;
	int rs;

	switch (op) {
	case CIOV_WR_RDMA_WRITE:
	case CIOV_WR_RDMA_WRITE_WITH_IMM:
		*st = req_check_remote(qp, peer, CIOV_ACCESS_REMOTE_WRITE, r->len);
		break;
	case CIOV_WR_RDMA_READ:
		*st = req_check_remote(qp, peer, CIOV_ACCESS_REMOTE_READ, r->len);
		break;
	case CIOV_WR_ATOMIC_CMP_AND_SWP:
	case CIOV_WR_ATOMIC_FETCH_AND_ADD:
		*st = (r->w.wqe.remote_addr & 7) ? CIOV_WC_REM_INV_REQ_ERR
			: req_check_remote(qp, peer, CIOV_ACCESS_REMOTE_ATOMIC, 8);
		break;
	default:
		*st = CIOV_WC_SUCCESS;
	}
	if (*st != CIOV_WC_SUCCESS || !op_needs_recv(op))
		return 0;
	rs = resp_take_recv(peer);
	if (rs == -EAGAIN)
		return -EAGAIN;
	if (rs != CIOV_WC_SUCCESS) {
		/* The responder's own receive WQE is bad: it completes in
		 * error, the requester learns of a remote operational error. */
		resp_complete(peer, (enum ciov_wc_status)rs, CIOV_WC_OP_RECV, 0, 0, 0, qp->qpn, false);
		*st = CIOV_WC_REM_OP_ERR;
		return 0;
	}
	if (op != CIOV_WR_RDMA_WRITE_WITH_IMM && r->len > peer->x.resp.cap) {
		/* IBA 9.9.3: message longer than the receive buffers. */
		resp_complete(peer, CIOV_WC_LOC_LEN_ERR, CIOV_WC_OP_RECV, 0, 0, 0, qp->qpn, false);
		*st = CIOV_WC_REM_INV_REQ_ERR;
	}
	return 0;
}

/* The responder's end of a message that needed a receive WQE. */
static void req_end_remote(struct qp *qp, struct qp *peer)
{
	struct req *r = &qp->x.req;
	const struct ciov_send_wqe *w = &r->w.wqe;
	bool imm = w->opcode != CIOV_WR_SEND;

	peer->x.cnt.msgs_in[w->opcode]++;
	peer->x.cnt.bytes_in[w->opcode] += r->len;
	if (!op_needs_recv(w->opcode))
		return;
	resp_complete(peer, CIOV_WC_SUCCESS,
		      w->opcode == CIOV_WR_RDMA_WRITE_WITH_IMM ? CIOV_WC_OP_RECV_RDMA_WITH_IMM
							       : CIOV_WC_OP_RECV,
		      (uint32_t)r->len, imm ? w->imm_data : 0, imm ? CIOV_WC_WITH_IMM : 0, qp->qpn,
		      w->flags & CIOV_SEND_SOLICITED);
}

/* A remote error ends the message for both sides (IBA 9.9.3: the
 * responder's QP goes to error too for class C errors). */
static void req_fail_remote(struct qp *qp, struct qp *peer, enum ciov_wc_status st)
{
	if (st == CIOV_WC_REM_ACCESS_ERR || st == CIOV_WC_REM_INV_REQ_ERR ||
	    st == CIOV_WC_REM_OP_ERR)
		engine_qp_error(peer);
	req_complete(qp, st);
}

/* ------------------------------------------------------------------------ */
/* UD: one packet, no reliability, silently dropped when it cannot land. */

static bool req_ud(struct qp *qp)
{
	struct req *r = &qp->x.req;
	const struct ciov_send_wqe *w = &r->w.wqe;
	struct obj *ao = obj_find(qp->obj.ep, CIOV_OBJ_AH, w->ah);
	struct ah *ah = ao ? container_of(ao, struct ah, obj) : NULL;
	struct qp *peer;
	uint32_t qkey;
	int err;

	/* The AH must be in the QP's PD (IBA 10.2.3), which also keeps one
	 * connection from using another's AH. */
	if (!ah || ah->pd != qp->pd) {
		req_complete(qp, CIOV_WC_LOC_QP_OP_ERR);
		return true;
	}
	err = xport_ud_send(qp, ah, engine_now_ns());
	if (err == -EAGAIN) {
		r->state = REQ_RETRY_WAIT; /* deadline_ns: when to look again */
		return false;
	}
	if (err != -ENOENT) {
		req_complete(qp, err == -EMSGSIZE ? CIOV_WC_LOC_LEN_ERR : CIOV_WC_SUCCESS);
		return true;
	}
	peer = req_peer_qp(qp, ah->attr.dgid, w->remote_qpn);
	/* IBA 10.2.4.1: a Q_Key with the high bit set means "use the QP's". */
	qkey = (w->remote_qkey & 0x80000000u) ? qp->attr.qkey : w->remote_qkey;
	if (peer && peer->type == CIOV_QPT_UD &&
	    (peer->state == CIOV_QPS_RTR || peer->state == CIOV_QPS_RTS ||
	     peer->state == CIOV_QPS_SQD || peer->state == CIOV_QPS_SQE) &&
	    qkey == peer->attr.qkey) {
		int rs = resp_take_recv(peer);

		if (rs == CIOV_WC_SUCCESS && r->len + ENGINE_GRH_LEN > peer->x.resp.cap) {
			resp_complete(peer, CIOV_WC_LOC_LEN_ERR, CIOV_WC_OP_RECV, 0, 0, 0, qp->qpn, false);
		} else if (rs == CIOV_WC_SUCCESS) {
			struct dma_cursor dst, src;
			uint8_t grh[ENGINE_GRH_LEN];
			struct dma_cursor hdr;

			resp_grh(grh, (uint32_t)r->len, ah->attr.hop_limit, ep_fabric_gid(qp->obj.ep),
				 ah->attr.dgid);

			dma_cursor_sgl(&dst, peer->obj.ep->iommu, peer->x.resp.seg, peer->x.resp.nseg);
			dma_cursor_buf(&hdr, grh);
			cursor_local(qp, &src);
			if (dma_copy(&dst, &hdr, ENGINE_GRH_LEN) || dma_copy(&dst, &src, r->len)) {
				resp_complete(peer, CIOV_WC_LOC_PROT_ERR, CIOV_WC_OP_RECV, 0, 0, 0,
					      qp->qpn, false);
			} else {
				bool imm = w->opcode == CIOV_WR_SEND_WITH_IMM;

				peer->x.cnt.msgs_in[w->opcode]++;
				peer->x.cnt.bytes_in[w->opcode] += r->len;
				resp_complete(peer, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV,
					      (uint32_t)r->len + ENGINE_GRH_LEN, imm ? w->imm_data : 0,
					      CIOV_WC_GRH | (imm ? CIOV_WC_WITH_IMM : 0), qp->qpn,
					      w->flags & CIOV_SEND_SOLICITED);
			}
		} else if (rs != -EAGAIN) {
			resp_complete(peer, (enum ciov_wc_status)rs, CIOV_WC_OP_RECV, 0, 0, 0, qp->qpn,
				      false);
		}
	}
	req_complete(qp, CIOV_WC_SUCCESS);
	return true;
}

/* ------------------------------------------------------------------------ */
/* The state machine. */

/* EXEC: move the message in hand, one chunk per pass. */
static bool req_step_EXEC(struct qp *qp, uint64_t now)
{
	struct req *r = &qp->x.req;
	enum ciov_wc_status st;
	struct qp *peer;

	if (qp->type == CIOV_QPT_UD)
		return req_ud(qp);
	peer = req_peer_rc(qp);
	if (!peer)
		return req_unreachable(qp, now);
	r->retry_until_ns = 0;
	if (!r->started) {
		int err = req_begin_remote(qp, peer, &st);

		if (err == -EAGAIN)
			return req_rnr(qp, peer, now);
		if (st != CIOV_WC_SUCCESS) {
			req_fail_remote(qp, peer, st);
			return true;
		}
		r->started = 1;
	}
	if (op_is_atomic(r->w.wqe.opcode)) {
		st = req_atomic(qp, peer);
	} else if (r->done < r->len && req_move(qp, peer)) {
		/* Memory vanished under the transfer (an MR deregistered
		 * mid-message): undefined per IBA, an error here. */
		st = r->w.wqe.opcode == CIOV_WR_RDMA_READ ? CIOV_WC_LOC_PROT_ERR
							   : CIOV_WC_REM_ACCESS_ERR;
	} else {
		st = CIOV_WC_SUCCESS;
	}
	if (st != CIOV_WC_SUCCESS) {
		req_fail_remote(qp, peer, st);
		return true;
	}
	if (r->done < r->len)
		return true; /* next chunk on the next pass */
	req_end_remote(qp, peer);
	req_complete(qp, CIOV_WC_SUCCESS);
	return true;
}

/* IDLE: start the next WQE, if the QP may send (RTS; SQD drains, IBA
 * 10.3.1.5, by not starting new ones). */
static bool req_step_IDLE(struct qp *qp, uint64_t now)
{
	struct req *r = &qp->x.req;
	enum ciov_wc_status st;

	if (qp->state == CIOV_QPS_SQD && qp->x.sqd_notify) {
		/* IBA 10.3.1.5: drained, nothing in hand: say so once. */
		qp->x.sqd_notify = false;
		async_post(&qp->obj, CIOV_EVENT_SQ_DRAINED);
		return true;
	}
	if (qp->state != CIOV_QPS_RTS)
		return false;
	if (req_fetch(qp, 0, &st))
		return false;
	if (st == CIOV_WC_SUCCESS)
		st = req_check_local(qp);
	if (st != CIOV_WC_SUCCESS) {
		req_complete(qp, st);
		return true;
	}
	r->state = REQ_EXEC;
	return req_step_EXEC(qp, now);
}

static bool req_step_RNR_WAIT(struct qp *qp, uint64_t now)
{
	if (now < qp->x.req.deadline_ns)
		return false;
	qp->x.req.state = REQ_EXEC;
	return req_step_EXEC(qp, now);
}

static bool req_step_RETRY_WAIT(struct qp *qp, uint64_t now)
{
	return req_step_RNR_WAIT(qp, now);
}

/* ERROR: flush whatever the tenant posts (IBA 10.3.1.7). */
static bool req_step_ERROR(struct qp *qp, uint64_t now)
{
	return engine_flush(qp) > 0;
}

bool req_step(struct qp *qp, uint64_t now)
{
	static bool (*const steps[])(struct qp *qp, uint64_t now) = {
#define X(s) [REQ_##s] = req_step_##s,
		REQ_STATES(X)
#undef X
	};
	/* Under the scheduler a QP moves e->step bytes per turn, so that its
	 * accounting is fine-grained; otherwise up to 16 chunks. */
	struct engine *e = &qp->obj.ep->ad->engine;
	uint64_t budget = e->rates ? e->step : 16 * ENGINE_CHUNK;
	uint64_t bytes = 0;
	bool work = false;

	if (qp->x.xq && qp->x.req.state != REQ_ERROR)
		return xport_req_step(qp, now);

	/* Small messages: several WQEs per pass, up to the budgets (WQEs and
	 * bytes, so that QPs take turns). */
	for (int i = 0; i < ENGINE_WQE_BUDGET && bytes < budget; i++) {
		enum req_state before = qp->x.req.state;
		bool moved = steps[qp->x.req.state](qp, now);

		work |= moved;
		if (!moved || qp->x.req.state != REQ_IDLE || before == REQ_ERROR)
			break;
		if (e->preempt && e->preempt(e->preempt_arg))
			break;
		bytes += qp->x.req.last_len;
	}
	return work;
}
