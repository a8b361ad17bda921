/* SPDX-License-Identifier: MIT */
/* Endpoints through libciov: opening, ownership, modes, quotas, reclaim. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

static struct th_daemon d;
static struct ciov_adapter *ad;

static int setup(void **state)
{
	if (th_daemon_start(&d))
		return -1;
	return ciov_adapter_open(NULL, &ad);
}

static int teardown(void **state)
{
	int rc;

	ciov_adapter_close(ad);
	rc = th_daemon_stop(&d);
	th_daemon_cleanup(&d);
	if (rc != 0)
		fprintf(stderr, "ciovd exited with %d\n", rc);
	return rc == 0 ? 0 : -1;
}

static void add_ep(const char *json_members)
{
	struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",%s}", json_members);

	assert_non_null(r);
	json_object_put(r);
}

static long long usage_of(const char *ep, const char *key)
{
	struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"endpoint.show\",\"name\":\"%s\"}", ep);
	long long v = th_get_int(r, "endpoints", "0", "usage", key, NULL);

	json_object_put(r);
	return v;
}

static void open_unknown_endpoint_gives_ENOENT(void **state)
{
	struct ciov_endpoint *ep = NULL;

	assert_int_equal(ciov_open_endpoint(ad, "nosuch", &ep), -ENOENT);
	assert_null(ep);
}

static void open_uses_CIOV_ENDPOINT_when_no_name(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_endpoint_attr attr;

	add_ep("\"name\":\"envep\"");
	setenv("CIOV_ENDPOINT", "envep", 1);
	assert_int_equal(ciov_open_endpoint(ad, NULL, &ep), 0);
	assert_int_equal(ciov_query_endpoint(ep, &attr), 0);
	assert_int_equal(attr.mode, CIOV_MODE_PASSTHROUGH);
	assert_int_equal(attr.usage[CIOV_QUOTA_connections], 1);
	ciov_close_endpoint(ep);
	unsetenv("CIOV_ENDPOINT");
	assert_int_equal(ciov_open_endpoint(ad, NULL, &ep), -EINVAL);
}

/* Runs FN in a child with the given credentials; returns its exit code. */
static int as_user(uid_t uid, gid_t gid, int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(100);
		_exit(fn());
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

static int try_open_owned(void)
{
	struct ciov_endpoint *ep;
	int err = ciov_open_endpoint(ad, "owned", &ep);

	ciov_close_endpoint(err ? NULL : ep);
	return -err;
}

static void non_owner_cannot_open_endpoint(void **state)
{
	add_ep("\"name\":\"owned\",\"owner\":\"4242:4343\"");
	/* The owner uid may open it, so may the owner group, no one else. */
	assert_int_equal(as_user(4242, 1, try_open_owned), 0);
	assert_int_equal(as_user(5000, 4343, try_open_owned), 0);
	assert_int_equal(as_user(5000, 5000, try_open_owned), EACCES);
	{
		struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"endpoint.show\",\"name\":\"owned\"}");

		assert_int_equal(th_get_int(r, "endpoints", "0", "counters", "errors", "EACCES", NULL), 1);
		json_object_put(r);
	}
}

static void connections_quota_gives_EDQUOT(void **state)
{
	struct ciov_endpoint *a, *b, *c;

	add_ep("\"name\":\"two\",\"quota\":{\"connections\":2}");
	assert_int_equal(ciov_open_endpoint(ad, "two", &a), 0);
	assert_int_equal(ciov_open_endpoint(ad, "two", &b), 0);
	assert_int_equal(ciov_open_endpoint(ad, "two", &c), -EDQUOT);
	ciov_close_endpoint(a);
	/* The slot comes back when a tenant goes away. */
	for (int i = 0; i < 100 && usage_of("two", "connections") != 1; i++)
		usleep(10000);
	assert_int_equal(ciov_open_endpoint(ad, "two", &c), 0);
	ciov_close_endpoint(b);
	ciov_close_endpoint(c);
}

