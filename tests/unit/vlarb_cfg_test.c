/* SPDX-License-Identifier: MIT */
/*
 * The parser of a port's SL->VL and VL arbitration settings (vlarb_cfg.c):
 * what `ciovctl port set` and the state file give it, good and hostile,
 * and the text forms `port show` prints, read back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "adapter/vlarb.h"

static char why[512];

static int apply(struct port_qos *q, const char *key, const char *value)
{
	why[0] = 0;
	return port_qos_apply(q, key, value, why, sizeof(why));
}

/* KEY VALUE is refused, naming NEEDLE, and Q is as it was. */
static void refused(const char *key, const char *value, const char *needle)
{
	struct port_qos q, before;

	port_qos_default(&q);
	before = q;
	assert_int_equal(apply(&q, key, value), -EINVAL);
	if (!strstr(why, needle))
		fail_msg("%s '%s': message '%s' does not name '%s'", key, value, why, needle);
	/* A refused table or limit leaves Q alone (sl2vl may be half done:
	 * the caller works on a copy). */
	if (strcmp(key, "sl2vl") != 0)
		assert_memory_equal(&q, &before, sizeof(q));
}

static void default_is_every_sl_on_vl0_served_by_the_low_table(void **state)
{
	struct port_qos q;
	char buf[256];

	(void)state;
	memset(&q, 0xa5, sizeof(q));
	port_qos_default(&q);
	assert_true(port_qos_is_default(&q));
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), 0);
	for (int sl = 0; sl < VLARB_SLS; sl++)
		assert_int_equal(q.sl2vl[sl], 0);
	assert_int_equal(q.high.n, 0);
	assert_int_equal(q.low.n, 1);
	assert_int_equal(q.low.e[0].vl, 0);
	assert_int_equal(q.low.e[0].weight, 255);
	assert_int_equal(q.high_limit, VLARB_LIMIT_DEFAULT);
	vlarb_table_str(&q.high, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	vlarb_table_str(&q.low, buf, sizeof(buf));
	assert_string_equal(buf, "0:255");
	port_qos_sl2vl_str(&q, buf, sizeof(buf));
	assert_string_equal(buf, "0:0,1:0,2:0,3:0,4:0,5:0,6:0,7:0,8:0,9:0,10:0,11:0,12:0,13:0,14:0,15:0");
}

static void good_settings_apply_and_print_back(void **state)
{
	struct port_qos q, r;
	char buf[256];

	(void)state;
	port_qos_default(&q);
	assert_int_equal(apply(&q, "sl2vl", "1:1,2:2,15:7"), 0);
	assert_int_equal(q.sl2vl[0], 0);
	assert_int_equal(q.sl2vl[1], 1);
	assert_int_equal(q.sl2vl[2], 2);
	assert_int_equal(q.sl2vl[15], 7);
	/* sl2vl changes the SLs it lists only */
	assert_int_equal(apply(&q, "sl2vl", "2:0"), 0);
	assert_int_equal(q.sl2vl[1], 1);
	assert_int_equal(q.sl2vl[2], 0);
	assert_int_equal(apply(&q, "vlarb_high", "1:255"), 0);
	assert_int_equal(apply(&q, "vlarb_low", "0:64,7:16,0:0"), 0);
	assert_int_equal(apply(&q, "high_limit", "255"), 0);
	assert_int_equal(q.high_limit, 255);
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), 0);
	assert_false(port_qos_is_default(&q));
	vlarb_table_str(&q.low, buf, sizeof(buf));
	assert_string_equal(buf, "0:64,7:16,0:0");

	/* The printed forms parse back to the same settings. */
	port_qos_default(&r);
	port_qos_sl2vl_str(&q, buf, sizeof(buf));
	assert_int_equal(apply(&r, "sl2vl", buf), 0);
	vlarb_table_str(&q.high, buf, sizeof(buf));
	assert_int_equal(apply(&r, "vlarb_high", buf), 0);
	vlarb_table_str(&q.low, buf, sizeof(buf));
	assert_int_equal(apply(&r, "vlarb_low", buf), 0);
	assert_int_equal(apply(&r, "high_limit", "255"), 0);
	assert_memory_equal(&q, &r, sizeof(q));

	/* Back to the default values: the default again. */
	assert_int_equal(apply(&q, "sl2vl", "1:0,15:0"), 0);
	assert_int_equal(apply(&q, "vlarb_high", "none"), 0);
	assert_int_equal(apply(&q, "vlarb_low", "0:255"), 0);
	assert_int_equal(apply(&q, "high_limit", "4"), 0);
	assert_true(port_qos_is_default(&q));
}

static void a_full_table_of_32_entries_is_taken_and_33_are_not(void **state)
{
	char v[512] = "";
	struct port_qos q;
	size_t o = 0;
	char buf[256];

	(void)state;
	for (int i = 0; i < VLARB_ENTRIES; i++)
		o += (size_t)snprintf(v + o, sizeof(v) - o, "%s%d:255", i ? "," : "", i % 8);
	port_qos_default(&q);
	assert_int_equal(apply(&q, "vlarb_low", v), 0);
	assert_int_equal(q.low.n, VLARB_ENTRIES);
	vlarb_table_str(&q.low, buf, sizeof(buf));
	assert_string_equal(buf, v);
	snprintf(v + o, sizeof(v) - o, ",0:1");
	refused("vlarb_low", v, "more than 32 entries");
}

