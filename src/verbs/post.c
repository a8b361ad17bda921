/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: the data path (post_send, post_recv, post_srq_recv,
 * poll_cq), installed in struct ibv_context.ops for verbs.h's inlines.
 *
 * Work requests and completions are translated on the stack, a batch at a
 * time, and handed to libciov: no allocation, no lock, no system call of
 * our own. struct ibv_sge and struct ciov_sge have one layout (checked
 * below), so SGE lists pass as they are.
 */
#include <sched.h>
#include <stdbool.h>
#include <string.h>

#include "verbs/compat.h"

#define CV_BATCH 32 /* WRs / WCs translated per libciov call */

_Static_assert(sizeof(struct ibv_sge) == sizeof(struct ciov_sge) &&
		       offsetof(struct ibv_sge, addr) == offsetof(struct ciov_sge, addr) &&
		       offsetof(struct ibv_sge, length) == offsetof(struct ciov_sge, length) &&
		       offsetof(struct ibv_sge, lkey) == offsetof(struct ciov_sge, lkey),
	       "ibv_sge and ciov_sge differ");
/* Compared as ints: the enums are distinct types with equal numbers. */
#define CV_SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(CV_SAME(IBV_SEND_FENCE, CIOV_SEND_FENCE) &&
		       CV_SAME(IBV_SEND_SIGNALED, CIOV_SEND_SIGNALED) &&
		       CV_SAME(IBV_SEND_SOLICITED, CIOV_SEND_SOLICITED) &&
		       CV_SAME(IBV_SEND_INLINE, CIOV_SEND_INLINE),
	       "send flags differ");
_Static_assert(CV_SAME(IBV_WC_GRH, CIOV_WC_GRH) && CV_SAME(IBV_WC_WITH_IMM, CIOV_WC_WITH_IMM),
	       "wc flags differ");
_Static_assert(CV_SAME(IBV_WR_ATOMIC_FETCH_AND_ADD, CIOV_WR_ATOMIC_FETCH_AND_ADD) &&
		       CV_SAME(IBV_WC_RECV_RDMA_WITH_IMM, CIOV_WC_OP_RECV_RDMA_WITH_IMM),
	       "opcodes differ");

static void send_wr_to_ciov(const struct ibv_send_wr *in, struct ciov_send_wr *out)
{
	out->wr_id = in->wr_id;
	out->sg_list = (struct ciov_sge *)in->sg_list;
	out->num_sge = in->num_sge;
	/* the same numbers; libciov rejects those it does not know */
	out->opcode = (enum ciov_wr_opcode)in->opcode;
	out->send_flags = in->send_flags;
	out->imm_data = in->imm_data; /* opaque: network order end to end */
	switch (in->opcode) {
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		out->wr.atomic.remote_addr = in->wr.atomic.remote_addr;
		out->wr.atomic.compare_add = in->wr.atomic.compare_add;
		out->wr.atomic.swap = in->wr.atomic.swap;
		out->wr.atomic.rkey = in->wr.atomic.rkey;
		break;
	default:
		out->wr.rdma.remote_addr = in->wr.rdma.remote_addr;
		out->wr.rdma.rkey = in->wr.rdma.rkey;
		break;
	}
}

int cv_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad_wr)
{
	struct ciov_qp *cqp = CV_OF(cv_qp, qp)->cqp;
	bool ud = qp->qp_type == IBV_QPT_UD;

	while (wr) {
		struct ciov_send_wr w[CV_BATCH];
		struct ibv_send_wr *in[CV_BATCH];
		const struct ciov_send_wr *bad = NULL;
		int n = 0, err;

		for (; wr && n < CV_BATCH; wr = wr->next, n++) {
			send_wr_to_ciov(wr, &w[n]);
			if (ud) {
				/* no AH: libciov fails the WR with EINVAL */
				w[n].wr.ud.ah = wr->wr.ud.ah ? CV_OF(cv_ah, wr->wr.ud.ah)->cah : NULL;
				w[n].wr.ud.remote_qpn = wr->wr.ud.remote_qpn;
				w[n].wr.ud.remote_qkey = wr->wr.ud.remote_qkey;
			}
			w[n].next = NULL;
			if (n)
				w[n - 1].next = &w[n];
			in[n] = wr;
		}
		err = ciov_post_send(cqp, w, &bad);
		if (err) {
			if (bad_wr)
				*bad_wr = bad ? in[bad - w] : in[0];
			return cv_err(err);
		}
	}
	return 0;
}

static void recv_chain(struct ibv_recv_wr **wrp, struct ciov_recv_wr *w, struct ibv_recv_wr **in,
		       int *np)
{
	struct ibv_recv_wr *wr = *wrp;
	int n = 0;

	for (; wr && n < CV_BATCH; wr = wr->next, n++) {
		w[n] = (struct ciov_recv_wr){
			.wr_id = wr->wr_id,
			.sg_list = (struct ciov_sge *)wr->sg_list,
			.num_sge = wr->num_sge,
		};
		if (n)
			w[n - 1].next = &w[n];
		in[n] = wr;
	}
	*wrp = wr;
	*np = n;
}

/* Translates WR's chain batch by batch and posts each with POST to a QP
 * (or, with SRQ set, to an SRQ); *bad_wr in libibverbs' terms. */
static int post_recv_chain(struct ciov_qp *qp, struct ciov_srq *srq, struct ibv_recv_wr *wr,
			   struct ibv_recv_wr **bad_wr)
{
	while (wr) {
		struct ciov_recv_wr w[CV_BATCH];
		struct ibv_recv_wr *in[CV_BATCH];
		const struct ciov_recv_wr *bad = NULL;
		int n, err;

		recv_chain(&wr, w, in, &n);
		err = srq ? ciov_post_srq_recv(srq, w, &bad) : ciov_post_recv(qp, w, &bad);
		if (err) {
			if (bad_wr)
				*bad_wr = bad ? in[bad - w] : in[0];
			return cv_err(err);
		}
	}
	return 0;
}

