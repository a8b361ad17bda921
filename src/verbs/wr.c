/* SPDX-License-Identifier: MIT */
/*
 * libciov-verbs: the extended QP (ibv_create_qp_ex with
 * IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) and its ibv_wr_* builders.
 *
 * ibv_wr_start() takes the QP's builder lock; each opcode builder opens a
 * WR in the QP's batch (sized by the send queue), the setters fill its
 * data; ibv_wr_complete() posts the batch as one chain through libciov and
 * reports the first error, ibv_wr_abort() drops it. Inline data is copied
 * when it is set, as verbs requires. Builders ciov has no operation for
 * (memory windows, invalidation, TSO, XRC, atomic write) are stubs that
 * make ibv_wr_complete() fail with EOPNOTSUPP.
 */
#include <stdlib.h>
#include <string.h>

#include "verbs/compat.h"

#define CV_SEND_OPS                                                                          \
	(IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | IBV_QP_EX_WITH_SEND |  \
	 IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_RDMA_READ |                               \
	 IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP | IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD)

struct cv_wr_batch {
	pthread_mutex_t lock; /* held from wr_start to wr_complete/wr_abort */
	uint32_t n, max;      /* WRs built, room */
	uint32_t max_sge, max_inline;
	int err; /* first error of this batch (positive errno) */
	struct ciov_send_wr *wrs;
	struct ciov_sge *sges; /* max_sge per WR */
	uint8_t *inl;	       /* max_inline per WR */
};

static struct cv_qp *qp_of(struct ibv_qp_ex *qpx)
{
	return container_of(qpx, struct cv_qp, qpx);
}

