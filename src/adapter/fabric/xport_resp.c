/* SPDX-License-Identifier: MIT */
/*
 * The responder across the fabric (IBA 9.7.5.1): requests are executed
 * exactly once and in PSN order. A request at the expected PSN runs; a
 * duplicate (behind it) is answered again without running again (C9-105:
 * re-ACK; READs regenerated from memory, atomics replayed from the saved
 * result); one ahead of it means packets were lost: one NAK (PSN sequence
 * error) until the expected one comes. No receive WQE for a SEND: RNR NAK
 * with the QP's min_rnr_timer. ACKs are coalesced: one per receive batch
 * for the last packet that asked, and always after the READ responses
 * before it.
 *
 * Security model: every header field is hostile. Keys, access rights and
 * bounds are checked before a byte lands (rkey_ok, the receive WQE's
 * capacity, the DMA length of the RETH); the opcode sequence of a
 * multi-packet message is checked (a MIDDLE without a FIRST is an invalid
 * request); a payload longer than the PMTU never passed the parser.
 */
#include <errno.h>
#include <string.h>

#include "adapter/endpoint.h"
#include "adapter/fabric/xport_int.h"
#include "adapter/iommu.h"
#include "adapter/qp.h"

/* AETH syndromes this side sends (IBA 9.7.5.2, the AETH syndrome). */
#define SYN_ACK 0x1f	    /* ACK, credit field "invalid": no end-to-end credits */
#define SYN_RNR(t) (0x20 | ((t) & 0x1f))
#define SYN_NAK_SEQ 0x60
#define SYN_NAK_INV 0x61
#define SYN_NAK_ACCESS 0x62
#define SYN_NAK_OP 0x63

/* Sends an ACK or NAK (RC_ACKNOWLEDGE) for PSN now. 0 or -errno. */
static int xresp_ack(struct xq *xq, uint8_t syn, uint32_t psn)
{
	struct wire_pkt_desc d;
	int err;

	xq_desc(xq, &d, WIRE_OP_RC_ACKNOWLEDGE, psn);
	d.ext.aeth.syn = syn;
	d.ext.aeth.msn = xq->msn & WIRE_MSN_MASK;
	err = xq_tx(xq, &d, NULL, 0);
	if (!err) {
		if (syn == SYN_ACK)
			xq->port->cnt.acks_sent++;
		else
			xq->port->cnt.naks_sent++;
	}
	return err;
}

/* A class C error (IBA 9.9.3): NAK, and the responder QP goes to
 * error. */
static void xresp_fatal(struct xq *xq, uint8_t syn, uint32_t psn)
{
	struct qp *qp = xq->qp;

	xresp_ack(xq, syn, psn);
	xq->cur = 0;
	engine_qp_error(qp);
}

/* Copies the payload to the responder's memory at CUR. */
static int xresp_land(struct xq *xq, struct dma_cursor *dst, const struct wire_pkt *pkt)
{
	struct dma_cursor src;

	if (!pkt->paylen)
		return 0;
	dma_cursor_buf(&src, (void *)pkt->payload);
	return dma_copy(dst, &src, pkt->paylen);
}

/* SEND, and WRITE with immediate at its end: the receive WQE. -EAGAIN:
 * none (RNR NAK sent). 0, or a NAK was sent and the QP is in error. */
static int xresp_need_recv(struct xq *xq, uint32_t psn)
{
	struct qp *qp = xq->qp;
	int rs;

	if (qp->x.resp.have_wqe)
		return 0;
	rs = resp_take_recv(qp);
	if (rs == -EAGAIN) {
		xresp_ack(xq, SYN_RNR(qp->attr.min_rnr_timer), psn);
		return -EAGAIN;
	}
	if (rs != CIOV_WC_SUCCESS) {
		/* The responder's own receive WQE is bad (IBA 9.9.3.1.3). */
		resp_complete(qp, (enum ciov_wc_status)rs, CIOV_WC_OP_RECV, 0, 0, 0,
			      qp->attr.dest_qp_num, false);
		xresp_fatal(xq, SYN_NAK_OP, psn);
		return -EIO;
	}
	return 0;
}

