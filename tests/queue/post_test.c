/* SPDX-License-Identifier: MIT */
/*
 * libciov's data path against a real ciovd: what post_send/post_recv write
 * into the rings, what they refuse, the doorbell flag, and the flush of a
 * QP moved to ERR (WR_FLUSH_ERR completions, CQ events on a channel).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "qtest.h"

static struct ciov_send_wqe read_send_wqe(struct ciov_qp *qp, uint32_t idx, void *body, size_t len)
{
	struct ciov_send_wqe w;
	uint8_t *slot = qt_slot(qt_sq_ctrl(qp), idx);

	memcpy(&w, slot, sizeof(w));
	if (body)
		memcpy(body, slot + sizeof(w), len);
	return w;
}

static void post_send_refused_before_rts(void **state)
{
	static const enum ciov_qp_state states[] = {CIOV_QPS_RESET, CIOV_QPS_INIT, CIOV_QPS_RTR};
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_send_wr wr = {.wr_id = 1, .opcode = CIOV_WR_SEND};
	const struct ciov_send_wr *bad = NULL;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	for (size_t i = 0; i < 3; i++) {
		qt_drive(q.qp, states[i]);
		bad = NULL;
		assert_int_equal(ciov_post_send(q.qp, &wr, &bad), -EINVAL);
		assert_ptr_equal(bad, &wr);
		assert_int_equal(qt_sq_ctrl(q.qp)->prod, 0);
	}
	qt_drive(q.qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_post_send(q.qp, &wr, &bad), 0);
	ciov_close_endpoint(ep);
}

static void post_recv_refused_in_reset_allowed_from_init(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_recv_wr wr = {.wr_id = 5};
	const struct ciov_recv_wr *bad = NULL;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_UD, 4, &q);
	assert_int_equal(ciov_post_recv(q.qp, &wr, &bad), -EINVAL);
	assert_ptr_equal(bad, &wr);
	qt_drive(q.qp, CIOV_QPS_INIT);
	assert_int_equal(ciov_post_recv(q.qp, &wr, &bad), 0);
	assert_int_equal(qt_rq_ctrl(q.qp)->prod, 1);
	ciov_close_endpoint(ep);
}

static void post_send_beyond_capacity_is_enomem(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_send_wr wr[5];
	const struct ciov_send_wr *bad = NULL;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	for (int i = 0; i < 5; i++)
		wr[i] = (struct ciov_send_wr){.wr_id = (uint64_t)i, .opcode = CIOV_WR_SEND,
					      .next = i < 4 ? &wr[i + 1] : NULL};
	assert_int_equal(ciov_post_send(q.qp, wr, &bad), -ENOMEM);
	assert_ptr_equal(bad, &wr[4]); /* the four before it are posted */
	assert_int_equal(qt_sq_ctrl(q.qp)->prod, 4);
	assert_int_equal(ciov_post_send(q.qp, &wr[4], &bad), -ENOMEM);
	ciov_close_endpoint(ep);
}

