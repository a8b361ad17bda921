/* SPDX-License-Identifier: MIT */
/*
 * The responder's receive side (IBA 9.7.5, 10.8.2): taking a receive WQE
 * from the QP's receive queue or SRQ, checking its buffers, completing it.
 *
 * Security model: the receive WQE is copied out of the tenant's ring once,
 * then validated (SGE count against the queue's own limit, keys, PD,
 * bounds, LOCAL_WRITE) before any byte lands in it.
 */
#include <errno.h>
#include <string.h>

#include "adapter/async.h"
#include "adapter/cq.h"
#include "adapter/engine.h"
#include "adapter/mr.h"
#include "adapter/pd.h"
#include "adapter/qp.h"
#include "adapter/srq.h"

int resp_take_recv(struct qp *qp)
{
	struct resp *rs = &qp->x.resp;
	union {
		struct ciov_recv_wqe wqe;
		uint8_t raw[RING_ENTRY_MAX];
	} w;
	struct ring *ring = qp->srq ? &qp->srq->ring : &qp->rq;
	uint32_t max_sge = qp->srq ? qp->srq->max_sge : qp->cap.max_recv_sge;
	struct pd *pd = qp->srq ? qp->srq->pd : qp->pd;
	const struct ciov_sge *sge = (const struct ciov_sge *)(w.raw + sizeof(w.wqe));
	int err;

	if (ring->entry_size > sizeof(w))
		return CIOV_WC_LOC_QP_OP_ERR; /* cannot happen: sizes fixed at create */
	err = ring_peek(ring, w.raw);
	if (err)
		return -EAGAIN; /* empty, or corrupt and now in error: no WQE */
	*rs = (struct resp){.have_wqe = true, .from_srq = qp->srq != NULL, .wqe = w.wqe,
			    .wqe_idx = (uint16_t)ring->idx};
	ring_pop(ring);
	if (w.wqe.num_sge > max_sge)
		return CIOV_WC_LOC_LEN_ERR;
	for (uint32_t i = 0; i < w.wqe.num_sge; i++) {
		struct mr *mr;

		if (sge[i].length == 0)
			continue;
		mr = mr_from_key(qp->obj.ep, sge[i].lkey, MR_LKEY);
		if (!mr || mr_check(mr, pd, sge[i].addr, sge[i].length, CIOV_ACCESS_LOCAL_WRITE))
			return CIOV_WC_LOC_PROT_ERR;
		rs->seg[rs->nseg++] = (struct dma_seg){sge[i].addr, sge[i].length};
		rs->cap += sge[i].length;
	}
	/* IBA 10.2.9.5 / 11.6.3.1: fewer WQEs left than the armed limit:
	 * one SRQ_LIMIT_REACHED event, and the limit disarms. */
	if (qp->srq && qp->srq->srq_limit && ring_pending(&qp->srq->ring) < qp->srq->srq_limit) {
		srq_set_limit(qp->srq, 0);
		async_post(&qp->srq->obj, CIOV_EVENT_SRQ_LIMIT_REACHED);
	}
	return CIOV_WC_SUCCESS;
}

void resp_complete(struct qp *qp, enum ciov_wc_status status, enum ciov_wc_opcode op,
		   uint32_t byte_len, uint32_t imm, unsigned wc_flags, uint32_t src_qp, bool solicited)
{
	struct resp *rs = &qp->x.resp;
	struct ciov_cqe cqe = {
		.wr_id = rs->wqe.wr_id,
		.status = (uint8_t)status,
		.opcode = (uint8_t)op,
		.flags = (uint8_t)wc_flags,
		.byte_len = byte_len,
		.imm_data = imm,
		.qp_num = qp->qpn,
		.src_qp = src_qp,
		.sl = qp->attr.ah_attr.sl,
		.wqe_idx = rs->wqe_idx,
	};

	if (!rs->have_wqe)
		return;
	rs->have_wqe = false;
	qp->x.cnt.completions[status]++;
	/* A CQ overrun puts the QP in error (IBA 11.4.2.1). */
	if (cq_post(qp->recv_cq, &cqe, solicited) || (status != CIOV_WC_SUCCESS &&
						     qp->type == CIOV_QPT_RC))
		engine_qp_error(qp);
}

void resp_grh(uint8_t grh[ENGINE_GRH_LEN], uint32_t paylen, uint8_t hop_limit,
	      const uint8_t sgid[16], const uint8_t dgid[16])
{
	memset(grh, 0, ENGINE_GRH_LEN);
	grh[0] = 0x60; /* IPVer 6 */
	grh[4] = (uint8_t)(paylen >> 8);
	grh[5] = (uint8_t)paylen;
	grh[6] = 0x1b; /* NxtHdr: the IBA transport */
	grh[7] = hop_limit;
	memcpy(grh + 8, sgid, 16);
	memcpy(grh + 24, dgid, 16);
}
