/* SPDX-License-Identifier: MIT */
/*
 * A libibverbs application that checks what it moves: written against
 * <infiniband/verbs.h> alone, it runs on ciov through libciov-verbs (the
 * test runs it under ciov-run). Two RC QPs of one context connected to
 * each other, and two UD QPs, move patterned data through every opcode and
 * compare it byte for byte; libibverbs' error conventions are checked on
 * the way (positive errno from int calls, NULL + errno from constructors).
 * Exit 0 pass, 1 fail.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

#define BUF 65536
#define GRH 40 /* UD receives start with the 40-byte GRH */

static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
			failures++;                                            \
		}                                                              \
	} while (0)

#define NEED(cond, ...)                                                        \
	do {                                                                   \
		if (!(cond)) {                                                 \
			CHECK(cond, __VA_ARGS__);                              \
			exit(1);                                               \
		}                                                              \
	} while (0)

struct side {
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	uint8_t *buf;
	struct ibv_mr *mr;
};

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static union ibv_gid gid;

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static struct ibv_wc wait_wc(struct ibv_cq *cq)
{
	struct ibv_wc wc;
	long spins = 0;
	int n;

	while ((n = ibv_poll_cq(cq, 1, &wc)) == 0)
		NEED(++spins < 200000000L, "no completion");
	NEED(n == 1, "poll_cq returned %d", n);
	CHECK(wc.status == IBV_WC_SUCCESS, "wc status %s", ibv_wc_status_str(wc.status));
	return wc;
}

static void side_init_ex(struct side *s, enum ibv_qp_type type, struct ibv_srq *srq,
			 struct ibv_comp_channel *ch)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = type,
		.cap = {.max_send_wr = 16, .max_recv_wr = 16, .max_send_sge = 4,
			.max_recv_sge = 4, .max_inline_data = 64},
	};

	s->buf = aligned_alloc(4096, BUF);
	NEED(s->buf, "alloc");
	memset(s->buf, 0, BUF);
	s->mr = ibv_reg_mr(pd, s->buf, BUF,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC);
	NEED(s->mr, "reg_mr: %s", strerror(errno));
	CHECK(s->mr->addr == s->buf && s->mr->length == BUF, "mr fields");
	s->cq = ibv_create_cq(ctx, 32, s, ch, 0);
	NEED(s->cq, "create_cq: %s", strerror(errno));
	ia.send_cq = ia.recv_cq = s->cq;
	ia.srq = srq;
	s->qp = ibv_create_qp(pd, &ia);
	NEED(s->qp, "create_qp: %s", strerror(errno));
	CHECK(ia.cap.max_send_wr >= 16 && ia.cap.max_inline_data >= 64, "caps granted");
}

static void side_init(struct side *s, enum ibv_qp_type type)
{
	side_init_ex(s, type, NULL, NULL);
}

static void side_fini(struct side *s)
{
	CHECK(!ibv_destroy_qp(s->qp), "destroy qp");
	CHECK(!ibv_destroy_cq(s->cq), "destroy cq");
	CHECK(!ibv_dereg_mr(s->mr), "dereg mr");
	free(s->buf);
}

static void rc_connect(struct side *s, const struct side *peer)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};
	int err;

	err = ibv_modify_qp(s->qp, &a,
			    IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	NEED(!err, "INIT: %s", strerror(err));
	a = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = peer->qp->qp_num,
		.rq_psn = 7,
		.max_dest_rd_atomic = 4,
		.min_rnr_timer = 12,
		.ah_attr = {.is_global = 1, .port_num = 1,
			    .grh = {.dgid = gid, .sgid_index = 0, .hop_limit = 1}},
	};
	/* RoCE: an address without a GRH is refused, with a positive errno */
	a.ah_attr.is_global = 0;
	err = ibv_modify_qp(s->qp, &a,
			    IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				    IBV_QP_MIN_RNR_TIMER);
	CHECK(err == EINVAL, "RTR without GRH: %d", err);
	a.ah_attr.is_global = 1;
	err = ibv_modify_qp(s->qp, &a,
			    IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				    IBV_QP_MIN_RNR_TIMER);
	NEED(!err, "RTR: %s", strerror(err));
	a = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTS,
		.sq_psn = 7,
		.timeout = 14,
		.retry_cnt = 7,
		.rnr_retry = 7,
		.max_rd_atomic = 4,
	};
	err = ibv_modify_qp(s->qp, &a,
			    IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				    IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
	NEED(!err, "RTS: %s", strerror(err));
	CHECK(s->qp->state == IBV_QPS_RTS, "qp->state");
}

