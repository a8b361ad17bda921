/* SPDX-License-Identifier: MIT */
/*
 * Who may do what with queues, and what happens when a tenant goes away:
 * native mode (the manager provisions over the admin socket, the tenant
 * attaches), and reclaim of everything a dead tenant left open.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qtest.h"

/* Runs an admin provisioning command that must succeed; its "handle". */
static uint32_t prov(const char *fmt, const char *arg1, long long a, long long b)
{
	char buf[512];
	struct json_object *rep;
	long long h;

	snprintf(buf, sizeof(buf), fmt, arg1, a, b);
	rep = th_admin_ok(&qt_d, "%s", buf);
	assert_non_null(rep);
	h = th_get_int(rep, "handle", NULL);
	json_object_put(rep);
	assert_true(h > 0);
	return (uint32_t)h;
}

static void native_tenant_cannot_create_queues(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_comp_channel *ch;
	struct ciov_cq *cq = NULL;
	struct ciov_pd *pd = NULL;
	struct ciov_srq_attr sa = {.max_wr = 4, .max_sge = 1};
	struct ciov_srq *srq = NULL;
	struct ciov_ctl_qp_create_req rq = {.qp_type = CIOV_QPT_RC, .cap = {4, 4, 1, 1, 0, 0}};
	struct ciov_ctl_qp_rep rp;
	uint32_t pdh;

	qt_add_endpoint("nat1", "\"mode\":\"native\"");
	pdh = prov("{\"cmd\":\"pd.alloc\",\"endpoint\":\"%s\"}", "nat1", 0, 0);
	ep = qt_open("nat1");
	assert_int_equal(ciov_alloc_pd(ep, &pd), -EPERM);
	assert_int_equal(ciov_create_cq(ep, 4, NULL, NULL, &cq), -EPERM);
	assert_null(cq);
	assert_int_equal(ciov_open_pd(ep, pdh, &pd), 0);
	assert_int_equal(ciov_create_srq(pd, &sa, &srq), -EPERM);
	rq.pd = pdh;
	assert_int_equal(qt_raw(ep, CIOV_CTL_QP_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), 1), -EPERM);
	/* Channels are the tenant's own (CONFIG class): allowed. */
	assert_int_equal(ciov_create_comp_channel(ep, &ch), 0);
	assert_int_equal(qt_usage("nat1", "qps", 0), 0);
	ciov_close_endpoint(ep);
	qt_del_endpoint("nat1");
}

static void native_tenant_attaches_to_provisioned_qp_end_to_end(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_comp_channel *ch;
	struct ciov_pd *pd;
	struct ciov_cq *cq, *other = NULL;
	struct ciov_qp *qp = NULL;
	struct ciov_send_wr wr = {.wr_id = 9, .opcode = CIOV_WR_SEND};
	struct ciov_wc wc;
	struct json_object *rep;
	uint32_t pdh, cqh, cq2h, qph;

	qt_add_endpoint("nat2", "\"mode\":\"native\"");
	pdh = prov("{\"cmd\":\"pd.alloc\",\"endpoint\":\"%s\"}", "nat2", 0, 0);
	cqh = prov("{\"cmd\":\"cq.create\",\"endpoint\":\"%s\",\"cqe\":%lld}", "nat2", 16, 0);
	cq2h = prov("{\"cmd\":\"cq.create\",\"endpoint\":\"%s\",\"cqe\":%lld}", "nat2", 16, 0);
	{
		char fmt[400];

		snprintf(fmt, sizeof(fmt),
			 "{\"cmd\":\"qp.create\",\"endpoint\":\"%%s\",\"pd\":%u,\"qp_type\":\"rc\","
			 "\"send_cq\":%%lld,\"recv_cq\":%%lld,\"cap\":{\"max_send_wr\":8,"
			 "\"max_recv_wr\":8,\"max_send_sge\":1,\"max_recv_sge\":1}}",
			 pdh);
		qph = prov(fmt, "nat2", cqh, cqh);
	}
	ep = qt_open("nat2");
	assert_int_equal(ciov_create_comp_channel(ep, &ch), 0);
	assert_int_equal(ciov_open_pd(ep, pdh, &pd), 0);
	assert_int_equal(ciov_open_cq(ep, cqh, NULL, ch, &cq), 0);
	assert_int_equal(cq->cqe, 16);
	/* The QP must be opened with the objects it was provisioned with. */
	assert_int_equal(ciov_open_cq(ep, cq2h, NULL, NULL, &other), 0);
	assert_int_equal(ciov_open_qp(pd, qph, other, other, NULL, &qp), -EINVAL);
	assert_null(qp);
	assert_int_equal(ciov_open_qp(pd, qph, cq, cq, NULL, &qp), 0);
	assert_int_equal(qp->cap.max_send_wr, 8);
	assert_true(qp->qp_num >= 2);
	/* Using it is the tenant's (CONFIG class): modify, post, flush, poll. */
	qt_drive(qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_post_send(qp, &wr, NULL), 0);
	{
		struct ciov_qp_attr_wire err = {.qp_state = CIOV_QPS_ERR};

		assert_int_equal(ciov_modify_qp(qp, &err, CIOV_QP_STATE), 0);
	}
	assert_int_equal(ciov_poll_cq(cq, 1, &wc), 1);
	assert_int_equal(wc.wr_id, 9);
	assert_int_equal(wc.status, CIOV_WC_WR_FLUSH_ERR);
	/* The manager cannot pull it from under the tenant. */
	rep = th_admin(&qt_d, "{\"cmd\":\"qp.destroy\",\"endpoint\":\"nat2\",\"handle\":%u}", qph);
	assert_int_equal(th_errno(rep), EBUSY);
	json_object_put(rep);
	rep = th_admin(&qt_d, "{\"cmd\":\"cq.destroy\",\"endpoint\":\"nat2\",\"handle\":%u}", cqh);
	assert_int_equal(th_errno(rep), EBUSY);
	json_object_put(rep);
	/* Releasing an opened QP closes it (does not destroy it). */
	assert_int_equal(ciov_destroy_qp(qp), 0);
	assert_int_equal(ciov_destroy_cq(cq), 0);
	/* The channel the tenant bound is released when it goes. */
	assert_int_equal(ciov_destroy_comp_channel(ch), 0);
	assert_int_equal(qt_usage("nat2", "qps", 1), 1);
	ciov_close_endpoint(ep);
	rep = th_admin_ok(&qt_d, "{\"cmd\":\"qp.destroy\",\"endpoint\":\"nat2\",\"handle\":%u}", qph);
	assert_non_null(rep);
	json_object_put(rep);
	assert_int_equal(qt_usage("nat2", "wrs", 0), 0);
	qt_del_endpoint("nat2");
}