static void post_send_writes_wqe_as_specified(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_sge sge[2] = {{0x10000, 100, 0x111}, {0x20000, 200, 0x222}};
	struct ciov_send_wr wr = {
		.wr_id = 0xfeedface, .sg_list = sge, .num_sge = 2,
		.opcode = CIOV_WR_RDMA_WRITE_WITH_IMM,
		.send_flags = CIOV_SEND_SIGNALED | CIOV_SEND_FENCE,
		.imm_data = 0x01020304,
		.wr.rdma = {.remote_addr = 0xabc000, .rkey = 0x5150},
	};
	struct ciov_send_wr atomic = {
		.wr_id = 2, .sg_list = sge, .num_sge = 1, .opcode = CIOV_WR_ATOMIC_CMP_AND_SWP,
		.wr.atomic = {.remote_addr = 0x8000, .compare_add = 7, .swap = 9, .rkey = 0x33},
	};
	struct ciov_sge body[2];
	struct ciov_send_wqe w;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_post_send(q.qp, &wr, NULL), 0);
	assert_int_equal(ciov_post_send(q.qp, &atomic, NULL), 0);
	w = read_send_wqe(q.qp, 0, body, sizeof(body));
	assert_int_equal(w.wr_id, 0xfeedface);
	assert_int_equal(w.opcode, CIOV_WR_RDMA_WRITE_WITH_IMM);
	assert_int_equal(w.flags, CIOV_SEND_SIGNALED | CIOV_SEND_FENCE);
	assert_int_equal(w.num_sge, 2);
	assert_int_equal(w.imm_data, 0x01020304);
	assert_int_equal(w.remote_addr, 0xabc000);
	assert_int_equal(w.rkey, 0x5150);
	assert_int_equal(w.inline_len, 0);
	assert_memory_equal(body, sge, sizeof(sge));
	w = read_send_wqe(q.qp, 1, NULL, 0);
	assert_int_equal(w.opcode, CIOV_WR_ATOMIC_CMP_AND_SWP);
	assert_int_equal(w.remote_addr, 0x8000);
	assert_int_equal(w.compare_add, 7);
	assert_int_equal(w.swap, 9);
	assert_int_equal(w.rkey, 0x33);
	assert_int_equal(qt_sq_ctrl(q.qp)->prod, 2);
	/* The engine had asked for a kick (need_kick = 1 at creation): the
	 * post cleared it and rang the doorbell. */
	assert_int_equal(qt_sq_ctrl(q.qp)->need_kick, 0);
	ciov_close_endpoint(ep);
}

static void post_send_inline_and_ud_wqe(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	char msg1[] = "hello ", msg2[] = "inline world";
	struct ciov_sge sge[2] = {{(uintptr_t)msg1, 6, 0}, {(uintptr_t)msg2, 12, 0}};
	struct ciov_ah_attr av = {.dgid = {0xfd, [15] = 9}, .port_num = 1, .sl = 2};
	struct ciov_ah *ah;
	struct ciov_send_wr wr = {
		.wr_id = 77, .sg_list = sge, .num_sge = 2, .opcode = CIOV_WR_SEND_WITH_IMM,
		.send_flags = CIOV_SEND_INLINE, .imm_data = 5,
	};
	char body[18];
	struct ciov_send_wqe w;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_UD, 4, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_create_ah(q.pd, &av, &ah), 0);
	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = 0x123456;
	wr.wr.ud.remote_qkey = 0x11111111;
	assert_int_equal(ciov_post_send(q.qp, &wr, NULL), 0);
	w = read_send_wqe(q.qp, 0, body, sizeof(body));
	assert_int_equal(w.inline_len, 18);
	assert_int_equal(w.num_sge, 0);
	assert_memory_equal(body, "hello inline world", 18);
	assert_int_equal(w.ah, ah->handle);
	assert_int_equal(w.remote_qpn, 0x123456);
	assert_int_equal(w.remote_qkey, 0x11111111);
	ciov_close_endpoint(ep);
}

