/* SPDX-License-Identifier: MIT */
/*
 * Native mode with QPs, SRQs and AHs, end to end: the manager creates and
 * connects QPs (modify/query through the IBA state machine) and the tenant
 * opens them. Skips while the queue handlers are stubs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "prov_util.h"

#define CAP "\"cap\":{\"max_send_wr\":16,\"max_recv_wr\":16,\"max_send_sge\":1,\"max_recv_sge\":1}"

struct objs {
	uint32_t pd, cq;
};

static struct objs make_pd_cq(struct pt *p)
{
	struct objs o;

	o.pd = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	o.cq = pt_prov_handle(p, "{\"cmd\":\"cq.create\",\"endpoint\":\"vm1\",\"cqe\":64}");
	return o;
}

static void state_is(struct pt *p, uint32_t qp, const char *want)
{
	struct json_object *r = pt_prov(p, "{\"cmd\":\"qp.query\",\"endpoint\":\"vm1\",\"handle\":%u}", qp);
	struct json_object *a, *s;

	assert_true(json_object_object_get_ex(r, "attr", &a));
	assert_true(json_object_object_get_ex(a, "qp_state", &s));
	assert_string_equal(json_object_get_string(s), want);
	json_object_put(r);
}

static void provisioned_rc_qp_is_modified_by_the_manager_and_opened_by_the_tenant(void **state)
{
	struct pt *p = *state;
	struct objs o = make_pd_cq(p);
	struct json_object *r, *a, *f;
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_qp *qp;
	uint32_t h, qpn;

	r = pt_prov(p, "{\"cmd\":\"qp.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"qp_type\":\"rc\",\"send_cq\":%u,\"recv_cq\":%u,\"sq_sig_all\":true," CAP "}",
		    o.pd, o.cq, o.cq);
	h = (uint32_t)th_get_int(r, "handle", NULL);
	qpn = (uint32_t)th_get_int(r, "qpn", NULL);
	assert_true(h > 0 && qpn > 0);
	assert_true(th_get_int(r, "cap", "max_send_wr", NULL) >= 16);
	assert_true(json_object_object_get_ex(r, "qp_type", &f));
	assert_string_equal(json_object_get_string(f), "rc");
	assert_true(json_object_object_get_ex(r, "sq_sig_all", &f));
	assert_true(json_object_get_boolean(f));
	json_object_put(r);
	assert_int_equal(pt_usage(p, "vm1", "qps"), 1);

	state_is(p, h, "reset");
	json_object_put(pt_prov(p, "{\"cmd\":\"qp.modify\",\"endpoint\":\"vm1\",\"handle\":%u,"
				   "\"mask\":[\"state\",\"pkey_index\",\"port\",\"access_flags\"],"
				   "\"attr\":{\"qp_state\":\"init\",\"pkey_index\":0,\"port_num\":1,"
				   "\"qp_access_flags\":[\"local_write\",\"remote_write\",\"remote_read\"]}}",
				h));
	state_is(p, h, "init");
	r = pt_prov(p, "{\"cmd\":\"qp.query\",\"endpoint\":\"vm1\",\"handle\":%u}", h);
	assert_true(json_object_object_get_ex(r, "attr", &a));
	assert_true(json_object_object_get_ex(a, "qp_access_flags", &f));
	assert_string_equal(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN),
			    "[\"local_write\",\"remote_write\",\"remote_read\"]");
	json_object_put(r);

	PT_NEED(ciov_open_cq);
	PT_NEED(ciov_open_qp);
	pt_tenant(p, "vm1");
	assert_int_equal(ciov_open_pd(p->ep, o.pd, &pd), 0);
	assert_int_equal(ciov_open_cq(p->ep, o.cq, NULL, NULL, &cq), 0);
	assert_int_equal(ciov_open_qp(pd, h, cq, cq, NULL, &qp), 0);
	assert_int_equal(qp->qp_num, qpn);
	pt_expect(p, EBUSY, "a tenant has it open", "{\"cmd\":\"qp.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", h);
	assert_int_equal(ciov_destroy_qp(qp), 0); /* releases */
	json_object_put(pt_prov(p, "{\"cmd\":\"qp.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", h));
	assert_int_equal(ciov_destroy_cq(cq), 0);
	assert_int_equal(ciov_dealloc_pd(pd), 0);
	json_object_put(pt_prov(p, "{\"cmd\":\"cq.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", o.cq));
	json_object_put(pt_prov(p, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", o.pd));
	assert_int_equal(pt_usage(p, "vm1", "qps"), 0);
}

/* IBA 10.3.1: RESET -> INIT -> RTR -> RTS with what each step requires. */
static void ud_qp_walks_reset_init_rtr_rts(void **state)
{
	struct pt *p = *state;
	struct objs o = make_pd_cq(p);
	uint32_t h;

	h = pt_prov_handle(p, "{\"cmd\":\"qp.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"qp_type\":\"ud\",\"send_cq\":%u,\"recv_cq\":%u," CAP "}",
			   o.pd, o.cq, o.cq);
	json_object_put(pt_prov(p, "{\"cmd\":\"qp.modify\",\"endpoint\":\"vm1\",\"handle\":%u,"
				   "\"mask\":[\"state\",\"pkey_index\",\"port\",\"qkey\"],"
				   "\"attr\":{\"qp_state\":\"init\",\"port_num\":1,\"qkey\":\"0x11111111\"}}", h));
	json_object_put(pt_prov(p, "{\"cmd\":\"qp.modify\",\"endpoint\":\"vm1\",\"handle\":%u,"
				   "\"mask\":[\"state\"],\"attr\":{\"qp_state\":\"rtr\"}}", h));
	json_object_put(pt_prov(p, "{\"cmd\":\"qp.modify\",\"endpoint\":\"vm1\",\"handle\":%u,"
				   "\"mask\":%d,\"attr\":{\"qp_state\":\"rts\",\"sq_psn\":0}}",
				h, CIOV_QP_STATE | CIOV_QP_SQ_PSN));
	state_is(p, h, "rts");
}

static void qp_modify_illegal_transition_is_einval(void **state)
{
	struct pt *p = *state;
	struct objs o = make_pd_cq(p);
	uint32_t h;

	h = pt_prov_handle(p, "{\"cmd\":\"qp.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"qp_type\":\"rc\",\"send_cq\":%u,\"recv_cq\":%u," CAP "}",
			   o.pd, o.cq, o.cq);
	pt_expect(p, EINVAL, "IBA 10.3.1",
		  "{\"cmd\":\"qp.modify\",\"endpoint\":\"vm1\",\"handle\":%u,\"mask\":[\"state\"],\"attr\":{\"qp_state\":\"rts\"}}", h);
	state_is(p, h, "reset");
	pt_expect(p, ENOENT, NULL,
		  "{\"cmd\":\"qp.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"qp_type\":\"rc\",\"send_cq\":%u,\"recv_cq\":%u," CAP "}",
		  o.pd, o.cq + 1, o.cq);
}

static void srq_is_created_modified_and_shared_by_a_qp(void **state)
{
	struct pt *p = *state;
	struct objs o = make_pd_cq(p);
	struct json_object *r;
	uint32_t srq, qp;

	r = pt_prov(p, "{\"cmd\":\"srq.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"max_wr\":64,\"max_sge\":1}", o.pd);
	srq = (uint32_t)th_get_int(r, "handle", NULL);
	assert_true(th_get_int(r, "max_wr", NULL) >= 64);
	assert_int_equal(th_get_int(r, "pd", NULL), o.pd);
	json_object_put(r);
	r = pt_prov(p, "{\"cmd\":\"srq.modify\",\"endpoint\":\"vm1\",\"handle\":%u,\"mask\":[\"srq_limit\"],\"srq_limit\":8}", srq);
	assert_int_equal(th_get_int(r, "srq_limit", NULL), 8);
	json_object_put(r);
	pt_expect(p, EOPNOTSUPP, "cannot be resized",
		  "{\"cmd\":\"srq.modify\",\"endpoint\":\"vm1\",\"handle\":%u,\"mask\":[\"max_wr\"],\"max_wr\":128}", srq);
	r = pt_prov(p, "{\"cmd\":\"qp.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"qp_type\":\"rc\",\"send_cq\":%u,\"recv_cq\":%u,\"srq\":%u," CAP "}",
		    o.pd, o.cq, o.cq, srq);
	qp = (uint32_t)th_get_int(r, "handle", NULL);
	assert_int_equal(th_get_int(r, "srq", NULL), srq);
	json_object_put(r);
	pt_expect(p, EBUSY, NULL, "{\"cmd\":\"srq.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", srq);
	json_object_put(pt_prov(p, "{\"cmd\":\"qp.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", qp));
	json_object_put(pt_prov(p, "{\"cmd\":\"srq.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", srq));
	assert_int_equal(pt_usage(p, "vm1", "srqs"), 0);
}

static void ah_is_created_and_destroyed(void **state)
{
	struct pt *p = *state;
	uint32_t pd, ah;

	pd = pt_prov_handle(p, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\"}");
	ah = pt_prov_handle(p, "{\"cmd\":\"ah.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"attr\":{\"dgid\":\"fd00::1\",\"port_num\":1,\"sl\":3,\"hop_limit\":64}}", pd);
	assert_int_equal(pt_usage(p, "vm1", "ahs"), 1);
	pt_expect(p, EBUSY, NULL, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm1\",\"handle\":%u}", pd);
	json_object_put(pt_prov(p, "{\"cmd\":\"ah.destroy\",\"endpoint\":\"vm1\",\"handle\":%u}", ah));
	assert_int_equal(pt_usage(p, "vm1", "ahs"), 0);
	pt_expect(p, ENOENT, NULL, "{\"cmd\":\"ah.create\",\"endpoint\":\"vm1\",\"pd\":%u,\"attr\":{\"dgid\":\"fd00::1\"}}", pd + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(provisioned_rc_qp_is_modified_by_the_manager_and_opened_by_the_tenant),
		PT_TEST(ud_qp_walks_reset_init_rtr_rts),
		PT_TEST(qp_modify_illegal_transition_is_einval),
		PT_TEST(srq_is_created_modified_and_shared_by_a_qp),
		PT_TEST(ah_is_created_and_destroyed),
	};

	return PT_RUN(tests);
}