/* A child that builds one of everything and dies without cleaning up. */
static void die_with_queues_open(const char *name)
{
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	struct ciov_comp_channel *ch;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_srq *srq;
	struct ciov_qp *qp;
	struct ciov_ah *ah;
	struct ciov_srq_attr sa = {.max_wr = 8, .max_sge = 1};
	struct ciov_ah_attr av = {.dgid = {1}, .port_num = 1};
	struct ciov_qp_init_attr ia;

	if (ciov_adapter_open(NULL, &ad) || ciov_open_endpoint(ad, name, &ep) ||
	    ciov_create_comp_channel(ep, &ch) || ciov_alloc_pd(ep, &pd) ||
	    ciov_create_cq(ep, 8, NULL, ch, &cq) || ciov_create_srq(pd, &sa, &srq) ||
	    ciov_create_ah(pd, &av, &ah))
		_exit(2);
	ia = qt_init_attr(CIOV_QPT_RC, cq, 8);
	if (ciov_create_qp(pd, &ia, &qp))
		_exit(3);
	ia.srq = srq;
	if (ciov_create_qp(pd, &ia, &qp))
		_exit(4);
	kill(getpid(), SIGKILL);
}

static void tenant_killed_with_queues_open_is_reclaimed(void **state)
{
	static const char *const quotas[] = {"qps", "cqs", "srqs", "ahs", "channels", "pds", "wrs",
					     "connections"};
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		die_with_queues_open("b");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (size_t i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++)
		if (qt_usage("b", quotas[i], 0) != 0)
			fail_msg("usage of %s not reclaimed", quotas[i]);
	/* And the endpoint still works. */
	{
		struct ciov_endpoint *ep = qt_open("b");
		struct qt_qp q;

		qt_make_qp(ep, CIOV_QPT_UD, 4, &q);
		ciov_close_endpoint(ep);
	}
}

static void endpoint_deleted_under_tenant_with_queues(void **state)
{
	struct ciov_endpoint *ep;
	struct qt_qp q;
	struct ciov_qp_attr_wire a;

	qt_add_endpoint("gone", NULL);
	ep = qt_open("gone");
	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	qt_del_endpoint("gone");
	assert_int_equal(ciov_query_qp(q.qp, &a), -ENOTCONN);
	/* The library still frees its side (rings unmapped). */
	ciov_close_endpoint(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(native_tenant_cannot_create_queues),
		cmocka_unit_test(native_tenant_attaches_to_provisioned_qp_end_to_end),
		cmocka_unit_test(tenant_killed_with_queues_open_is_reclaimed),
		cmocka_unit_test(endpoint_deleted_under_tenant_with_queues),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
