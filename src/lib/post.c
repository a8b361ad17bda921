/* SPDX-License-Identifier: MIT */
/*
 * libciov's data path: post_send, post_recv, post_srq_recv (producer of
 * the SQ, RQ, SRQ rings), poll_cq (consumer of the CQ ring) and arming a
 * CQ. No system call unless the engine sleeps (doorbell) — see
 * lib_ring_kick().
 *
 * Verbs semantics: WRs are posted in order up to the first bad one, which
 * is returned in *bad_wr with its error; those before it are posted. A full
 * queue is -ENOMEM.
 */
#include <errno.h>
#include <string.h>

#include "lib/ring.h"

/* The 24 bits of a QPN (IBA 9.2). */
#define QPN_MASK 0xffffffu

#define SEND_FLAGS_ALL                                                         \
	(CIOV_SEND_FENCE | CIOV_SEND_SIGNALED | CIOV_SEND_SOLICITED | CIOV_SEND_INLINE)

/* Opcodes each QP type accepts (IBA 10.7.3.1 / table 86); whether an
 * opcode may carry inline data (it must be a write of local data). */
static const struct {
	uint8_t rc, ud, inl;
} wr_opcode_ok[CIOV_WR_MAX] = {
	[CIOV_WR_RDMA_WRITE] = {1, 0, 1},
	[CIOV_WR_RDMA_WRITE_WITH_IMM] = {1, 0, 1},
	[CIOV_WR_SEND] = {1, 1, 1},
	[CIOV_WR_SEND_WITH_IMM] = {1, 1, 1},
	[CIOV_WR_RDMA_READ] = {1, 0, 0},
	[CIOV_WR_ATOMIC_CMP_AND_SWP] = {1, 0, 0},
	[CIOV_WR_ATOMIC_FETCH_AND_ADD] = {1, 0, 0},
};

/* IBA 10.8.2 (C10-29): send WRs may be posted from RTS on (RTS, SQD, SQE,
 * ERR; in ERR they complete flushed); receive WRs from INIT on. */
static int sq_state_ok(enum ciov_qp_state s)
{
	return s == CIOV_QPS_RTS || s == CIOV_QPS_SQD || s == CIOV_QPS_SQE || s == CIOV_QPS_ERR;
}

static int rq_state_ok(enum ciov_qp_state s)
{
	return s != CIOV_QPS_RESET && s < CIOV_QPS_MAX;
}

/* The first slot of work queue R (producer index PROD) that is not the
 * poster's: DONE, the one past the last WQE whose completion was polled
 * (NULL for an SRQ, whose slots are freed when ciovd takes them). ciovd's
 * own consumer index is never behind DONE, except when the queue was reset
 * under us (a manager's modify to RESET in native mode): then it rules. */
static uint32_t wq_free_from(struct lib_ring *r, uint32_t prod, uint32_t *done)
{
	/* Pairs with ciovd's release of cons in ring_pop(): it is done with
	 * the slots before cons. */
	uint32_t cons = ring_load_acquire(&r->ctrl->cons);
	uint32_t d;

	if (!done)
		return cons;
	d = __atomic_load_n(done, __ATOMIC_RELAXED);
	return ring_used(prod, d) > r->entries ? cons : d;
}

/* A polled CQE E frees its WQE's slot, and those before it, in its queue
 * (which the CQ knows by QPN): unsignaled WQEs complete in order with the
 * signaled one after them. A CQE that names a slot outside what is posted
 * (left from before a RESET) frees nothing. Called under CQ's lock. */
static void wq_retire(struct cq_priv *cq, const struct ciov_cqe *e)
{
	struct qp_priv *q = lib_cq_find_qp(cq, e->qp_num);
	struct lib_ring *r;
	uint32_t *done, d, prod;
	uint16_t step;

	if (!q)
		return;
	if (e->opcode & CIOV_WC_OP_RECV) {
		if (!q->rq.ctrl)
			return; /* from an SRQ */
		r = &q->rq;
		done = &q->rq_done;
	} else {
		r = &q->sq;
		done = &q->sq_done;
	}
	d = __atomic_load_n(done, __ATOMIC_RELAXED);
	prod = ring_load_relaxed(&r->ctrl->prod);
	step = (uint16_t)(e->wqe_idx + 1u - d);
	if (step && step <= ring_used(prod, d))
		__atomic_store_n(done, d + step, __ATOMIC_RELAXED);
}

