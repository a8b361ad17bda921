/* SPDX-License-Identifier: MIT */
/*
 * The requester across the fabric (IBA 9.7.4, 9.7.6): takes send WQEs off
 * the SQ into the window of messages in flight, cuts each into packets at
 * the path MTU with consecutive 24-bit PSNs, and sends them, gathering the
 * payload straight from the tenant's registered memory. Go-back-N on a
 * NAK, an implied NAK or the local ACK timeout; retry_cnt and rnr_retry
 * bound the retries (IBA 9.7.6.1): exhausted, the WQE completes RETRY_EXC_ERR /
 * RNR_RETRY_EXC_ERR and the QP goes to error.
 *
 * Security model: a WQE is copied out of the shared ring once (req_take),
 * validated there, and only the copy (struct xwqe) is used afterwards.
 */
#include <errno.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/async.h"
#include "adapter/endpoint.h"
#include "adapter/fabric/xport_int.h"
#include "adapter/qp.h"

/* How soon to look again while the link address is being resolved. */
#define XREQ_RESOLVE_NS 1000000ull

static bool op_is_atomic(uint8_t op)
{
	return op == CIOV_WR_ATOMIC_CMP_AND_SWP || op == CIOV_WR_ATOMIC_FETCH_AND_ADD;
}

static bool op_is_rd(uint8_t op)
{
	return op == CIOV_WR_RDMA_READ || op_is_atomic(op);
}

/* The wire opcode of packet K of N of a SEND or WRITE (IBA 9.4). */
static uint8_t xreq_opcode(uint8_t wr, uint32_t k, uint32_t n)
{
	bool first = k == 0, last = k == n - 1;

	switch (wr) {
	case CIOV_WR_SEND:
		return first && last ? WIRE_OP_RC_SEND_ONLY
		       : first	     ? WIRE_OP_RC_SEND_FIRST
		       : last	     ? WIRE_OP_RC_SEND_LAST
				     : WIRE_OP_RC_SEND_MIDDLE;
	case CIOV_WR_SEND_WITH_IMM:
		return first && last ? WIRE_OP_RC_SEND_ONLY_WITH_IMMEDIATE
		       : first	     ? WIRE_OP_RC_SEND_FIRST
		       : last	     ? WIRE_OP_RC_SEND_LAST_WITH_IMMEDIATE
				     : WIRE_OP_RC_SEND_MIDDLE;
	case CIOV_WR_RDMA_WRITE:
		return first && last ? WIRE_OP_RC_RDMA_WRITE_ONLY
		       : first	     ? WIRE_OP_RC_RDMA_WRITE_FIRST
		       : last	     ? WIRE_OP_RC_RDMA_WRITE_LAST
				     : WIRE_OP_RC_RDMA_WRITE_MIDDLE;
	case CIOV_WR_RDMA_WRITE_WITH_IMM:
		return first && last ? WIRE_OP_RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE
		       : first	     ? WIRE_OP_RC_RDMA_WRITE_FIRST
		       : last	     ? WIRE_OP_RC_RDMA_WRITE_LAST_WITH_IMMEDIATE
				     : WIRE_OP_RC_RDMA_WRITE_MIDDLE;
	case CIOV_WR_RDMA_READ:
		return WIRE_OP_RC_RDMA_READ_REQUEST;
	case CIOV_WR_ATOMIC_CMP_AND_SWP:
		return WIRE_OP_RC_COMPARE_SWAP;
	default:
		return WIRE_OP_RC_FETCH_ADD;
	}
}

static void xwqe_cursor(struct xq *xq, struct xwqe *e, struct dma_cursor *c)
{
	if (e->w.flags & CIOV_SEND_INLINE)
		dma_cursor_buf(c, e->inl);
	else
		dma_cursor_sgl(c, xq->qp->obj.ep->iommu, e->lseg, e->nlseg);
}

/* Sends the packet of E at PSN; ASK: it asks for an ACK whatever its
 * place. 0 or -errno (-EAGAIN: resolving). */
