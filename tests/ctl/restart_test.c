/* SPDX-License-Identifier: MIT */
/* Persistence: ciovd killed with SIGKILL and restarted on the same dirs
 * comes back with the same endpoints, owners, modes, quotas and GIDs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "harness.h"

static struct th_daemon d;

static int teardown(void **state)
{
	th_daemon_cleanup(&d);
	return 0;
}

/* endpoint.show without the live parts (usage, counters, connections). */
static char *config_of_all(void)
{
	struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"endpoint.show\"}");
	struct json_object *arr, *out = json_object_new_array();
	char *s;

	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "endpoints", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct json_object *c = json_object_new_object();
		const char *keep[] = {"name", "id", "mode", "owner", "gid", "quota"};

		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			struct json_object *v;

			assert_true(json_object_object_get_ex(e, keep[k], &v));
			json_object_object_add(c, keep[k], json_object_get(v));
		}
		json_object_array_add(out, c);
	}
	s = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
	json_object_put(r);
	return s;
}

static void sigkill_and_restart_keeps_configuration(void **state)
{
	struct json_object *r;
	char *before, *after, gone_gid[64];

	assert_int_equal(th_daemon_start(&d), 0);
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"vm1\",\"mode\":\"native\",\"owner\":\"1000:1001\",\"quota\":{\"qps\":7,\"mr_bytes\":123456789}}"));
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"c2\",\"owner\":\"33\"}"));
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"gone\"}");
	snprintf(gone_gid, sizeof(gone_gid), "%s",
		 json_object_get_string(json_object_object_get(json_object_object_get(r, "endpoint"), "gid")));
	json_object_put(r);
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"last\"}"));
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.del\",\"name\":\"gone\"}"));
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.set\",\"name\":\"c2\",\"quota\":{\"cqs\":3}}"));
	before = config_of_all();
	th_daemon_kill(&d);
	assert_int_equal(th_daemon_restart(&d), 0);
	after = config_of_all();
	assert_string_equal(before, after);
	/* And it still works: a tenant opens the restored endpoint. */
	{
		struct ciov_adapter *ad;
		struct ciov_endpoint *ep;
		struct ciov_endpoint_attr attr;

		assert_int_equal(ciov_adapter_open(NULL, &ad), 0);
		assert_int_equal(ciov_open_endpoint(ad, "vm1", &ep), 0);
		assert_int_equal(ciov_query_endpoint(ep, &attr), 0);
		assert_int_equal(attr.mode, CIOV_MODE_NATIVE);
		assert_int_equal(attr.quota[CIOV_QUOTA_qps], 7);
		assert_int_equal(attr.quota[CIOV_QUOTA_mr_bytes], 123456789);
		ciov_close_endpoint(ep);
		ciov_adapter_close(ad);
	}
	/* A new endpoint does not reuse the deleted one's GID. */
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"new\"}");
	assert_string_not_equal(json_object_get_string(json_object_object_get(
					json_object_object_get(r, "endpoint"), "gid")),
				gone_gid);
	json_object_put(r);
	assert_int_equal(th_daemon_stop(&d), 0);
	free(before);
	free(after);
}

static void corrupt_state_file_stops_start_with_reason(void **state)
{
	char path[PATH_MAX + 32];
	FILE *f;

	assert_int_equal(th_daemon_start(&d), 0);
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"a\"}"));
	assert_int_equal(th_daemon_stop(&d), 0);
	snprintf(path, sizeof(path), "%s/state.json", d.st);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\":1,\"gid_prefix\":\"fd00000000000000\",\"endpoints\":[{\"id\":1}]", f);
	fclose(f);
	/* Refuses to start rather than come up with half the configuration. */
	assert_int_equal(th_daemon_restart(&d), -ECHILD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(sigkill_and_restart_keeps_configuration, teardown),
		cmocka_unit_test_teardown(corrupt_state_file_stops_start_with_reason, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