/* Writes WR as a send WQE into SLOT after checking it against QP. */
static int send_wqe_write(struct ciov_qp *qp, const struct ciov_send_wr *wr, uint8_t *slot)
{
	struct ciov_send_wqe w = {0};
	uint8_t *body = slot + sizeof(w);

	if ((unsigned)wr->opcode >= CIOV_WR_MAX)
		return -EINVAL;
	if (qp->qp_type == CIOV_QPT_UD ? !wr_opcode_ok[wr->opcode].ud
				       : !wr_opcode_ok[wr->opcode].rc)
		return -EINVAL;
	if (wr->send_flags & ~SEND_FLAGS_ALL || wr->num_sge < 0 || (wr->num_sge && !wr->sg_list))
		return -EINVAL;
	w.wr_id = wr->wr_id;
	w.opcode = (uint8_t)wr->opcode;
	w.flags = (uint8_t)wr->send_flags;
	w.imm_data = wr->imm_data;
	switch (wr->opcode) {
	case CIOV_WR_RDMA_WRITE:
	case CIOV_WR_RDMA_WRITE_WITH_IMM:
	case CIOV_WR_RDMA_READ:
		w.remote_addr = wr->wr.rdma.remote_addr;
		w.rkey = wr->wr.rdma.rkey;
		break;
	case CIOV_WR_ATOMIC_CMP_AND_SWP:
	case CIOV_WR_ATOMIC_FETCH_AND_ADD:
		w.remote_addr = wr->wr.atomic.remote_addr;
		w.rkey = wr->wr.atomic.rkey;
		w.compare_add = wr->wr.atomic.compare_add;
		w.swap = wr->wr.atomic.swap;
		break;
	default:
		break;
	}
	if (qp->qp_type == CIOV_QPT_UD) {
		if (!wr->wr.ud.ah || wr->wr.ud.ah->pd->ep != qp->pd->ep ||
		    wr->wr.ud.remote_qpn > QPN_MASK)
			return -EINVAL;
		w.ah = wr->wr.ud.ah->handle;
		w.remote_qpn = wr->wr.ud.remote_qpn;
		w.remote_qkey = wr->wr.ud.remote_qkey;
	}
	if (wr->send_flags & CIOV_SEND_INLINE) {
		/* Inline: the data itself goes into the WQE, read from this
		 * process's memory at the SGEs' addresses. */
		uint32_t len = 0;

		if (!wr_opcode_ok[wr->opcode].inl)
			return -EINVAL;
		for (int i = 0; i < wr->num_sge; i++) {
			if (wr->sg_list[i].length > qp->cap.max_inline_data - len)
				return -EINVAL;
			len += wr->sg_list[i].length;
		}
		for (int i = 0, off = 0; i < wr->num_sge; i++) {
			memcpy(body + off, (const void *)(uintptr_t)wr->sg_list[i].addr,
			       wr->sg_list[i].length);
			off += (int)wr->sg_list[i].length;
		}
		w.inline_len = len;
	} else {
		if ((uint32_t)wr->num_sge > qp->cap.max_send_sge)
			return -EINVAL;
		if (wr->num_sge)
			memcpy(body, wr->sg_list, (size_t)wr->num_sge * sizeof(struct ciov_sge));
		w.num_sge = (uint8_t)wr->num_sge;
	}
	memcpy(slot, &w, sizeof(w));
	return 0;
}

int ciov_post_send(struct ciov_qp *qp, const struct ciov_send_wr *wr,
		   const struct ciov_send_wr **bad_wr)
{
	struct qp_priv *q;
	struct lib_ring *r;
	uint32_t prod, start, cons;
	int err = 0;

	if (!qp)
		return -EINVAL;
	q = qp_priv_of(qp);
	r = &q->sq;
	pthread_spin_lock(&r->lock);
	if (!sq_state_ok(qp->state)) {
		err = -EINVAL;
		goto out;
	}
	/* We are the only producer: our own last store. */
	start = prod = ring_load_relaxed(&r->ctrl->prod);
	cons = wq_free_from(r, prod, &q->sq_done);
	for (; wr; wr = wr->next) {
		if (ring_used(prod, cons) >= r->entries) {
			err = -ENOMEM;
			break;
		}
		err = send_wqe_write(qp, wr, lib_ring_slot(r, prod));
		if (err)
			break;
		prod++;
	}
	if (prod != start) {
		/* Pairs with ciovd's acquire of prod in ring_peek(): the WQEs
		 * are written before they are published. */
		ring_store_release(&r->ctrl->prod, prod);
		lib_ring_kick(qp->pd->ep, r);
	}
out:
	pthread_spin_unlock(&r->lock);
	if (err && bad_wr)
		*bad_wr = wr;
	return err;
}

/* Posts receive WRs to ring R (an RQ, with its DONE index, or an SRQ,
 * DONE NULL) holding at most MAX_SGE. */
