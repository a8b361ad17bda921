/* SPDX-License-Identifier: MIT */
/*
 * ciovd's QP transition table, directly, over the full state x state matrix
 * for RC and UD (including SQE, which a tenant cannot reach by modify).
 * The expected answers are the test's own reading of IBA 10.3.1 and
 * 11.2.4.2, written independently of ciovd's table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "adapter/qp_state.h"

static const enum ciov_qp_type types[] = {CIOV_QPT_RC, CIOV_QPT_UD};

static int allowed(enum ciov_qp_type t, int cur, int next)
{
	if (next == CIOV_QPS_RESET || next == CIOV_QPS_ERR)
		return 1;
	switch (cur) {
	case CIOV_QPS_RESET: return next == CIOV_QPS_INIT;
	case CIOV_QPS_INIT: return next == CIOV_QPS_INIT || next == CIOV_QPS_RTR;
	case CIOV_QPS_RTR: return next == CIOV_QPS_RTS;
	case CIOV_QPS_RTS: return next == CIOV_QPS_RTS || next == CIOV_QPS_SQD;
	case CIOV_QPS_SQD: return next == CIOV_QPS_RTS || next == CIOV_QPS_SQD;
	case CIOV_QPS_SQE: return next == CIOV_QPS_RTS && t == CIOV_QPT_UD;
	}
	return 0;
}

static uint32_t required(enum ciov_qp_type t, int cur, int next)
{
	int rc = t == CIOV_QPT_RC;

	if (cur == CIOV_QPS_RESET && next == CIOV_QPS_INIT)
		return CIOV_QP_PKEY_INDEX | CIOV_QP_PORT | (rc ? CIOV_QP_ACCESS_FLAGS : CIOV_QP_QKEY);
	if (cur == CIOV_QPS_INIT && next == CIOV_QPS_RTR && rc)
		return CIOV_QP_AV | CIOV_QP_PATH_MTU | CIOV_QP_DEST_QPN | CIOV_QP_RQ_PSN |
		       CIOV_QP_MAX_DEST_RD_ATOMIC | CIOV_QP_MIN_RNR_TIMER;
	if (cur == CIOV_QPS_RTR && next == CIOV_QPS_RTS)
		return CIOV_QP_SQ_PSN | (rc ? CIOV_QP_TIMEOUT | CIOV_QP_RETRY_CNT |
						      CIOV_QP_RNR_RETRY | CIOV_QP_MAX_QP_RD_ATOMIC
					    : 0);
	return 0;
}

static void every_transition_allowed_exactly_as_iba_says(void **state)
{
	for (size_t t = 0; t < 2; t++)
		for (int cur = 0; cur < CIOV_QPS_MAX; cur++)
			for (int next = 0; next < CIOV_QPS_MAX; next++) {
				uint32_t m = CIOV_QP_STATE | required(types[t], cur, next);
				int want = allowed(types[t], cur, next) ? 0 : -EINVAL;

				assert_int_equal(qp_transition_check(types[t], cur, next, m), want);
			}
}

static void every_required_attribute_missing_fails(void **state)
{
	for (size_t t = 0; t < 2; t++)
		for (int cur = 0; cur < CIOV_QPS_MAX; cur++)
			for (int next = 0; next < CIOV_QPS_MAX; next++) {
				uint32_t req = required(types[t], cur, next);

				if (!allowed(types[t], cur, next))
					continue;
				for (uint32_t bit = 1; bit; bit <<= 1)
					if (req & bit)
						assert_int_equal(qp_transition_check(types[t], cur, next,
										     CIOV_QP_STATE | (req & ~bit)),
								 -EINVAL);
			}
}

static void attributes_foreign_to_the_type_are_refused(void **state)
{
	/* QKEY is UD's, ACCESS_FLAGS and AV are RC's (IBA 11.2.4.2). */
	assert_int_equal(qp_transition_check(CIOV_QPT_RC, CIOV_QPS_RESET, CIOV_QPS_INIT,
					     CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT |
						     CIOV_QP_ACCESS_FLAGS | CIOV_QP_QKEY),
			 -EINVAL);
	assert_int_equal(qp_transition_check(CIOV_QPT_UD, CIOV_QPS_RESET, CIOV_QPS_INIT,
					     CIOV_QP_STATE | CIOV_QP_PKEY_INDEX | CIOV_QP_PORT |
						     CIOV_QP_QKEY | CIOV_QP_ACCESS_FLAGS),
			 -EINVAL);
	assert_int_equal(qp_transition_check(CIOV_QPT_UD, CIOV_QPS_INIT, CIOV_QPS_RTR,
					     CIOV_QP_STATE | CIOV_QP_AV),
			 -EINVAL);
	/* Nothing may ride along to RESET or ERR. */
	assert_int_equal(qp_transition_check(CIOV_QPT_RC, CIOV_QPS_RTS, CIOV_QPS_ERR,
					     CIOV_QP_STATE | CIOV_QP_QKEY),
			 -EINVAL);
	/* CUR_STATE only where IBA lists it. */
	assert_int_equal(qp_transition_check(CIOV_QPT_RC, CIOV_QPS_RESET, CIOV_QPS_INIT,
					     CIOV_QP_STATE | CIOV_QP_CUR_STATE | required(CIOV_QPT_RC, 0, 1)),
			 -EINVAL);
	assert_int_equal(qp_transition_check(CIOV_QPT_UD, CIOV_QPS_SQE, CIOV_QPS_RTS,
					     CIOV_QP_STATE | CIOV_QP_CUR_STATE | CIOV_QP_QKEY),
			 0);
}

static void hostile_states_and_types_are_refused(void **state)
{
	assert_int_equal(qp_transition_check(CIOV_QPT_RC, CIOV_QPS_MAX, CIOV_QPS_ERR, CIOV_QP_STATE),
			 -EINVAL);
	assert_int_equal(qp_transition_check(CIOV_QPT_RC, CIOV_QPS_RTS, 1000, CIOV_QP_STATE), -EINVAL);
	assert_int_equal(qp_transition_check(3, CIOV_QPS_RTS, CIOV_QPS_ERR, CIOV_QP_STATE), -EINVAL);
	assert_int_equal(qp_transition_check(CIOV_QPT_RC, (enum ciov_qp_state)-1, CIOV_QPS_ERR,
					     CIOV_QP_STATE),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_transition_allowed_exactly_as_iba_says),
		cmocka_unit_test(every_required_attribute_missing_fails),
		cmocka_unit_test(attributes_foreign_to_the_type_are_refused),
		cmocka_unit_test(hostile_states_and_types_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
