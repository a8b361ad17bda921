/* SPDX-License-Identifier: MIT */
/*
 * The QoS rate objects through a real ciovd's admin socket: every bad
 * setting is refused with its errno and a message and changes nothing
 * (rate.show before == after); the good flows; persistence across SIGKILL;
 * a deleted endpoint's leaf leaves its group.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct th_daemon d;

#define GBIT(n) ((unsigned long long)(n) * 125000000ull) /* n Gbit/s in bytes/s */

static int setup(void **state)
{
	(void)state;
	if (th_daemon_start(&d))
		return -1;
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"vm1\"}"));
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"vm2\"}"));
	json_object_put(th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"vm3\"}"));
	return 0;
}

static int teardown(void **state)
{
	int rc;

	(void)state;
	rc = d.pid > 0 ? th_daemon_stop(&d) : 0;
	th_daemon_cleanup(&d);
	return rc; /* a sanitizer report fails the test */
}

static void ok(const char *req)
{
	struct json_object *r = th_admin_ok(&d, "%s", req);

	assert_non_null(r);
	json_object_put(r);
}

/* rate.show's rates as one string. */
static char *show_all(void)
{
	struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"rate.show\"}"), *arr;
	char *s;

	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "rates", &arr));
	s = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	return s;
}

/* One rate object, as rate.show NAME gives it (caller puts). */
static struct json_object *show_one(const char *name)
{
	struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"rate.show\",\"name\":\"%s\"}", name);
	struct json_object *arr, *o;

	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "rates", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	o = json_object_get(json_object_array_get_idx(arr, 0));
	json_object_put(r);
	return o;
}

static const char *parent_of(struct json_object *o)
{
	struct json_object *p;

	assert_true(json_object_object_get_ex(o, "parent", &p));
	return p ? json_object_get_string(p) : NULL;
}

/* REQ is refused with ERR, a message containing WORDS, and no change. */
static void refused(const char *req, int err, const char *words)
{
	char *before = show_all(), *after;
	struct json_object *r = th_admin(&d, "%s", req), *e;

	assert_non_null(r);
	if (th_ok(r) || th_errno(r) != err)
		fail_msg("%s: wanted errno %d, got %s", req, err, json_object_to_json_string(r));
	assert_true(json_object_object_get_ex(r, "error", &e));
	if (!strstr(json_object_get_string(e), words))
		fail_msg("%s: message '%s' lacks '%s'", req, json_object_get_string(e), words);
	json_object_put(r);
	after = show_all();
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* g1 (cap 10G) holding vm1 (share 4G) and g2 (share 2G, cap 5G) holding vm2. */
static void build_tree(void)
{
	ok("{\"cmd\":\"rate.add\",\"name\":\"g1\",\"tx_max\":1250000000}");
	ok("{\"cmd\":\"rate.add\",\"name\":\"g2\",\"parent\":\"g1\",\"tx_share\":250000000,\"tx_max\":625000000}");
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm1\",\"parent\":\"g1\",\"tx_share\":500000000}");
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"parent\":\"g2\",\"tx_weight\":3,\"tx_priority\":2}");
}

static void fresh_endpoints_have_leaves_without_settings(void **state)
{
	struct json_object *o = show_one("vm1");

	(void)state;
	assert_string_equal(json_object_get_string(json_object_object_get(o, "type")), "leaf");
	assert_int_equal(th_get_int(o, "tx_share", NULL), 0);
	assert_int_equal(th_get_int(o, "tx_max", NULL), 0);
	assert_int_equal(th_get_int(o, "tx_weight", NULL), 0);
	assert_int_equal(th_get_int(o, "tx_priority", NULL), 0);
	assert_null(parent_of(o));
	json_object_put(o);
}