static int post_recv_ring(struct ciov_endpoint *ep, struct lib_ring *r, uint32_t *done,
			  uint32_t max_sge, const struct ciov_recv_wr *wr,
			  const struct ciov_recv_wr **bad_wr)
{
	uint32_t prod, start, cons;
	int err = 0;

	pthread_spin_lock(&r->lock);
	start = prod = ring_load_relaxed(&r->ctrl->prod);
	cons = wq_free_from(r, prod, done);
	for (; wr; wr = wr->next) {
		struct ciov_recv_wqe w = {.wr_id = wr->wr_id};
		uint8_t *slot = lib_ring_slot(r, prod);

		if (ring_used(prod, cons) >= r->entries) {
			err = -ENOMEM;
			break;
		}
		if (wr->num_sge < 0 || (uint32_t)wr->num_sge > max_sge ||
		    (wr->num_sge && !wr->sg_list)) {
			err = -EINVAL;
			break;
		}
		w.num_sge = (uint8_t)wr->num_sge;
		memcpy(slot, &w, sizeof(w));
		if (wr->num_sge)
			memcpy(slot + sizeof(w), wr->sg_list,
			       (size_t)wr->num_sge * sizeof(struct ciov_sge));
		prod++;
	}
	if (prod != start) {
		/* Pairs with ciovd's acquire of prod in ring_peek(). */
		ring_store_release(&r->ctrl->prod, prod);
		lib_ring_kick(ep, r);
	}
	pthread_spin_unlock(&r->lock);
	if (err && bad_wr)
		*bad_wr = wr;
	return err;
}

int ciov_post_recv(struct ciov_qp *qp, const struct ciov_recv_wr *wr,
		   const struct ciov_recv_wr **bad_wr)
{
	struct qp_priv *q;

	if (!qp)
		return -EINVAL;
	q = qp_priv_of(qp);
	/* A QP with an SRQ has no receive queue of its own (IBA 10.2.9.5). */
	if (qp->srq || !q->rq.ctrl || !rq_state_ok(qp->state)) {
		if (bad_wr)
			*bad_wr = wr;
		return -EINVAL;
	}
	return post_recv_ring(qp->pd->ep, &q->rq, &q->rq_done, qp->cap.max_recv_sge, wr, bad_wr);
}

int ciov_post_srq_recv(struct ciov_srq *srq, const struct ciov_recv_wr *wr,
		       const struct ciov_recv_wr **bad_wr)
{
	if (!srq)
		return -EINVAL;
	return post_recv_ring(srq->pd->ep, &srq_priv_of(srq)->ring, NULL, srq->attr.max_sge, wr,
			      bad_wr);
}

static void wc_from_cqe(struct ciov_wc *wc, const struct ciov_cqe *e)
{
	*wc = (struct ciov_wc){
		.wr_id = e->wr_id,
		.status = (enum ciov_wc_status)e->status,
		.opcode = (enum ciov_wc_opcode)e->opcode,
		.byte_len = e->byte_len,
		.imm_data = e->imm_data,
		.qp_num = e->qp_num,
		.src_qp = e->src_qp,
		.wc_flags = e->flags,
		.pkey_index = e->pkey_index,
		.sl = e->sl,
	};
}

int ciov_poll_cq(struct ciov_cq *pub, int n, struct ciov_wc *wc)
{
	struct cq_priv *cq;
	struct lib_ring *r;
	uint32_t prod, avail;
	int got = 0;

	if (!pub || n < 0 || (n && !wc))
		return -EINVAL;
	cq = cq_priv_of(pub);
	r = &cq->ring;
	pthread_spin_lock(&r->lock);
	/* Pairs with ciovd's release of prod in ring_push(): the CQEs before
	 * prod are written. */
	prod = ring_load_acquire(&r->ctrl->prod);
	avail = ring_used(prod, cq->cons);
	if (avail > r->entries) {
		pthread_spin_unlock(&r->lock);
		return -EIO;
	}
	for (; got < n && (uint32_t)got < avail; got++) {
		struct ciov_cqe e;

		memcpy(&e, lib_ring_slot(r, cq->cons + (uint32_t)got), sizeof(e));
		wc_from_cqe(&wc[got], &e);
		wq_retire(cq, &e);
	}
	if (got) {
		cq->cons += (uint32_t)got;
		/* Pairs with ciovd's acquire of cons in ring_push(): we have
		 * copied the CQEs out, the slots may be reused. */
		ring_store_release(&r->ctrl->cons, cq->cons);
	}
	pthread_spin_unlock(&r->lock);
	/* A CQ in error (overrun) reports it once it is drained. */
	if (!got && n && ring_load_acquire(&r->ctrl->error))
		return -EIO;
	return got;
}

int ciov_req_notify_cq(struct ciov_cq *pub, int solicited_only)
{
	struct ciov_ring_ctrl *c;

	if (!pub)
		return -EINVAL;
	c = cq_priv_of(pub)->ring.ctrl;
	ring_store_relaxed(&c->arm_solicited, solicited_only != 0);
	/* Pairs with ciovd's acquire of arm_seq in cq_post(): arm_solicited
	 * is visible with the new arm. The add is atomic so that two threads
	 * arming at once each count, and a full barrier (as cq_post's fence):
	 * the caller's poll after it must not read the CQ before the arm is
	 * visible, or a CQE published meanwhile has neither poll nor event. */
	__atomic_add_fetch(&c->arm_seq, 1, __ATOMIC_SEQ_CST);
	return 0;
}
