/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: the endpoint, the buffer and its MR, the CQs and the RC QPs,
 * and their connection to the peer's (RESET -> INIT -> RTR -> RTS).
 *
 * Buffer layout, the same on both sides so that each can compute the
 * other's addresses: per QP two slots of `slot` bytes, [tx][rx]. A side
 * writes/sends from its tx slot into the peer's rx slot, reads the peer's
 * tx slot into its rx slot, and aims atomics at the first 8 bytes of the
 * peer's rx slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "perf.h"

/* RC connection constants of the brief (perftest's values). */
#define PERF_PORT_NUM 1
#define PERF_MAX_RD_ATOMIC 16	/* outstanding READ/atomic, each direction */
#define PERF_MIN_RNR_TIMER 12	/* IBA table 45: 0.64 ms */
#define PERF_TIMEOUT 14		/* IBA 9.7.6.1.3: 4.096 us * 2^14 = 67 ms */
#define PERF_RETRY_CNT 7
#define PERF_RNR_RETRY 7	/* 7 = retry forever (IBA 9.7.5.2.8) */
#define PERF_HOP_LIMIT 0xff
#define PERF_SEND_RQ_DEPTH 512	/* receives kept posted for send bw (perftest's rx depth) */
#define PERF_LAT_RQ_DEPTH 16
#define PERF_LAT_SQ_DEPTH 64

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

static uint32_t clamp_u32(uint32_t v, uint32_t max)
{
	return max && v > max ? max : v;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "ciov-perf: %s: %s\n", what, strerror(-err));
	return -1;
}

int perf_res_open(struct perf_res *r, const struct perf_opts *o)
{
	int err;

	*r = (struct perf_res){0};
	err = ciov_adapter_open(o->runtime_dir, &r->ad);
	if (err)
		return fail("adapter", err);
	err = ciov_open_endpoint(r->ad, o->endpoint, &r->ep);
	if (err) {
		fprintf(stderr, "ciov-perf: cannot open endpoint '%s': %s%s\n", o->endpoint,
			strerror(-err),
			err == -ECONNREFUSED || err == -ENOTCONN
				? " (is ciovd running? see --runtime-dir)"
				: "");
		return -1;
	}
	err = ciov_query_endpoint(r->ep, &r->ep_attr);
	if (err)
		return fail("query endpoint", err);
	return 0;
}

static uint32_t random_psn(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)getpid() * 2654435761u;
	return v & 0xffffff; /* PSNs are 24 bits */
}

/* A handle the hypervisor left in the environment (ciov-hv), or 0. */
static uint32_t hv_handle(const char *name)
{
	const char *v = getenv(name);

	return v ? (uint32_t)strtoul(v, NULL, 0) : 0;
}

/* Native mode: the tenant creates nothing; it attaches to what its manager
 * provisioned and uses the provisioned memory as its buffer. */
static int perf_res_attach(struct perf_res *r, struct perf_opts *o)
{
	int err;

	if (r->num_qps != 1)
		return fail("--native", -EINVAL);
	err = ciov_open_pd(r->ep, hv_handle("CIOV_HV_PD"), &r->pd);
	if (err)
		return fail("open provisioned PD (run under ciov-hv)", err);
	err = ciov_open_seg(r->ep, hv_handle("CIOV_HV_SEG"), &r->seg);
	if (err)
		return fail("open provisioned memory", err);
	if (r->seg->length < r->buf_size)
		return fail("provisioned memory too small for this test", -ENOSPC);
	r->buf = r->seg->addr;
	memset(r->buf, 0, r->buf_size);
	err = ciov_open_mr(r->pd, hv_handle("CIOV_HV_MR"), &r->mr);
	if (err)
		return fail("open provisioned MR", err);
	if (o->event) {
		err = ciov_create_comp_channel(r->ep, &r->ch);
		if (err)
			return fail("create completion channel", err);
	}
	/* One provisioned CQ serves both directions. */
	err = ciov_open_cq(r->ep, hv_handle("CIOV_HV_CQ"), NULL, r->ch, &r->scq.cq);
	if (err)
		return fail("open provisioned CQ", err);
	r->rcq.cq = r->scq.cq;
	err = ciov_open_qp(r->pd, hv_handle("CIOV_HV_QP"), r->scq.cq, r->rcq.cq, NULL, &r->qp[0]);
	if (err)
		return fail("open provisioned QP", err);
	r->sq_depth = clamp_u32(r->sq_depth, r->qp[0]->cap.max_send_wr);
	r->rq_depth = clamp_u32(r->rq_depth, r->qp[0]->cap.max_recv_wr);
	o->p.tx_depth = clamp_u32(o->p.tx_depth, r->sq_depth);
	o->p.inline_max = clamp_u32(o->p.inline_max, r->qp[0]->cap.max_inline_data);
	return 0;
}