static void set_add_nest_noparent_and_del_work(void **state)
{
	struct json_object *o;
	char *s;

	(void)state;
	build_tree();
	o = show_one("vm2");
	assert_string_equal(parent_of(o), "g2");
	assert_int_equal(th_get_int(o, "tx_weight", NULL), 3);
	assert_int_equal(th_get_int(o, "tx_priority", NULL), 2);
	json_object_put(o);
	o = show_one("g2");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "type")), "node");
	assert_string_equal(parent_of(o), "g1");
	assert_int_equal(th_get_int(o, "tx_max", NULL), 625000000);
	json_object_put(o);
	/* set changes only what it names */
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"tx_max\":125000000}");
	o = show_one("vm2");
	assert_int_equal(th_get_int(o, "tx_weight", NULL), 3);
	assert_int_equal(th_get_int(o, "tx_max", NULL), 125000000);
	json_object_put(o);
	/* leaves first (endpoint order), then groups (creation order) */
	s = show_all();
	assert_non_null(strstr(s, "\"vm3\""));
	assert_true(strstr(s, "\"vm3\"") < strstr(s, "\"name\":\"g1\""));
	assert_true(strstr(s, "\"name\":\"g1\"") < strstr(s, "\"name\":\"g2\""));
	free(s);
	/* noparent, then the emptied groups can go, innermost first */
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"parent\":null}");
	o = show_one("vm2");
	assert_null(parent_of(o));
	json_object_put(o);
	ok("{\"cmd\":\"rate.del\",\"name\":\"g2\"}");
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm1\",\"parent\":null}");
	ok("{\"cmd\":\"rate.del\",\"name\":\"g1\"}");
	s = show_all();
	assert_null(strstr(s, "\"g1\""));
	free(s);
	/* the name is free again */
	ok("{\"cmd\":\"rate.add\",\"name\":\"g1\"}");
}

static void bad_settings_are_refused_and_change_nothing(void **state)
{
	(void)state;
	build_tree();
	/* unknown objects */
	refused("{\"cmd\":\"rate.set\",\"name\":\"nope\",\"tx_max\":1}", ENOENT, "no endpoint or rate group nope");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"parent\":\"nope\"}", ENOENT, "no rate group nope");
	refused("{\"cmd\":\"rate.del\",\"name\":\"nope\"}", ENOENT, "no rate group nope");
	refused("{\"cmd\":\"rate.show\",\"name\":\"nope\"}", ENOENT, "nope");
	/* share above its own cap; both at once and one at a time */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_share\":300,\"tx_max\":200}", EINVAL, "above its own tx_max");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm1\",\"tx_max\":400000000}", EINVAL, "above its own tx_max");
	/* share or cap above an ancestor's cap (g1: 10G; vm2 is under g2 under g1) */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm1\",\"tx_share\":1250000001}", EINVAL, "of its ancestor g1");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"tx_share\":625000001}", EINVAL, "of its ancestor g2");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"tx_max\":700000000}", EINVAL, "of its ancestor g2");
	refused("{\"cmd\":\"rate.add\",\"name\":\"g3\",\"parent\":\"g2\",\"tx_max\":700000000}", EINVAL, "of its ancestor g2");
	/* lowering an ancestor's cap below what is under it */
	refused("{\"cmd\":\"rate.set\",\"name\":\"g1\",\"tx_max\":500000000}", EINVAL, "ancestor g1");
	/* the children's shares add up above the parent's cap: 4G + 2G + 5G > 10G */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"parent\":\"g1\",\"tx_share\":625000000}", EINVAL,
		"children of g1 add up to");
	/* parent loops: a group under itself, or under its own descendant */
	refused("{\"cmd\":\"rate.set\",\"name\":\"g1\",\"parent\":\"g1\"}", EINVAL, "parent loop");
	refused("{\"cmd\":\"rate.set\",\"name\":\"g1\",\"parent\":\"g2\"}", EINVAL, "parent loop");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"parent\":\"vm1\"}", EINVAL, "only groups can be parents");
	/* absurd values */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_max\":125000000001}", EINVAL, "1 Tbit/s");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_share\":18446744073709551615}", EINVAL, "above its limit");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_max\":-1}", EINVAL, "non-negative integer");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_max\":1.5}", EINVAL, "non-negative integer");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_max\":\"1gbit\"}", EINVAL, "non-negative integer");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_weight\":101}", EINVAL, "tx_weight");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_priority\":8}", EINVAL, "tx_priority");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"parent\":7}", EINVAL, "group name or null");
	/* one bad member spoils the whole request: the good one is not applied */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_weight\":5,\"tx_priority\":99}", EINVAL, "tx_priority");
	/* unknown members, missing names */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm3\",\"tx_min\":5}", EINVAL, "unknown member 'tx_min'");
	refused("{\"cmd\":\"rate.del\",\"name\":\"g2\",\"force\":true}", EINVAL, "unknown member 'force'");
	refused("{\"cmd\":\"rate.set\",\"tx_max\":5}", EINVAL, "needs \"name\"");
	/* groups: in use, bad names, clashes */
	refused("{\"cmd\":\"rate.del\",\"name\":\"g1\"}", EBUSY, "has 2 children");
	refused("{\"cmd\":\"rate.del\",\"name\":\"vm1\"}", EINVAL, "is an endpoint");
	refused("{\"cmd\":\"rate.add\",\"name\":\"-bad\"}", EINVAL, "bad rate group name");
	refused("{\"cmd\":\"rate.add\",\"name\":\"vm1\"}", EEXIST, "already exists");
	refused("{\"cmd\":\"rate.add\",\"name\":\"g1\"}", EEXIST, "already exists");
	refused("{\"cmd\":\"endpoint.add\",\"name\":\"g1\"}", EEXIST, "already exists");
}