static void hostile_values_are_refused_naming_the_token(void **state)
{
	static const struct {
		const char *key, *value, *needle;
	} bad[] = {
		{"sl2vl", "16:0", "SL 16 is out of range 0-15"},
		{"sl2vl", "0:8", "VL 8 is out of range 0-7"},
		{"sl2vl", "99999999999999999999:0", "out of range"},
		{"sl2vl", "-1:0", "'-1'"},
		{"sl2vl", "+1:0", "'+1'"},
		{"sl2vl", "0x1:0", "'0x1'"},
		{"sl2vl", "01:0", "leading zero"},
		{"sl2vl", " 1:0", "' 1'"},
		{"sl2vl", "1:0 ", "'0 '"},
		{"sl2vl", "1:0,", "empty entry"},
		{"sl2vl", ",1:0", "empty entry"},
		{"sl2vl", "1:0,,2:0", "empty entry"},
		{"sl2vl", "1", "entry '1' is not SL:VL"},
		{"sl2vl", "1:", "VL is missing"},
		{"sl2vl", ":1", "SL is missing"},
		{"sl2vl", "1:2:3", "'2:3'"},
		{"sl2vl", "1:1,1:2", "SL 1 is given twice"},
		{"sl2vl", "", "empty"},
		{"sl2vl", "none", "not SL:VL"},
		{"sl2vl", "1.5:0", "'1.5'"},
		{"sl2vl", "1:0;2:0", "'0;2:0'"},
		{"vlarb_high", "8:1", "VL 8 is out of range 0-7"},
		{"vlarb_high", "1:256", "weight 256 is out of range 0-255"},
		{"vlarb_high", "1:-1", "'-1'"},
		{"vlarb_high", "1:1e3", "'1e3'"},
		{"vlarb_high", "None", "not VL:weight"},
		{"vlarb_high", "none,1:1", "not VL:weight"},
		{"vlarb_low", "0:255,", "empty entry"},
		{"vlarb_low", "", "empty"},
		{"high_limit", "256", "high_limit: value 256 is out of range 0-255"},
		{"high_limit", "-1", "'-1'"},
		{"high_limit", "4k", "'4k'"},
		{"high_limit", "", "missing"},
		{"high_limit", "18446744073709551617", "out of range"},
		{"high_limit", "04", "leading zero"},
		{"bogus", "1", "unknown QoS key 'bogus'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].key, bad[i].value, bad[i].needle);
}

static void a_very_long_value_is_refused_whole(void **state)
{
	char v[4096];
	struct port_qos q;

	(void)state;
	memset(v, '1', sizeof(v) - 1);
	v[sizeof(v) - 1] = 0;
	port_qos_default(&q);
	assert_int_equal(apply(&q, "vlarb_low", v), -EINVAL);
	assert_non_null(strstr(why, "longer than"));
	assert_int_equal(apply(&q, "high_limit", v), -EINVAL);
	assert_true(strlen(why) < 200);
}

static void an_sl_on_a_vl_no_table_serves_is_refused(void **state)
{
	struct port_qos q;

	(void)state;
	port_qos_default(&q);
	assert_int_equal(apply(&q, "sl2vl", "3:2,5:2,6:4"), 0);
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "SL 3,5 map to VL 2"));
	/* a weight of 0 does not serve it either */
	assert_int_equal(apply(&q, "vlarb_high", "2:0,4:10"), 0);
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "VL 2"));
	assert_int_equal(apply(&q, "vlarb_low", "0:255,2:1"), 0);
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), 0);
	/* emptying the low table leaves SL 0 (VL 0) unserved */
	assert_int_equal(apply(&q, "vlarb_low", "none"), 0);
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "SL 0,1,2,4,7,8,9,10,11,12,13,14,15 map to VL 0"));
}

static void check_refuses_out_of_range_structs(void **state)
{
	struct port_qos q;

	(void)state;
	port_qos_default(&q);
	q.sl2vl[4] = 9;
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "SL 4 maps to VL 9"));
	port_qos_default(&q);
	q.low.n = VLARB_ENTRIES + 1;
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), -EINVAL);
	port_qos_default(&q);
	q.high.n = 1;
	q.high.e[0].vl = 200;
	assert_int_equal(port_qos_check(&q, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "VL 200"));
}

static void short_output_buffers_are_cut_and_terminated(void **state)
{
	struct port_qos q;
	char buf[8];

	(void)state;
	port_qos_default(&q);
	memset(buf, 'x', sizeof(buf));
	port_qos_sl2vl_str(&q, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_int_equal(apply(&q, "vlarb_low", "0:255,1:255,2:255"), 0);
	vlarb_table_str(&q.low, buf, 4);
	assert_string_equal(buf, "0:2");
	vlarb_table_str(&q.low, buf, 1);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_is_every_sl_on_vl0_served_by_the_low_table),
		cmocka_unit_test(good_settings_apply_and_print_back),
		cmocka_unit_test(a_full_table_of_32_entries_is_taken_and_33_are_not),
		cmocka_unit_test(hostile_values_are_refused_naming_the_token),
		cmocka_unit_test(a_very_long_value_is_refused_whole),
		cmocka_unit_test(an_sl_on_a_vl_no_table_serves_is_refused),
		cmocka_unit_test(check_refuses_out_of_range_structs),
		cmocka_unit_test(short_output_buffers_are_cut_and_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