int perf_res_setup(struct perf_res *r, struct perf_opts *o, struct perf_conn *mine)
{
	struct perf_params *p = &o->p;
	const struct ciov_endpoint_attr *ea = &r->ep_attr;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	bool sends = p->test == PERF_TEST_SEND;
	void *buf;
	int err;

	r->num_qps = p->num_qps;
	r->slot = round_up(perf_max_size(p) < 64 ? 64 : perf_max_size(p), 64);
	r->buf_size = round_up(2 * r->slot * r->num_qps, page);
	if (o->native)
		goto native;
	err = posix_memalign(&buf, page, r->buf_size);
	if (err)
		return fail("buffer", -err);
	r->buf = buf;
	memset(r->buf, 0, r->buf_size);

	/* Limits of the endpoint: inline clamped silently unless the user of
	 * this client asked for it, depths clamped to the queue size. */
	if (p->inline_max > ea->max_inline) {
		if (o->inline_given && o->server /* the client */) {
			fprintf(stderr, "ciov-perf: --inline %u: the endpoint allows at most %u\n",
				p->inline_max, ea->max_inline);
			return -1;
		}
		p->inline_max = ea->max_inline;
	}
	if (p->kind == PERF_KIND_BW)
		p->tx_depth = clamp_u32(p->tx_depth, ea->max_qp_wr);
	r->sq_depth = p->kind == PERF_KIND_BW ? p->tx_depth : clamp_u32(PERF_LAT_SQ_DEPTH, ea->max_qp_wr);
	r->rq_depth = !sends ? 1
		      : clamp_u32(p->kind == PERF_KIND_BW ? PERF_SEND_RQ_DEPTH : PERF_LAT_RQ_DEPTH,
				  ea->max_qp_wr);

	err = ciov_alloc_pd(r->ep, &r->pd);
	if (err)
		return fail("alloc PD", err);
	/* malloc'ed memory, registered as is: libciov re-backs it */
	err = ciov_reg_mr(r->pd, r->buf, r->buf_size,
			  CIOV_ACCESS_LOCAL_WRITE | CIOV_ACCESS_REMOTE_READ |
				  CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC,
			  &r->mr);
	if (err)
		return fail("register MR", err);
	if (o->event) {
		err = ciov_create_comp_channel(r->ep, &r->ch);
		if (err)
			return fail("create completion channel", err);
	}
	err = ciov_create_cq(r->ep, (int)clamp_u32(r->sq_depth * r->num_qps, ea->max_cqe), NULL,
			     r->ch, &r->scq.cq);
	if (err)
		return fail("create send CQ", err);
	err = ciov_create_cq(r->ep, (int)clamp_u32(r->rq_depth * r->num_qps, ea->max_cqe), NULL,
			     r->ch, &r->rcq.cq);
	if (err)
		return fail("create receive CQ", err);
	for (uint32_t q = 0; q < r->num_qps; q++) {
		struct ciov_qp_init_attr qa = {
			.qp_type = CIOV_QPT_RC,
			.send_cq = r->scq.cq,
			.recv_cq = r->rcq.cq,
			.cap = {.max_send_wr = r->sq_depth,
				.max_recv_wr = r->rq_depth,
				.max_send_sge = 1,
				.max_recv_sge = 1,
				.max_inline_data = p->inline_max},
		};

		err = ciov_create_qp(r->pd, &qa, &r->qp[q]);
		if (err)
			return fail("create QP", err);
	}
	goto describe;

native:
	r->sq_depth = p->kind == PERF_KIND_BW ? p->tx_depth : PERF_LAT_SQ_DEPTH;
	r->rq_depth = !sends ? 1 : p->kind == PERF_KIND_BW ? PERF_SEND_RQ_DEPTH : PERF_LAT_RQ_DEPTH;
	if (perf_res_attach(r, o))
		return -1;
describe:

	r->psn = random_psn();
	*mine = (struct perf_conn){
		.psn = r->psn,
		.rkey = r->mr->rkey,
		.addr = r->mr->iova,
		.buf_size = r->buf_size,
		.num_qps = r->num_qps,
	};
	memcpy(mine->gid, ea->gid, sizeof(mine->gid));
	for (uint32_t q = 0; q < r->num_qps; q++)
		mine->qpn[q] = r->qp[q]->qp_num;
	return 0;
}

