/* SPDX-License-Identifier: MIT */
/* SRQs and AHs against a real ciovd: good and bad flows. */
#include <errno.h>
#include <string.h>

#include "qtest.h"

static void srq_reports_actual_depth_and_writes_limit_to_ring(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_srq_attr sa = {.max_wr = 100, .max_sge = 3, .srq_limit = 10}, got;
	struct ciov_pd *pd;
	struct ciov_srq *srq;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_srq(pd, &sa, &srq), 0);
	assert_int_equal(srq->attr.max_wr, 128);
	assert_true(srq->attr.max_sge >= 3);
	assert_int_equal(srq->attr.srq_limit, 10);
	assert_int_equal(qt_srq_ctrl(srq)->kind, CIOV_RING_SRQ);
	assert_int_equal(qt_srq_ctrl(srq)->srq_limit, 10);
	assert_int_equal(qt_usage("a", "wrs", 128), 128);
	sa.srq_limit = 64;
	assert_int_equal(ciov_modify_srq(srq, &sa, CIOV_SRQ_LIMIT), 0);
	assert_int_equal(ciov_query_srq(srq, &got), 0);
	assert_int_equal(got.srq_limit, 64);
	assert_int_equal(got.max_wr, 128);
	assert_int_equal(qt_srq_ctrl(srq)->srq_limit, 64);
	assert_int_equal(ciov_destroy_srq(srq), 0);
	assert_int_equal(qt_usage("a", "wrs", 0), 0);
	ciov_close_endpoint(ep);
}

static void srq_bad_attributes_are_einval(void **state)
{
	static const struct ciov_srq_attr bad[] = {
		{.max_wr = 0, .max_sge = 1},
		{.max_wr = 16385, .max_sge = 1},
		{.max_wr = 16, .max_sge = 0},
		{.max_wr = 16, .max_sge = 33},
		{.max_wr = 16, .max_sge = 1, .srq_limit = 16},
		{.max_wr = 16, .max_sge = 1, .srq_limit = UINT32_MAX},
	};
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_pd *pd;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ciov_srq *srq = NULL;

		assert_int_equal(ciov_create_srq(pd, &bad[i], &srq), -EINVAL);
		assert_null(srq);
	}
	assert_int_equal(qt_usage("a", "srqs", 0), 0);
	assert_int_equal(qt_usage("a", "wrs", 0), 0);
	ciov_close_endpoint(ep);
}

static void srq_modify_resize_unsupported_and_limit_checked(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_srq_attr sa = {.max_wr = 16, .max_sge = 1, .srq_limit = 0};
	struct ciov_pd *pd;
	struct ciov_srq *srq;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_srq(pd, &sa, &srq), 0);
	sa.max_wr = 32;
	assert_int_equal(ciov_modify_srq(srq, &sa, CIOV_SRQ_MAX_WR), -EOPNOTSUPP);
	sa.srq_limit = 16;
	assert_int_equal(ciov_modify_srq(srq, &sa, CIOV_SRQ_LIMIT), -EINVAL);
	assert_int_equal(ciov_modify_srq(srq, &sa, 1u << 5), -EINVAL);
	assert_int_equal(srq->attr.srq_limit, 0);
	assert_int_equal(qt_srq_ctrl(srq)->srq_limit, 0);
	ciov_close_endpoint(ep);
}

