/* SPDX-License-Identifier: MIT */
/*
 * The completer (IBA 9.7.5.1, 9.9): what comes back from the responder.
 * An ACK covers every packet up to its PSN (coalesced, IBA 9.7.5.2); a READ
 * response lands in the requester's buffers in PSN order and implies an
 * ACK of what was sent before it; an atomic ACK brings the original value.
 * A NAK says where to go back (sequence error), to wait (RNR) or that the
 * message failed (invalid request, remote access, remote operational
 * error). WQEs complete in order, when the one before them has.
 *
 * Security model: every field of the packet is the wire's. A PSN outside
 * what this QP sent, an opcode in the wrong place of a READ response, a
 * length that is not the one expected: dropped and counted, nothing
 * touched.
 */
#include <errno.h>
#include <string.h>

#include "adapter/endpoint.h"
#include "adapter/fabric/xport_int.h"
#include "adapter/qp.h"

/* AETH syndrome (IBA 9.7.5.2, the AETH syndrome): bits 6:5 the kind. */
#define AETH_KIND(s) (((s) >> 5) & 3)
#define AETH_ACK 0
#define AETH_RNR 1
#define AETH_NAK 3
/* NAK codes (bits 4:0). */
#define NAK_PSN_SEQ 0
#define NAK_INV_REQ 1
#define NAK_REM_ACCESS 2
#define NAK_REM_OP 3
#define NAK_INV_RD_REQ 4

static bool op_is_rd(uint8_t op)
{
	return op == CIOV_WR_RDMA_READ || op == CIOV_WR_ATOMIC_CMP_AND_SWP ||
	       op == CIOV_WR_ATOMIC_FETCH_AND_ADD;
}

void xcomp_retire(struct xq *xq)
{
	struct qp *qp = xq->qp;

	while (qp->x.xq == xq && xq->count) {
		struct xwqe *e = xq_at(xq, 0);
		struct ciov_send_wqe w;
		enum ciov_wc_status st = e->status;
		uint64_t len = e->len;

		if (st == CIOV_WC_SUCCESS && !(op_is_rd(e->w.opcode) ? e->done : e->acked))
			break;
		w = e->w;
		xq->head = (xq->head + 1) % XQ_WIN_MSGS;
		xq->count--;
		/* May put the QP in error, which forgets the window. */
		req_post_completion(qp, &w, len, st);
		if (st != CIOV_WC_SUCCESS)
			break;
	}
}

/* Index of the WQE in flight whose PSNs hold PSN, or -1. */
static int xcomp_find(struct xq *xq, uint32_t psn)
{
	for (uint32_t i = 0; i < xq->count; i++) {
		struct xwqe *e = xq_at(xq, i);
		int32_t k = psn_diff(psn, e->first_psn);

		if (e->npsn && k >= 0 && (uint32_t)k < e->npsn)
			return (int)i;
	}
	return -1;
}

/* Everything up to and including PSN is acknowledged. A READ or atomic
 * whose response has not come is an implied NAK (IBA 9.7.6): resend
 * from its first missing PSN. */
static void xcomp_ack_upto(struct xq *xq, uint32_t psn, uint64_t now)
{
	uint32_t una = psn_add(psn, 1);

	for (uint32_t i = 0; i < xq->count; i++) {
		struct xwqe *e = xq_at(xq, i);

		if (!e->npsn)
			continue;
		if (psn_diff(e->first_psn, psn) > 0)
			break;
		if (op_is_rd(e->w.opcode)) {
			if (!e->done) {
				una = psn_add(e->first_psn, (uint32_t)(e->rd_done / xq->pmtu));
				xreq_go_back(xq, una);
				break;
			}
			continue;
		}
		if (psn_diff(psn_add(e->first_psn, e->npsn - 1), psn) <= 0)
			e->acked = true;
	}
	if (psn_diff(una, xq->una) > 0) {
		xq->una = una;
		xreq_progress(xq, now);
	}
	xcomp_retire(xq);
}

