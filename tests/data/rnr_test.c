/* SPDX-License-Identifier: MIT */
/*
 * Receiver not ready (IBA 9.7.5.2.8): a SEND (or WRITE with immediate)
 * that finds no receive WQE is retried after the responder's
 * min_rnr_timer, rnr_retry times (7: forever), then completes with
 * RNR_RETRY_EXC_ERR and the QP's later WRs are flushed.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (64u << 10)

/* IBA table 45, in ms. */
static double rnr_ms(uint8_t v)
{
	static const double ms[] = {655.36, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.12, 0.16, 0.24,
				    0.32, 0.48, 0.64, 0.96, 1.28, 1.92, 2.56, 3.84, 5.12, 7.68,
				    10.24, 15.36, 20.48, 30.72, 40.96, 61.44, 81.92, 122.88,
				    163.84, 245.76, 327.68, 491.52};
	return ms[v & 31];
}

static void connect(struct fx_pair *p, uint8_t min_rnr_timer, uint8_t rnr_retry)
{
	struct fx_conn c = fx_conn_default;

	c.min_rnr_timer = min_rnr_timer;
	c.rnr_retry = rnr_retry;
	fx_connect_pair(&p->qa, &p->qb, &c);
}

static void send_waits_for_a_late_receive_and_succeeds(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;
		struct ciov_sge s, r;
		struct ciov_send_wr wr = {.wr_id = 1, .opcode = CIOV_WR_SEND_WITH_IMM, .imm_data = 42,
					  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1};
		struct ciov_recv_wr rwr = {.wr_id = 2, .sg_list = &r, .num_sge = 1};
		struct ciov_wc wc;

		fx_pair_new(&p, "rnr1", fx_modes[m], BUF_LEN, NULL);
		/* 40.96 ms between tries, 6 tries: ~245 ms to post a receive. */
		connect(&p, 24, 6);
		fx_fill(p.a.buf, 1000, 1);
		memset(p.b.buf, 0, 1000);
		s = fx_sge(&p.a, 0, 1000);
		r = fx_sge(&p.b, 0, 1000);
		fx_post_send(&p.qa, &wr);
		fx_no_cqe(p.qa.scq, 20);
		fx_post_recv(&p.qb, &rwr);
		fx_wait(p.qa.scq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 1, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 2, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_int_equal(wc.byte_len, 1000);
		assert_int_equal(wc.imm_data, 42);
		assert_memory_equal(p.a.buf, p.b.buf, 1000);
		fx_pair_free(&p);
	}
}

static void rnr_retries_exhausted_complete_rnr_retry_exc_err_and_flush_the_rest(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		for (uint8_t n = 0; n <= 6; n++) {
			const uint8_t timer = 16; /* 2.56 ms */
			struct fx_pair p;
			struct ciov_sge s;
			struct ciov_send_wr wr[3];
			struct ciov_wc wc[3];
			double t0, dt;

			fx_pair_new(&p, "rnr2", fx_modes[m], BUF_LEN, NULL);
			connect(&p, timer, n);
			s = fx_sge(&p.a, 0, 100);
			for (int i = 0; i < 3; i++)
				wr[i] = (struct ciov_send_wr){
					.wr_id = 10u + (unsigned)i,
					.opcode = i == 1 ? CIOV_WR_RDMA_WRITE_WITH_IMM : CIOV_WR_SEND,
					.send_flags = i == 2 ? 0 : CIOV_SEND_SIGNALED,
					.sg_list = &s, .num_sge = 1,
					.wr.rdma = {p.b.iova, p.b.mr->rkey},
					.next = i < 2 ? &wr[i + 1] : NULL};
			fx_fill(p.b.buf, BUF_LEN, n);
			memcpy(p.a.buf + BUF_LEN / 2, p.b.buf, BUF_LEN / 2);
			t0 = fx_now_ms();
			fx_post_send(&p.qa, wr);
			fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
			dt = fx_now_ms() - t0;
			if (wc[0].status != CIOV_WC_RNR_RETRY_EXC_ERR)
				fail_msg("%s rnr_retry %u: %s", fx_mode_name(fx_modes[m]), n,
					 ciov_wc_status_str(wc[0].status));
			assert_int_equal(wc[0].wr_id, 10);
			/* n retries, each after the responder's timer. */
			if (dt < 0.9 * n * rnr_ms(timer))
				fail_msg("rnr_retry %u gave up after %.2f ms, want >= %.2f", n, dt,
					 n * rnr_ms(timer));
			printf("%s rnr_retry %u: RNR_RETRY_EXC_ERR after %.2f ms\n",
			       fx_mode_name(fx_modes[m]), n, dt);
			/* IBA 10.8.3: the rest flush, unsignaled ones included. */
			fx_wait(p.qa.scq, 2, wc + 1, FX_TIMEOUT_MS);
			fx_check_wc(&wc[1], 11, CIOV_WC_WR_FLUSH_ERR, 0);
			fx_check_wc(&wc[2], 12, CIOV_WC_WR_FLUSH_ERR, 0);
			fx_no_cqe(p.qb.rcq, 1);
			assert_memory_equal(p.b.buf, p.a.buf + BUF_LEN / 2, BUF_LEN / 2);
			fx_pair_free(&p);
		}
	}
}

static void rnr_retry_7_waits_until_a_receive_appears(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;
		struct ciov_sge s, r;
		struct ciov_send_wr wr = {.wr_id = 1, .opcode = CIOV_WR_SEND,
					  .send_flags = CIOV_SEND_SIGNALED, .sg_list = &s, .num_sge = 1};
		struct ciov_recv_wr rwr = {.wr_id = 2, .sg_list = &r, .num_sge = 1};
		struct ciov_wc wc;

		fx_pair_new(&p, "rnr3", fx_modes[m], BUF_LEN, NULL);
		connect(&p, 1, 7); /* 0.01 ms: thousands of tries meanwhile */
		fx_fill(p.a.buf, 4096, 3);
		s = fx_sge(&p.a, 0, 4096);
		r = fx_sge(&p.b, 0, 4096);
		fx_post_send(&p.qa, &wr);
		fx_no_cqe(p.qa.scq, 300);
		fx_post_recv(&p.qb, &rwr);
		fx_wait(p.qa.scq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 1, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 2, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_memory_equal(p.a.buf, p.b.buf, 4096);
		fx_pair_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(send_waits_for_a_late_receive_and_succeeds),
		cmocka_unit_test(rnr_retries_exhausted_complete_rnr_retry_exc_err_and_flush_the_rest),
		cmocka_unit_test(rnr_retry_7_waits_until_a_receive_appears),
	};

	return FX_RUN(tests);
}
