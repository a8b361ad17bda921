/* SPDX-License-Identifier: MIT */
/* Affiliated asynchronous events, as a tenant sees them: SQ drained, SRQ
 * limit reached, CQ overrun. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qtest.h"

/* Waits up to 5 s for the next event. */
static int next_event(struct ciov_endpoint *ep, struct ciov_async_event *ev)
{
	struct pollfd p = {.fd = ciov_async_fd(ep), .events = POLLIN};

	if (poll(&p, 1, 5000) != 1)
		return -ETIMEDOUT;
	return ciov_get_async_event(ep, ev);
}

static void no_event_pending(struct ciov_endpoint *ep)
{
	struct pollfd p = {.fd = ciov_async_fd(ep), .events = POLLIN};

	assert_int_equal(poll(&p, 1, 50), 0);
}

/* Connects QP to PEER (same endpoint: dgid is the endpoint's own GID). */
static void connect_rc(struct ciov_endpoint *ep, struct ciov_qp *qp, struct ciov_qp *peer)
{
	struct ciov_endpoint_attr ea;
	struct ciov_qp_attr_wire a = qt_good_attr();

	assert_int_equal(ciov_query_endpoint(ep, &ea), 0);
	a.qp_state = CIOV_QPS_INIT;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT |
						     CIOV_QP_ACCESS_FLAGS), 0);
	a.qp_state = CIOV_QPS_RTR;
	a.dest_qp_num = peer->qp_num;
	memcpy(a.ah_attr.dgid, ea.gid, 16);
	a.min_rnr_timer = 1;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_AV | CIOV_QP_PATH_MTU |
						     CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |
						     CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER), 0);
	a.qp_state = CIOV_QPS_RTS;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_SQ_PSN | CIOV_QP_TIMEOUT |
						     CIOV_QP_RETRY_CNT | CIOV_QP_RNR_RETRY |
						     CIOV_QP_MAX_QP_RD_ATOMIC), 0);
}

static void sq_drained_event_when_asked(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_qp_attr_wire a = {.qp_state = CIOV_QPS_SQD, .en_sqd_async_notify = 1};
	struct ciov_async_event ev;
	struct qt_qp q;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_qp *qp, *peer;

	qt_make_qp(ep, CIOV_QPT_RC, 8, &q);
	pd = q.pd;
	cq = q.cq;
	qp = q.qp;
	assert_int_equal(ciov_create_qp(pd, &(struct ciov_qp_init_attr){
						    .qp_type = CIOV_QPT_RC, .send_cq = cq, .recv_cq = cq,
						    .cap = {8, 8, 1, 1, 0}},
					&peer), 0);
	connect_rc(ep, qp, peer);
	connect_rc(ep, peer, qp);
	/* Without en_sqd_async_notify: no event. */
	a.en_sqd_async_notify = 0;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE), 0);
	no_event_pending(ep);
	a.qp_state = CIOV_QPS_RTS;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE), 0);
	a.qp_state = CIOV_QPS_SQD;
	a.en_sqd_async_notify = 1;
	assert_int_equal(ciov_modify_qp(qp, &a, CIOV_QP_STATE | CIOV_QP_EN_SQD_ASYNC_NOTIFY), 0);
	assert_int_equal(next_event(ep, &ev), 0);
	assert_int_equal(ev.type, CIOV_EVENT_SQ_DRAINED);
	assert_int_equal(ev.obj_type, CIOV_OBJ_QP);
	assert_int_equal(ev.handle, qp->handle);
	assert_string_equal(ciov_event_type_str(ev.type), "SQ_DRAINED");
	ciov_close_endpoint(ep);
}

static void srq_limit_event_fires_once_below_the_limit(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_srq_attr sa = {.max_wr = 16, .max_sge = 1, .srq_limit = 0};
	struct ciov_async_event ev;
	struct qt_qp q;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_srq *srq;
	struct ciov_qp *tx, *rx;
	struct ciov_mr *mr;
	static char buf[4096];
	struct ciov_sge sge;
	struct ciov_wc wc[8];

	qt_make_qp(ep, CIOV_QPT_RC, 8, &q);
	pd = q.pd;
	cq = q.cq;
	tx = q.qp;
	assert_int_equal(ciov_create_srq(pd, &sa, &srq), 0);
	assert_int_equal(ciov_create_qp(pd, &(struct ciov_qp_init_attr){
						    .qp_type = CIOV_QPT_RC, .send_cq = cq, .recv_cq = cq,
						    .srq = srq, .cap = {8, 0, 1, 0, 0}},
					&rx), 0);
	connect_rc(ep, tx, rx);
	connect_rc(ep, rx, tx);
	assert_int_equal(ciov_reg_mr(pd, buf, sizeof(buf), CIOV_ACCESS_LOCAL_WRITE, &mr), 0);
	sge = (struct ciov_sge){.addr = mr->iova, .length = 64, .lkey = mr->lkey};
	for (int i = 0; i < 4; i++) {
		struct ciov_recv_wr r = {.wr_id = 100 + (uint64_t)i, .sg_list = &sge, .num_sge = 1};

		assert_int_equal(ciov_post_srq_recv(srq, &r, NULL), 0);
	}
	/* Armed at 2: the event comes when fewer than 2 WQEs are left. */
	sa.srq_limit = 2;
	assert_int_equal(ciov_modify_srq(srq, &sa, CIOV_SRQ_LIMIT), 0);
	for (int i = 0; i < 3; i++) {
		struct ciov_send_wr s = {.wr_id = (uint64_t)i, .opcode = CIOV_WR_SEND, .sg_list = &sge,
					 .num_sge = 1, .send_flags = CIOV_SEND_SIGNALED};
		int got = 0;

		assert_int_equal(ciov_post_send(tx, &s, NULL), 0);
		for (int k = 0; k < 5000 && got < 2; k++) {
			int n = ciov_poll_cq(cq, 8, wc);

			assert_true(n >= 0);
			for (int j = 0; j < n; j++)
				assert_int_equal(wc[j].status, CIOV_WC_SUCCESS);
			got += n;
			if (!n)
				usleep(1000);
		}
		assert_int_equal(got, 2); /* the send and its receive */
		if (i < 2)
			no_event_pending(ep);
	}
	assert_int_equal(next_event(ep, &ev), 0);
	assert_int_equal(ev.type, CIOV_EVENT_SRQ_LIMIT_REACHED);
	assert_int_equal(ev.obj_type, CIOV_OBJ_SRQ);
	assert_int_equal(ev.handle, srq->handle);
	/* Disarmed: the last receive taken raises nothing more. */
	assert_int_equal(ciov_query_srq(srq, &sa), 0);
	assert_int_equal(sa.srq_limit, 0);
	ciov_close_endpoint(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sq_drained_event_when_asked),
		cmocka_unit_test(srq_limit_event_fires_once_below_the_limit),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