static void groups_nest_at_most_eight_deep(void **state)
{
	(void)state;
	ok("{\"cmd\":\"rate.add\",\"name\":\"d0\"}");
	for (int i = 1; i <= 8; i++) {
		char req[128];

		snprintf(req, sizeof(req), "{\"cmd\":\"rate.add\",\"name\":\"d%d\",\"parent\":\"d%d\"}", i, i - 1);
		ok(req);
	}
	refused("{\"cmd\":\"rate.add\",\"name\":\"d9\",\"parent\":\"d8\"}", EINVAL, "more than 8 groups");
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm1\",\"parent\":\"d8\"}", EINVAL, "more than 8 groups");
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm1\",\"parent\":\"d7\"}");
}

static void deleting_an_endpoint_detaches_its_leaf(void **state)
{
	char *s;

	(void)state;
	build_tree();
	refused("{\"cmd\":\"rate.del\",\"name\":\"g2\"}", EBUSY, "has 1 children");
	ok("{\"cmd\":\"endpoint.del\",\"name\":\"vm2\"}");
	s = show_all();
	assert_null(strstr(s, "\"vm2\""));
	free(s);
	ok("{\"cmd\":\"rate.del\",\"name\":\"g2\"}");
	/* g1's share budget has room again for a new endpoint's guarantee */
	ok("{\"cmd\":\"endpoint.add\",\"name\":\"vm2\"}");
	ok("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"parent\":\"g1\",\"tx_share\":750000000}");
}

static void settings_survive_sigkill_and_restart(void **state)
{
	char *before, *after;

	(void)state;
	build_tree();
	ok("{\"cmd\":\"rate.add\",\"name\":\"late\",\"tx_share\":1}");
	/* a group whose parent was created after it: restore order */
	ok("{\"cmd\":\"rate.set\",\"name\":\"g1\",\"parent\":\"late\"}");
	before = show_all();
	th_daemon_kill(&d);
	assert_int_equal(th_daemon_restart(&d), 0);
	after = show_all();
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* and the restored tree still enforces its rules */
	refused("{\"cmd\":\"rate.set\",\"name\":\"vm2\",\"tx_max\":700000000}", EINVAL, "of its ancestor g2");
	refused("{\"cmd\":\"rate.del\",\"name\":\"late\"}", EBUSY, "children");
}

/* Rewrites state.json with SED (a sed expression), restarts: must fail. */
static void restart_refused_after(const char *sed)
{
	char cmd[PATH_MAX * 2 + 128];

	th_daemon_kill(&d);
	snprintf(cmd, sizeof(cmd), "sed -i -e '%s' '%s/state.json'", sed, d.st);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(th_daemon_restart(&d), -ECHILD);
}

static void bad_rate_in_state_file_stops_start(void **state)
{
	(void)state;
	build_tree();
	/* g2's cap (625000000) raised above g1's: a rule broken in the file */
	restart_refused_after("s/\"tx_max\":625000000/\"tx_max\":9625000000/");
}

static void out_of_range_rate_in_state_file_stops_start(void **state)
{
	(void)state;
	build_tree();
	restart_refused_after("s/\"tx_weight\":3/\"tx_weight\":300/");
}

static void unknown_parent_in_state_file_stops_start(void **state)
{
	(void)state;
	build_tree();
	restart_refused_after("s/\"parent\":\"g2\"/\"parent\":\"gX\"/");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(fresh_endpoints_have_leaves_without_settings),
		T(set_add_nest_noparent_and_del_work),
		T(bad_settings_are_refused_and_change_nothing),
		T(groups_nest_at_most_eight_deep),
		T(deleting_an_endpoint_detaches_its_leaf),
		T(settings_survive_sigkill_and_restart),
		T(bad_rate_in_state_file_stops_start),
		T(out_of_range_rate_in_state_file_stops_start),
		T(unknown_parent_in_state_file_stops_start),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