static void post_recv(struct side *s, uint64_t off, uint32_t len, uint64_t id)
{
	struct ibv_sge sge = {.addr = (uintptr_t)s->buf + off, .length = len, .lkey = s->mr->lkey};
	struct ibv_recv_wr wr = {.wr_id = id, .sg_list = &sge, .num_sge = 1}, *bad;

	NEED(!ibv_post_recv(s->qp, &wr, &bad), "post_recv");
}

static void post_send(struct side *s, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad = NULL;
	int err = ibv_post_send(s->qp, wr, &bad);

	NEED(!err, "post_send: %s", strerror(err));
}

static void rc_tests(void)
{
	struct side a, b;
	struct ibv_wc wc;

	side_init(&a, IBV_QPT_RC);
	side_init(&b, IBV_QPT_RC);

	/* before RTS a send is refused, positive errno, bad_wr set */
	{
		struct ibv_sge sge = {(uintptr_t)a.buf, 8, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 1, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_SEND}, *bad = NULL;
		int err = ibv_post_send(a.qp, &wr, &bad);

		CHECK(err > 0 && bad == &wr, "post_send in RESET: err %d", err);
	}
	rc_connect(&a, &b);
	rc_connect(&b, &a);

	/* SEND, three SGEs gathered into one receive buffer, several sizes */
	static const uint32_t sizes[] = {1, 63, 4096, 40000};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i], third = n / 3;
		struct ibv_sge sge[3] = {
			{(uintptr_t)a.buf, third, a.mr->lkey},
			{(uintptr_t)a.buf + 20000, third, a.mr->lkey},
			{(uintptr_t)a.buf + 45000, n - 2 * third, a.mr->lkey},
		};
		struct ibv_send_wr wr = {.wr_id = 100 + i, .sg_list = sge, .num_sge = 3,
					 .opcode = IBV_WR_SEND_WITH_IMM,
					 .send_flags = IBV_SEND_SIGNALED,
					 .imm_data = htobe32(0xc10f0000u + i)};
		uint8_t want[BUF];

		fill(a.buf, BUF, i);
		memset(b.buf, 0, BUF);
		post_recv(&b, 0, BUF, 200 + i);
		post_send(&a, &wr);
		wc = wait_wc(a.cq);
		CHECK(wc.wr_id == 100 + i && wc.opcode == IBV_WC_SEND, "send wc");
		wc = wait_wc(b.cq);
		CHECK(wc.wr_id == 200 + i && wc.opcode == IBV_WC_RECV && wc.byte_len == n,
		      "recv wc: id %llu op %d len %u", (unsigned long long)wc.wr_id, wc.opcode,
		      wc.byte_len);
		CHECK(wc.wc_flags & IBV_WC_WITH_IMM && wc.imm_data == htobe32(0xc10f0000u + i),
		      "imm");
		CHECK(wc.qp_num == b.qp->qp_num, "wc.qp_num");
		memcpy(want, a.buf, third);
		memcpy(want + third, a.buf + 20000, third);
		memcpy(want + 2 * third, a.buf + 45000, n - 2 * third);
		CHECK(!memcmp(b.buf, want, n), "send data differs (size %u)", n);
		CHECK(b.buf[n] == 0, "send wrote past its length (size %u)", n);
	}

	/* inline SEND */
	{
		struct ibv_sge sge = {(uintptr_t)a.buf + 7, 50, 0 /* no lkey: inline */};
		struct ibv_send_wr wr = {.wr_id = 9, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_SEND,
					 .send_flags = IBV_SEND_SIGNALED | IBV_SEND_INLINE};

		fill(a.buf, BUF, 77);
		memset(b.buf, 0, BUF);
		post_recv(&b, 100, 64, 10);
		post_send(&a, &wr);
		wait_wc(a.cq);
		wc = wait_wc(b.cq);
		CHECK(wc.byte_len == 50 && !memcmp(b.buf + 100, a.buf + 7, 50), "inline send data");
	}

	/* RDMA WRITE (a whole 64 KiB, minus the edges) */
	{
		struct ibv_sge sge = {(uintptr_t)a.buf + 1, BUF - 2, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 11, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_RDMA_WRITE,
					 .send_flags = IBV_SEND_SIGNALED,
					 .wr.rdma = {(uintptr_t)b.buf + 1, b.mr->rkey}};

		fill(a.buf, BUF, 5);
		memset(b.buf, 0, BUF);
		post_send(&a, &wr);
		wc = wait_wc(a.cq);
		CHECK(wc.opcode == IBV_WC_RDMA_WRITE, "write wc opcode");
		CHECK(!memcmp(b.buf + 1, a.buf + 1, BUF - 2) && b.buf[0] == 0 && b.buf[BUF - 1] == 0,
		      "write data");
	}

	/* RDMA WRITE with immediate consumes a receive and reports the imm */
	{
		struct ibv_sge sge = {(uintptr_t)a.buf, 333, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 12, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_RDMA_WRITE_WITH_IMM,
					 .send_flags = IBV_SEND_SIGNALED,
					 .imm_data = htobe32(0x1234),
					 .wr.rdma = {(uintptr_t)b.buf + 5000, b.mr->rkey}};

		fill(a.buf, BUF, 6);
		post_recv(&b, 0, 0, 13);
		post_send(&a, &wr);
		wait_wc(a.cq);
		wc = wait_wc(b.cq);
		CHECK(wc.opcode == IBV_WC_RECV_RDMA_WITH_IMM && wc.imm_data == htobe32(0x1234) &&
			      wc.byte_len == 333,
		      "write imm wc: op %d len %u", wc.opcode, wc.byte_len);
		CHECK(!memcmp(b.buf + 5000, a.buf, 333), "write imm data");
	}

	/* RDMA READ */
	{
		struct ibv_sge sge = {(uintptr_t)a.buf + 3, 30000, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 14, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_RDMA_READ,
					 .send_flags = IBV_SEND_SIGNALED,
					 .wr.rdma = {(uintptr_t)b.buf + 1000, b.mr->rkey}};

		fill(b.buf, BUF, 8);
		memset(a.buf, 0, BUF);
		post_send(&a, &wr);
		wc = wait_wc(a.cq);
		CHECK(wc.opcode == IBV_WC_RDMA_READ && wc.byte_len == 30000, "read wc");
		CHECK(!memcmp(a.buf + 3, b.buf + 1000, 30000), "read data");
	}

	/* atomics: FETCH_ADD then CMP_AND_SWP, original values returned */
	{
		uint64_t *target = (uint64_t *)(b.buf + 64), *ret = (uint64_t *)a.buf;
		struct ibv_sge sge = {(uintptr_t)a.buf, 8, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 15, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_ATOMIC_FETCH_AND_ADD,
					 .send_flags = IBV_SEND_SIGNALED,
					 .wr.atomic = {.remote_addr = (uintptr_t)target,
						       .compare_add = 5,
						       .rkey = b.mr->rkey}};

		*target = 1000;
		post_send(&a, &wr);
		wc = wait_wc(a.cq);
		CHECK(wc.opcode == IBV_WC_FETCH_ADD && *ret == 1000 && *target == 1005,
		      "fetch_add: ret %llu target %llu", (unsigned long long)*ret,
		      (unsigned long long)*target);
		wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
		wr.wr.atomic.compare_add = 1005;
		wr.wr.atomic.swap = 0xc10fc10fULL;
		post_send(&a, &wr);
		wc = wait_wc(a.cq);
		CHECK(wc.opcode == IBV_WC_COMP_SWAP && *ret == 1005 && *target == 0xc10fc10fULL,
		      "cmp_swp");
	}

	/* a bad rkey completes with the IBA status and touches nothing */
	{
		struct ibv_sge sge = {(uintptr_t)a.buf, 16, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 16, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_RDMA_WRITE,
					 .send_flags = IBV_SEND_SIGNALED,
					 .wr.rdma = {(uintptr_t)b.buf, b.mr->rkey ^ 0x5a5a00}};
		struct ibv_wc w;
		int n;

		fill(a.buf, BUF, 9);
		memset(b.buf, 0, 16);
		post_send(&a, &wr);
		while ((n = ibv_poll_cq(a.cq, 1, &w)) == 0)
			;
		CHECK(n == 1 && w.status == IBV_WC_REM_ACCESS_ERR, "bad rkey: %s",
		      ibv_wc_status_str(w.status));
		CHECK(b.buf[0] == 0 && b.buf[15] == 0, "bad rkey wrote");
	}

	side_fini(&a);
	side_fini(&b);
}

