/* SPDX-License-Identifier: MIT */
/*
 * Shared setup for the queue tests: one real ciovd per test group with
 * passthrough endpoints "a" and "b", and helpers that build queues.
 */
#ifndef CIOV_TEST_QTEST_H
#define CIOV_TEST_QTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

extern struct th_daemon qt_d;
extern struct ciov_adapter *qt_ad;

/* Group setup/teardown: start ciovd, add endpoints "a" and "b"; stop it
 * and fail the group if ciovd did not exit cleanly (sanitizers). */
int qt_group_setup(void **state);
int qt_group_teardown(void **state);

/* One raw control call (libciov's lib_call), reply fds closed: to send
 * handles the library would never send. */
int qt_raw(struct ciov_endpoint *ep, enum ciov_ctl_op op, const void *rq, size_t rq_len,
	   void *rp, size_t rp_len, int nfds_out);
/* A destroy-style op (request: struct ciov_ctl_handle) on HANDLE. */
int qt_raw_handle(struct ciov_endpoint *ep, enum ciov_ctl_op op, uint32_t handle);
/* Ring memory of library objects (the test reads what post_* wrote). */
struct ciov_ring_ctrl *qt_sq_ctrl(struct ciov_qp *qp);
struct ciov_ring_ctrl *qt_rq_ctrl(struct ciov_qp *qp);
struct ciov_ring_ctrl *qt_cq_ctrl(struct ciov_cq *cq);
struct ciov_ring_ctrl *qt_srq_ctrl(struct ciov_srq *srq);
void *qt_slot(struct ciov_ring_ctrl *c, uint32_t idx);

/* Opens endpoint NAME (asserts). */
struct ciov_endpoint *qt_open(const char *name);
/* Adds endpoint NAME with extra JSON members EXTRA (e.g. "\"mode\":\"native\""). */
void qt_add_endpoint(const char *name, const char *extra);
void qt_del_endpoint(const char *name);
/* Usage of quota Q of endpoint NAME, from the admin socket. ciovd reclaims
 * a closed connection's objects when it sees the hangup, so this polls (up
 * to 2 s) until the usage equals WANT, and returns the last value. */
long long qt_usage(const char *name, const char *q, long long want);

/* A PD, a CQ and a QP of TYPE with DEPTH send and receive WRs (asserts). */
struct qt_qp {
	struct ciov_pd *pd;
	struct ciov_cq *cq;
	struct ciov_qp *qp;
};
void qt_make_qp(struct ciov_endpoint *ep, enum ciov_qp_type type, uint32_t depth,
		struct qt_qp *ret);
struct ciov_qp_init_attr qt_init_attr(enum ciov_qp_type type, struct ciov_cq *cq,
				      uint32_t depth);

/* Attributes that satisfy every transition's required mask. */
struct ciov_qp_attr_wire qt_good_attr(void);
/* Required attribute mask of CUR->NEXT for TYPE (STATE included); the
 * test's own copy of IBA 11.2.4.2, independent of ciovd's table. */
uint32_t qt_required(enum ciov_qp_type type, enum ciov_qp_state cur, enum ciov_qp_state next);
/* Whether CUR->NEXT exists for TYPE (IBA 10.3.1). */
int qt_allowed(enum ciov_qp_type type, enum ciov_qp_state cur, enum ciov_qp_state next);
/* Drives QP from RESET to STATE along legal transitions (asserts). */
void qt_drive(struct ciov_qp *qp, enum ciov_qp_state state);

#endif