static int raw_pd(int sock, unsigned op, uint32_t handle, uint32_t *out)
{
	struct ciov_ctl_handle rq = {.handle = handle}, rp = {0};
	int err = th_raw_call(sock, op, &rq, op == CIOV_CTL_PD_ALLOC ? sizeof(struct ciov_ctl_none) : sizeof(rq),
			      &rp, sizeof(rp), NULL, 0);

	if (out)
		*out = rp.handle;
	return err;
}

static void pd_good_and_bad_flows(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_pd *pd, *pd3 = NULL;
	int a = th_tenant_connect(&d), b = th_tenant_connect(&d);
	uint32_t h1, h2, h3;

	add_ep("\"name\":\"pds\",\"quota\":{\"pds\":2}");
	add_ep("\"name\":\"pds2\"");
	assert_int_equal(th_raw_open(a, "pds"), 0);
	assert_int_equal(th_raw_open(b, "pds"), 0);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_ALLOC, 0, &h1), 0);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_ALLOC, 0, &h2), 0);
	assert_int_equal(usage_of("pds", "pds"), 2);
	/* Over quota: a clear errno and nothing created. */
	assert_int_equal(ciov_open_endpoint(ad, "pds", &ep), 0);
	assert_int_equal(ciov_alloc_pd(ep, &pd3), -EDQUOT);
	assert_null(pd3);
	/* Another connection, even on the same endpoint, can neither free,
	 * nor open, another's PD. */
	assert_int_equal(raw_pd(b, CIOV_CTL_PD_DEALLOC, h1, NULL), -ENOENT);
	assert_int_equal(raw_pd(b, CIOV_CTL_PD_OPEN, h1, NULL), -ENOENT);
	/* Bogus handles. */
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, 0, NULL), -ENOENT);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, 0xffffffffu, NULL), -ENOENT);
	/* Double destroy. */
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, h2, NULL), 0);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, h2, NULL), -ENOENT);
	/* A stale handle (its slot reused since) is refused. */
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_ALLOC, 0, &h3), 0);
	assert_int_not_equal(h3, h2);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, h2, NULL), -ENOENT);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, h3, NULL), 0);
	/* A handle of the same number in another endpoint is not this one. */
	close(b);
	b = th_tenant_connect(&d);
	assert_int_equal(th_raw_open(b, "pds2"), 0);
	assert_int_equal(raw_pd(b, CIOV_CTL_PD_DEALLOC, h1, NULL), -ENOENT);
	assert_int_equal(raw_pd(a, CIOV_CTL_PD_DEALLOC, h1, NULL), 0);
	assert_int_equal(usage_of("pds", "pds"), 0);
	/* Through the library. */
	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(ciov_dealloc_pd(pd), 0);
	assert_int_equal(ciov_dealloc_pd(NULL), 0);
	ciov_close_endpoint(ep);
	close(a);
	close(b);
}

static void tenant_death_reclaims_everything(void **state)
{
	pid_t pid;
	int status;

	add_ep("\"name\":\"dies\"");
	pid = fork();
	if (pid == 0) {
		struct ciov_adapter *a;
		struct ciov_endpoint *ep;
		struct ciov_pd *pd;

		if (ciov_adapter_open(NULL, &a) || ciov_open_endpoint(a, "dies", &ep))
			_exit(1);
		for (int i = 0; i < 10; i++)
			if (ciov_alloc_pd(ep, &pd))
				_exit(2);
		_exit(0); /* no cleanup: the adapter must reclaim */
	}
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 200 && usage_of("dies", "pds") != 0; i++)
		usleep(10000);
	assert_int_equal(usage_of("dies", "pds"), 0);
	assert_int_equal(usage_of("dies", "connections"), 0);
}

static void native_tenant_cannot_create_resources(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_pd *pd = NULL;
	struct ciov_endpoint_attr attr;

	add_ep("\"name\":\"nat\",\"mode\":\"native\"");
	assert_int_equal(ciov_open_endpoint(ad, "nat", &ep), 0);
	assert_int_equal(ciov_query_endpoint(ep, &attr), 0);
	assert_int_equal(attr.mode, CIOV_MODE_NATIVE);
	assert_int_equal(ciov_alloc_pd(ep, &pd), -EPERM);
	assert_null(pd);
	ciov_close_endpoint(ep);
}