static void ud_ready(struct side *s)
{
	struct ibv_qp_attr a = {.qp_state = IBV_QPS_INIT, .port_num = 1, .qkey = 0x11111111};

	NEED(!ibv_modify_qp(s->qp, &a,
			    IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY),
	     "UD INIT");
	a.qp_state = IBV_QPS_RTR;
	NEED(!ibv_modify_qp(s->qp, &a, IBV_QP_STATE), "UD RTR");
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	NEED(!ibv_modify_qp(s->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN), "UD RTS");
}

static void ud_tests(void)
{
	struct side a, b;
	struct ibv_ah_attr aa = {.is_global = 1, .port_num = 1,
				 .grh = {.dgid = gid, .sgid_index = 0, .hop_limit = 1}};
	struct ibv_ah *ah, *reply;
	struct ibv_wc wc;

	side_init(&a, IBV_QPT_UD);
	side_init(&b, IBV_QPT_UD);
	ud_ready(&a);
	ud_ready(&b);
	ah = ibv_create_ah(pd, &aa);
	NEED(ah, "create_ah: %s", strerror(errno));

	fill(a.buf, BUF, 21);
	post_recv(&b, 0, GRH + 1024, 30);
	{
		struct ibv_sge sge = {(uintptr_t)a.buf, 1000, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 31, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
					 .wr.ud = {ah, b.qp->qp_num, 0x11111111}};

		post_send(&a, &wr);
	}
	wait_wc(a.cq);
	wc = wait_wc(b.cq);
	CHECK(wc.byte_len == GRH + 1000 && wc.wc_flags & IBV_WC_GRH && wc.src_qp == a.qp->qp_num,
	      "UD recv: len %u flags %#x src %u", wc.byte_len, wc.wc_flags, wc.src_qp);
	CHECK(!memcmp(b.buf + GRH, a.buf, 1000), "UD data");

	/* the reply path from the receive's GRH */
	reply = ibv_create_ah_from_wc(pd, &wc, (struct ibv_grh *)b.buf, 1);
	NEED(reply, "create_ah_from_wc: %s", strerror(errno));
	post_recv(&a, 2048, GRH + 64, 32);
	{
		struct ibv_sge sge = {(uintptr_t)b.buf + 4096, 64, b.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 33, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
					 .wr.ud = {reply, wc.src_qp, 0x11111111}};

		fill(b.buf + 4096, 64, 22);
		post_send(&b, &wr);
	}
	wait_wc(b.cq);
	wc = wait_wc(a.cq);
	CHECK(wc.byte_len == GRH + 64 && !memcmp(a.buf + 2048 + GRH, b.buf + 4096, 64),
	      "UD reply data");

	CHECK(!ibv_destroy_ah(ah) && !ibv_destroy_ah(reply), "destroy ah");
	side_fini(&a);
	side_fini(&b);
}