static void post_send_bad_wrs_are_einval(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	static char big[300];
	static struct ciov_sge sge[64];
	struct ciov_sge big_sge = {(uintptr_t)big, sizeof(big), 0};
	struct ciov_ah_attr av = {.dgid = {0xfd, [15] = 9}, .port_num = 1};
	struct qt_qp rc, ud;
	struct ciov_ah *ah;
	struct {
		const char *what;
		struct qt_qp *q;
		struct ciov_send_wr wr;
	} bad_wrs[] = {
		{"opcode 7", &rc, {.opcode = (enum ciov_wr_opcode)7}},
		{"opcode -1", &rc, {.opcode = (enum ciov_wr_opcode)-1}},
		{"RDMA READ on UD", &ud, {.opcode = CIOV_WR_RDMA_READ}},
		{"RDMA WRITE on UD", &ud, {.opcode = CIOV_WR_RDMA_WRITE}},
		{"UD send without AH", &ud, {.opcode = CIOV_WR_SEND}},
		{"num_sge over cap", &rc, {.opcode = CIOV_WR_SEND, .sg_list = sge}},
		{"num_sge negative", &rc, {.opcode = CIOV_WR_SEND, .sg_list = sge, .num_sge = -1}},
		{"inline over max_inline", &rc,
		 {.opcode = CIOV_WR_SEND, .sg_list = &big_sge, .num_sge = 1,
		  .send_flags = CIOV_SEND_INLINE}},
		{"inline RDMA READ", &rc,
		 {.opcode = CIOV_WR_RDMA_READ, .sg_list = sge, .num_sge = 1,
		  .send_flags = CIOV_SEND_INLINE}},
		{"unknown send flag", &rc, {.opcode = CIOV_WR_SEND, .send_flags = 1u << 7}},
	};

	qt_make_qp(ep, CIOV_QPT_RC, 4, &rc);
	qt_make_qp(ep, CIOV_QPT_UD, 4, &ud);
	bad_wrs[5].wr.num_sge = (int)rc.qp->cap.max_send_sge + 1;
	qt_drive(rc.qp, CIOV_QPS_RTS);
	qt_drive(ud.qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_create_ah(ud.pd, &av, &ah), 0);
	for (size_t i = 0; i < sizeof(bad_wrs) / sizeof(bad_wrs[0]); i++) {
		const struct ciov_send_wr *bad = NULL;

		if (ciov_post_send(bad_wrs[i].q->qp, &bad_wrs[i].wr, &bad) != -EINVAL ||
		    bad != &bad_wrs[i].wr)
			fail_msg("%s: not refused", bad_wrs[i].what);
	}
	assert_int_equal(qt_sq_ctrl(rc.qp)->prod, 0);
	assert_int_equal(qt_sq_ctrl(ud.qp)->prod, 0);
	ciov_close_endpoint(ep);
}

static void post_recv_writes_wqe_and_checks_sges(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	static struct ciov_sge sge[64] = {{0x1000, 8, 1}, {0x2000, 16, 2}};
	struct ciov_recv_wr wr = {.wr_id = 99, .sg_list = sge, .num_sge = 2};
	struct ciov_recv_wr toomany = {.wr_id = 98, .sg_list = sge};
	const struct ciov_recv_wr *bad;
	struct ciov_recv_wqe h;
	struct ciov_sge got[2];
	struct ciov_ring_ctrl *c;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	toomany.num_sge = (int)q.qp->cap.max_recv_sge + 1;
	qt_drive(q.qp, CIOV_QPS_INIT);
	c = qt_rq_ctrl(q.qp);
	assert_int_equal(ciov_post_recv(q.qp, &toomany, &bad), -EINVAL);
	assert_int_equal(ciov_post_recv(q.qp, &wr, &bad), 0);
	memcpy(&h, qt_slot(c, 0), sizeof(h));
	memcpy(got, (uint8_t *)qt_slot(c, 0) + sizeof(h), sizeof(got));
	assert_int_equal(h.wr_id, 99);
	assert_int_equal(h.num_sge, 2);
	assert_memory_equal(got, sge, sizeof(got));
	ciov_close_endpoint(ep);
}

