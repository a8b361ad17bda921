/* SPDX-License-Identifier: MIT */
/*
 * A work request is outstanding until its completion is polled, as on
 * hardware: a send or receive queue slot is the tenant's to post into again
 * only once the completion of its WQE (or of a later one of the same
 * queue) has been polled, not when the adapter is done with it. So a CQ as
 * deep as the queue can never overrun, however the tenant interleaves
 * posting and polling, and however late the adapter's ACKs come.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define BUF_LEN (1u << 20)
#define DEPTH 4u
#define MSG 64u
/* How long the adapter gets to finish what was posted before the test
 * looks (completions take microseconds; under ASan, milliseconds). */
#define SETTLE_MS 100

static void settle(void)
{
	usleep(SETTLE_MS * 1000);
}

static struct ciov_send_wr write_wr(const struct fx_pair *p, struct ciov_sge *s, uint32_t i,
				    unsigned flags)
{
	*s = fx_sge(&p->a, MSG * i, MSG);
	return (struct ciov_send_wr){.wr_id = 1000u + i, .opcode = CIOV_WR_RDMA_WRITE,
				     .send_flags = flags, .sg_list = s, .num_sge = 1,
				     .wr.rdma = {p->b.iova + MSG * i, p->b.mr->rkey}};
}

/* Posts WRITE number I (signaled or not); returns post_send's result. */
static int post_write(const struct fx_pair *p, uint32_t i, unsigned flags)
{
	struct ciov_sge s;
	struct ciov_send_wr wr = write_wr(p, &s, i, flags);

	return ciov_post_send(p->qa.qp, &wr, NULL);
}

/* Waits until WRITEs [0, N) have landed at B. */
static void landed(const struct fx_pair *p, uint32_t n)
{
	double until = fx_now_ms() + FX_TIMEOUT_MS;

	while (memcmp(p->b.buf, p->a.buf, MSG * n))
		assert_true(fx_now_ms() < until);
}

static void send_slots_are_freed_by_polling_their_completions(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_qp_opts o = {.type = CIOV_QPT_RC, .depth = DEPTH};
		struct ciov_wc wc[4 * DEPTH];
		struct fx_pair p;
		uint32_t sq, n = 0;

		fx_pair_new(&p, "slot1", fx_modes[m], BUF_LEN, &o);
		fx_connect_pair(&p.qa, &p.qb, NULL);
		fx_fill(p.a.buf, BUF_LEN, 11);
		sq = p.qa.qp->cap.max_send_wr;
		assert_true(sq >= DEPTH && sq <= 4 * DEPTH);

		/* A full queue of signaled WRITEs, all done by the adapter. */
		for (; n < sq; n++)
			assert_int_equal(post_write(&p, n, CIOV_SEND_SIGNALED), 0);
		landed(&p, n);
		settle();
		/* Nothing polled yet: the queue is still full. */
		assert_int_equal(post_write(&p, n, CIOV_SEND_SIGNALED), -ENOMEM);
		/* One polled, one slot back. */
		fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 1000, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
		assert_int_equal(post_write(&p, n++, CIOV_SEND_SIGNALED), 0);
		landed(&p, n);
		settle();
		assert_int_equal(post_write(&p, n, CIOV_SEND_SIGNALED), -ENOMEM);
		/* All of them complete, in order, in a CQ that never overran. */
		fx_wait(p.qa.scq, (int)sq, wc, FX_TIMEOUT_MS);
		for (uint32_t i = 0; i < sq; i++)
			fx_check_wc(&wc[i], 1001u + i, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
		fx_no_cqe(p.qa.scq, 10);

		/* Unsignaled WRITEs are freed with the signaled one after
		 * them: polling it gives back the whole queue. */
		for (uint32_t i = 0; i < sq; i++, n++)
			assert_int_equal(post_write(&p, n, i + 1 == sq ? CIOV_SEND_SIGNALED : 0), 0);
		landed(&p, n);
		settle();
		assert_int_equal(post_write(&p, n, 0), -ENOMEM);
		fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 1000u + n - 1, CIOV_WC_SUCCESS, CIOV_WC_OP_RDMA_WRITE);
		for (uint32_t i = 0; i < sq; i++, n++)
			assert_int_equal(post_write(&p, n, CIOV_SEND_SIGNALED), 0);
		fx_wait(p.qa.scq, (int)sq, wc, FX_TIMEOUT_MS);
		landed(&p, n);
		fx_pair_free(&p);
	}
}

static void receive_slots_are_freed_by_polling_their_completions(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_qp_opts o = {.type = CIOV_QPT_RC, .depth = DEPTH};
		struct ciov_wc wc[4 * DEPTH];
		struct ciov_sge r[4 * DEPTH + 1], s;
		struct ciov_recv_wr rwr;
		struct ciov_send_wr wr;
		struct fx_pair p;
		uint32_t rq;

		fx_pair_new(&p, "slot2", fx_modes[m], BUF_LEN, &o);
		fx_connect_pair(&p.qa, &p.qb, NULL);
		fx_fill(p.a.buf, BUF_LEN, 12);
		rq = p.qb.qp->cap.max_recv_wr;
		assert_true(rq >= DEPTH && rq <= 4 * DEPTH);
		for (uint32_t i = 0; i <= rq; i++)
			r[i] = fx_sge(&p.b, MSG * i, MSG);
		for (uint32_t i = 0; i < rq; i++) {
			rwr = (struct ciov_recv_wr){.wr_id = 500u + i, .sg_list = &r[i], .num_sge = 1};
			fx_post_recv(&p.qb, &rwr);
		}
		/* As many SENDs as B has receives: all of them land. */
		s = fx_sge(&p.a, 0, MSG);
		wr = (struct ciov_send_wr){.opcode = CIOV_WR_SEND, .send_flags = CIOV_SEND_SIGNALED,
					   .sg_list = &s, .num_sge = 1};
		for (uint32_t i = 0; i < rq; i++) {
			wr.wr_id = i;
			fx_post_send(&p.qa, &wr);
			fx_wait(p.qa.scq, 1, wc, FX_TIMEOUT_MS);
			fx_check_wc(&wc[0], i, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
		}
		settle();
		/* B has polled none of its receive completions: no room. */
		rwr = (struct ciov_recv_wr){.wr_id = 600, .sg_list = &r[rq], .num_sge = 1};
		assert_int_equal(ciov_post_recv(p.qb.qp, &rwr, NULL), -ENOMEM);
		fx_wait(p.qb.rcq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 500, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_int_equal(ciov_post_recv(p.qb.qp, &rwr, NULL), 0);
		assert_int_equal(ciov_post_recv(p.qb.qp, &rwr, NULL), -ENOMEM);
		fx_wait(p.qb.rcq, (int)rq - 1, wc, FX_TIMEOUT_MS);
		for (uint32_t i = 0; i + 1 < rq; i++)
			fx_check_wc(&wc[i], 501u + i, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		/* The receive posted last is there and takes the next SEND. */
		fx_post_send(&p.qa, &wr);
		fx_wait(p.qb.rcq, 1, wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc[0], 600, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_memory_equal(p.b.buf + MSG * rq, p.a.buf, MSG);
		fx_pair_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(send_slots_are_freed_by_polling_their_completions),
		cmocka_unit_test(receive_slots_are_freed_by_polling_their_completions),
	};

	return FX_RUN(tests);
}
