/* SPDX-License-Identifier: MIT */
/*
 * A QP in the error state (IBA 10.3.1.7 / 10.8.3.3): moving it there
 * completes every WR it holds -- the one in progress, those queued behind
 * it, unsignaled ones too, and every receive -- with WR_FLUSH_ERR, each
 * with its own wr_id, in order; and a WR posted to it later completes
 * flushed as well. The flushed WRs move no data.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (1u << 20)

static void modify_to_err_flushes_posted_sends_and_receives_with_their_wr_ids(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		static const enum ciov_wr_opcode op[4] = {CIOV_WR_SEND, CIOV_WR_RDMA_WRITE,
							  CIOV_WR_RDMA_READ, CIOV_WR_SEND_WITH_IMM};
		static const enum ciov_wc_opcode wop[4] = {CIOV_WC_OP_SEND, CIOV_WC_OP_RDMA_WRITE,
							   CIOV_WC_OP_RDMA_READ, CIOV_WC_OP_SEND};
		struct fx_pair p;
		struct ciov_sge s = {0}, r[5];
		struct ciov_send_wr wr[4];
		struct ciov_recv_wr rwr[5];
		struct ciov_wc wc[8];
		uint8_t *snap = malloc(BUF_LEN);

		assert_non_null(snap);
		fx_pair_new(&p, "flush1", fx_modes[m], BUF_LEN, NULL);
		fx_connect_pair(&p.qa, &p.qb, NULL); /* rnr_retry 7: the SEND waits */
		fx_fill(p.a.buf, BUF_LEN, 1);
		fx_fill(p.b.buf, BUF_LEN, 2);
		memcpy(snap, p.b.buf, BUF_LEN);
		for (int i = 0; i < 5; i++) {
			r[i] = fx_sge(&p.a, BUF_LEN / 2 + 4096u * (unsigned)i, 4096);
			rwr[i] = (struct ciov_recv_wr){.wr_id = 100u + (unsigned)i, .sg_list = &r[i],
						       .num_sge = 1, .next = i < 4 ? &rwr[i + 1] : NULL};
		}
		fx_post_recv(&p.qa, rwr);
		s = fx_sge(&p.a, 0, 64u << 10);
		for (int i = 0; i < 4; i++)
			wr[i] = (struct ciov_send_wr){
				.wr_id = 1u + (unsigned)i, .opcode = op[i],
				/* the last one unsignaled: flushed WRs complete anyway */
				.send_flags = i == 3 ? 0 : CIOV_SEND_SIGNALED,
				.sg_list = &s, .num_sge = 1, .wr.rdma = {p.b.iova, p.b.mr->rkey},
				.next = i < 3 ? &wr[i + 1] : NULL};
		fx_post_send(&p.qa, wr);
		fx_no_cqe(p.qa.scq, 50); /* the SEND waits for a receive at B */
		fx_modify_state(&p.qa, CIOV_QPS_ERR);
		fx_wait(p.qa.scq, 4, wc, FX_TIMEOUT_MS);
		for (int i = 0; i < 4; i++) {
			fx_check_wc(&wc[i], 1u + (unsigned)i, CIOV_WC_WR_FLUSH_ERR, 0);
			assert_int_equal(wc[i].opcode, wop[i]);
			assert_int_equal(wc[i].qp_num, p.qa.qp->qp_num);
		}
		fx_wait(p.qa.rcq, 5, wc, FX_TIMEOUT_MS);
		for (int i = 0; i < 5; i++) {
			fx_check_wc(&wc[i], 100u + (unsigned)i, CIOV_WC_WR_FLUSH_ERR, 0);
			assert_int_equal(wc[i].opcode, CIOV_WC_OP_RECV);
		}
		fx_no_cqe(p.qa.scq, 10);
		fx_no_cqe(p.qb.rcq, 10);
		assert_memory_equal(p.b.buf, snap, BUF_LEN); /* the WRITE never ran */

		/* Posted in ERR: flushed too. */
		wr[0].next = NULL;
		wr[0].wr_id = 50;
		rwr[0].next = NULL;
		rwr[0].wr_id = 150;
		fx_post_send(&p.qa, &wr[0]);
		fx_post_recv(&p.qa, &rwr[0]);
		fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 50, CIOV_WC_WR_FLUSH_ERR, 0);
		fx_wait(p.qa.rcq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 150, CIOV_WC_WR_FLUSH_ERR, 0);
		assert_memory_equal(p.b.buf, snap, BUF_LEN);

		/* RESET and reconnect: the QP works again. */
		fx_modify_state(&p.qa, CIOV_QPS_RESET);
		fx_connect(&p.qa, &p.b, p.qb.qp->qp_num, NULL);
		wr[1].next = NULL;
		wr[1].wr_id = 60;
		fx_post_send(&p.qa, &wr[1]);
		fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 60, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
		assert_memory_equal(p.b.buf, p.a.buf, 64u << 10);
		fx_pair_free(&p);
		free(snap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modify_to_err_flushes_posted_sends_and_receives_with_their_wr_ids),
	};

	return FX_RUN(tests);
}