static void err_flushes_outstanding_wrs_and_fires_event(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_comp_channel *ch;
	struct ciov_pd *pd;
	struct ciov_cq *scq, *rcq, *got;
	struct ciov_qp *qp;
	struct ciov_qp_init_attr ia;
	struct ciov_send_wr s[3];
	struct ciov_recv_wr r[2];
	struct ciov_wc wc[8];
	void *ctx;
	int n;

	assert_int_equal(ciov_create_comp_channel(ep, &ch), 0);
	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_cq(ep, 8, (void *)0x5c, ch, &scq), 0);
	assert_int_equal(ciov_create_cq(ep, 8, (void *)0x7c, ch, &rcq), 0);
	ia = qt_init_attr(CIOV_QPT_RC, scq, 4);
	ia.recv_cq = rcq;
	assert_int_equal(ciov_create_qp(pd, &ia, &qp), 0);
	qt_drive(qp, CIOV_QPS_RTS);
	for (int i = 0; i < 3; i++)
		s[i] = (struct ciov_send_wr){.wr_id = 100u + (unsigned)i,
					     .opcode = i == 1 ? CIOV_WR_RDMA_READ : CIOV_WR_SEND,
					     .next = i < 2 ? &s[i + 1] : NULL};
	for (int i = 0; i < 2; i++)
		r[i] = (struct ciov_recv_wr){.wr_id = 200u + (unsigned)i, .next = i ? NULL : &r[1]};
	assert_int_equal(ciov_post_send(qp, s, NULL), 0);
	assert_int_equal(ciov_post_recv(qp, r, NULL), 0);
	assert_int_equal(ciov_req_notify_cq(rcq, 0), 0);

	{
		struct ciov_qp_attr_wire a = {.qp_state = CIOV_QPS_ERR};

		assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE), 0);
	}
	/* The tenant sees the queues in error. */
	assert_int_equal(qt_sq_ctrl(qp)->error, 1);
	assert_int_equal(qt_rq_ctrl(qp)->error, 1);
	/* Only the armed CQ fired; the channel says which. */
	assert_int_equal(ciov_get_cq_event(ch, &got, &ctx), 0);
	assert_ptr_equal(got, rcq);
	assert_ptr_equal(ctx, (void *)0x7c);
	ciov_ack_cq_events(got, 1);
	assert_int_equal(fcntl(ch->fd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ciov_get_cq_event(ch, &got, &ctx), -EAGAIN);

	n = ciov_poll_cq(scq, 8, wc);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(wc[i].wr_id, 100u + (unsigned)i);
		assert_int_equal(wc[i].status, CIOV_WC_WR_FLUSH_ERR);
		assert_int_equal(wc[i].qp_num, qp->qp_num);
	}
	assert_int_equal(wc[1].opcode, CIOV_WC_OP_RDMA_READ);
	n = ciov_poll_cq(rcq, 8, wc);
	assert_int_equal(n, 2);
	assert_int_equal(wc[0].wr_id, 200);
	assert_int_equal(wc[1].wr_id, 201);
	assert_int_equal(wc[1].opcode, CIOV_WC_OP_RECV);
	assert_int_equal(wc[1].status, CIOV_WC_WR_FLUSH_ERR);
	assert_int_equal(ciov_poll_cq(rcq, 8, wc), 0);
	/* The slots were given back to the tenant. */
	assert_int_equal(qt_sq_ctrl(qp)->cons, 3);
	assert_int_equal(qt_rq_ctrl(qp)->cons, 2);

	/* RESET empties the rings and clears the error; the QP is usable again. */
	qt_drive(qp, CIOV_QPS_RESET);
	assert_int_equal(qt_sq_ctrl(qp)->error, 0);
	assert_int_equal(qt_sq_ctrl(qp)->prod, 0);
	assert_int_equal(qt_sq_ctrl(qp)->cons, 0);
	qt_drive(qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_post_send(qp, s, NULL), 0);
	assert_int_equal(qt_sq_ctrl(qp)->prod, 3);
	ciov_close_endpoint(ep);
}

static void one_channel_tells_which_of_its_cqs_fired(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_comp_channel *ch;
	struct ciov_cq *cq[2], *got;
	struct ciov_qp *qp[2];
	struct ciov_pd *pd;
	/* A send whose local buffer has no valid L_Key: the engine completes
	 * it with LOC_PROT_ERR, and an error completion satisfies even a
	 * solicited-only arm (IBA 11.4.2.2). */
	struct ciov_sge bad = {.addr = 0x1000, .length = 8, .lkey = 0xdead00};
	struct ciov_send_wr wr = {.wr_id = 1, .opcode = CIOV_WR_SEND, .sg_list = &bad, .num_sge = 1,
				  .send_flags = CIOV_SEND_SIGNALED};
	struct ciov_wc wc;

	assert_int_equal(ciov_create_comp_channel(ep, &ch), 0);
	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	for (int i = 0; i < 2; i++) {
		struct ciov_qp_init_attr ia;

		assert_int_equal(ciov_create_cq(ep, 4, NULL, ch, &cq[i]), 0);
		ia = qt_init_attr(CIOV_QPT_UD, cq[i], 2);
		assert_int_equal(ciov_create_qp(pd, &ia, &qp[i]), 0);
		qt_drive(qp[i], CIOV_QPS_RTS);
		assert_int_equal(ciov_req_notify_cq(cq[i], 1), 0); /* solicited only */
	}
	{
		struct ciov_ah_attr av = {.dgid = {1}, .port_num = 1};
		struct ciov_ah *ah;

		assert_int_equal(ciov_create_ah(pd, &av, &ah), 0);
		wr.wr.ud.ah = ah;
	}
	assert_int_equal(ciov_post_send(qp[1], &wr, NULL), 0);
	assert_int_equal(ciov_get_cq_event(ch, &got, NULL), 0);
	assert_ptr_equal(got, cq[1]);
	assert_int_equal(ciov_poll_cq(cq[1], 1, &wc), 1);
	assert_int_equal(wc.status, CIOV_WC_LOC_PROT_ERR);
	assert_int_equal(ciov_post_send(qp[0], &wr, NULL), 0);
	assert_int_equal(ciov_get_cq_event(ch, &got, NULL), 0);
	assert_ptr_equal(got, cq[0]);
	ciov_ack_cq_events(cq[0], 1);
	ciov_ack_cq_events(cq[1], 1);
	ciov_close_endpoint(ep);
}