/* The extended verbs: an extended CQ polled with ibv_start_poll & co., and
 * an extended QP whose WRs are built with ibv_wr_*. */
static void side_init_ex_api(struct side *s, struct ibv_cq_ex **cqx)
{
	struct ibv_cq_init_attr_ex ca = {
		.cqe = 32,
		.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM | IBV_WC_EX_WITH_QP_NUM,
	};
	struct ibv_qp_init_attr_ex ia = {
		.qp_type = IBV_QPT_RC,
		.cap = {.max_send_wr = 16, .max_recv_wr = 16, .max_send_sge = 2,
			.max_recv_sge = 1, .max_inline_data = 64},
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = pd,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_SEND_WITH_IMM |
				  IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD |
				  IBV_QP_EX_WITH_SEND,
	};

	s->buf = aligned_alloc(4096, BUF);
	NEED(s->buf, "alloc");
	memset(s->buf, 0, BUF);
	s->mr = ibv_reg_mr(pd, s->buf, BUF,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC);
	NEED(s->mr, "reg_mr");
	*cqx = ibv_create_cq_ex(ctx, &ca);
	NEED(*cqx, "create_cq_ex: %s", strerror(errno));
	s->cq = ibv_cq_ex_to_cq(*cqx);
	ia.send_cq = ia.recv_cq = s->cq;
	s->qp = ibv_create_qp_ex(ctx, &ia);
	NEED(s->qp, "create_qp_ex: %s", strerror(errno));
}