static void srq_pd_handle_checks_are_enoent(void **state)
{
	struct ciov_endpoint *a1 = qt_open("a"), *a2 = qt_open("a"), *b = qt_open("b");
	struct ciov_ctl_srq_create_req rq = {.max_wr = 4, .max_sge = 1};
	struct ciov_ctl_srq_rep rp;
	struct ciov_pd *pd_a2, *pd_b, *pd_b2;

	assert_int_equal(ciov_alloc_pd(a2, &pd_a2), 0);
	assert_int_equal(ciov_alloc_pd(b, &pd_b), 0);
	assert_int_equal(ciov_alloc_pd(b, &pd_b2), 0); /* a handle "a" never had */
	rq.pd = pd_a2->handle;
	assert_int_equal(qt_raw(a1, CIOV_CTL_SRQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.pd = pd_b2->handle;
	assert_int_equal(qt_raw(a1, CIOV_CTL_SRQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	assert_int_equal(qt_raw_handle(a1, CIOV_CTL_SRQ_DESTROY, 0x12345), -ENOENT);
	ciov_close_endpoint(b);
	ciov_close_endpoint(a2);
	ciov_close_endpoint(a1);
}

static void srq_in_use_is_ebusy_and_pd_must_match(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_srq_attr sa = {.max_wr = 16, .max_sge = 1};
	struct ciov_pd *pd, *pd2;
	struct ciov_cq *cq;
	struct ciov_srq *srq;
	struct ciov_qp *qp = NULL;
	struct ciov_qp_init_attr ia;
	const struct ciov_recv_wr rwr = {.wr_id = 1};
	const struct ciov_recv_wr *bad = NULL;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_alloc_pd(ep, &pd2), 0);
	assert_int_equal(ciov_create_cq(ep, 16, NULL, NULL, &cq), 0);
	assert_int_equal(ciov_create_srq(pd, &sa, &srq), 0);
	ia = qt_init_attr(CIOV_QPT_RC, cq, 4);
	ia.srq = srq;
	/* IBA: a QP and its SRQ share the PD. */
	assert_int_equal(ciov_create_qp(pd2, &ia, &qp), -EINVAL);
	/* With an SRQ the receive capacities are ignored (may be 0). */
	ia.cap.max_recv_wr = 0;
	ia.cap.max_recv_sge = 0;
	assert_int_equal(ciov_create_qp(pd, &ia, &qp), 0);
	assert_int_equal(qp->cap.max_recv_wr, 0);
	assert_int_equal(qt_usage("a", "wrs", 16 + 4), 16 + 4);
	assert_int_equal(ciov_destroy_srq(srq), -EBUSY);
	assert_int_equal(ciov_dealloc_pd(pd), -EBUSY);
	qt_drive(qp, CIOV_QPS_INIT);
	assert_int_equal(ciov_post_recv(qp, &rwr, &bad), -EINVAL); /* no RQ of its own */
	assert_ptr_equal(bad, &rwr);
	assert_int_equal(ciov_destroy_qp(qp), 0);
	assert_int_equal(ciov_destroy_srq(srq), 0);
	assert_int_equal(ciov_dealloc_pd(pd), 0);
	ciov_close_endpoint(ep);
}

static void post_srq_recv_writes_wqe_and_stops_when_full(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_srq_attr sa = {.max_wr = 2, .max_sge = 2};
	struct ciov_sge sge[3] = {{0x1000, 64, 7}, {0x2000, 32, 8}, {0x3000, 1, 9}};
	struct ciov_recv_wr w[3] = {
		{.wr_id = 10, .sg_list = sge, .num_sge = 2},
		{.wr_id = 11, .sg_list = sge, .num_sge = 1},
		{.wr_id = 12, .sg_list = sge, .num_sge = 1},
	};
	const struct ciov_recv_wr *bad = NULL;
	struct ciov_recv_wqe hdr;
	struct ciov_sge got[2];
	struct ciov_pd *pd;
	struct ciov_srq *srq;
	struct ciov_ring_ctrl *c;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_srq(pd, &sa, &srq), 0);
	c = qt_srq_ctrl(srq);
	w[2].num_sge = (int)srq->attr.max_sge + 1;
	assert_int_equal(ciov_post_srq_recv(srq, &w[2], &bad), -EINVAL);
	assert_ptr_equal(bad, &w[2]);
	w[2].num_sge = 1;
	w[0].next = &w[1];
	w[1].next = &w[2];
	assert_int_equal(ciov_post_srq_recv(srq, w, &bad), -ENOMEM);
	assert_ptr_equal(bad, &w[2]);
	assert_int_equal(c->prod, 2);
	memcpy(&hdr, qt_slot(c, 0), sizeof(hdr));
	memcpy(got, (uint8_t *)qt_slot(c, 0) + sizeof(hdr), sizeof(got));
	assert_int_equal(hdr.wr_id, 10);
	assert_int_equal(hdr.num_sge, 2);
	assert_memory_equal(got, sge, sizeof(got));
	ciov_close_endpoint(ep);
}

static void quota_wrs_and_srqs_are_edquot(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_srq_attr sa = {.max_wr = 64, .max_sge = 1};
	struct ciov_pd *pd;
	struct ciov_srq *s1, *s2;

	qt_add_endpoint("qs", "\"quota\":{\"wrs\":100,\"srqs\":1}");
	ep = qt_open("qs");
	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	sa.max_wr = 128;
	assert_int_equal(ciov_create_srq(pd, &sa, &s1), -EDQUOT);
	sa.max_wr = 64;
	assert_int_equal(ciov_create_srq(pd, &sa, &s1), 0);
	assert_int_equal(ciov_create_srq(pd, &sa, &s2), -EDQUOT);
	assert_int_equal(qt_usage("qs", "wrs", 64), 64);
	assert_int_equal(qt_usage("qs", "srqs", 1), 1);
	ciov_close_endpoint(ep);
	qt_del_endpoint("qs");
}

static void ah_attributes_are_checked(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_ah_attr good = {.dgid = {0xfd, [15] = 2}, .sl = 15, .port_num = 1};
	struct ciov_ah_attr a;
	struct ciov_pd *pd;
	struct ciov_ah *ah = NULL;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_ah(pd, &good, &ah), 0);
	assert_int_equal(ciov_dealloc_pd(pd), -EBUSY);
	a = good, a.sl = 16;
	assert_int_equal(ciov_create_ah(pd, &a, &ah), -EINVAL);
	a = good, a.port_num = 2;
	assert_int_equal(ciov_create_ah(pd, &a, &ah), -EINVAL);
	a = good, a.sgid_index = 1;
	assert_int_equal(ciov_create_ah(pd, &a, &ah), -EINVAL);
	a = good, memset(a.dgid, 0, sizeof(a.dgid));
	assert_int_equal(ciov_create_ah(pd, &a, &ah), -EINVAL);
	assert_int_equal(qt_usage("a", "ahs", 1), 1);
	assert_int_equal(qt_raw_handle(ep, CIOV_CTL_AH_DESTROY, 0xabcdef), -ENOENT);
	ciov_close_endpoint(ep);
}

static void ah_destroy_twice_is_enoent(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_ah_attr good = {.dgid = {0xfd, [15] = 2}, .port_num = 1};
	struct ciov_pd *pd;
	struct ciov_ah *ah;
	uint32_t h;

	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_create_ah(pd, &good, &ah), 0);
	h = ah->handle;
	assert_int_equal(ciov_destroy_ah(ah), 0);
	assert_int_equal(qt_raw_handle(ep, CIOV_CTL_AH_DESTROY, h), -ENOENT);
	assert_int_equal(ciov_dealloc_pd(pd), 0);
	ciov_close_endpoint(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(srq_reports_actual_depth_and_writes_limit_to_ring),
		cmocka_unit_test(srq_bad_attributes_are_einval),
		cmocka_unit_test(srq_modify_resize_unsupported_and_limit_checked),
		cmocka_unit_test(srq_pd_handle_checks_are_enoent),
		cmocka_unit_test(srq_in_use_is_ebusy_and_pd_must_match),
		cmocka_unit_test(post_srq_recv_writes_wqe_and_stops_when_full),
		cmocka_unit_test(quota_wrs_and_srqs_are_edquot),
		cmocka_unit_test(ah_attributes_are_checked),
		cmocka_unit_test(ah_destroy_twice_is_enoent),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
