/* SPDX-License-Identifier: MIT */
/* A QP in the error state (IBA 10.3.1.7): every WQE it holds, and every one
 * posted later, completes with WR_FLUSH_ERR. */
#include <errno.h>

#include "adapter/cq.h"
#include "adapter/engine.h"
#include "adapter/fabric/xport.h"
#include "adapter/log.h"
#include "adapter/qp.h"
#include "common/ring.h"

unsigned engine_flush(struct qp *qp)
{
	unsigned n = 0, before, after;

	xport_flush(qp); /* its WQEs in flight are still in the SQ */
	/* A receive WQE taken for a message that never finished. */
	if (qp->x.resp.have_wqe) {
		struct ciov_cqe cqe = {
			.wr_id = qp->x.resp.wqe.wr_id,
			.status = CIOV_WC_WR_FLUSH_ERR,
			.opcode = CIOV_WC_OP_RECV,
			.qp_num = qp->qpn,
			.wqe_idx = qp->x.resp.wqe_idx,
		};

		qp->x.resp.have_wqe = false;
		if (cq_post(qp->recv_cq, &cqe, false) == 0)
			n++;
	}
	if (qp->state == CIOV_QPS_SQE) {
		before = ring_pending(&qp->sq);
		qp_flush_sq(qp);
		return before - ring_pending(&qp->sq);
	}
	before = ring_pending(&qp->sq) + (qp->srq ? 0 : ring_pending(&qp->rq));
	qp_flush(qp); /* stops early when a CQ is full: the rest waits */
	after = ring_pending(&qp->sq) + (qp->srq ? 0 : ring_pending(&qp->rq));
	return n + (before - after);
}

void engine_qp_sq_error(struct qp *qp)
{
	qp->state = CIOV_QPS_SQE;
	qp->x.req.state = REQ_ERROR;
	ring_show_error(&qp->sq, true);
	engine_flush(qp);
}

void engine_qp_error(struct qp *qp)
{
	qp->state = CIOV_QPS_ERR;
	qp->x.req.state = REQ_ERROR;
	ring_show_error(&qp->sq, true);
	if (!qp->srq) {
		ring_show_error(&qp->rq, true);
		/* Posts to a QP in error must reach us to be flushed: ask for
		 * kicks on the receive queue too. */
		ring_store_relaxed(&qp->rq.ctrl->need_kick, 1);
	}
	engine_flush(qp);
}