static void ex_check(struct ibv_cq_ex *cqx, uint64_t wr_id, enum ibv_wc_opcode op, uint32_t len)
{
	CHECK(cqx->status == IBV_WC_SUCCESS && cqx->wr_id == wr_id, "ex wc: status %s id %llu",
	      ibv_wc_status_str(cqx->status), (unsigned long long)cqx->wr_id);
	CHECK(ibv_wc_read_opcode(cqx) == op, "ex opcode %d, want %d", ibv_wc_read_opcode(cqx), op);
	if (op & IBV_WC_RECV || op == IBV_WC_RDMA_READ)
		CHECK(ibv_wc_read_byte_len(cqx) == len, "ex byte_len %u, want %u",
		      ibv_wc_read_byte_len(cqx), len);
}

/* One completion from an extended CQ (start_poll ... end_poll), checked. */
static void ex_wait(struct ibv_cq_ex *cqx, uint64_t wr_id, enum ibv_wc_opcode op, uint32_t len)
{
	struct ibv_poll_cq_attr pa = {0};
	long spins = 0;
	int err;

	while ((err = ibv_start_poll(cqx, &pa)) == ENOENT)
		NEED(++spins < 200000000L, "no completion");
	NEED(!err, "start_poll: %d", err);
	ex_check(cqx, wr_id, op, len);
	ibv_end_poll(cqx);
}

/* Two completions in one poll session: start_poll, then next_poll. */
static void ex_wait2(struct ibv_cq_ex *cqx, uint64_t id1, enum ibv_wc_opcode op1, uint64_t id2,
		     enum ibv_wc_opcode op2)
{
	struct ibv_poll_cq_attr pa = {0};
	long spins = 0;
	int err;

	while ((err = ibv_start_poll(cqx, &pa)) == ENOENT)
		NEED(++spins < 200000000L, "no completion");
	NEED(!err, "start_poll: %d", err);
	ex_check(cqx, id1, op1, 0);
	while ((err = ibv_next_poll(cqx)) == ENOENT)
		NEED(++spins < 200000000L, "no second completion");
	NEED(!err, "next_poll: %d", err);
	ex_check(cqx, id2, op2, 0);
	ibv_end_poll(cqx);
}