static int xreq_send(struct xq *xq, struct xwqe *e, uint32_t psn, bool ask)
{
	const struct ciov_send_wqe *w = &e->w;
	uint32_t k = (uint32_t)psn_diff(psn, e->first_psn);
	uint64_t off = (uint64_t)k * xq->pmtu;
	uint64_t paylen = 0;
	struct iovec iov[XQ_PKT_IOV];
	struct wire_pkt_desc d;
	struct dma_cursor c;
	bool last;
	int n = 0, err;

	xq_desc(xq, &d, xreq_opcode(w->opcode, k, e->npsn), psn);
	last = k == e->npsn - 1;
	switch (w->opcode) {
	case CIOV_WR_RDMA_READ:
		/* A re-request resumes where the responses stopped (IBA
		 * 9.7.5.1.4: a new READ for the rest, at the missing PSN). */
		d.ext.reth.va = w->remote_addr + off;
		d.ext.reth.rkey = w->rkey;
		d.ext.reth.len = (uint32_t)(e->len - off);
		break;
	case CIOV_WR_ATOMIC_CMP_AND_SWP:
		d.ext.atmeth = (typeof(d.ext.atmeth)){w->remote_addr, w->rkey, w->swap, w->compare_add};
		break;
	case CIOV_WR_ATOMIC_FETCH_AND_ADD:
		d.ext.atmeth = (typeof(d.ext.atmeth)){w->remote_addr, w->rkey, w->compare_add, 0};
		break;
	default:
		paylen = e->len - off < xq->pmtu ? e->len - off : xq->pmtu;
		d.ext.reth.va = w->remote_addr;
		d.ext.reth.rkey = w->rkey;
		d.ext.reth.len = (uint32_t)e->len;
		d.ext.imm = be32toh(w->imm_data);
		d.bth.se = last && (w->flags & CIOV_SEND_SOLICITED);
		/* IBA 9.7.4: an ACK for the last packet of every
		 * message, and now and then inside a long one. */
		d.bth.ackreq = ask || last || (psn % XQ_ACKREQ_EVERY) == XQ_ACKREQ_EVERY - 1;
		xwqe_cursor(xq, e, &c);
		dma_skip(&c, off);
		n = dma_iov(&c, paylen, iov, XQ_PKT_IOV);
		if (n < 0)
			return -EFAULT;
	}
	err = xq_tx(xq, &d, iov, n);
	/* The scheduler's charge (scheduler.c): what goes out, and for a
	 * READ what its responses will bring; an atomic moves 8 bytes. */
	if (!err)
		xq->qp->x.wire_bytes += w->opcode == CIOV_WR_RDMA_READ ? e->len - off
					: op_is_rd(w->opcode)	       ? 8
								       : paylen;
	return err;
}

void xreq_go_back(struct xq *xq, uint32_t psn)
{
	if (psn_diff(psn, xq->snd_psn) < 0)
		xq->snd_psn = psn;
}

void xreq_progress(struct xq *xq, uint64_t now)
{
	uint64_t t = ack_timeout_ns(xq->qp->attr.timeout);

	xq->retry_left = xq->qp->attr.retry_cnt;
	xq->timer_ns = t && psn_diff(xq->snd_hi, xq->una) > 0 ? now + t : 0;
}