static void endpoint_del_refused_while_in_use_unless_forced(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_pd *pd;
	struct json_object *r;

	add_ep("\"name\":\"busy\"");
	assert_int_equal(ciov_open_endpoint(ad, "busy", &ep), 0);
	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	r = th_admin(&d, "{\"cmd\":\"endpoint.del\",\"name\":\"busy\"}");
	assert_false(th_ok(r));
	assert_int_equal(th_errno(r), EBUSY);
	json_object_put(r);
	/* The mode cannot change under a live tenant either. */
	r = th_admin(&d, "{\"cmd\":\"endpoint.set\",\"name\":\"busy\",\"mode\":\"native\"}");
	assert_int_equal(th_errno(r), EBUSY);
	json_object_put(r);
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.del\",\"name\":\"busy\",\"force\":true}");
	assert_non_null(r);
	json_object_put(r);
	/* The tenant finds its adapter function gone. */
	assert_int_equal(ciov_alloc_pd(ep, &pd), -ENOTCONN);
	ciov_close_endpoint(ep);
}

static void quota_below_usage_is_refused(void **state)
{
	struct ciov_endpoint *ep;
	struct ciov_pd *pd[3];
	struct json_object *r;

	add_ep("\"name\":\"shrink\"");
	assert_int_equal(ciov_open_endpoint(ad, "shrink", &ep), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ciov_alloc_pd(ep, &pd[i]), 0);
	r = th_admin(&d, "{\"cmd\":\"endpoint.set\",\"name\":\"shrink\",\"quota\":{\"pds\":2}}");
	assert_int_equal(th_errno(r), EBUSY);
	json_object_put(r);
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.set\",\"name\":\"shrink\",\"quota\":{\"pds\":3}}");
	assert_int_equal(th_get_int(r, "endpoint", "quota", "pds", NULL), 3);
	json_object_put(r);
	ciov_close_endpoint(ep);
}

static void seg_bytes_quota_bounds_memory_a_tenant_makes_ciovd_map(void **state)
{
	size_t mib = 1 << 20;
	struct ciov_endpoint *ep;
	struct ciov_pd *pd;
	struct ciov_mr *mr = NULL, *small;
	void *big = NULL, *one = NULL;

	add_ep("\"name\":\"segq\",\"quota\":{\"seg_bytes\":2097152}");
	assert_int_equal(ciov_open_endpoint(ad, "segq", &ep), 0);
	assert_int_equal(ciov_alloc_pd(ep, &pd), 0);
	assert_int_equal(posix_memalign(&big, 4096, 4 * mib), 0);
	assert_int_equal(posix_memalign(&one, 4096, mib), 0);
	memset(big, 0x5a, 4 * mib);
	/* 4 MiB of new memory needs 4 MiB of segments: over the quota. */
	assert_int_equal(ciov_reg_mr(pd, big, 4 * mib, CIOV_ACCESS_LOCAL_WRITE, &mr), -EDQUOT);
	assert_null(mr);
	assert_int_equal(((unsigned char *)big)[4 * mib - 1], 0x5a); /* untouched */
	assert_int_equal(ciov_reg_mr(pd, one, mib, CIOV_ACCESS_LOCAL_WRITE, &small), 0);
	assert_true(usage_of("segq", "seg_bytes") >= (long long)mib);
	assert_int_equal(ciov_dereg_mr(small), 0);
	ciov_close_endpoint(ep);
	free(big);
	free(one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_unknown_endpoint_gives_ENOENT),
		cmocka_unit_test(open_uses_CIOV_ENDPOINT_when_no_name),
		cmocka_unit_test(non_owner_cannot_open_endpoint),
		cmocka_unit_test(connections_quota_gives_EDQUOT),
		cmocka_unit_test(pd_good_and_bad_flows),
		cmocka_unit_test(tenant_death_reclaims_everything),
		cmocka_unit_test(native_tenant_cannot_create_resources),
		cmocka_unit_test(endpoint_del_refused_while_in_use_unless_forced),
		cmocka_unit_test(quota_below_usage_is_refused),
		cmocka_unit_test(seg_bytes_quota_bounds_memory_a_tenant_makes_ciovd_map),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