/* Responses are taken in PSN order only (IBA 9.7.6): one for the WQE
 * at index I while a READ or atomic before it still misses responses is
 * out of order; the first missing one is asked for again (once per PSN)
 * and this one dropped. */
static bool xcomp_in_order(struct xq *xq, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++) {
		struct xwqe *e = xq_at(xq, j);
		uint32_t miss;

		if (!e->npsn || !op_is_rd(e->w.opcode) || e->done)
			continue;
		miss = psn_add(e->first_psn, (uint32_t)(e->rd_done / xq->pmtu));
		if (xq->rd_goback != miss) {
			xq->rd_goback = miss;
			xreq_go_back(xq, miss);
		}
		xq->port->cnt.rcv_discards++;
		return false;
	}
	return true;
}

/* A READ response packet: in order, the right place, the right length. */
static void xcomp_read(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn, uint64_t now)
{
	int i = xcomp_find(xq, psn);
	struct xwqe *e;
	struct dma_cursor dst, src;
	uint32_t k, exp_k;
	uint64_t want;
	uint32_t mask = pkt->info->mask;

	if (i < 0 || xq_at(xq, (uint32_t)i)->w.opcode != CIOV_WR_RDMA_READ) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	if (!xcomp_in_order(xq, (uint32_t)i))
		return;
	e = xq_at(xq, (uint32_t)i);
	k = (uint32_t)psn_diff(psn, e->first_psn);
	exp_k = (uint32_t)(e->rd_done / xq->pmtu);
	if (e->done || k != exp_k) {
		/* Out of order: a response was lost. Ask again from the
		 * missing one, once per PSN (IBA 9.7.6). */
		uint32_t miss = psn_add(e->first_psn, exp_k);

		if (!e->done && k > exp_k && xq->rd_goback != miss) {
			xq->rd_goback = miss;
			xreq_go_back(xq, miss);
		}
		xq->port->cnt.rcv_discards++;
		return;
	}
	want = e->len - e->rd_done < xq->pmtu ? e->len - e->rd_done : xq->pmtu;
	if ((e->npsn == 1) != ((mask & WIRE_ONLY) == WIRE_ONLY) ||
	    (k == 0 && e->npsn > 1 && !(mask & WIRE_START)) ||
	    (k == e->npsn - 1 && e->npsn > 1 && !(mask & WIRE_END)) ||
	    (k > 0 && k < e->npsn - 1 && !(mask & WIRE_MIDDLE)) || pkt->paylen != want) {
		xq->port->cnt.rcv_errors++;
		return;
	}
	if (k == 0 && i > 0)
		xcomp_ack_upto(xq, psn_add(e->first_psn, WIRE_PSN_MASK), now); /* first - 1 */
	dma_cursor_sgl(&dst, xq->qp->obj.ep->iommu, e->lseg, e->nlseg);
	dma_skip(&dst, e->rd_done);
	dma_cursor_buf(&src, (void *)pkt->payload);
	if (want && dma_copy(&dst, &src, want))
		e->status = CIOV_WC_LOC_PROT_ERR; /* its memory vanished mid-READ */
	e->rd_done += want;
	xq->una = psn_add(psn, 1);
	if (k == e->npsn - 1)
		e->done = true;
	xreq_progress(xq, now);
	xcomp_retire(xq);
}

/* An atomic ACK: the original value goes to the requester's buffer. */
static void xcomp_atomic(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn, uint64_t now)
{
	int i = xcomp_find(xq, psn);
	struct xwqe *e;
	struct dma_cursor dst, src;
	uint64_t orig;

	if (i < 0 || !op_is_rd(xq_at(xq, (uint32_t)i)->w.opcode) ||
	    xq_at(xq, (uint32_t)i)->w.opcode == CIOV_WR_RDMA_READ || xq_at(xq, (uint32_t)i)->done) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	if (!xcomp_in_order(xq, (uint32_t)i))
		return;
	if (i > 0)
		xcomp_ack_upto(xq, psn_add(psn, WIRE_PSN_MASK), now);
	i = xcomp_find(xq, psn);
	if (i < 0)
		return;
	e = xq_at(xq, (uint32_t)i);
	orig = atmack_orig(pkt->hdr);
	dma_cursor_sgl(&dst, xq->qp->obj.ep->iommu, e->lseg, e->nlseg);
	dma_cursor_buf(&src, &orig);
	if (dma_copy(&dst, &src, sizeof(orig)))
		e->status = CIOV_WC_LOC_PROT_ERR;
	e->done = true;
	xq->una = psn_add(psn, 1);
	xreq_progress(xq, now);
	xcomp_retire(xq);
}