/* Takes new WQEs into the window while it has room. */
static bool xreq_fetch(struct xq *xq)
{
	struct qp *qp = xq->qp;
	struct req *r = &qp->x.req;
	bool work = false;

	while (qp->state == CIOV_QPS_RTS && xq->count < XQ_WIN_MSGS &&
	       psn_diff(xq->next_psn, xq->una) < XQ_WIN_PKTS) {
		enum ciov_wc_status st;
		struct xwqe *e;

		if (req_take(qp, xq->count, &st))
			break;
		if (qp->x.xq != xq || qp->state != CIOV_QPS_RTS)
			break; /* a corrupt ring put the QP in error */
		e = xq_at(xq, xq->count);
		e->w = r->w.wqe;
		e->len = r->len;
		e->status = st;
		e->acked = e->done = false;
		e->rd_done = 0;
		e->first_psn = xq->next_psn;
		e->nlseg = r->nlseg;
		memcpy(e->lseg, r->lseg, sizeof(e->lseg[0]) * r->nlseg);
		if (st == CIOV_WC_SUCCESS && (e->w.flags & CIOV_SEND_INLINE)) {
			if (e->len > sizeof(e->inl))
				e->status = CIOV_WC_LOC_LEN_ERR;
			else
				memcpy(e->inl, r->w.raw + sizeof(e->w), e->len);
		}
		if (e->status != CIOV_WC_SUCCESS)
			e->npsn = 0;
		else if (op_is_atomic(e->w.opcode))
			e->npsn = 1;
		else
			e->npsn = e->len ? (uint32_t)((e->len + xq->pmtu - 1) / xq->pmtu) : 1;
		xq->next_psn = psn_add(xq->next_psn, e->npsn);
		xq->count++;
		work = true;
	}
	if (work)
		xcomp_retire(xq); /* WQEs that failed their local checks */
	return work;
}

/* READ and atomic requests outstanding before E (IBA 9.7.4: at most
 * max_rd_atomic, the initiator depth). */
static bool xreq_rd_room(struct xq *xq, uint32_t idx)
{
	uint32_t depth = xq->qp->attr.max_rd_atomic ? xq->qp->attr.max_rd_atomic : 1;
	uint32_t out = 0;

	for (uint32_t i = 0; i < idx; i++) {
		struct xwqe *e = xq_at(xq, i);

		out += e->status == CIOV_WC_SUCCESS && op_is_rd(e->w.opcode) && !e->done;
	}
	return out < depth;
}

/* IBA 10.8.3.3 (fence): a WQE with the fence indicator starts only when
 * every READ and atomic before it has completed. */
static bool xreq_fenced(struct xq *xq, uint32_t idx)
{
	for (uint32_t i = 0; i < idx; i++) {
		struct xwqe *e = xq_at(xq, i);

		if (e->status == CIOV_WC_SUCCESS && op_is_rd(e->w.opcode) && !e->done)
			return true;
	}
	return false;
}

