/* SPDX-License-Identifier: MIT */
/*
 * Event-mode completions (IBA 11.4.2.2, verbs semantics): a CQ armed with
 * req_notify_cq writes one event to its completion channel on the next
 * completion, waking a process blocked in poll() on the channel's fd;
 * ciov_get_cq_event names the CQ; an event is not repeated until the CQ is
 * armed again; armed solicited-only, only a solicited completion wakes.
 */
#include <poll.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (64u << 10)

static int channel_ready(struct ciov_comp_channel *ch, int ms)
{
	struct pollfd pfd = {.fd = ch->fd, .events = POLLIN};
	int n = poll(&pfd, 1, ms);

	assert_true(n >= 0);
	return n;
}

static void send(struct fx_pair *p, uint64_t id, unsigned flags)
{
	struct ciov_sge s = fx_sge(&p->a, 0, 128), r = fx_sge(&p->b, 4096, 128);
	struct ciov_recv_wr rwr = {.wr_id = id, .sg_list = &r, .num_sge = 1};
	struct ciov_send_wr wr = {.wr_id = id, .opcode = CIOV_WR_SEND, .sg_list = &s, .num_sge = 1,
				  .send_flags = CIOV_SEND_SIGNALED | flags};
	struct ciov_wc wc;

	fx_post_recv(&p->qb, &rwr);
	fx_post_send(&p->qa, &wr);
	fx_wait(p->qa.scq, 1, &wc, FX_TIMEOUT_MS);
	fx_check_wc(&wc, id, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
}

static void expect_event(struct fx_pair *p, struct ciov_comp_channel *ch)
{
	struct ciov_cq *cq = NULL;
	void *ctx;

	if (channel_ready(ch, FX_TIMEOUT_MS) != 1)
		fail_msg("%s: no completion event", fx_mode_name(p->a.mode));
	assert_int_equal(ciov_get_cq_event(ch, &cq, &ctx), 0);
	assert_ptr_equal(cq, p->qb.rcq);
	ciov_ack_cq_events(cq, 1);
}

static void make(struct fx_pair *p, const char *tag, enum ciov_mode mode,
		 struct ciov_comp_channel **ch)
{

	/* B's CQs go on a channel of B's: make B first, then its QP. */
	fx_pair_new(p, tag, mode, BUF_LEN, NULL);
	fx_qp_free(&p->qb);
	assert_int_equal(ciov_create_comp_channel(p->b.ep, ch), 0);
	fx_qp_new(&p->b, &(struct fx_qp_opts){.type = CIOV_QPT_RC, .ch = *ch}, &p->qb);
	fx_connect_pair(&p->qa, &p->qb, NULL);
}

static void armed_cq_wakes_a_blocked_waiter_once_per_arm(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;
		struct ciov_comp_channel *ch;
		struct ciov_wc wc;

		make(&p, "ev1", fx_modes[m], &ch);
		assert_int_equal(ciov_req_notify_cq(p.qb.rcq, 0), 0);
		assert_int_equal(channel_ready(ch, 50), 0);
		send(&p, 1, 0);
		expect_event(&p, ch);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 1, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		/* Not armed again: no second event. */
		send(&p, 2, 0);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		assert_int_equal(channel_ready(ch, 100), 0);
		/* Armed again with a completion already queued: the next one fires. */
		assert_int_equal(ciov_req_notify_cq(p.qb.rcq, 0), 0);
		send(&p, 3, 0);
		expect_event(&p, ch);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 3, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		fx_pair_free(&p);
	}
}

static void solicited_only_arm_wakes_only_for_a_solicited_send(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct fx_pair p;
		struct ciov_comp_channel *ch;
		struct ciov_wc wc;

		make(&p, "ev2", fx_modes[m], &ch);
		assert_int_equal(ciov_req_notify_cq(p.qb.rcq, 1), 0);
		send(&p, 1, 0);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS); /* it completed... */
		fx_check_wc(&wc, 1, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		assert_int_equal(channel_ready(ch, 100), 0); /* ...and woke nobody */
		send(&p, 2, CIOV_SEND_SOLICITED);
		expect_event(&p, ch);
		fx_wait(p.qb.rcq, 1, &wc, FX_TIMEOUT_MS);
		fx_check_wc(&wc, 2, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
		fx_pair_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(armed_cq_wakes_a_blocked_waiter_once_per_arm),
		cmocka_unit_test(solicited_only_arm_wakes_only_for_a_solicited_send),
	};

	return FX_RUN(tests);
}
