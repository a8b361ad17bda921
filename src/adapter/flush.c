/* SPDX-License-Identifier: MIT */
/* A QP in the error state (IBA 10.3.1.7): every WQE it holds, and every one
 * posted later, completes with WR_FLUSH_ERR. */
#include <errno.h>

#include "adapter/cq.h"
#include "adapter/engine.h"
#include "adapter/log.h"
#include "adapter/qp.h"
#include "common/ring.h"

static bool flush_cqe(struct qp *qp, struct cq *cq, uint64_t wr_id, enum ciov_wc_opcode op)
{
	struct ciov_cqe cqe = {
		.wr_id = wr_id,
		.status = CIOV_WC_WR_FLUSH_ERR,
		.opcode = (uint8_t)op,
		.qp_num = qp->qpn,
	};

	qp->x.cnt.completions[CIOV_WC_WR_FLUSH_ERR]++;
	/* A full CQ cannot take flushes; the rest wait for room. */
	return cq_post(cq, &cqe, false) == 0;
}

unsigned engine_flush(struct qp *qp)
{
	union {
		struct ciov_send_wqe s;
		struct ciov_recv_wqe r;
		uint8_t raw[1024];
	} w;
	unsigned n = 0;

	if (qp->x.resp.have_wqe) {
		qp->x.resp.have_wqe = false;
		n += flush_cqe(qp, qp->recv_cq, qp->x.resp.wqe.wr_id, CIOV_WC_OP_RECV);
	}
	while (qp->sq.entry_size <= sizeof(w) && ring_peek(&qp->sq, w.raw) == 0) {
		if (!flush_cqe(qp, qp->send_cq, w.s.wr_id, CIOV_WC_OP_SEND))
			return n;
		ring_pop(&qp->sq);
		n++;
	}
	/* An SRQ's WQEs belong to the SRQ, not to this QP: not flushed. */
	while (!qp->srq && qp->rq.entry_size <= sizeof(w) && ring_peek(&qp->rq, w.raw) == 0) {
		if (!flush_cqe(qp, qp->recv_cq, w.r.wr_id, CIOV_WC_OP_RECV))
			return n;
		ring_pop(&qp->rq);
		n++;
	}
	return n;
}

void engine_qp_error(struct qp *qp)
{
	qp->state = CIOV_QPS_ERR;
	qp->x.req.state = REQ_ERROR;
	/* The rings stay readable (ring_set_error is for corrupt rings): the
	 * tenant may keep posting, and each post is flushed. Posts to a QP in error must reach us to be flushed: ask for kicks
	 * on the receive queue too. */
	ring_store_relaxed(&qp->rq.ctrl->need_kick, 1);
	engine_flush(qp);
}