static void ex_tests(void)
{
	struct ibv_cq_ex *acq, *bcq;
	struct ibv_qp_ex *x;
	struct side a, b;
	uint64_t *target;
	int err;

	side_init_ex_api(&a, &acq);
	side_init_ex_api(&b, &bcq);
	rc_connect(&a, &b);
	rc_connect(&b, &a);
	x = ibv_qp_to_qp_ex(a.qp);
	NEED(x, "qp_to_qp_ex");

	/* WRITE from two SGEs, then SEND with immediate of inline data: one batch */
	fill(a.buf, BUF, 41);
	post_recv(&b, 8192, 256, 70);
	ibv_wr_start(x);
	x->wr_id = 60;
	x->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(x, b.mr->rkey, (uintptr_t)b.buf + 100);
	{
		struct ibv_sge sg[2] = {{(uintptr_t)a.buf, 1000, a.mr->lkey},
					{(uintptr_t)a.buf + 3000, 500, a.mr->lkey}};

		ibv_wr_set_sge_list(x, 2, sg);
	}
	x->wr_id = 61;
	ibv_wr_send_imm(x, htobe32(77));
	{
		uint8_t msg[40];

		memcpy(msg, a.buf + 6000, sizeof(msg));
		ibv_wr_set_inline_data(x, msg, sizeof(msg));
		memset(msg, 0xee, sizeof(msg)); /* inline data is copied when set */
	}
	err = ibv_wr_complete(x);
	NEED(!err, "wr_complete: %s", strerror(err));
	ex_wait2(acq, 60, IBV_WC_RDMA_WRITE, 61, IBV_WC_SEND);
	ex_wait(bcq, 70, IBV_WC_RECV, 40);
	CHECK(!memcmp(b.buf + 100, a.buf, 1000) && !memcmp(b.buf + 1100, a.buf + 3000, 500),
	      "wr write data");
	CHECK(!memcmp(b.buf + 8192, a.buf + 6000, 40), "wr inline send data");

	/* READ and FETCH_ADD */
	fill(b.buf + 20000, 4096, 42);
	target = (uint64_t *)(b.buf + 64);
	*target = 40;
	ibv_wr_start(x);
	x->wr_id = 62;
	ibv_wr_rdma_read(x, b.mr->rkey, (uintptr_t)b.buf + 20000);
	ibv_wr_set_sge(x, a.mr->lkey, (uintptr_t)a.buf + 30000, 4096);
	x->wr_id = 63;
	ibv_wr_atomic_fetch_add(x, b.mr->rkey, (uintptr_t)target, 2);
	ibv_wr_set_sge(x, a.mr->lkey, (uintptr_t)a.buf + 8, 8);
	NEED(!ibv_wr_complete(x), "wr_complete read/atomic");
	ex_wait(acq, 62, IBV_WC_RDMA_READ, 4096);
	ex_wait(acq, 63, IBV_WC_FETCH_ADD, 0);
	{
		struct ibv_poll_cq_attr pa = {0};

		CHECK(ibv_start_poll(acq, &pa) == ENOENT, "a completion too many");
	}
	CHECK(!memcmp(a.buf + 30000, b.buf + 20000, 4096), "wr read data");
	CHECK(*(uint64_t *)(a.buf + 8) == 40 && *target == 42, "wr fetch_add");

	/* an operation ciov does not have fails the batch; nothing is posted */
	ibv_wr_start(x);
	x->wr_id = 64;
	ibv_wr_send(x);
	ibv_wr_set_sge(x, a.mr->lkey, (uintptr_t)a.buf, 8);
	ibv_wr_local_inv(x, 1);
	err = ibv_wr_complete(x);
	CHECK(err == EOPNOTSUPP, "local_inv batch: %d", err);
	{
		struct ibv_poll_cq_attr pa = {0};

		CHECK(ibv_start_poll(acq, &pa) == ENOENT, "a failed batch completed");
	}

	side_fini(&a);
	side_fini(&b);
}

/* Receives from an SRQ, a completion channel's event naming the CQ and its
 * context, and the SRQ limit's async event naming the SRQ. */
