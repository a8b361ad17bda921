/* SPDX-License-Identifier: MIT */
/*
 * A UD send error stops the send queue only (IBA 10.3.1.6, Send Queue
 * Error): the failed WR completes in error, those behind it flush, the QP
 * reports SQE, its receive queue keeps receiving, and SQE -> RTS resumes
 * sending.
 */
#include <string.h>

#include "fixture.h"

#define BUF_LEN (64u << 10)

static void ud_send_error_stops_only_the_send_queue(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_qp_opts ud = {.type = CIOV_QPT_UD};
		struct fx_pair p;
		struct ciov_qp_attr a = {0};
		struct ciov_sge bad, ok, r;
		struct ciov_send_wr wr[2];
		struct ciov_recv_wr rwr;
		struct ciov_wc wc[2];

		fx_pair_new(&p, "sqe", fx_modes[m], BUF_LEN, &ud);
		fx_connect_ud(&p.qa, &p.qb);
		fx_connect_ud(&p.qb, &p.qa);
		/* A's first send has a local buffer with a bad L_Key. */
		bad = fx_sge(&p.a, 0, 64);
		bad.lkey ^= 0xff;
		ok = fx_sge(&p.a, 0, 64);
		for (int i = 0; i < 2; i++)
			wr[i] = (struct ciov_send_wr){
				.wr_id = 1u + (unsigned)i, .opcode = CIOV_WR_SEND,
				.send_flags = CIOV_SEND_SIGNALED, .sg_list = i ? &ok : &bad,
				.num_sge = 1, .next = i ? NULL : &wr[1],
				.wr.ud = {p.qa.ah, p.qa.peer_qpn, FX_QKEY}};
		fx_post_send(&p.qa, wr);
		fx_wait(p.qa.scq, 2, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 1, CIOV_WC_LOC_PROT_ERR, CIOV_WC_OP_SEND);
		fx_check_wc(&wc[1], 2, CIOV_WC_WR_FLUSH_ERR, CIOV_WC_OP_SEND);
		assert_int_equal(ciov_query_qp(p.qa.qp, &a), 0);
		assert_int_equal(a.qp_state, CIOV_QPS_SQE);

		/* A still receives: B sends to it. */
		memset(p.a.buf + BUF_LEN / 2, 0, 256);
		r = fx_sge(&p.a, BUF_LEN / 2, 256);
		rwr = (struct ciov_recv_wr){.wr_id = 77, .sg_list = &r, .num_sge = 1};
		fx_post_recv(&p.qa, &rwr);
		fx_fill(p.b.buf, 64, 9);
		ok = fx_sge(&p.b, 0, 64);
		wr[0] = (struct ciov_send_wr){.wr_id = 3, .opcode = CIOV_WR_SEND,
					      .send_flags = CIOV_SEND_SIGNALED, .sg_list = &ok,
					      .num_sge = 1, .wr.ud = {p.qb.ah, p.qb.peer_qpn, FX_QKEY}};
		fx_post_send(&p.qb, wr);
		fx_wait(p.qb.scq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 3, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
		fx_wait(p.qa.rcq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 77, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_int_equal(wc[0].byte_len, 64 + 40); /* the GRH, then the data */
		assert_memory_equal(p.a.buf + BUF_LEN / 2 + 40, p.b.buf, 64);

		/* SQE -> RTS: A sends again. */
		fx_modify_state(&p.qa, CIOV_QPS_RTS);
		ok = fx_sge(&p.a, 0, 64);
		r = fx_sge(&p.b, BUF_LEN / 2, 256);
		rwr = (struct ciov_recv_wr){.wr_id = 88, .sg_list = &r, .num_sge = 1};
		fx_post_recv(&p.qb, &rwr);
		wr[0] = (struct ciov_send_wr){.wr_id = 4, .opcode = CIOV_WR_SEND,
					      .send_flags = CIOV_SEND_SIGNALED, .sg_list = &ok,
					      .num_sge = 1, .wr.ud = {p.qa.ah, p.qa.peer_qpn, FX_QKEY}};
		fx_post_send(&p.qa, wr);
		fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 4, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
		fx_wait(p.qb.rcq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 88, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_int_equal(wc[0].byte_len, 64 + 40);
		fx_pair_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ud_send_error_stops_only_the_send_queue),
	};

	return FX_RUN(tests);
}