static void flush_into_full_cq_puts_cq_in_error(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_qp *qp;
	struct ciov_qp_init_attr ia;
	struct ciov_send_wr wr[3];
	struct ciov_qp_attr_wire err = {.qp_state = CIOV_QPS_ERR};
	struct ciov_wc wc[4];

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_cq(ep, 2, NULL, NULL, &cq), 0);
	ia = qt_init_attr(CIOV_QPT_RC, cq, 4);
	assert_int_equal(ciov_create_qp(pd, &ia, &qp), 0);
	qt_drive(qp, CIOV_QPS_RTS);
	for (int i = 0; i < 3; i++)
		wr[i] = (struct ciov_send_wr){.wr_id = (uint64_t)i, .opcode = CIOV_WR_SEND,
					      .next = i < 2 ? &wr[i + 1] : NULL};
	assert_int_equal(ciov_post_send(qp, wr, NULL), 0);
	assert_int_equal(ciov_modify_qp(qp, &err, CIOV_QP_STATE), 0);
	/* Two fit; the third overran the CQ (IBA 11.4.2.1: CQ error). */
	assert_int_equal(ciov_poll_cq(cq, 4, wc), 2);
	assert_int_equal(ciov_poll_cq(cq, 4, wc), -EIO);
	ciov_close_endpoint(ep);
}

static void hostile_ring_indices_put_queues_in_error_not_ciovd_down(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_qp_attr_wire err = {.qp_state = CIOV_QPS_ERR};
	struct ciov_endpoint_attr ea;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	/* The tenant claims 2^31 WQEs on a 4-entry SQ and a CQ consumer index
	 * far ahead of anything produced; then asks for a flush. */
	qt_sq_ctrl(q.qp)->prod = 0x80000000u;
	qt_cq_ctrl(q.cq)->cons = 0xdeadbeefu;
	assert_int_equal(ciov_modify_qp(q.qp, &err, CIOV_QP_STATE), 0);
	assert_int_equal(qt_sq_ctrl(q.qp)->error, 1);
	/* Garbage in the RQ slots and a sane prod: the CQ's garbage cons
	 * makes the flush stop at the CQ, which is in error. */
	qt_rq_ctrl(q.qp)->prod = 4;
	qt_drive(q.qp, CIOV_QPS_ERR);
	/* ciovd is alive and well. */
	assert_int_equal(ciov_query_endpoint(ep, &ea), 0);
	ciov_close_endpoint(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(post_send_refused_before_rts),
		cmocka_unit_test(post_recv_refused_in_reset_allowed_from_init),
		cmocka_unit_test(post_send_beyond_capacity_is_enomem),
		cmocka_unit_test(post_send_writes_wqe_as_specified),
		cmocka_unit_test(post_send_inline_and_ud_wqe),
		cmocka_unit_test(post_send_bad_wrs_are_einval),
		cmocka_unit_test(post_recv_writes_wqe_and_checks_sges),
		cmocka_unit_test(err_flushes_outstanding_wrs_and_fires_event),
		cmocka_unit_test(one_channel_tells_which_of_its_cqs_fired),
		cmocka_unit_test(flush_into_full_cq_puts_cq_in_error),
		cmocka_unit_test(hostile_ring_indices_put_queues_in_error_not_ciovd_down),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