/* One packet of a SEND. 0 when the PSN was consumed. */
static int xresp_send(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn)
{
	struct qp *qp = xq->qp;
	uint32_t mask = pkt->info->mask;
	struct dma_cursor dst;
	int err;

	if (mask & WIRE_START) {
		err = xresp_need_recv(xq, psn);
		if (err)
			return err;
		xq->cur = WIRE_SEND;
		xq->rcv_off = 0;
	}
	if (xq->rcv_off + pkt->paylen > qp->x.resp.cap) {
		/* IBA 9.9.3: longer than the receive buffers. */
		resp_complete(qp, CIOV_WC_LOC_LEN_ERR, CIOV_WC_OP_RECV, 0, 0, 0,
			      qp->attr.dest_qp_num, false);
		xresp_fatal(xq, SYN_NAK_INV, psn);
		return -EIO;
	}
	dma_cursor_sgl(&dst, qp->obj.ep->iommu, qp->x.resp.seg, qp->x.resp.nseg);
	dma_skip(&dst, xq->rcv_off);
	if (xresp_land(xq, &dst, pkt)) {
		resp_complete(qp, CIOV_WC_LOC_PROT_ERR, CIOV_WC_OP_RECV, 0, 0, 0,
			      qp->attr.dest_qp_num, false);
		xresp_fatal(xq, SYN_NAK_OP, psn);
		return -EIO;
	}
	xq->rcv_off += pkt->paylen;
	if (!(mask & WIRE_END))
		return 0;
	qp->x.cnt.msgs_in[(mask & WIRE_IMMDT) ? CIOV_WR_SEND_WITH_IMM : CIOV_WR_SEND]++;
	qp->x.cnt.bytes_in[(mask & WIRE_IMMDT) ? CIOV_WR_SEND_WITH_IMM : CIOV_WR_SEND] += xq->rcv_off;
	resp_complete(qp, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV, (uint32_t)xq->rcv_off,
		      (mask & WIRE_IMMDT) ? htobe32(immdt_imm(pkt->hdr)) : 0,
		      (mask & WIRE_IMMDT) ? CIOV_WC_WITH_IMM : 0, qp->attr.dest_qp_num,
		      bth_se(pkt->hdr));
	xq->cur = 0;
	xq->msn = psn_add(xq->msn, 1);
	return 0;
}

/* One packet of an RDMA WRITE. */
static int xresp_write(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn)
{
	struct qp *qp = xq->qp;
	uint32_t mask = pkt->info->mask;
	struct dma_seg seg;
	struct dma_cursor dst;

	if (mask & WIRE_START) {
		uint64_t va = reth_va(pkt->hdr);
		uint32_t len = reth_len(pkt->hdr);

		/* IBA C9-88: R_Key, PD, bounds, access, for the whole length. */
		if (!rkey_ok(qp, reth_rkey(pkt->hdr), va, len, CIOV_ACCESS_REMOTE_WRITE)) {
			xresp_fatal(xq, SYN_NAK_ACCESS, psn);
			return -EIO;
		}
		xq->cur = WIRE_WRITE;
		xq->wr_va = va;
		xq->wr_len = len;
		xq->rcv_off = 0;
	}
	if (xq->rcv_off + pkt->paylen > xq->wr_len ||
	    ((mask & WIRE_END) && xq->rcv_off + pkt->paylen != xq->wr_len)) {
		/* IBA 9.9.3: the message is not the length its RETH said. */
		xresp_fatal(xq, SYN_NAK_INV, psn);
		return -EIO;
	}
	if ((mask & WIRE_IMMDT) && xresp_need_recv(xq, psn))
		return -EAGAIN; /* RNR (or fatal): this last packet comes again */
	seg = (struct dma_seg){xq->wr_va, xq->wr_len};
	dma_cursor_sgl(&dst, qp->obj.ep->iommu, &seg, 1);
	dma_skip(&dst, xq->rcv_off);
	if (xresp_land(xq, &dst, pkt)) {
		xresp_fatal(xq, SYN_NAK_ACCESS, psn); /* the MR's memory went away */
		return -EIO;
	}
	xq->rcv_off += pkt->paylen;
	if (!(mask & WIRE_END))
		return 0;
	qp->x.cnt.msgs_in[(mask & WIRE_IMMDT) ? CIOV_WR_RDMA_WRITE_WITH_IMM : CIOV_WR_RDMA_WRITE]++;
	qp->x.cnt.bytes_in[(mask & WIRE_IMMDT) ? CIOV_WR_RDMA_WRITE_WITH_IMM : CIOV_WR_RDMA_WRITE] +=
		xq->rcv_off;
	if (mask & WIRE_IMMDT)
		resp_complete(qp, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV_RDMA_WITH_IMM, xq->wr_len,
			      htobe32(immdt_imm(pkt->hdr)), CIOV_WC_WITH_IMM, qp->attr.dest_qp_num,
			      bth_se(pkt->hdr));
	xq->cur = 0;
	xq->msn = psn_add(xq->msn, 1);
	return 0;
}

