/* SPDX-License-Identifier: MIT */
/*
 * Shared receive queues (IBA 10.2.9.5): QPs of one tenant sharing an SRQ
 * each take receive WQEs from it in order, the data lands in the buffers
 * of the WQE each took, and the completion names the QP. Armed with a
 * limit, the SRQ raises SRQ_LIMIT_REACHED once fewer WQEs than the limit
 * remain (IBA 11.6.3.1).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

#define BUF_LEN (1u << 20)
#define MSG 3000u

struct srq_setup {
	struct fx_tenant a, b;
	struct ciov_srq *srq;
	struct fx_qp qa[2], qb[2];
};

static void make(struct srq_setup *s, const char *tag, enum ciov_mode mode)
{
	char n[64];

	snprintf(n, sizeof(n), "%s-%s-a", tag, fx_mode_name(mode));
	fx_tenant_new(&s->a, n, mode, BUF_LEN);
	snprintf(n, sizeof(n), "%s-%s-b", tag, fx_mode_name(mode));
	fx_tenant_new(&s->b, n, mode, BUF_LEN);
	s->srq = fx_srq_new(&s->b, 64, FX_MAX_SGE);
	for (int i = 0; i < 2; i++) {
		fx_qp_new(&s->a, &(struct fx_qp_opts){.type = CIOV_QPT_RC}, &s->qa[i]);
		fx_qp_new(&s->b, &(struct fx_qp_opts){.type = CIOV_QPT_RC, .srq = s->srq}, &s->qb[i]);
		fx_connect_pair(&s->qa[i], &s->qb[i], NULL);
	}
}

static void post_srq(struct srq_setup *s, int n)
{
	for (int i = 0; i < n; i++) {
		struct ciov_sge r = fx_sge(&s->b, (size_t)i * 4096, 4096);
		struct ciov_recv_wr rwr = {.wr_id = (uint64_t)i, .sg_list = &r, .num_sge = 1};
		const struct ciov_recv_wr *bad;

		assert_int_equal(ciov_post_srq_recv(s->srq, &rwr, &bad), 0);
	}
}

static void send_from(struct srq_setup *s, int q, uint64_t id)
{
	struct ciov_sge l = fx_sge(&s->a, 512u * 1024 + (size_t)id * 4096, MSG);
	struct ciov_send_wr wr = {.wr_id = id, .opcode = CIOV_WR_SEND, .sg_list = &l, .num_sge = 1,
				  .send_flags = CIOV_SEND_SIGNALED};
	struct ciov_wc wc;

	fx_post_send(&s->qa[q], &wr);
	fx_wait(s->qa[q].scq, 1, &wc, FX_TIMEOUT_MS);
	fx_check_wc(&wc, id, CIOV_WC_SUCCESS, CIOV_WC_OP_SEND);
}

static void two_qps_sharing_an_srq_both_receive_into_the_wqes_they_take(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct srq_setup s;
		int taken = 0;

		make(&s, "srq1", fx_modes[m]);
		fx_fill(s.a.buf, BUF_LEN, 1);
		memset(s.b.buf, 0, BUF_LEN);
		post_srq(&s, 8);
		/* Alternating QPs: WQE k goes to the k-th message, whichever QP. */
		for (int k = 0; k < 6; k++) {
			int q = k % 2;
			struct ciov_wc wc;

			send_from(&s, q, (uint64_t)k);
			fx_wait(s.qb[q].rcq, 1, &wc, FX_TIMEOUT_MS);
			fx_check_wc(&wc, (uint64_t)taken, CIOV_WC_SUCCESS, CIOV_WC_OP_RECV);
			assert_int_equal(wc.qp_num, s.qb[q].qp->qp_num);
			assert_int_equal(wc.byte_len, MSG);
			assert_memory_equal(s.b.buf + (size_t)taken * 4096,
					    s.a.buf + 512u * 1024 + (size_t)k * 4096, MSG);
			taken++;
		}
		fx_no_cqe(s.qb[0].rcq, 1);
		fx_no_cqe(s.qb[1].rcq, 1);
		fx_tenant_free(&s.a);
		fx_tenant_free(&s.b);
	}
}

/* The next async event within MS. The fd is readable when an event "may
 * be pending" (ciov.h): a wake-up without one is -EAGAIN, and we wait on. */
static int next_event(struct fx_tenant *t, struct ciov_async_event *ev, int ms)
{
	double end = fx_now_ms() + ms;

	for (;;) {
		double left = end - fx_now_ms();
		struct pollfd p = {.fd = ciov_async_fd(t->ep), .events = POLLIN};
		int err;

		if (left <= 0 || poll(&p, 1, (int)left + 1) != 1)
			return -ETIMEDOUT;
		err = ciov_get_async_event(t->ep, ev);
		if (err != -EAGAIN)
			return err;
	}
}

static void srq_limit_event_fires_once_fewer_wqes_than_the_limit_remain(void **state)
{
	(void)state;
	for (int m = 0; m < 2; m++) {
		struct srq_setup s;
		struct ciov_srq_attr a = {.srq_limit = 2};
		struct ciov_async_event ev;
		struct ciov_wc wc;
		int err;

		make(&s, "srq2", fx_modes[m]);
		post_srq(&s, 4);
		err = ciov_modify_srq(s.srq, &a, CIOV_SRQ_LIMIT);
		if (err == -EPERM && fx_modes[m] == CIOV_MODE_NATIVE) {
			/* Arming may be the manager's in native mode. */
			struct json_object *r = th_admin_ok(
				s.b.d, "{\"cmd\":\"srq.modify\",\"endpoint\":\"%s\",\"handle\":%u,"
				       "\"mask\":[\"srq_limit\"],\"srq_limit\":2}", s.b.name, s.srq->handle);

			assert_non_null(r);
			json_object_put(r);
			err = 0;
		}
		assert_int_equal(err, 0);
		for (int k = 0; k < 3; k++) {
			send_from(&s, k % 2, (uint64_t)k);
			fx_wait(s.qb[k % 2].rcq, 1, &wc, FX_TIMEOUT_MS);
			if (k < 2) /* 3, then 2 WQEs left: not fewer than 2 */
				assert_int_equal(next_event(&s.b, &ev, 50), -ETIMEDOUT);
		}
		/* 1 left. */
		assert_int_equal(next_event(&s.b, &ev, FX_TIMEOUT_MS), 0);
		assert_int_equal(ev.type, CIOV_EVENT_SRQ_LIMIT_REACHED);
		assert_int_equal(ev.obj_type, CIOV_OBJ_SRQ);
		assert_int_equal(ev.handle, s.srq->handle);
		/* Disarmed: no second event. */
		send_from(&s, 1, 3);
		fx_wait(s.qb[1].rcq, 1, &wc, FX_TIMEOUT_MS);
		assert_int_equal(next_event(&s.b, &ev, 50), -ETIMEDOUT);
		fx_tenant_free(&s.a);
		fx_tenant_free(&s.b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_qps_sharing_an_srq_both_receive_into_the_wqes_they_take),
		cmocka_unit_test(srq_limit_event_fires_once_fewer_wqes_than_the_limit_remain),
	};

	return FX_RUN(tests);
}
