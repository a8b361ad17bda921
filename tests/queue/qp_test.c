/* SPDX-License-Identifier: MIT */
/* QP create/destroy against a real ciovd: caps, handles, refs, quotas. */
#include <errno.h>
#include <string.h>

#include "qtest.h"

static void qp_starts_in_reset_with_valid_qpn_and_actual_caps(void **state)
{
	static const enum ciov_qp_type types[] = {CIOV_QPT_RC, CIOV_QPT_UD};
	struct ciov_endpoint *ep = qt_open("a");
	uint32_t qpns[2];

	for (int t = 0; t < 2; t++) {
		struct ciov_qp_attr_wire a;
		struct ciov_ring_ctrl *sq, *rq;
		struct qt_qp q;

		qt_make_qp(ep, types[t], 100, &q);
		qpns[t] = q.qp->qp_num;
		/* 24 bits, never the special QPs 0 and 1 (IBA 9.2). */
		assert_true(q.qp->qp_num >= 2 && q.qp->qp_num <= 0xffffff);
		assert_int_equal(q.qp->qp_type, types[t]);
		assert_int_equal(q.qp->state, CIOV_QPS_RESET);
		assert_int_equal(q.qp->cap.max_send_wr, 128);
		assert_int_equal(q.qp->cap.max_recv_wr, 128);
		assert_true(q.qp->cap.max_send_sge >= 2);
		assert_true(q.qp->cap.max_recv_sge >= 2);
		assert_true(q.qp->cap.max_inline_data >= 64);
		assert_int_equal(ciov_query_qp(q.qp, &a), 0);
		assert_int_equal(a.qp_state, CIOV_QPS_RESET);
		sq = qt_sq_ctrl(q.qp);
		rq = qt_rq_ctrl(q.qp);
		assert_int_equal(sq->kind, CIOV_RING_SQ);
		assert_int_equal(rq->kind, CIOV_RING_RQ);
		assert_int_equal(sq->owner, q.qp->qp_num);
		assert_int_equal(sq->entries, 128);
		assert_int_equal(sq->entry_size, ciov_send_wqe_size(2, 64));
		assert_int_equal(rq->entry_size, ciov_recv_wqe_size(2));
		/* The RQ starts on its own page. */
		assert_int_equal(((uintptr_t)rq - (uintptr_t)sq) % 4096, 0);
	}
	assert_int_not_equal(qpns[0], qpns[1]);
	assert_int_equal(qt_usage("a", "wrs", 2 * 256), 2 * 256);
	ciov_close_endpoint(ep);
}

struct bad_cap {
	const char *what;
	uint32_t type;
	struct ciov_qp_cap cap;
};

static const struct bad_cap bad_caps[] = {
	{"send_wr 0", CIOV_QPT_RC, {0, 4, 1, 1, 0, 0}},
	{"send_wr over max_qp_wr", CIOV_QPT_RC, {16385, 4, 1, 1, 0, 0}},
	{"recv_wr 0 without SRQ", CIOV_QPT_RC, {4, 0, 1, 1, 0, 0}},
	{"recv_wr over max_qp_wr", CIOV_QPT_UD, {4, 1u << 31, 1, 1, 0, 0}},
	{"send_sge 0", CIOV_QPT_RC, {4, 4, 0, 1, 0, 0}},
	{"send_sge 33", CIOV_QPT_RC, {4, 4, 33, 1, 0, 0}},
	{"recv_sge 0", CIOV_QPT_UD, {4, 4, 1, 0, 0, 0}},
	{"recv_sge 2^32-1", CIOV_QPT_UD, {4, 4, 1, UINT32_MAX, 0, 0}},
	{"inline 257", CIOV_QPT_RC, {4, 4, 1, 1, 257, 0}},
	{"type 3 (UC)", 3, {4, 4, 1, 1, 0, 0}},
	{"type 0", 0, {4, 4, 1, 1, 0, 0}},
};

static void qp_bad_caps_and_types_are_einval_and_charge_nothing(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_pd *pd;
	struct ciov_cq *cq;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, NULL, &cq), 0);
	for (size_t i = 0; i < sizeof(bad_caps) / sizeof(bad_caps[0]); i++) {
		struct ciov_qp_init_attr ia = {
			.qp_type = (enum ciov_qp_type)bad_caps[i].type,
			.send_cq = cq,
			.recv_cq = cq,
			.cap = bad_caps[i].cap,
		};
		struct ciov_qp *qp = NULL;

		if (ciov_create_qp(pd, &ia, &qp) != -EINVAL)
			fail_msg("%s: not -EINVAL", bad_caps[i].what);
		assert_null(qp);
	}
	assert_int_equal(qt_usage("a", "qps", 0), 0);
	assert_int_equal(qt_usage("a", "wrs", 0), 0);
	ciov_close_endpoint(ep);
}