static void set_err(struct cv_wr_batch *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Opens the next WR; NULL (and the batch failed) when the batch is full. */
static struct ciov_send_wr *wr_open(struct ibv_qp_ex *qpx, enum ciov_wr_opcode op)
{
	struct cv_wr_batch *b = qp_of(qpx)->wb;
	struct ciov_send_wr *w;

	if (b->n >= b->max) {
		set_err(b, ENOMEM); /* more WRs than the send queue holds */
		return NULL;
	}
	w = &b->wrs[b->n];
	*w = (struct ciov_send_wr){
		.wr_id = qpx->wr_id,
		.sg_list = &b->sges[(size_t)b->n * b->max_sge],
		.opcode = op,
		.send_flags = qpx->wr_flags,
	};
	b->n++;
	return w;
}

/* The WR the setters apply to; NULL (and the batch failed) if none. */
static struct ciov_send_wr *wr_cur(struct ibv_qp_ex *qpx)
{
	struct cv_wr_batch *b = qp_of(qpx)->wb;

	if (!b->n) {
		set_err(b, EINVAL);
		return NULL;
	}
	return &b->wrs[b->n - 1];
}

static void wr_rdma(struct ibv_qp_ex *qpx, enum ciov_wr_opcode op, uint32_t rkey, uint64_t addr,
		    __be32 imm)
{
	struct ciov_send_wr *w = wr_open(qpx, op);

	if (!w)
		return;
	w->wr.rdma.remote_addr = addr;
	w->wr.rdma.rkey = rkey;
	w->imm_data = imm;
}

static void cv_wr_rdma_write(struct ibv_qp_ex *qpx, uint32_t rkey, uint64_t addr)
{
	wr_rdma(qpx, CIOV_WR_RDMA_WRITE, rkey, addr, 0);
}

static void cv_wr_rdma_write_imm(struct ibv_qp_ex *qpx, uint32_t rkey, uint64_t addr, __be32 imm)
{
	wr_rdma(qpx, CIOV_WR_RDMA_WRITE_WITH_IMM, rkey, addr, imm);
}

static void cv_wr_rdma_read(struct ibv_qp_ex *qpx, uint32_t rkey, uint64_t addr)
{
	wr_rdma(qpx, CIOV_WR_RDMA_READ, rkey, addr, 0);
}

static void cv_wr_send(struct ibv_qp_ex *qpx)
{
	wr_open(qpx, CIOV_WR_SEND);
}

static void cv_wr_send_imm(struct ibv_qp_ex *qpx, __be32 imm)
{
	struct ciov_send_wr *w = wr_open(qpx, CIOV_WR_SEND_WITH_IMM);

	if (w)
		w->imm_data = imm;
}

static void wr_atomic(struct ibv_qp_ex *qpx, enum ciov_wr_opcode op, uint32_t rkey, uint64_t addr,
		      uint64_t compare_add, uint64_t swap)
{
	struct ciov_send_wr *w = wr_open(qpx, op);

	if (!w)
		return;
	w->wr.atomic.remote_addr = addr;
	w->wr.atomic.rkey = rkey;
	w->wr.atomic.compare_add = compare_add;
	w->wr.atomic.swap = swap;
}

static void cv_wr_atomic_cmp_swp(struct ibv_qp_ex *qpx, uint32_t rkey, uint64_t addr,
				 uint64_t compare, uint64_t swap)
{
	wr_atomic(qpx, CIOV_WR_ATOMIC_CMP_AND_SWP, rkey, addr, compare, swap);
}

static void cv_wr_atomic_fetch_add(struct ibv_qp_ex *qpx, uint32_t rkey, uint64_t addr,
				   uint64_t add)
{
	wr_atomic(qpx, CIOV_WR_ATOMIC_FETCH_AND_ADD, rkey, addr, add, 0);
}

static void cv_wr_set_ud_addr(struct ibv_qp_ex *qpx, struct ibv_ah *ah, uint32_t remote_qpn,
			      uint32_t remote_qkey)
{
	struct ciov_send_wr *w = wr_cur(qpx);

	if (!w)
		return;
	w->wr.ud.ah = ah ? CV_OF(cv_ah, ah)->cah : NULL;
	w->wr.ud.remote_qpn = remote_qpn;
	w->wr.ud.remote_qkey = remote_qkey;
}

static void cv_wr_set_sge_list(struct ibv_qp_ex *qpx, size_t num_sge, const struct ibv_sge *sg)
{
	struct cv_wr_batch *b = qp_of(qpx)->wb;
	struct ciov_send_wr *w = wr_cur(qpx);

	if (!w)
		return;
	if (num_sge > b->max_sge) {
		set_err(b, EINVAL);
		return;
	}
	memcpy(w->sg_list, sg, num_sge * sizeof(*sg)); /* one layout (post.c) */
	w->num_sge = (int)num_sge;
	w->send_flags &= ~(unsigned)IBV_SEND_INLINE;
}

static void cv_wr_set_sge(struct ibv_qp_ex *qpx, uint32_t lkey, uint64_t addr, uint32_t length)
{
	struct ibv_sge sge = {.addr = addr, .length = length, .lkey = lkey};

	cv_wr_set_sge_list(qpx, 1, &sge);
}

static void cv_wr_set_inline_data_list(struct ibv_qp_ex *qpx, size_t num_buf,
				       const struct ibv_data_buf *buf)
{
	struct cv_wr_batch *b = qp_of(qpx)->wb;
	struct ciov_send_wr *w = wr_cur(qpx);
	uint8_t *dst;
	size_t len = 0;

	if (!w)
		return;
	dst = &b->inl[(size_t)(w - b->wrs) * b->max_inline];
	for (size_t i = 0; i < num_buf; i++) {
		if (buf[i].length > b->max_inline - len) {
			set_err(b, EINVAL);
			return;
		}
		memcpy(dst + len, buf[i].addr, buf[i].length);
		len += buf[i].length;
	}
	/* libciov copies inline data from the SGE's address: our copy */
	w->sg_list[0] = (struct ciov_sge){.addr = (uintptr_t)dst, .length = (uint32_t)len};
	w->num_sge = 1;
	w->send_flags |= IBV_SEND_INLINE;
}

static void cv_wr_set_inline_data(struct ibv_qp_ex *qpx, void *addr, size_t length)
{
	struct ibv_data_buf buf = {.addr = addr, .length = length};

	cv_wr_set_inline_data_list(qpx, 1, &buf);
}

static void cv_wr_start(struct ibv_qp_ex *qpx)
{
	struct cv_wr_batch *b = qp_of(qpx)->wb;

	pthread_mutex_lock(&b->lock);
	b->n = 0;
	b->err = 0;
}

static int cv_wr_complete(struct ibv_qp_ex *qpx)
{
	struct cv_qp *q = qp_of(qpx);
	struct cv_wr_batch *b = q->wb;
	const struct ciov_send_wr *bad;
	int err = b->err;

	if (!err && b->n) {
		for (uint32_t i = 0; i + 1 < b->n; i++)
			b->wrs[i].next = &b->wrs[i + 1];
		b->wrs[b->n - 1].next = NULL;
		err = cv_err(ciov_post_send(q->cqp, b->wrs, &bad));
	}
	b->n = 0;
	b->err = 0;
	pthread_mutex_unlock(&b->lock);
	return err;
}

static void cv_wr_abort(struct ibv_qp_ex *qpx)
{
	struct cv_wr_batch *b = qp_of(qpx)->wb;

	b->n = 0;
	b->err = 0;
	pthread_mutex_unlock(&b->lock);
}

/* Operations ciov does not have: the batch fails at ibv_wr_complete(). */
static void cv_wr_unsupported(struct ibv_qp_ex *qpx)
{
	set_err(qp_of(qpx)->wb, EOPNOTSUPP);
}

static void cv_wr_bind_mw(struct ibv_qp_ex *qpx, struct ibv_mw *mw, uint32_t rkey,
			  const struct ibv_mw_bind_info *info)
{
	cv_wr_unsupported(qpx);
}

static void cv_wr_local_inv(struct ibv_qp_ex *qpx, uint32_t rkey)
{
	cv_wr_unsupported(qpx);
}

static void cv_wr_send_inv(struct ibv_qp_ex *qpx, uint32_t rkey)
{
	cv_wr_unsupported(qpx);
}

static void cv_wr_send_tso(struct ibv_qp_ex *qpx, void *hdr, uint16_t hdr_sz, uint16_t mss)
{
	cv_wr_unsupported(qpx);
}

static void cv_wr_set_xrc_srqn(struct ibv_qp_ex *qpx, uint32_t srqn)
{
	cv_wr_unsupported(qpx);
}

static void cv_wr_atomic_write(struct ibv_qp_ex *qpx, uint32_t rkey, uint64_t addr,
			       const void *data)
{
	cv_wr_unsupported(qpx);
}

int cv_wr_init(struct cv_qp *q, uint64_t send_ops_flags)
{
	const struct ciov_qp_cap *cap = &q->cqp->cap;
	struct ibv_qp_ex *x = &q->qpx;
	struct cv_wr_batch *b;

	if (send_ops_flags & ~(uint64_t)CV_SEND_OPS)
		return -EOPNOTSUPP;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->max = cap->max_send_wr;
	b->max_sge = cap->max_send_sge ? cap->max_send_sge : 1; /* inline needs one */
	b->max_inline = cap->max_inline_data;
	b->wrs = calloc(b->max, sizeof(*b->wrs));
	b->sges = calloc((size_t)b->max * b->max_sge, sizeof(*b->sges));
	b->inl = b->max_inline ? calloc(b->max, b->max_inline) : NULL;
	if (!b->wrs || !b->sges || (b->max_inline && !b->inl)) {
		free(b->wrs);
		free(b->sges);
		free(b->inl);
		free(b);
		return -ENOMEM;
	}
	pthread_mutex_init(&b->lock, NULL);
	q->wb = b;
	x->wr_atomic_cmp_swp = cv_wr_atomic_cmp_swp;
	x->wr_atomic_fetch_add = cv_wr_atomic_fetch_add;
	x->wr_bind_mw = cv_wr_bind_mw;
	x->wr_local_inv = cv_wr_local_inv;
	x->wr_rdma_read = cv_wr_rdma_read;
	x->wr_rdma_write = cv_wr_rdma_write;
	x->wr_rdma_write_imm = cv_wr_rdma_write_imm;
	x->wr_send = cv_wr_send;
	x->wr_send_imm = cv_wr_send_imm;
	x->wr_send_inv = cv_wr_send_inv;
	x->wr_send_tso = cv_wr_send_tso;
	x->wr_set_ud_addr = cv_wr_set_ud_addr;
	x->wr_set_xrc_srqn = cv_wr_set_xrc_srqn;
	x->wr_set_inline_data = cv_wr_set_inline_data;
	x->wr_set_inline_data_list = cv_wr_set_inline_data_list;
	x->wr_set_sge = cv_wr_set_sge;
	x->wr_set_sge_list = cv_wr_set_sge_list;
	x->wr_start = cv_wr_start;
	x->wr_complete = cv_wr_complete;
	x->wr_abort = cv_wr_abort;
	x->wr_atomic_write = cv_wr_atomic_write;
	return 0;
}

void cv_wr_free(struct cv_qp *q)
{
	struct cv_wr_batch *b = q->wb;

	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->wrs);
	free(b->sges);
	free(b->inl);
	free(b);
	q->wb = NULL;
}

struct ibv_qp *cv_create_qp_ex(struct ibv_context *context, struct ibv_qp_init_attr_ex *attr)
{
	struct ibv_qp *qp;
	int err;

	if (!(attr->comp_mask & IBV_QP_INIT_ATTR_PD) || !attr->pd)
		return cv_null(-EINVAL);
	if (attr->comp_mask & ~(uint32_t)(IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS))
		return cv_null(-EOPNOTSUPP); /* XRC, create flags, TSO, RSS */
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS &&
	    attr->send_ops_flags & ~(uint64_t)CV_SEND_OPS)
		return cv_null(-EOPNOTSUPP);
	/* the classic attributes are a prefix of the extended ones */
	qp = cv_create_qp(attr->pd, (struct ibv_qp_init_attr *)attr);
	if (!qp || !(attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS))
		return qp;
	err = cv_wr_init(CV_OF(cv_qp, qp), attr->send_ops_flags);
	if (err) {
		ibv_destroy_qp(qp);
		return cv_null(err);
	}
	return qp;
}
