/* SPDX-License-Identifier: MIT */
/* Completion channels and CQs against a real ciovd: good and bad flows. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "qtest.h"

static void cq_has_power_of_two_entries_and_a_fresh_ring(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_endpoint_attr ea;
	struct ciov_cq *cq;
	struct ciov_ring_ctrl *c;

	assert_int_equal(ciov_create_cq(ep, 100, (void *)0x1, NULL, &cq), 0);
	assert_int_equal(cq->cqe, 128);
	c = qt_cq_ctrl(cq);
	assert_int_equal(c->magic, CIOV_RING_MAGIC);
	assert_int_equal(c->kind, CIOV_RING_CQ);
	assert_int_equal(c->entries, 128);
	assert_int_equal(c->entry_size, sizeof(struct ciov_cqe));
	assert_int_equal(c->owner, cq->handle);
	assert_int_equal(ciov_poll_cq(cq, 4, (struct ciov_wc[4]){0}), 0);
	assert_int_equal(ciov_destroy_cq(cq), 0);
	assert_int_equal(ciov_create_cq(ep, 1, NULL, NULL, &cq), 0);
	assert_int_equal(cq->cqe, 1);
	assert_int_equal(ciov_query_endpoint(ep, &ea), 0);
	assert_int_equal(ciov_create_cq(ep, (int)ea.max_cqe, NULL, NULL, &cq), 0);
	assert_int_equal(cq->cqe, ea.max_cqe);
	ciov_close_endpoint(ep);
}

static void cq_size_outside_device_limit_is_einval(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_endpoint_attr ea;
	struct ciov_ctl_cq_create_req rq = {0};
	struct ciov_ctl_cq_rep rp;
	struct ciov_cq *cq = NULL;

	assert_int_equal(ciov_query_endpoint(ep, &ea), 0);
	assert_int_equal(ciov_create_cq(ep, (int)ea.max_cqe + 1, NULL, NULL, &cq), -EINVAL);
	assert_null(cq);
	assert_int_equal(ciov_create_cq(ep, 0, NULL, NULL, &cq), -EINVAL);
	/* ciovd itself, past the library's checks. */
	rq.cqe = 0;
	assert_int_equal(qt_raw(ep, CIOV_CTL_CQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -EINVAL);
	rq.cqe = UINT32_MAX;
	assert_int_equal(qt_raw(ep, CIOV_CTL_CQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -EINVAL);
	assert_int_equal(qt_usage("a", "cqs", 0), 0);
	ciov_close_endpoint(ep);
}

static void cq_with_foreign_channel_is_enoent(void **state)
{
	struct ciov_endpoint *a1 = qt_open("a"), *a2 = qt_open("a"), *b = qt_open("b");
	struct ciov_comp_channel *ch_a2, *ch_b;
	struct ciov_ctl_cq_create_req rq = {.cqe = 4};
	struct ciov_ctl_cq_rep rp;

	assert_int_equal(ciov_create_comp_channel(a2, &ch_a2), 0);
	assert_int_equal(ciov_create_comp_channel(b, &ch_b), 0);
	rq.channel = ch_a2->handle; /* same endpoint, other connection */
	assert_int_equal(qt_raw(a1, CIOV_CTL_CQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.channel = ch_b->handle; /* other endpoint */
	assert_int_equal(qt_raw(a1, CIOV_CTL_CQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	rq.channel = 0xfffff; /* never allocated */
	assert_int_equal(qt_raw(a1, CIOV_CTL_CQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -ENOENT);
	ciov_close_endpoint(b);
	ciov_close_endpoint(a2);
	ciov_close_endpoint(a1);
}

static void cq_destroy_bad_double_and_foreign_are_enoent(void **state)
{
	struct ciov_endpoint *a1 = qt_open("a"), *a2 = qt_open("a");
	struct ciov_cq *cq;
	uint32_t h;

	assert_int_equal(ciov_create_cq(a1, 4, NULL, NULL, &cq), 0);
	h = cq->handle;
	assert_int_equal(qt_raw_handle(a1, CIOV_CTL_CQ_DESTROY, 0), -ENOENT);
	assert_int_equal(qt_raw_handle(a1, CIOV_CTL_CQ_DESTROY, 0xdeadbeef), -ENOENT);
	assert_int_equal(qt_raw_handle(a2, CIOV_CTL_CQ_DESTROY, h), -ENOENT);
	assert_int_equal(ciov_destroy_cq(cq), 0);
	assert_int_equal(qt_raw_handle(a1, CIOV_CTL_CQ_DESTROY, h), -ENOENT);
	ciov_close_endpoint(a2);
	ciov_close_endpoint(a1);
}

static void cq_used_by_qp_is_ebusy_until_qp_destroyed(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	assert_int_equal(ciov_destroy_cq(q.cq), -EBUSY);
	assert_int_equal(ciov_dealloc_pd(q.pd), -EBUSY);
	assert_int_equal(ciov_destroy_qp(q.qp), 0);
	assert_int_equal(ciov_destroy_cq(q.cq), 0);
	assert_int_equal(ciov_dealloc_pd(q.pd), 0);
	ciov_close_endpoint(ep);
}

static void channel_bound_to_cq_is_ebusy(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_comp_channel *ch;
	struct ciov_cq *cq;

	assert_int_equal(ciov_create_comp_channel(ep, &ch), 0);
	assert_true(ch->fd >= 0);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, ch, &cq), 0);
	assert_int_equal(ciov_destroy_comp_channel(ch), -EBUSY);
	assert_int_equal(ciov_destroy_cq(cq), 0);
	assert_int_equal(ciov_destroy_comp_channel(ch), 0);
	assert_int_equal(qt_raw_handle(ep, CIOV_CTL_CHAN_DESTROY, 1), -ENOENT);
	ciov_close_endpoint(ep);
}

static void get_cq_event_without_event_is_eagain_when_nonblocking(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_comp_channel *ch;
	struct ciov_cq *cq, *got = NULL;
	void *ctx;

	assert_int_equal(ciov_create_comp_channel(ep, &ch), 0);
	/* Blocking by default, as libibverbs'. */
	assert_false(fcntl(ch->fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, ch, &cq), 0);
	assert_int_equal(fcntl(ch->fd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ciov_req_notify_cq(cq, 0), 0);
	assert_int_equal(qt_cq_ctrl(cq)->arm_seq, 1);
	assert_int_equal(qt_cq_ctrl(cq)->arm_solicited, 0);
	assert_int_equal(ciov_req_notify_cq(cq, 1), 0);
	assert_int_equal(qt_cq_ctrl(cq)->arm_seq, 2);
	assert_int_equal(qt_cq_ctrl(cq)->arm_solicited, 1);
	assert_int_equal(ciov_get_cq_event(ch, &got, &ctx), -EAGAIN);
	assert_null(got);
	ciov_close_endpoint(ep);
}

static void quota_cqs_and_channels_are_edquot(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_comp_channel *ch[2];
	struct ciov_cq *cq[3];

	qt_add_endpoint("qc", "\"quota\":{\"cqs\":2,\"channels\":1}");
	ep = qt_open("qc");
	assert_int_equal(ciov_create_cq(ep, 4, NULL, NULL, &cq[0]), 0);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, NULL, &cq[1]), 0);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, NULL, &cq[2]), -EDQUOT);
	assert_int_equal(ciov_create_comp_channel(ep, &ch[0]), 0);
	assert_int_equal(ciov_create_comp_channel(ep, &ch[1]), -EDQUOT);
	assert_int_equal(qt_usage("qc", "cqs", 2), 2);
	assert_int_equal(ciov_destroy_cq(cq[0]), 0);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, NULL, &cq[2]), 0);
	ciov_close_endpoint(ep);
	qt_del_endpoint("qc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cq_has_power_of_two_entries_and_a_fresh_ring),
		cmocka_unit_test(cq_size_outside_device_limit_is_einval),
		cmocka_unit_test(cq_with_foreign_channel_is_enoent),
		cmocka_unit_test(cq_destroy_bad_double_and_foreign_are_enoent),
		cmocka_unit_test(cq_used_by_qp_is_ebusy_until_qp_destroyed),
		cmocka_unit_test(channel_bound_to_cq_is_ebusy),
		cmocka_unit_test(get_cq_event_without_event_is_eagain_when_nonblocking),
		cmocka_unit_test(quota_cqs_and_channels_are_edquot),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