static void qp_with_foreign_pd_cq_or_srq_is_enoent(void **state)
{
	struct ciov_endpoint *a1 = qt_open("a"), *a2 = qt_open("a"), *b = qt_open("b");
	struct qt_qp mine, other_conn, other_ep;
	struct ciov_ctl_qp_create_req rq;
	struct ciov_ctl_qp_rep rp;
	struct ciov_srq_attr sa = {.max_wr = 4, .max_sge = 1};
	struct ciov_srq *srq_a2;

	qt_make_qp(a1, CIOV_QPT_RC, 4, &mine);
	qt_make_qp(a2, CIOV_QPT_RC, 4, &other_conn);
	qt_make_qp(b, CIOV_QPT_RC, 4, &other_ep);
	/* Handles are per endpoint: make sure b's are not numerically a1's
	 * own (then the lookup would rightly find a1's object). */
	while (other_ep.pd->handle == mine.pd->handle)
		assert_int_equal(ciov_alloc_pd(b, &other_ep.pd), 0);
	while (other_ep.cq->handle == mine.cq->handle)
		assert_int_equal(ciov_create_cq(b, 4, NULL, NULL, &other_ep.cq), 0);
	assert_int_equal(ciov_create_srq(other_conn.pd, &sa, &srq_a2), 0);
	rq = (struct ciov_ctl_qp_create_req){
		.pd = mine.pd->handle, .qp_type = CIOV_QPT_RC,
		.send_cq = mine.cq->handle, .recv_cq = mine.cq->handle,
		.cap = {4, 4, 1, 1, 0, 0},
	};
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), 0);
	rq.send_cq = other_conn.cq->handle; /* CQ of another connection */
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.send_cq = mine.cq->handle;
	rq.recv_cq = other_ep.cq->handle; /* CQ of another endpoint */
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.recv_cq = mine.cq->handle;
	rq.pd = other_ep.pd->handle; /* PD of another endpoint */
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.pd = other_conn.pd->handle; /* PD of another connection */
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.pd = mine.pd->handle;
	rq.srq = srq_a2->handle; /* SRQ of another connection */
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.srq = 0x7777;
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	/* Destroying another connection's QP, or a bogus one. */
	assert_int_equal(qt_raw_handle(a1, CIOV_CTL_QP_DESTROY, other_conn.qp->handle), -ENOENT);
	assert_int_equal(qt_raw_handle(a1, CIOV_CTL_QP_DESTROY, 0), -ENOENT);
	/* Opening a QP that was not provisioned. */
	{
		struct ciov_ctl_handle h = {.handle = mine.qp->handle};

		assert_int_equal(qt_raw(a1, CIOV_CTL_QP_OPEN, &h, sizeof(h), &rp, sizeof(rp), 1),
				 -ENOENT);
	}
	ciov_close_endpoint(b);
	ciov_close_endpoint(a2);
	ciov_close_endpoint(a1);
}

static void qp_destroy_twice_is_enoent_and_releases_everything(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct qt_qp q;
	uint32_t h;

	qt_make_qp(ep, CIOV_QPT_UD, 16, &q);
	assert_int_equal(qt_usage("a", "qps", 1), 1);
	assert_int_equal(qt_usage("a", "wrs", 32), 32);
	h = q.qp->handle;
	assert_int_equal(ciov_destroy_qp(q.qp), 0);
	assert_int_equal(qt_raw_handle(ep, CIOV_CTL_QP_DESTROY, h), -ENOENT);
	assert_int_equal(qt_usage("a", "qps", 0), 0);
	assert_int_equal(qt_usage("a", "wrs", 0), 0);
	assert_int_equal(ciov_destroy_cq(q.cq), 0);
	assert_int_equal(ciov_dealloc_pd(q.pd), 0);
	ciov_close_endpoint(ep);
}

static void qpn_is_not_reused_at_once(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct qt_qp q;
	struct ciov_qp_init_attr ia;
	uint32_t first;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	first = q.qp->qp_num;
	ia = qt_init_attr(CIOV_QPT_RC, q.cq, 4);
	assert_int_equal(ciov_destroy_qp(q.qp), 0);
	assert_int_equal(ciov_create_qp(q.pd, &ia, &q.qp), 0);
	assert_int_not_equal(q.qp->qp_num, first);
	ciov_close_endpoint(ep);
}

static void quota_qps_and_wrs_are_edquot(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_qp_init_attr ia;
	struct qt_qp q;
	struct ciov_qp *qp2, *qp3;

	qt_add_endpoint("qq", "\"quota\":{\"qps\":2,\"wrs\":40}");
	ep = qt_open("qq");
	qt_make_qp(ep, CIOV_QPT_RC, 8, &q); /* 16 wrs */
	ia = qt_init_attr(CIOV_QPT_RC, q.cq, 16); /* 32 more: over 40 */
	assert_int_equal(ciov_create_qp(q.pd, &ia, &qp2), -EDQUOT);
	assert_int_equal(qt_usage("qq", "qps", 1), 1);
	assert_int_equal(qt_usage("qq", "wrs", 16), 16);
	ia = qt_init_attr(CIOV_QPT_RC, q.cq, 8);
	assert_int_equal(ciov_create_qp(q.pd, &ia, &qp2), 0);
	ia = qt_init_attr(CIOV_QPT_RC, q.cq, 1);
	assert_int_equal(ciov_create_qp(q.pd, &ia, &qp3), -EDQUOT); /* qps */
	assert_int_equal(qt_usage("qq", "qps", 2), 2);
	assert_int_equal(qt_usage("qq", "wrs", 32), 32);
	ciov_close_endpoint(ep);
	qt_del_endpoint("qq");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qp_starts_in_reset_with_valid_qpn_and_actual_caps),
		cmocka_unit_test(qp_bad_caps_and_types_are_einval_and_charge_nothing),
		cmocka_unit_test(qp_with_foreign_pd_cq_or_srq_is_enoent),
		cmocka_unit_test(qp_destroy_twice_is_enoent_and_releases_everything),
		cmocka_unit_test(qpn_is_not_reused_at_once),
		cmocka_unit_test(quota_qps_and_wrs_are_edquot),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