/* The saved resource for a request at PSN, or NULL. */
static struct xrd *xresp_rd_find(struct xq *xq, uint32_t psn)
{
	for (unsigned i = 0; i < XQ_RD_MAX; i++) {
		struct xrd *rd = &xq->rd[i];

		if (rd->kind && psn_diff(psn, rd->psn) >= 0 &&
		    (uint32_t)psn_diff(psn, rd->psn) < rd->npsn)
			return rd;
	}
	return NULL;
}

static struct xrd *xresp_rd_new(struct xq *xq)
{
	struct xrd *rd = &xq->rd[xq->rd_head];

	xq->rd_head = (xq->rd_head + 1) % XQ_RD_MAX;
	*rd = (struct xrd){0};
	return rd;
}

/* An RDMA READ request at the expected PSN: check, remember, and queue
 * its responses (sent by xresp_output). */
static int xresp_read(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn)
{
	uint64_t va = reth_va(pkt->hdr);
	uint32_t len = reth_len(pkt->hdr);
	struct xrd *rd;

	if (!rkey_ok(xq->qp, reth_rkey(pkt->hdr), va, len, CIOV_ACCESS_REMOTE_READ)) {
		xresp_fatal(xq, SYN_NAK_ACCESS, psn);
		return -EIO;
	}
	rd = xresp_rd_new(xq);
	rd->kind = WIRE_READ;
	rd->psn = psn;
	rd->npsn = len ? (len + xq->pmtu - 1) / xq->pmtu : 1;
	rd->va = va;
	rd->rkey = reth_rkey(pkt->hdr);
	rd->len = len;
	rd->next = 0;
	xq->qp->x.cnt.msgs_in[CIOV_WR_RDMA_READ]++;
	xq->qp->x.cnt.bytes_in[CIOV_WR_RDMA_READ] += len;
	xq->epsn = psn_add(psn, rd->npsn - 1); /* the caller adds the last one */
	xq->msn = psn_add(xq->msn, 1);
	xq_due(xq);
	return 0;
}

/* A duplicate READ request: regenerate the responses from its PSN on
 * (the requester may re-request from the middle, IBA 9.7.5.1.4). */
static void xresp_read_again(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn)
{
	struct xrd *rd = xresp_rd_find(xq, psn);
	uint32_t k;

	if (!rd || rd->kind != WIRE_READ) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	k = (uint32_t)psn_diff(psn, rd->psn);
	/* The re-request must be the rest of the same READ. */
	if (reth_va(pkt->hdr) != rd->va + (uint64_t)k * xq->pmtu ||
	    reth_len(pkt->hdr) != rd->len - k * xq->pmtu || reth_rkey(pkt->hdr) != rd->rkey) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	if (rd->next > k || rd->next == rd->npsn)
		rd->next = k;
	xq_due(xq);
}

/* An atomic at the expected PSN (IBA 9.4.5): executed once, its result
 * saved for a duplicate. */
