/* SPDX-License-Identifier: MIT */
/*
 * Packets from the ports, to the QP they name (IBA 9.6, 9.8): RC
 * requests to the responder, responses to the completer, UD datagrams to
 * a receive WQE.
 *
 * Security model: the port checked the framing, lengths and ICRC; all the
 * rest is the wire's. DestQP may name any QP of any endpoint, so an RC
 * packet is taken only from the address the QP is connected to, a UD one
 * only with the QP's Q_Key and a P_Key of the partition; everything else
 * is dropped and counted (rcv_discards), never completed.
 */
#include <errno.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/endpoint.h"
#include "adapter/fabric/xport_int.h"
#include "adapter/qp.h"
#include "adapter/qpn.h"

/* IBA 10.9.3: the low 15 bits name the partition; the default one. */
static bool pkey_ok(uint16_t pkey)
{
	return (pkey & 0x7fff) == 0x7fff;
}

static bool from_peer(const struct xq *xq, const struct port *p, const struct wire_pkt *pkt)
{
	return xq->port == p && pkt->family == xq->dst.family &&
	       memcmp(wire_ip_src(pkt), xq->dst.ip, pkt->family == AF_INET ? 4 : 16) == 0;
}

/* A UD datagram (IBA 9.8.3): into the next receive WQE, after the GRH, or
 * dropped silently when it cannot land. */
static void xport_rx_ud(struct qp *qp, struct port *p, const struct wire_pkt *pkt)
{
	uint32_t src_qp = deth_sqp(pkt->hdr);
	bool imm = pkt->info->mask & WIRE_IMMDT;
	uint8_t grh[ENGINE_GRH_LEN], sgid[16];
	struct dma_cursor dst, src;
	int rs;

	if (qp->state != CIOV_QPS_RTR && qp->state != CIOV_QPS_RTS &&
	    qp->state != CIOV_QPS_SQD && qp->state != CIOV_QPS_SQE) {
		p->cnt.rcv_discards++;
		return;
	}
	/* IBA 10.2.4.1: the Q_Key must be the QP's. */
	if (deth_qkey(pkt->hdr) != qp->attr.qkey) {
		p->cnt.rcv_discards++;
		return;
	}
	rs = resp_take_recv(qp);
	if (rs == -EAGAIN) {
		p->cnt.rcv_discards++; /* no receive WQE: the datagram is lost */
		return;
	}
	if (rs != CIOV_WC_SUCCESS) {
		resp_complete(qp, (enum ciov_wc_status)rs, CIOV_WC_OP_RECV, 0, 0, 0, src_qp, false);
		return;
	}
	if (pkt->paylen + ENGINE_GRH_LEN > qp->x.resp.cap) {
		resp_complete(qp, CIOV_WC_LOC_LEN_ERR, CIOV_WC_OP_RECV, 0, 0, 0, src_qp, false);
		return;
	}
	port_gid_of(pkt->family, wire_ip_src(pkt), sgid);
	resp_grh(grh, pkt->paylen, 64, sgid, p->gid);
	dma_cursor_sgl(&dst, qp->obj.ep->iommu, qp->x.resp.seg, qp->x.resp.nseg);
	dma_cursor_buf(&src, grh);
	if (dma_copy(&dst, &src, ENGINE_GRH_LEN)) {
		resp_complete(qp, CIOV_WC_LOC_PROT_ERR, CIOV_WC_OP_RECV, 0, 0, 0, src_qp, false);
		return;
	}
	dma_cursor_buf(&src, (void *)pkt->payload);
	if (pkt->paylen && dma_copy(&dst, &src, pkt->paylen)) {
		resp_complete(qp, CIOV_WC_LOC_PROT_ERR, CIOV_WC_OP_RECV, 0, 0, 0, src_qp, false);
		return;
	}
	qp->x.cnt.msgs_in[imm ? CIOV_WR_SEND_WITH_IMM : CIOV_WR_SEND]++;
	qp->x.cnt.bytes_in[imm ? CIOV_WR_SEND_WITH_IMM : CIOV_WR_SEND] += pkt->paylen;
	resp_complete(qp, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV, pkt->paylen + ENGINE_GRH_LEN,
		      imm ? htobe32(immdt_imm(pkt->hdr)) : 0,
		      CIOV_WC_GRH | (imm ? CIOV_WC_WITH_IMM : 0), src_qp, bth_se(pkt->hdr));
}

void xport_rx(void *arg, struct port *p, const struct wire_pkt *pkt)
{
	struct engine *e = arg;
	struct qp *qp = qpn_find(&e->ad->qpns, bth_dqpn(pkt->hdr));
	uint32_t mask = pkt->info->mask;

	if (!qp || !pkey_ok(bth_pkey(pkt->hdr))) {
		p->cnt.rcv_discards++;
		return;
	}
	if (mask & WIRE_UD) {
		if (qp->type == CIOV_QPT_UD)
			xport_rx_ud(qp, p, pkt);
		else
			p->cnt.rcv_discards++;
		return;
	}
	if (qp->type != CIOV_QPT_RC || !qp->x.xq || !from_peer(qp->x.xq, p, pkt)) {
		p->cnt.rcv_discards++;
		return;
	}
	if (mask & WIRE_REQ)
		xresp_rx(qp->x.xq, pkt);
	else if (qp->state == CIOV_QPS_RTS || qp->state == CIOV_QPS_SQD)
		xcomp_rx(qp->x.xq, pkt, engine_now_ns());
	else
		p->cnt.rcv_discards++;
}