/* Sends packets from snd_psn on, within the window. */
static bool xreq_transmit(struct xq *xq, uint64_t now)
{
	uint64_t t = ack_timeout_ns(xq->qp->attr.timeout);
	/* Under the scheduler a turn is e->step bytes (scheduler.c): VL
	 * arbitration and high_limit count in bytes, not in bursts. */
	const struct engine *en = &xq->qp->obj.ep->ad->engine;
	uint32_t burst = en->rates ? en->step / xq->pmtu : XQ_BURST;
	uint32_t i = 0;
	uint32_t sent = 0;

	/* A go-back can be overtaken by ACKs already on their way (a NAK for
	 * PSN p, then the ACK for p + 10 sent before it was): what they
	 * acknowledged is never sent again. */
	if (psn_diff(xq->snd_psn, xq->una) < 0)
		xq->snd_psn = xq->una;
	if (burst < 1)
		burst = 1;
	if (burst > XQ_BURST)
		burst = XQ_BURST;
	while (sent < burst && psn_diff(xq->next_psn, xq->snd_psn) > 0 &&
	       psn_diff(xq->snd_psn, xq->una) < XQ_WIN_PKTS) {
		struct xwqe *e = NULL;
		int err;

		for (; i < xq->count; i++) {
			struct xwqe *c = xq_at(xq, i);
			int32_t k = psn_diff(xq->snd_psn, c->first_psn);

			if (c->npsn && k >= 0 && (uint32_t)k < c->npsn) {
				e = c;
				break;
			}
		}
		if (!e) {
			/* Not in any WQE in flight (they completed under it):
			 * on to the first that starts after it. */
			for (i = 0; i < xq->count; i++)
				if (psn_diff(xq_at(xq, i)->first_psn, xq->snd_psn) > 0)
					break;
			if (i == xq->count)
				break;
			xq->snd_psn = xq_at(xq, i)->first_psn;
			continue;
		}
		/* Going back, skip what already landed: a finished READ or
		 * atomic, the responses a READ already has (IBA 9.7.5.1.4
		 * lets the re-request start at the missing one). */
		if (e->status == CIOV_WC_SUCCESS && op_is_rd(e->w.opcode)) {
			uint32_t have = e->done ? e->npsn : (uint32_t)(e->rd_done / xq->pmtu);

			if ((uint32_t)psn_diff(xq->snd_psn, e->first_psn) < have) {
				xq->snd_psn = psn_add(e->first_psn, have);
				continue;
			}
		}
		if (op_is_rd(e->w.opcode) && !xreq_rd_room(xq, i))
			break;
		if ((e->w.flags & CIOV_SEND_FENCE) && xq->snd_psn == e->first_psn &&
		    xreq_fenced(xq, i))
			break;
		/* The last packet of a turn (its burst or the window spent)
		 * asks for an ACK: the responder acknowledges only packets
		 * that ask (coalescing, IBA 9.7.5.2), and the next turn may
		 * be held (by a cap or VL arbitration) for longer than the
		 * local ACK timeout; without one the packets since the last
		 * request wait unacknowledged until the timer fires on a
		 * lossless link (IBA 9.7.6.1.3). */
		err = xreq_send(xq, e, xq->snd_psn,
				sent + 1 == burst ||
					psn_diff(psn_add(xq->snd_psn, 1), xq->una) >= XQ_WIN_PKTS);
		if (err == -EAGAIN) {
			xq->resolve_until = now + XREQ_RESOLVE_NS;
			break;
		}
		/* Other failures are a lost packet: the timer recovers. */
		if (psn_diff(xq->snd_psn, xq->snd_hi) < 0)
			xq->port->cnt.retransmits++;
		if (e->w.opcode == CIOV_WR_RDMA_READ)
			xq->snd_psn = psn_add(e->first_psn, e->npsn); /* responses take the PSNs */
		else
			xq->snd_psn = psn_add(xq->snd_psn, 1);
		if (psn_diff(xq->snd_psn, xq->snd_hi) > 0)
			xq->snd_hi = xq->snd_psn;
		if (!xq->timer_ns && t)
			xq->timer_ns = now + t;
		xq->sent_any = true;
		sent++;
	}
	return sent > 0;
}

/* The local ACK timer fired (IBA 9.7.6.1.3): retry from the oldest
 * unacknowledged PSN, or give up. */
static bool xreq_timeout(struct xq *xq, uint64_t now)
{
	xq->port->cnt.timeouts++;
	xq->timer_ns = 0;
	if (!xq->count || psn_diff(xq->snd_hi, xq->una) <= 0)
		return false;
	if (!xq->retry_left) {
		xq_at(xq, 0)->status = CIOV_WC_RETRY_EXC_ERR;
		xcomp_retire(xq);
		return true;
	}
	xq->retry_left--;
	xq->qp->x.cnt.retries++;
	xq->snd_psn = xq->una;
	xq->timer_ns = now + ack_timeout_ns(xq->qp->attr.timeout);
	return true;
}

bool xport_req_step(struct qp *qp, uint64_t now)
{
	struct xq *xq = qp->x.xq;
	bool work = false;

	if (qp->state == CIOV_QPS_SQD && qp->x.sqd_notify && !xq->count) {
		qp->x.sqd_notify = false;
		async_post(&qp->obj, CIOV_EVENT_SQ_DRAINED);
		return true;
	}
	if (xq->rnr_until) {
		if (now < xq->rnr_until)
			return false;
		xq->rnr_until = 0;
		xq->snd_psn = xq->una;
	}
	if (xq->resolve_until) {
		if (now < xq->resolve_until)
			return false;
		xq->resolve_until = 0;
	}
	if (xq->timer_ns && now >= xq->timer_ns) {
		work |= xreq_timeout(xq, now);
		if (qp->x.xq != xq || qp->state == CIOV_QPS_ERR)
			return true;
	}
	work |= xreq_fetch(xq);
	if (qp->x.xq != xq || qp->state == CIOV_QPS_ERR)
		return true;
	work |= xreq_transmit(xq, now);
	return work;
}