/* A NAK for the message at PSN: what came before it is acknowledged. */
static void xcomp_nak(struct xq *xq, uint8_t syn, uint32_t psn, uint64_t now)
{
	struct qp *qp = xq->qp;
	int i;

	xq->port->cnt.naks_rcvd++;
	xcomp_ack_upto(xq, psn_add(psn, WIRE_PSN_MASK), now);
	if (qp->x.xq != xq || (i = xcomp_find(xq, psn)) < 0)
		return;
	if (AETH_KIND(syn) == AETH_RNR) {
		/* IBA 9.7.5.2.8: wait the responder's timer, then resend;
		 * rnr_retry 7 means forever. */
		qp->x.cnt.rnr_waits++;
		if (qp->attr.rnr_retry != 7) {
			if (!xq->rnr_left) {
				xq_at(xq, (uint32_t)i)->status = CIOV_WC_RNR_RETRY_EXC_ERR;
				xcomp_retire(xq);
				return;
			}
			xq->rnr_left--;
		}
		xq->una = psn;
		xq->snd_psn = psn;
		xq->timer_ns = 0;
		xq->rnr_until = now + rnr_timer_us(syn & 0x1f) * 1000;
		return;
	}
	switch (syn & 0x1f) {
	case NAK_PSN_SEQ:
		/* IBA 9.7.6: go back to the PSN the responder expects. */
		xq->una = psn;
		xreq_go_back(xq, psn);
		xreq_progress(xq, now);
		return;
	case NAK_REM_ACCESS:
		xq_at(xq, (uint32_t)i)->status = CIOV_WC_REM_ACCESS_ERR;
		break;
	case NAK_REM_OP:
		xq_at(xq, (uint32_t)i)->status = CIOV_WC_REM_OP_ERR;
		break;
	default: /* invalid request, invalid RD request, reserved codes */
		xq_at(xq, (uint32_t)i)->status = CIOV_WC_REM_INV_REQ_ERR;
	}
	/* Only this WQE fails: those before it are done and complete first. */
	for (uint32_t j = 0; j < (uint32_t)i; j++)
		if (xq_at(xq, j)->status == CIOV_WC_SUCCESS && !op_is_rd(xq_at(xq, j)->w.opcode))
			xq_at(xq, j)->acked = true;
	xcomp_retire(xq);
}

void xcomp_rx(struct xq *xq, const struct wire_pkt *pkt, uint64_t now)
{
	uint32_t psn = bth_psn(pkt->hdr);
	uint32_t mask = pkt->info->mask;
	uint8_t syn = (mask & WIRE_AETH) ? aeth_syn(pkt->hdr) : 0;

	/* Only PSNs this QP sent and has not seen acknowledged. */
	if (psn_diff(psn, xq->una) < 0 || psn_diff(psn, xq->snd_hi) >= 0) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	if (AETH_KIND(syn) == 2) {
		xq->port->cnt.rcv_errors++;
		return;
	}
	if (AETH_KIND(syn) != AETH_ACK) {
		xcomp_nak(xq, syn, psn, now);
		return;
	}
	if (mask & WIRE_READ)
		xcomp_read(xq, pkt, psn, now);
	else if (mask & WIRE_ATOMIC)
		xcomp_atomic(xq, pkt, psn, now);
	else
		xcomp_ack_upto(xq, psn, now);
}