static int xresp_atomic(struct xq *xq, const struct wire_pkt *pkt, uint32_t psn)
{
	struct qp *qp = xq->qp;
	uint64_t va = atmeth_va(pkt->hdr), old;
	struct wire_pkt_desc d;
	struct xrd *rd;
	void *p;

	if (va & 7) {
		xresp_fatal(xq, SYN_NAK_INV, psn); /* IBA 9.4.5: not 8-byte aligned */
		return -EIO;
	}
	if (!rkey_ok(qp, atmeth_rkey(pkt->hdr), va, 8, CIOV_ACCESS_REMOTE_ATOMIC) ||
	    iommu_translate(qp->obj.ep->iommu, va, 8, &p)) {
		xresp_fatal(xq, SYN_NAK_ACCESS, psn);
		return -EIO;
	}
	if (pkt->opcode == WIRE_OP_RC_COMPARE_SWAP) {
		old = atmeth_compare(pkt->hdr);
		__atomic_compare_exchange_n((uint64_t *)p, &old, atmeth_swap_add(pkt->hdr), false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	} else {
		old = __atomic_fetch_add((uint64_t *)p, atmeth_swap_add(pkt->hdr), __ATOMIC_SEQ_CST);
	}
	rd = xresp_rd_new(xq);
	rd->kind = WIRE_ATOMIC;
	rd->psn = psn;
	rd->npsn = 1;
	rd->orig = old;
	rd->next = 1;
	qp->x.cnt.msgs_in[pkt->opcode == WIRE_OP_RC_COMPARE_SWAP ? CIOV_WR_ATOMIC_CMP_AND_SWP
								  : CIOV_WR_ATOMIC_FETCH_AND_ADD]++;
	xq->msn = psn_add(xq->msn, 1);
	xq_desc(xq, &d, WIRE_OP_RC_ATOMIC_ACKNOWLEDGE, psn);
	d.ext.aeth.syn = SYN_ACK;
	d.ext.aeth.msn = xq->msn;
	d.ext.atmack_orig = old;
	xq_tx(xq, &d, NULL, 0);
	return 0;
}

static void xresp_atomic_again(struct xq *xq, uint32_t psn)
{
	struct xrd *rd = xresp_rd_find(xq, psn);
	struct wire_pkt_desc d;

	if (!rd || rd->kind != WIRE_ATOMIC || rd->psn != psn) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	xq_desc(xq, &d, WIRE_OP_RC_ATOMIC_ACKNOWLEDGE, psn);
	d.ext.aeth.syn = SYN_ACK;
	d.ext.aeth.msn = xq->msn;
	d.ext.atmack_orig = rd->orig;
	xq_tx(xq, &d, NULL, 0);
}

static bool xresp_reads_pending(const struct xq *xq)
{
	for (unsigned i = 0; i < XQ_RD_MAX; i++)
		if (xq->rd[i].kind == WIRE_READ && xq->rd[i].next < xq->rd[i].npsn)
			return true;
	return false;
}

/* Whether OPCODE may come now: a multi-packet SEND or WRITE in progress
 * takes only its own MIDDLE and LAST packets; otherwise only a first or
 * only packet (IBA 9.7.5.1). */
static bool xresp_in_sequence(const struct xq *xq, uint32_t mask)
{
	if (xq->cur)
		return (mask & (WIRE_MIDDLE | WIRE_END)) && !(mask & WIRE_START) &&
		       (mask & xq->cur & (WIRE_SEND | WIRE_WRITE)) &&
		       (xq->cur == WIRE_SEND ? !(mask & WIRE_WRITE) : (mask & WIRE_WRITE));
	return (mask & WIRE_START) != 0;
}

void xresp_rx(struct xq *xq, const struct wire_pkt *pkt)
{
	struct qp *qp = xq->qp;
	uint32_t psn = bth_psn(pkt->hdr);
	uint32_t mask = pkt->info->mask;
	int32_t dist = psn_diff(psn, xq->epsn);
	int err;

	if (qp->state != CIOV_QPS_RTR && qp->state != CIOV_QPS_RTS && qp->state != CIOV_QPS_SQD) {
		xq->port->cnt.rcv_discards++;
		return;
	}
	if (dist < 0) {
		/* A duplicate (C9-105): answer again, run nothing again. */
		xq->port->cnt.dup_rcvd++;
		if (mask & WIRE_READ)
			xresp_read_again(xq, pkt, psn);
		else if (mask & WIRE_ATOMIC)
			xresp_atomic_again(xq, psn);
		else if (bth_ackreq(pkt->hdr) || (mask & WIRE_END)) {
			xq->ack = XQ_ACK_DUE;
			xq->ack_psn = psn_add(xq->epsn, WIRE_PSN_MASK);
			xq_due(xq);
		}
		return;
	}
	if (dist > 0) {
		/* Packets were lost: one NAK until the expected PSN comes. */
		xq->port->cnt.seq_errors++;
		if (!xq->nak_sent) {
			xq->nak_sent = true;
			xresp_ack(xq, SYN_NAK_SEQ, xq->epsn);
		}
		return;
	}
	xq->nak_sent = false;
	if (!xresp_in_sequence(xq, mask)) {
		xresp_fatal(xq, SYN_NAK_INV, psn);
		return;
	}
	/* A FIRST or MIDDLE packet carries exactly the path MTU (the port
	 * checked only that it is an IB MTU up to its own). */
	if ((mask & WIRE_PAYLOAD) && !(mask & WIRE_END) && pkt->paylen != xq->pmtu) {
		xresp_fatal(xq, SYN_NAK_INV, psn);
		return;
	}
	/* Requests execute in order: a READ before this one reads memory
	 * now, before this one may change it. Its responses are gathered
	 * from that memory by reference, so they go to the kernel now too
	 * (their ICRC was computed over what is there now). */
	if (!(mask & WIRE_READ) && xresp_reads_pending(xq)) {
		xresp_output(xq);
		port_tx_flush(xq->port);
	}
	if (mask & WIRE_READ)
		err = xresp_read(xq, pkt, psn);
	else if (mask & WIRE_ATOMIC)
		err = xresp_atomic(xq, pkt, psn);
	else if (mask & WIRE_WRITE)
		err = xresp_write(xq, pkt, psn);
	else
		err = xresp_send(xq, pkt, psn);
	if (err)
		return; /* RNR: not consumed; fatal: the QP is in error */
	xq->epsn = psn_add(xq->epsn, 1);
	if ((mask & (WIRE_SEND | WIRE_WRITE)) && bth_ackreq(pkt->hdr)) {
		xq->ack = XQ_ACK_DUE;
		xq->ack_psn = psn;
		xq_due(xq);
	}
}

/* READ response packet K of RD. 0, or -ENOBUFS (the port is full). */
static int xresp_read_pkt(struct xq *xq, struct xrd *rd, uint32_t k)
{
	uint64_t off = (uint64_t)k * xq->pmtu;
	uint32_t paylen = rd->len - off < xq->pmtu ? (uint32_t)(rd->len - off) : xq->pmtu;
	bool first = k == 0, last = k == rd->npsn - 1;
	struct dma_seg seg = {rd->va, rd->len};
	struct iovec iov[XQ_PKT_IOV];
	struct wire_pkt_desc d;
	struct dma_cursor c;
	int n, err;

	xq_desc(xq, &d,
		first && last ? WIRE_OP_RC_RDMA_READ_RESPONSE_ONLY
		: first	      ? WIRE_OP_RC_RDMA_READ_RESPONSE_FIRST
		: last	      ? WIRE_OP_RC_RDMA_READ_RESPONSE_LAST
			      : WIRE_OP_RC_RDMA_READ_RESPONSE_MIDDLE,
		psn_add(rd->psn, k));
	d.ext.aeth.syn = SYN_ACK;
	d.ext.aeth.msn = xq->msn;
	dma_cursor_sgl(&c, xq->qp->obj.ep->iommu, &seg, 1);
	dma_skip(&c, off);
	n = dma_iov(&c, paylen, iov, XQ_PKT_IOV);
	if (n < 0)
		return -EFAULT;
	err = xq_tx(xq, &d, iov, n);
	return err == -EAGAIN ? -ENOBUFS : err;
}

bool xresp_output(struct xq *xq)
{
	struct qp *qp = xq->qp;

	if (qp->state == CIOV_QPS_ERR || qp->state == CIOV_QPS_RESET)
		return true;
	/* READ responses, oldest READ first, then the ACK behind them. */
	for (unsigned j = 0; j < XQ_RD_MAX; j++) {
		struct xrd *rd = &xq->rd[(xq->rd_head + j) % XQ_RD_MAX];

		while (rd->kind == WIRE_READ && rd->next < rd->npsn) {
			int err = xresp_read_pkt(xq, rd, rd->next);

			if (err == -ENOBUFS)
				return false;
			if (err == -EFAULT) {
				/* The memory went away under the READ. */
				xresp_fatal(xq, SYN_NAK_ACCESS, psn_add(rd->psn, rd->next));
				return true;
			}
			rd->next++;
		}
	}
	if (xq->ack == XQ_ACK_DUE) {
		int err = xresp_ack(xq, SYN_ACK, xq->ack_psn);

		if (err == -EAGAIN || err == -ENOBUFS)
			return false;
		xq->ack = XQ_ACK_NONE;
	}
	return true;
}