static int modify(struct ciov_qp *qp, struct ciov_qp_attr *a, unsigned mask, const char *to)
{
	int err = ciov_modify_qp(qp, a, mask);

	if (err) {
		fprintf(stderr, "ciov-perf: QP %u to %s: %s\n", qp->qp_num, to, strerror(-err));
		return -1;
	}
	return 0;
}

int perf_res_connect(struct perf_res *r, const struct perf_opts *o, const struct perf_conn *peer)
{
	if (peer->num_qps != r->num_qps) {
		fprintf(stderr, "ciov-perf: the peer has %u QPs, this side %u\n", peer->num_qps,
			r->num_qps);
		return -1;
	}
	/* every address this side will aim at the peer lies inside its MR */
	if (peer->buf_size < 2 * r->slot * r->num_qps) {
		fprintf(stderr, "ciov-perf: the peer's buffer (%llu bytes) is too small\n",
			(unsigned long long)peer->buf_size);
		return -1;
	}
	r->peer = *peer;

	for (uint32_t q = 0; q < r->num_qps; q++) {
		struct ciov_qp_attr a = {
			.qp_state = CIOV_QPS_INIT,
			.pkey_index = 0,
			.port_num = PERF_PORT_NUM,
			.qp_access_flags = CIOV_ACCESS_LOCAL_WRITE | CIOV_ACCESS_REMOTE_READ |
					   CIOV_ACCESS_REMOTE_WRITE | CIOV_ACCESS_REMOTE_ATOMIC,
		};

		if (modify(r->qp[q], &a,
			   CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT | CIOV_QP_ACCESS_FLAGS,
			   "INIT"))
			return -1;

		a = (struct ciov_qp_attr){
			.qp_state = CIOV_QPS_RTR,
			.path_mtu = o->p.mtu,
			.dest_qp_num = peer->qpn[q],
			.rq_psn = peer->psn,
			.max_dest_rd_atomic = PERF_MAX_RD_ATOMIC,
			.min_rnr_timer = PERF_MIN_RNR_TIMER,
			.ah_attr = {.sl = o->p.sl,
				    .port_num = PERF_PORT_NUM,
				    .hop_limit = PERF_HOP_LIMIT,
				    .sgid_index = 0},
		};
		memcpy(a.ah_attr.dgid, peer->gid, sizeof(a.ah_attr.dgid));
		if (modify(r->qp[q], &a,
			   CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN |
				   CIOV_QP_RQ_PSN | CIOV_QP_MAX_DEST_RD_ATOMIC |
				   CIOV_QP_MIN_RNR_TIMER,
			   "RTR"))
			return -1;

		a = (struct ciov_qp_attr){
			.qp_state = CIOV_QPS_RTS,
			.sq_psn = r->psn,
			.timeout = PERF_TIMEOUT,
			.retry_cnt = PERF_RETRY_CNT,
			.rnr_retry = PERF_RNR_RETRY,
			.max_rd_atomic = PERF_MAX_RD_ATOMIC,
		};
		if (modify(r->qp[q], &a,
			   CIOV_QP_STATE | CIOV_QP_SQ_PSN | CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT |
				   CIOV_QP_RNR_RETRY | CIOV_QP_MAX_QP_RD_ATOMIC,
			   "RTS"))
			return -1;
	}
	return 0;
}

void perf_res_close(struct perf_res *r)
{
	for (uint32_t q = 0; q < PERF_MAX_QPS; q++)
		if (r->qp[q])
			ciov_destroy_qp(r->qp[q]);
	ciov_destroy_cq(r->scq.cq);
	if (r->rcq.cq != r->scq.cq)
		ciov_destroy_cq(r->rcq.cq);
	ciov_destroy_comp_channel(r->ch);
	if (r->mr)
		ciov_dereg_mr(r->mr);
	if (r->seg)
		ciov_detach_seg(r->seg); /* opened: released, not destroyed */
	if (r->pd)
		ciov_dealloc_pd(r->pd);
	ciov_close_endpoint(r->ep);
	ciov_adapter_close(r->ad);
	if (!r->seg)
		free(r->buf);
	*r = (struct perf_res){0};
}