static void srq_event_tests(void)
{
	struct ibv_srq_init_attr sia = {.attr = {.max_wr = 16, .max_sge = 1}};
	struct ibv_comp_channel *ch = ibv_create_comp_channel(ctx);
	struct ibv_srq *srq;
	struct ibv_srq_attr sa;
	struct ibv_async_event ev;
	struct ibv_cq *ecq;
	void *ectx;
	struct side a, b;

	NEED(ch, "create_comp_channel: %s", strerror(errno));
	srq = ibv_create_srq(pd, &sia);
	NEED(srq, "create_srq: %s", strerror(errno));
	CHECK(sia.attr.max_wr >= 16, "srq max_wr granted");
	side_init(&a, IBV_QPT_RC);
	side_init_ex(&b, IBV_QPT_RC, srq, ch);
	CHECK(ibv_destroy_comp_channel(ch) == EBUSY, "channel in use destroyed");
	rc_connect(&a, &b);
	rc_connect(&b, &a);

	for (unsigned i = 0; i < 4; i++) {
		struct ibv_sge sge = {(uintptr_t)b.buf + i * 1024, 1024, b.mr->lkey};
		struct ibv_recv_wr wr = {.wr_id = 40 + i, .sg_list = &sge, .num_sge = 1}, *bad;

		NEED(!ibv_post_srq_recv(srq, &wr, &bad), "post_srq_recv");
	}
	sa.srq_limit = 3;
	NEED(!ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT), "modify_srq limit");
	NEED(!ibv_query_srq(srq, &sa) && sa.srq_limit == 3, "query_srq");
	NEED(!ibv_req_notify_cq(b.cq, 0), "req_notify_cq");

	fill(a.buf, BUF, 31);
	for (unsigned i = 0; i < 2; i++) {
		struct ibv_sge sge = {(uintptr_t)a.buf + i * 500, 500, a.mr->lkey};
		struct ibv_send_wr wr = {.wr_id = 50 + i, .sg_list = &sge, .num_sge = 1,
					 .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED};

		post_send(&a, &wr);
		wait_wc(a.cq);
	}
	NEED(!ibv_get_cq_event(ch, &ecq, &ectx), "get_cq_event: %s", strerror(errno));
	CHECK(ecq == b.cq && ectx == &b, "cq event names another CQ");
	ibv_ack_cq_events(ecq, 1);
	for (unsigned i = 0; i < 2; i++) {
		struct ibv_wc wc = wait_wc(b.cq);

		CHECK(wc.wr_id == 40 + i && wc.byte_len == 500 &&
			      !memcmp(b.buf + i * 1024, a.buf + i * 500, 500),
		      "srq receive %u", i);
	}
	/* 2 receives left < limit 3: IBA 10.2.9.4 SRQ limit event */
	NEED(!ibv_get_async_event(ctx, &ev), "get_async_event: %s", strerror(errno));
	CHECK(ev.event_type == IBV_EVENT_SRQ_LIMIT_REACHED && ev.element.srq == srq,
	      "async event %s", ibv_event_type_str(ev.event_type));
	ibv_ack_async_event(&ev);

	side_fini(&a);
	side_fini(&b);
	CHECK(!ibv_destroy_srq(srq), "destroy srq");
	CHECK(!ibv_destroy_comp_channel(ch), "destroy channel");
}

int main(void)
{
	struct ibv_device **list;
	struct ibv_device_attr_ex dx;
	struct ibv_port_attr port;
	union ibv_gid g1;
	int n;

	list = ibv_get_device_list(&n);
	NEED(list && n >= 1, "no device");
	CHECK(!strcmp(ibv_get_device_name(list[0]), "ciov0"), "name %s",
	      ibv_get_device_name(list[0]));
	ctx = ibv_open_device(list[0]);
	NEED(ctx, "open_device: %s", strerror(errno));
	ibv_free_device_list(list);

	NEED(!ibv_query_device_ex(ctx, NULL, &dx), "query_device_ex");
	CHECK(dx.orig_attr.phys_port_cnt == 1 && dx.orig_attr.max_qp_wr > 0 &&
		      dx.orig_attr.vendor_id == 0x02c10f,
	      "device attr");
	NEED(!ibv_query_port(ctx, 1, &port), "query_port");
	CHECK(port.state == IBV_PORT_ACTIVE && port.link_layer == IBV_LINK_LAYER_ETHERNET,
	      "port attr");
	CHECK(ibv_query_port(ctx, 2, &port) == EINVAL, "port 2 exists");
	NEED(!ibv_query_gid(ctx, 1, 0, &gid), "query_gid");
	CHECK(ibv_query_gid(ctx, 1, 1, &g1) == -1, "gid 1 exists");

	pd = ibv_alloc_pd(ctx);
	NEED(pd, "alloc_pd: %s", strerror(errno));
	errno = 0;
	CHECK(!ibv_reg_mr(pd, &g1, sizeof(g1), IBV_ACCESS_ON_DEMAND) && errno == EOPNOTSUPP,
	      "ODP MR: errno %d", errno);

	rc_tests();
	ud_tests();
	srq_event_tests();
	ex_tests();

	CHECK(!ibv_dealloc_pd(pd), "dealloc_pd");
	CHECK(!ibv_close_device(ctx), "close_device");
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("PASS: data verified through libibverbs' API\n");
	return 0;
}