int cv_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr)
{
	return post_recv_chain(CV_OF(cv_qp, qp)->cqp, NULL, wr, bad_wr);
}

int cv_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr)
{
	return post_recv_chain(NULL, CV_OF(cv_srq, srq)->csrq, wr, bad_wr);
}

static void wc_to_ibv(const struct ciov_wc *w, struct ibv_wc *o)
{
	o->wr_id = w->wr_id;
	o->status = (enum ibv_wc_status)w->status;
	o->opcode = (enum ibv_wc_opcode)w->opcode;
	o->vendor_err = 0;
	o->byte_len = w->byte_len;
	o->imm_data = w->imm_data;
	o->qp_num = w->qp_num;
	o->src_qp = w->src_qp;
	o->wc_flags = w->wc_flags;
	o->pkey_index = w->pkey_index;
	o->slid = 0;
	o->sl = w->sl;
	o->dlid_path_bits = 0;
}

int cv_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc)
{
	struct ciov_cq *ccq = CV_OF(cv_cq, cq)->ccq;
	int done = 0;

	while (done < n) {
		struct ciov_wc w[CV_BATCH];
		int want = n - done < CV_BATCH ? n - done : CV_BATCH;
		int got = ciov_poll_cq(ccq, want, w);

		if (got < 0)
			return done ? done : got; /* libibverbs: negative on error */
		for (int i = 0; i < got; i++)
			wc_to_ibv(&w[i], &wc[done + i]);
		done += got;
		if (got < want)
			break;
	}
	/* An empty poll gives the core away: applications busy-poll, and two
	 * spinning tenants plus the engine on two cores would otherwise
	 * measure the scheduler (FACTS: three spinners). Costs nothing when
	 * there is work. */
	if (!done)
		sched_yield();
	return done;
}

/* The extended CQ: ibv_start_poll / ibv_next_poll reach one completion,
 * kept in the cv_cq, which the ibv_wc_read_* calls read. */
static int cq_ex_next(struct ibv_cq_ex *cqx)
{
	struct cv_cq *q = container_of(cqx, struct cv_cq, cqx);
	int got = ciov_poll_cq(q->ccq, 1, &q->cur);

	if (got < 0)
		return -got;
	if (!got) {
		sched_yield(); /* as cv_poll_cq() */
		return ENOENT;
	}
	cqx->wr_id = q->cur.wr_id;
	cqx->status = (enum ibv_wc_status)q->cur.status;
	return 0;
}

static int cq_ex_start_poll(struct ibv_cq_ex *cqx, struct ibv_poll_cq_attr *attr)
{
	if (attr && attr->comp_mask)
		return EINVAL;
	return cq_ex_next(cqx);
}

static void cq_ex_end_poll(struct ibv_cq_ex *cqx)
{
	/* completions were consumed one by one */
}

static const struct ciov_wc *cur_of(struct ibv_cq_ex *cqx)
{
	return &container_of(cqx, struct cv_cq, cqx)->cur;
}

static enum ibv_wc_opcode cq_ex_read_opcode(struct ibv_cq_ex *cqx)
{
	return (enum ibv_wc_opcode)cur_of(cqx)->opcode;
}

static uint32_t cq_ex_read_vendor_err(struct ibv_cq_ex *cqx)
{
	return 0;
}

static uint32_t cq_ex_read_byte_len(struct ibv_cq_ex *cqx)
{
	return cur_of(cqx)->byte_len;
}

static __be32 cq_ex_read_imm_data(struct ibv_cq_ex *cqx)
{
	return cur_of(cqx)->imm_data;
}

static uint32_t cq_ex_read_qp_num(struct ibv_cq_ex *cqx)
{
	return cur_of(cqx)->qp_num;
}

static uint32_t cq_ex_read_src_qp(struct ibv_cq_ex *cqx)
{
	return cur_of(cqx)->src_qp;
}

static unsigned int cq_ex_read_wc_flags(struct ibv_cq_ex *cqx)
{
	return cur_of(cqx)->wc_flags;
}

static uint32_t cq_ex_read_slid(struct ibv_cq_ex *cqx)
{
	return 0; /* RoCE: no LIDs */
}

static uint8_t cq_ex_read_sl(struct ibv_cq_ex *cqx)
{
	return cur_of(cqx)->sl;
}

static uint8_t cq_ex_read_dlid_path_bits(struct ibv_cq_ex *cqx)
{
	return 0;
}

void cv_cq_ex_init(struct cv_cq *q)
{
	struct ibv_cq_ex *x = &q->cqx;

	x->start_poll = cq_ex_start_poll;
	x->next_poll = cq_ex_next;
	x->end_poll = cq_ex_end_poll;
	x->read_opcode = cq_ex_read_opcode;
	x->read_vendor_err = cq_ex_read_vendor_err;
	x->read_byte_len = cq_ex_read_byte_len;
	x->read_imm_data = cq_ex_read_imm_data;
	x->read_qp_num = cq_ex_read_qp_num;
	x->read_src_qp = cq_ex_read_src_qp;
	x->read_wc_flags = cq_ex_read_wc_flags;
	x->read_slid = cq_ex_read_slid;
	x->read_sl = cq_ex_read_sl;
	x->read_dlid_path_bits = cq_ex_read_dlid_path_bits;
}
