/* SPDX-License-Identifier: MIT */
/*
 * Native mode with protection domains, end to end: the manager provisions
 * over the admin socket, the tenant (libciov) cannot create but lists and
 * opens what was provisioned for it; objects belong to the endpoint, not to
 * a connection; passthrough endpoints refuse the manager.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "prov_util.h"

static void list_has(struct pt *p, const char *ep, const char *type, long long want_n,
		     uint32_t want_handle)
{
	struct json_object *r = pt_prov(p, "{\"cmd\":\"obj.list\",\"endpoint\":\"%s\",\"type\":\"%s\"}",
					ep, type);
	struct json_object *a;
	bool found = want_handle == 0;

	assert_true(json_object_object_get_ex(r, "handles", &a));
	assert_int_equal(json_object_array_length(a), want_n);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (json_object_get_int64(json_object_array_get_idx(a, i)) == want_handle)
			found = true;
	json_object_put(r);
	assert_true(found);
}

static void pd_alloc_on_native_endpoint_returns_handle_and_charges_usage(void **state)
{
	struct pt *p = *state;
	uint32_t h;

	assert_int_equal(pt_usage(p, "vm1", "pds"), 0);
	h = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	assert_int_equal(pt_usage(p, "vm1", "pds"), 1);
	list_has(p, "vm1", "pd", 1, h);
	list_has(p, "vm1", "mr", 0, 0);
	json_object_put(pt_prov(p, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", h));
	assert_int_equal(pt_usage(p, "vm1", "pds"), 0);
	list_has(p, "vm1", "pd", 0, 0);
	pt_expect(p, ENOENT, "pd.dealloc on endpoint vm1: No such file or directory (no such handle",
		  "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", h);
}

static void pd_alloc_on_passthrough_endpoint_is_eperm_saying_why(void **state)
{
	struct pt *p = *state;

	pt_expect(p, EPERM,
		  "pd.alloc on endpoint vm2: Operation not permitted (endpoint vm2 is passthrough: its tenant creates its own resources)",
		  "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm2\"}");
	assert_int_equal(pt_usage(p, "vm2", "pds"), 0);
}

static void native_tenant_cannot_alloc_but_lists_and_opens_provisioned_pd(void **state)
{
	struct pt *p = *state;
	struct ciov_pd *pd = NULL, *opened = NULL;
	uint32_t handles[8];
	uint32_t h;
	int n;

	h = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	pt_tenant(p, "vm1");
	assert_int_equal(ciov_alloc_pd(p->ep, &pd), -EPERM);
	assert_null(pd);
	n = ciov_list(p->ep, CIOV_OBJ_PD, handles, 8);
	assert_int_equal(n, 1);
	assert_int_equal(handles[0], h);
	assert_int_equal(ciov_open_pd(p->ep, h, &opened), 0);
	assert_int_equal(opened->handle, h);
	/* the tenant cannot destroy what it only opened: releasing is all */
	pt_expect(p, EBUSY, "pd.dealloc on endpoint vm1: Device or resource busy (a tenant has it open",
		  "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", h);
	assert_int_equal(ciov_dealloc_pd(opened), 0); /* releases */
	json_object_put(pt_prov(p, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", h));
	assert_int_equal(ciov_list(p->ep, CIOV_OBJ_PD, handles, 8), 0);
	assert_int_equal(ciov_open_pd(p->ep, h, &opened), -ENOENT);
}

static void provisioned_pd_outlives_the_tenant_connection(void **state)
{
	struct pt *p = *state;
	struct ciov_pd *opened;
	struct json_object *r = NULL;
	uint32_t h;

	h = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	pt_tenant(p, "vm1");
	assert_int_equal(ciov_open_pd(p->ep, h, &opened), 0);
	pt_tenant_close(p); /* disconnects without releasing */
	assert_int_equal(pt_usage(p, "vm1", "pds"), 1);
	list_has(p, "vm1", "pd", 1, h);
	/* ciovd notices the hang-up on its own time: wait up to 2 s */
	for (int i = 0; i < 200; i++) {
		r = th_admin(&p->d, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", h);
		if (th_errno(r) != EBUSY)
			break;
		json_object_put(r);
		r = NULL;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	assert_true(th_ok(r));
	json_object_put(r);
	assert_int_equal(pt_usage(p, "vm1", "pds"), 0);
}

static void pd_alloc_over_quota_is_edquot(void **state)
{
	struct pt *p = *state;

	json_object_put(th_admin_ok(&p->d, "{\"cmd\":\"endpoint.set\",\"name\":\"vm1\",\"quota\":{\"pds\":2}}"));
	pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	pt_expect(p, EDQUOT, "over the endpoint's quota", "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	assert_int_equal(pt_usage(p, "vm1", "pds"), 2);
}

static void manager_sees_no_object_a_passthrough_tenant_created(void **state)
{
	struct pt *p = *state;
	struct ciov_pd *pd;

	pt_tenant(p, "vm2");
	assert_int_equal(ciov_alloc_pd(p->ep, &pd), 0);
	list_has(p, "vm2", "pd", 0, 0);
	pt_expect(p, EPERM, "passthrough", "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm2\",\"handle\":%u}",
		  pd->handle);
	assert_int_equal(ciov_dealloc_pd(pd), 0);
}

static void endpoint_del_refuses_while_provisioned_objects_exist(void **state)
{
	struct pt *p = *state;
	struct json_object *r;

	pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	r = th_admin(&p->d, "{\"cmd\":\"endpoint.del\",\"name\":\"vm1\"}");
	assert_int_equal(th_errno(r), EBUSY);
	json_object_put(r);
	json_object_put(th_admin_ok(&p->d, "{\"cmd\":\"endpoint.del\",\"name\":\"vm1\",\"force\":true}"));
	pt_expect(p, ENOENT, "no endpoint vm1", "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
}

static void provisioning_counts_in_the_endpoint_counters(void **state)
{
	struct pt *p = *state;
	long long ops = pt_ctl_ops(p, "vm1");

	pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	pt_expect(p, ENOENT, NULL, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":99}");
	assert_int_equal(pt_ctl_ops(p, "vm1"), ops + 2);
}

/* LIST replies carry CIOV_CTL_LIST_MAX handles; obj.list pages them all. */
static void obj_list_returns_every_handle_past_one_page(void **state)
{
	struct pt *p = *state;
	const int n = 3 * CIOV_CTL_LIST_MAX + 5;
	uint32_t last = 0;

	json_object_put(th_admin_ok(&p->d, "{\"cmd\":\"endpoint.set\",\"name\":\"vm1\",\"quota\":{\"pds\":%d}}", n));
	for (int i = 0; i < n; i++)
		last = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	list_has(p, "vm1", "pd", n, last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(pd_alloc_on_native_endpoint_returns_handle_and_charges_usage),
		PT_TEST(pd_alloc_on_passthrough_endpoint_is_eperm_saying_why),
		PT_TEST(native_tenant_cannot_alloc_but_lists_and_opens_provisioned_pd),
		PT_TEST(provisioned_pd_outlives_the_tenant_connection),
		PT_TEST(pd_alloc_over_quota_is_edquot),
		PT_TEST(manager_sees_no_object_a_passthrough_tenant_created),
		PT_TEST(endpoint_del_refuses_while_provisioned_objects_exist),
		PT_TEST(provisioning_counts_in_the_endpoint_counters),
		PT_TEST(obj_list_returns_every_handle_past_one_page),
	};

	return PT_RUN(tests);
}
