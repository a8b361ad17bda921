/* SPDX-License-Identifier: MIT */
/*
 * Native mode with completion queues, end to end: the manager creates a CQ
 * (its ring fd is closed, the manager has no use for it), the tenant opens
 * it; no fd is left behind. Skips while the CQ handlers are stubs.
 */
#include <errno.h>
#include <stdio.h>

#include "prov_util.h"

static void provisioned_cq_is_opened_by_the_tenant(void **state)
{
	struct pt *p = *state;
	struct json_object *r;
	struct ciov_cq *cq;
	uint32_t h, cqe;

	r = pt_prov(p, "{\"cmd\":\"cq.create\",\"endpoint\":\"vm1\",\"cqe\":100}");
	h = (uint32_t)th_get_int(r, "handle", NULL);
	cqe = (uint32_t)th_get_int(r, "cqe", NULL);
	json_object_put(r);
	assert_true(h > 0);
	assert_true(cqe >= 100);
	assert_int_equal(pt_usage(p, "vm1", "cqs"), 1);

	PT_NEED(ciov_open_cq);
	pt_tenant(p, "vm1");
	assert_int_equal(ciov_open_cq(p->ep, h, NULL, NULL, &cq), 0);
	assert_int_equal(cq->cqe, cqe);
	pt_expect(p, EBUSY, "a tenant has it open", "{\"cmd\":\"cq.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", h);
	assert_int_equal(ciov_destroy_cq(cq), 0); /* releases */
	json_object_put(pt_prov(p, "{\"cmd\":\"cq.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", h));
	assert_int_equal(pt_usage(p, "vm1", "cqs"), 0);
}

static void cq_create_and_destroy_leave_no_fd_in_the_daemon(void **state)
{
	struct pt *p = *state;
	int base;

	json_object_put(th_admin(&p->d, "{\"cmd\":\"adapter.show\"}"));
	base = th_daemon_nfds(&p->d);
	for (int i = 0; i < 50; i++) {
		uint32_t h = pt_prov_handle(p, "{\"cmd\":\"cq.create\",\"endpoint\":\"vm1\",\"cqe\":16}");

		json_object_put(pt_prov(p, "{\"cmd\":\"cq.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", h));
	}
	assert_int_equal(th_daemon_nfds(&p->d), base);
}

static void cq_create_out_of_range_is_einval(void **state)
{
	struct pt *p = *state;

	pt_expect(p, EINVAL, "max_cqe", "{\"cmd\":\"cq.create\",\"endpoint\":\"vm1\",\"cqe\":0}");
	pt_expect(p, EINVAL, "max_cqe", "{\"cmd\":\"cq.create\",\"endpoint\":\"vm1\",\"cqe\":4294967295}");
	assert_int_equal(pt_usage(p, "vm1", "cqs"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(provisioned_cq_is_opened_by_the_tenant),
		PT_TEST(cq_create_and_destroy_leave_no_fd_in_the_daemon),
		PT_TEST(cq_create_out_of_range_is_einval),
	};

	return PT_RUN(tests);
}
