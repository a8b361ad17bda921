/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the provisioning tests: a fresh ciovd per test with a
 * native endpoint "vm1" and a passthrough endpoint "vm2", a libciov tenant,
 * and admin calls that skip the test while an operation's handler is not
 * written yet (-EOPNOTSUPP).
 */
#ifndef CIOV_TEST_PROV_UTIL_H
#define CIOV_TEST_PROV_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

/* Tenant-side functions of parts still being written: weak, so that these
 * tests link before they land and skip (PT_NEED) until then. */
#pragma weak ciov_open_seg
#pragma weak ciov_open_mr
#pragma weak ciov_dereg_mr
#pragma weak ciov_detach_seg
#pragma weak ciov_open_cq
#pragma weak ciov_destroy_cq
#pragma weak ciov_open_srq
#pragma weak ciov_destroy_srq
#pragma weak ciov_open_qp
#pragma weak ciov_destroy_qp

struct pt {
	struct th_daemon d;
	struct ciov_adapter *ad;  /* tenant side, opened by pt_tenant() */
	struct ciov_endpoint *ep;
};

/* cmocka fixtures: start ciovd with vm1 (native) and vm2 (passthrough);
 * stop it, failing the test if ciovd does not exit 0 (sanitizers). */
int pt_setup(void **state);
int pt_teardown(void **state);

/* Opens endpoint NAME as a tenant (closed by teardown). */
void pt_tenant(struct pt *p, const char *name);
/* Closes the tenant connection now. */
void pt_tenant_close(struct pt *p);

/* Runs a provisioning request that must succeed, and returns its reply
 * (caller puts). Skips the test (exit 77 in the end) with the reason
 * printed when the daemon answers EOPNOTSUPP; fails on any other error. */
struct json_object *pt_prov(struct pt *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, returning the reply's "handle". */
uint32_t pt_prov_handle(struct pt *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs a request that must fail with errno WANT and whose message
 * contains NEEDLE (if not NULL). Skips on an unexpected EOPNOTSUPP. */
void pt_expect(struct pt *p, int want, const char *needle, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* usage.KEY of endpoint NAME (endpoint.show), -1 on error. */
long long pt_usage(struct pt *p, const char *name, const char *key);
/* counters.ctl_ops of endpoint NAME. */
long long pt_ctl_ops(struct pt *p, const char *name);

/* A memfd of LEN bytes, sealed against shrinking when SEAL. */
int pt_memfd(size_t len, int seal);

/* Skips the test with REASON (printed). */
#define PT_SKIP(...)                                                           \
	do {                                                                   \
		printf("SKIP: " __VA_ARGS__);                                  \
		printf("\n");                                                  \
		pt_skipped++;                                                  \
		skip();                                                        \
	} while (0)
/* Skips while libciov lacks FN (a weak symbol above). */
#define PT_NEED(fn)                                                            \
	do {                                                                   \
		if (!(fn))                                                     \
			PT_SKIP("libciov has no " #fn " yet");                 \
	} while (0)

extern int pt_skipped;

/* Runs the tests: exit 1 if any failed, 77 if any skipped, else 0. */
#define PT_RUN(tests)                                                          \
	pt_result(cmocka_run_group_tests(tests, NULL, NULL))
int pt_result(int failed);

#define PT_TEST(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

#endif
