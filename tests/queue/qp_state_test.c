/* SPDX-License-Identifier: MIT */
/*
 * Modify QP through libciov against a real ciovd: the full state x state
 * matrix for RC and UD from every state a tenant can reach, required
 * attributes, attribute ranges, and "a failed modify changes nothing".
 */
#include <errno.h>
#include <string.h>

#include "qtest.h"

static const enum ciov_qp_type types[] = {CIOV_QPT_RC, CIOV_QPT_UD};
/* SQE is entered by the adapter only (IBA 10.3.1.7): not reachable here;
 * qp_state_unit_test covers it. */
static const enum ciov_qp_state reachable[] = {CIOV_QPS_RESET, CIOV_QPS_INIT, CIOV_QPS_RTR,
					       CIOV_QPS_RTS,   CIOV_QPS_SQD,  CIOV_QPS_ERR};

static void assert_attr_equal(const struct ciov_qp_attr_wire *a, const struct ciov_qp_attr_wire *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static void full_matrix_allows_exactly_the_iba_transitions(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");

	for (size_t t = 0; t < 2; t++) {
		struct qt_qp q;

		qt_make_qp(ep, types[t], 4, &q);
		for (size_t c = 0; c < sizeof(reachable) / sizeof(reachable[0]); c++) {
			enum ciov_qp_state cur = reachable[c];

			for (int next = 0; next < CIOV_QPS_MAX; next++) {
				struct ciov_qp_attr_wire a = qt_good_attr(), got;
				uint32_t mask = qt_required(types[t], cur, next);
				int want = qt_allowed(types[t], cur, next) ? 0 : -EINVAL;

				qt_drive(q.qp, cur);
				a.qp_state = (uint32_t)next;
				assert_int_equal(ciov_modify_qp(q.qp, &a, mask), want);
				assert_int_equal(ciov_query_qp(q.qp, &got), 0);
				assert_int_equal(got.qp_state, want ? cur : (enum ciov_qp_state)next);
			}
		}
		assert_int_equal(ciov_destroy_qp(q.qp), 0);
	}
	ciov_close_endpoint(ep);
}

static void each_missing_required_attribute_fails_and_changes_nothing(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");

	for (size_t t = 0; t < 2; t++) {
		struct qt_qp q;

		qt_make_qp(ep, types[t], 4, &q);
		for (size_t c = 0; c < sizeof(reachable) / sizeof(reachable[0]); c++) {
			enum ciov_qp_state cur = reachable[c];

			for (int next = 0; next < CIOV_QPS_MAX; next++) {
				uint32_t req = qt_required(types[t], cur, next) & ~(uint32_t)CIOV_QP_STATE;

				if (!qt_allowed(types[t], cur, next) || !req)
					continue;
				qt_drive(q.qp, cur);
				for (uint32_t bit = 1; bit; bit <<= 1) {
					struct ciov_qp_attr_wire a = qt_good_attr(), before, after;

					if (!(req & bit))
						continue;
					a.qp_state = (uint32_t)next;
					assert_int_equal(ciov_query_qp(q.qp, &before), 0);
					assert_int_equal(ciov_modify_qp(q.qp, &a,
									CIOV_QP_STATE | (req & ~bit)),
							 -EINVAL);
					assert_int_equal(ciov_query_qp(q.qp, &after), 0);
					assert_attr_equal(&before, &after);
				}
			}
		}
		assert_int_equal(ciov_destroy_qp(q.qp), 0);
	}
	ciov_close_endpoint(ep);
}

static void cur_state_must_match_current_state(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_qp_attr_wire a = qt_good_attr();
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 4, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	a.qp_state = CIOV_QPS_RTS;
	a.cur_qp_state = CIOV_QPS_SQD;
	assert_int_equal(ciov_modify_qp(q.qp, &a, CIOV_QP_STATE | CIOV_QP_CUR_STATE), -EINVAL);
	a.cur_qp_state = CIOV_QPS_RTS;
	assert_int_equal(ciov_modify_qp(q.qp, &a, CIOV_QP_STATE | CIOV_QP_CUR_STATE), 0);
	/* Without STATE a modify stays in the current state (RTS->RTS). */
	a.min_rnr_timer = 3;
	assert_int_equal(ciov_modify_qp(q.qp, &a, CIOV_QP_MIN_RNR_TIMER), 0);
	assert_int_equal(ciov_query_qp(q.qp, &a), 0);
	assert_int_equal(a.min_rnr_timer, 3);
	assert_int_equal(a.qp_state, CIOV_QPS_RTS);
	ciov_close_endpoint(ep);
}

/* One bad value at the transition that takes it. */
struct bad_attr {
	const char *what;
	enum ciov_qp_type type;
	enum ciov_qp_state from;
	void (*spoil)(struct ciov_qp_attr_wire *a);
	uint32_t extra_mask;
	int err;
};

#define SPOIL(name, stmt)                                                      \
	static void spoil_##name(struct ciov_qp_attr_wire *a)                  \
	{                                                                      \
		stmt;                                                          \
	}
SPOIL(pkey_index, a->pkey_index = 1)
SPOIL(port0, a->port_num = 0)
SPOIL(port2, a->port_num = 2)
SPOIL(access, a->qp_access_flags = 0x10)
SPOIL(mtu0, a->path_mtu = 0)
SPOIL(mtu6, a->path_mtu = 6)
SPOIL(dest_qpn, a->dest_qp_num = 1u << 24)
SPOIL(rq_psn, a->rq_psn = 1u << 24)
SPOIL(sq_psn, a->sq_psn = 0xffffffffu)
SPOIL(dest_rd_atomic, a->max_dest_rd_atomic = 17)
SPOIL(rd_atomic, a->max_rd_atomic = 255)
SPOIL(rnr_timer, a->min_rnr_timer = 32)
SPOIL(timeout, a->timeout = 32)
SPOIL(retry, a->retry_cnt = 8)
SPOIL(rnr_retry, a->rnr_retry = 8)
SPOIL(av_sl, a->ah_attr.sl = 16)
SPOIL(av_port, a->ah_attr.port_num = 2)
SPOIL(av_sgid, a->ah_attr.sgid_index = 1)
SPOIL(av_dgid, memset(a->ah_attr.dgid, 0, sizeof(a->ah_attr.dgid)))
SPOIL(av_flow, a->ah_attr.flow_label = 1u << 20)
SPOIL(state, a->qp_state = 7)
SPOIL(none, (void)a)

static const struct bad_attr bad_attrs[] = {
	{"pkey_index 1 (one P_Key)", CIOV_QPT_RC, CIOV_QPS_RESET, spoil_pkey_index, 0, -EINVAL},
	{"port 0", CIOV_QPT_RC, CIOV_QPS_RESET, spoil_port0, 0, -EINVAL},
	{"port 2", CIOV_QPT_UD, CIOV_QPS_RESET, spoil_port2, 0, -EINVAL},
	{"access flag 0x10", CIOV_QPT_RC, CIOV_QPS_RESET, spoil_access, 0, -EINVAL},
	{"path_mtu 0", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_mtu0, 0, -EINVAL},
	{"path_mtu 6", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_mtu6, 0, -EINVAL},
	{"dest_qp_num 2^24", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_dest_qpn, 0, -EINVAL},
	{"rq_psn 2^24", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_rq_psn, 0, -EINVAL},
	{"max_dest_rd_atomic 17", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_dest_rd_atomic, 0, -EINVAL},
	{"min_rnr_timer 32", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_rnr_timer, 0, -EINVAL},
	{"av sl 16", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_av_sl, 0, -EINVAL},
	{"av port 2", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_av_port, 0, -EINVAL},
	{"av sgid_index 1", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_av_sgid, 0, -EINVAL},
	{"av zero dgid", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_av_dgid, 0, -EINVAL},
	{"av flow_label 2^20", CIOV_QPT_RC, CIOV_QPS_INIT, spoil_av_flow, 0, -EINVAL},
	{"sq_psn 2^32-1", CIOV_QPT_UD, CIOV_QPS_RTR, spoil_sq_psn, 0, -EINVAL},
	{"max_rd_atomic 255", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_rd_atomic, 0, -EINVAL},
	{"timeout 32", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_timeout, 0, -EINVAL},
	{"retry_cnt 8", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_retry, 0, -EINVAL},
	{"rnr_retry 8", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_rnr_retry, 0, -EINVAL},
	{"qp_state 7", CIOV_QPT_RC, CIOV_QPS_RTS, spoil_state, 0, -EINVAL},
	{"unknown mask bit", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_none, 1u << 21, -EINVAL},
	{"mask bit 31", CIOV_QPT_UD, CIOV_QPS_RTR, spoil_none, 1u << 31, -EINVAL},
	{"resize (CAP) is not a modify", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_none, CIOV_QP_CAP, -EINVAL},
	{"alternate path unsupported", CIOV_QPT_RC, CIOV_QPS_RTR, spoil_none, CIOV_QP_ALT_PATH,
	 -EOPNOTSUPP},
};

static enum ciov_qp_state next_of(enum ciov_qp_state s)
{
	return s == CIOV_QPS_RTS ? CIOV_QPS_RTS : (enum ciov_qp_state)(s + 1);
}

static void illegal_attribute_values_fail_and_change_nothing(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");

	for (size_t i = 0; i < sizeof(bad_attrs) / sizeof(bad_attrs[0]); i++) {
		const struct bad_attr *b = &bad_attrs[i];
		struct ciov_qp_attr_wire a = qt_good_attr(), before, after;
		enum ciov_qp_state next = next_of(b->from);
		struct qt_qp q;

		qt_make_qp(ep, b->type, 4, &q);
		qt_drive(q.qp, b->from);
		a.qp_state = next;
		b->spoil(&a);
		assert_int_equal(ciov_query_qp(q.qp, &before), 0);
		if (ciov_modify_qp(q.qp, &a, qt_required(b->type, b->from, next) | b->extra_mask) !=
		    b->err)
			fail_msg("%s: not refused with %d", b->what, b->err);
		assert_int_equal(ciov_query_qp(q.qp, &after), 0);
		assert_attr_equal(&before, &after);
		ciov_close_endpoint(ep); /* frees the QP too */
		ep = qt_open("a");
	}
	ciov_close_endpoint(ep);
}

static void query_returns_every_attribute_set(void **state)
{
	struct ciov_endpoint *ep = qt_open("a");
	struct ciov_qp_attr_wire want = qt_good_attr(), got;
	struct qt_qp q;

	qt_make_qp(ep, CIOV_QPT_RC, 8, &q);
	qt_drive(q.qp, CIOV_QPS_RTS);
	assert_int_equal(ciov_query_qp(q.qp, &got), 0);
	assert_int_equal(got.qp_state, CIOV_QPS_RTS);
	assert_int_equal(got.cur_qp_state, CIOV_QPS_RTS);
	assert_int_equal(got.path_mtu, want.path_mtu);
	assert_int_equal(got.rq_psn, want.rq_psn);
	assert_int_equal(got.sq_psn, want.sq_psn);
	assert_int_equal(got.dest_qp_num, want.dest_qp_num);
	assert_int_equal(got.qp_access_flags, want.qp_access_flags);
	assert_memory_equal(&got.ah_attr, &want.ah_attr, sizeof(want.ah_attr));
	assert_int_equal(got.pkey_index, 0);
	assert_int_equal(got.port_num, 1);
	assert_int_equal(got.max_rd_atomic, want.max_rd_atomic);
	assert_int_equal(got.max_dest_rd_atomic, want.max_dest_rd_atomic);
	assert_int_equal(got.min_rnr_timer, want.min_rnr_timer);
	assert_int_equal(got.timeout, want.timeout);
	assert_int_equal(got.retry_cnt, want.retry_cnt);
	assert_int_equal(got.rnr_retry, want.rnr_retry);
	assert_memory_equal(&got.cap, &q.qp->cap, sizeof(got.cap));
	assert_int_equal(q.qp->state, CIOV_QPS_RTS);
	/* Back to RESET: attributes return to their initial values. */
	qt_drive(q.qp, CIOV_QPS_RESET);
	assert_int_equal(ciov_query_qp(q.qp, &got), 0);
	assert_int_equal(got.qp_state, CIOV_QPS_RESET);
	assert_int_equal(got.dest_qp_num, 0);
	assert_int_equal(got.sq_psn, 0);
	ciov_close_endpoint(ep);
}

static void modify_and_query_of_foreign_qp_are_enoent(void **state)
{
	struct ciov_endpoint *a1 = qt_open("a"), *a2 = qt_open("a");
	struct ciov_ctl_qp_modify_req mrq = {.mask = CIOV_QP_STATE, .attr = {.qp_state = CIOV_QPS_ERR}};
	struct ciov_ctl_handle hrq;
	struct ciov_ctl_qp_query_rep qrp;
	struct ciov_ctl_none none;
	struct qt_qp q;

	qt_make_qp(a1, CIOV_QPT_RC, 4, &q);
	/* Another connection of the same endpoint, a bogus handle. */
	mrq.handle = q.qp->handle;
	assert_int_equal(qt_raw(a2, CIOV_CTL_QP_MODIFY, &mrq, sizeof(mrq), &none, sizeof(none), 0),
			 -ENOENT);
	hrq = (struct ciov_ctl_handle){.handle = q.qp->handle};
	assert_int_equal(qt_raw(a2, CIOV_CTL_QP_QUERY, &hrq, sizeof(hrq), &qrp, sizeof(qrp), 0),
			 -ENOENT);
	mrq.handle = 0xdeadbeef;
	assert_int_equal(qt_raw(a1, CIOV_CTL_QP_MODIFY, &mrq, sizeof(mrq), &none, sizeof(none), 0),
			 -ENOENT);
	ciov_close_endpoint(a2);
	ciov_close_endpoint(a1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_matrix_allows_exactly_the_iba_transitions),
		cmocka_unit_test(each_missing_required_attribute_fails_and_changes_nothing),
		cmocka_unit_test(cur_state_must_match_current_state),
		cmocka_unit_test(illegal_attribute_values_fail_and_change_nothing),
		cmocka_unit_test(query_returns_every_attribute_set),
		cmocka_unit_test(modify_and_query_of_foreign_qp_are_enoent),
	};

	return cmocka_run_group_tests(tests, qt_group_setup, qt_group_teardown);
}
