/* SPDX-License-Identifier: MIT */
/*
 * The provisioning commands' JSON codec, bad flows first: every command
 * refuses unknown members, wrong types, out-of-range values and missing
 * members before anything reaches the adapter; endpoints are checked;
 * every fd that comes with a request is closed whatever happens; hostile
 * requests never crash ciovd.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prov_util.h"

/* One valid request per command (members after "endpoint"). */
static const struct tmpl {
	const char *cmd;
	const char *members;
	int nfds;
	bool query; /* allowed to a passthrough endpoint's manager */
} tmpls[] = {
	{"pd.alloc", "", 0, false},
	{"pd.dealloc", "\"handle\":1", 0, false},
	{"seg.attach", "\"iova\":65536,\"length\":65536,\"fds\":1", 1, false},
	{"seg.detach", "\"handle\":1", 0, false},
	{"mr.reg", "\"pd\":1,\"iova\":65536,\"length\":4096,\"access\":[\"local_write\"]", 0, false},
	{"mr.dereg", "\"handle\":1", 0, false},
	{"cq.create", "\"cqe\":16", 0, false},
	{"cq.destroy", "\"handle\":1", 0, false},
	{"srq.create", "\"pd\":1,\"max_wr\":16,\"max_sge\":1", 0, false},
	{"srq.modify", "\"handle\":1,\"mask\":[\"srq_limit\"],\"srq_limit\":4", 0, false},
	{"srq.destroy", "\"handle\":1", 0, false},
	{"qp.create",
	 "\"pd\":1,\"qp_type\":\"rc\",\"send_cq\":1,\"recv_cq\":1,\"cap\":{\"max_send_wr\":16,"
	 "\"max_recv_wr\":16,\"max_send_sge\":1,\"max_recv_sge\":1}",
	 0, false},
	{"qp.modify", "\"handle\":1,\"mask\":[\"state\"],\"attr\":{\"qp_state\":\"init\"}", 0, false},
	{"qp.query", "\"handle\":1", 0, true},
	{"qp.destroy", "\"handle\":1", 0, false},
	{"ah.create", "\"pd\":1,\"attr\":{\"dgid\":\"fd00::1\",\"port_num\":1}", 0, false},
	{"ah.destroy", "\"handle\":1", 0, false},
	{"obj.list", "\"type\":\"pd\"", 0, true},
};
#define NTMPLS (sizeof(tmpls) / sizeof(tmpls[0]))

/* Sends template T to endpoint EP with EXTRA members appended; a fresh
 * memfd goes with it when the command takes one. */
static struct json_object *send_tmpl(struct pt *p, const struct tmpl *t, const char *ep,
				     const char *extra)
{
	struct json_object *r;
	int fd = t->nfds ? pt_memfd(65536, 1) : -1;

	r = th_admin_fds(&p->d, &fd, t->nfds, "{\"cmd\":\"%s\",\"endpoint\":\"%s\"%s%s%s}", t->cmd,
			 ep, *t->members ? "," : "", t->members, extra);
	if (fd >= 0)
		close(fd);
	return r;
}

static void expect_err(struct json_object *r, int want, const char *needle, const char *what)
{
	struct json_object *m;
	char msg[512], all[512];
	int got = th_errno(r);
	bool ok = th_ok(r);

	snprintf(all, sizeof(all), "%s", r ? json_object_to_json_string(r) : "(no reply)");
	snprintf(msg, sizeof(msg), "%s",
		 r && json_object_object_get_ex(r, "error", &m) ? json_object_get_string(m) : "");
	json_object_put(r);
	if (ok || got != want || (needle && !strstr(msg, needle)))
		fail_msg("%s: want errno %d mentioning '%s', got %s", what, want, needle ? needle : "",
			 all);
}

static void every_command_rejects_an_unknown_member_before_the_adapter_sees_it(void **state)
{
	struct pt *p = *state;
	long long ops = pt_ctl_ops(p, "vm1");

	for (size_t i = 0; i < NTMPLS; i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "unknown member 'zz_bogus' for %s", tmpls[i].cmd);
		expect_err(send_tmpl(p, &tmpls[i], "vm1", ",\"zz_bogus\":1"), EINVAL, needle,
			   tmpls[i].cmd);
	}
	/* Nothing reached a control operation. */
	assert_int_equal(pt_ctl_ops(p, "vm1"), ops);
}

static void every_command_needs_an_existing_endpoint(void **state)
{
	struct pt *p = *state;

	for (size_t i = 0; i < NTMPLS; i++) {
		const struct tmpl *t = &tmpls[i];
		int fd = t->nfds ? pt_memfd(65536, 1) : -1;
		struct json_object *r;

		expect_err(send_tmpl(p, t, "nope", ""), ENOENT, "no endpoint nope", t->cmd);
		r = th_admin_fds(&p->d, &fd, t->nfds, "{\"cmd\":\"%s\"%s%s}", t->cmd,
				 *t->members ? "," : "", t->members);
		expect_err(r, EINVAL, "needs a string member \"endpoint\"", t->cmd);
		r = th_admin_fds(&p->d, &fd, t->nfds, "{\"cmd\":\"%s\",\"endpoint\":7%s%s}", t->cmd,
				 *t->members ? "," : "", t->members);
		expect_err(r, EINVAL, "\"endpoint\"", t->cmd);
		if (fd >= 0)
			close(fd);
	}
}

static void resource_commands_on_a_passthrough_endpoint_are_eperm(void **state)
{
	struct pt *p = *state;

	for (size_t i = 0; i < NTMPLS; i++) {
		struct json_object *r = send_tmpl(p, &tmpls[i], "vm2", "");

		if (tmpls[i].query) {
			assert_true(th_ok(r) || th_errno(r) == ENOENT || th_errno(r) == EOPNOTSUPP);
			json_object_put(r);
			continue;
		}
		expect_err(r, EPERM, "endpoint vm2 is passthrough: its tenant creates its own resources",
			   tmpls[i].cmd);
	}
}

static void unknown_command_is_einval(void **state)
{
	struct pt *p = *state;

	pt_expect(p, EINVAL, "unknown command 'pd.frobnicate'",
		  "{\"cmd\":\"pd.frobnicate\",\"endpoint\":\"vm1\"}");
	pt_expect(p, EINVAL, "unknown command", "{\"cmd\":\"pd_alloc\",\"endpoint\":\"vm1\"}");
	/* tenant-only operations are not commands */
	pt_expect(p, EINVAL, "unknown command", "{\"cmd\":\"pd.open\",\"endpoint\":\"vm1\",\"handle\":1}");
	pt_expect(p, EINVAL, "unknown command", "{\"cmd\":\"chan.create\",\"endpoint\":\"vm1\"}");
}

/* Members that must be refused, with the path the message must name. */
static const struct bad {
	const char *cmd;
	const char *members;
	const char *needle;
} bads[] = {
	{"pd.dealloc", "\"handle\":-1", "bad member 'handle' for pd.dealloc: must be an integer 0..4294967295"},
	{"pd.dealloc", "\"handle\":4294967296", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":1.5", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":true", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":null", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":[]", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":{}", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":\"\"", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":\" 1\"", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":\"-1\"", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":\"0x\"", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":\"0x100000000\"", "bad member 'handle'"},
	{"pd.dealloc", "\"handle\":\"1 \"", "bad member 'handle'"},
	{"mr.reg", "\"pd\":1,\"iova\":\"0x10000000000000000\",\"length\":1", "bad member 'iova'"},
	{"mr.reg", "\"pd\":1,\"iova\":1,\"length\":-5", "bad member 'length'"},
	{"mr.reg", "\"pd\":1,\"iova\":1,\"length\":1,\"access\":[\"local_write\",\"bogus\"]",
	 "'bogus' is not one of local_write, remote_write, remote_read, remote_atomic"},
	{"mr.reg", "\"pd\":1,\"iova\":1,\"length\":1,\"access\":[1]", "bad member 'access'"},
	{"mr.reg", "\"pd\":1,\"iova\":1,\"length\":1,\"access\":\"local_write\"", "bad member 'access'"},
	{"mr.reg", "\"pd\":1,\"iova\":1,\"length\":1,\"access\":4294967296", "bad member 'access'"},
	{"qp.create",
	 "\"pd\":1,\"qp_type\":\"xrc\",\"send_cq\":1,\"recv_cq\":1,\"cap\":{}",
	 "bad member 'qp_type' for qp.create: must be one of rc, ud"},
	{"qp.create", "\"pd\":1,\"qp_type\":2,\"send_cq\":1,\"recv_cq\":1,\"cap\":{}", "bad member 'qp_type'"},
	{"qp.create", "\"pd\":1,\"qp_type\":\"rc\",\"send_cq\":1,\"recv_cq\":1,\"cap\":[]",
	 "bad member 'cap' for qp.create: must be an object"},
	{"qp.create",
	 "\"pd\":1,\"qp_type\":\"rc\",\"send_cq\":1,\"recv_cq\":1,\"cap\":{\"max_send_wr\":\"many\"}",
	 "bad member 'cap.max_send_wr'"},
	{"qp.create", "\"pd\":1,\"qp_type\":\"rc\",\"send_cq\":1,\"recv_cq\":1,\"cap\":{\"rsvd\":0}",
	 "unknown member 'cap.rsvd' for qp.create"},
	{"qp.create", "\"pd\":1,\"qp_type\":\"rc\",\"send_cq\":1,\"recv_cq\":1,\"cap\":{},\"sq_sig_all\":2",
	 "bad member 'sq_sig_all' for qp.create: must be true or false"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"state\"],\"attr\":{\"qp_state\":\"running\"}",
	 "bad member 'attr.qp_state' for qp.modify: must be one of reset, init, rtr, rts, sqd, sqe, err"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"state\",\"colour\"],\"attr\":{}",
	 "bad member 'mask' for qp.modify: 'colour' is not one of state,"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"path_mtu\"],\"attr\":{\"path_mtu\":1500}",
	 "bad member 'attr.path_mtu' for qp.modify: must be one of 256, 512, 1024, 2048, 4096"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"path_mtu\"],\"attr\":{\"path_mtu\":3}",
	 "bad member 'attr.path_mtu'"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"av\"],\"attr\":{\"ah_attr\":{\"sl\":256}}",
	 "bad member 'attr.ah_attr.sl' for qp.modify: must be an integer 0..255"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"av\"],\"attr\":{\"ah_attr\":{\"dgid\":\"fd00::g\"}}",
	 "bad member 'attr.ah_attr.dgid' for qp.modify: must be a GID"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"av\"],\"attr\":{\"ah_attr\":{\"dlid\":65536}}",
	 "bad member 'attr.ah_attr.dlid'"},
	{"qp.modify", "\"handle\":1,\"mask\":[\"av\"],\"attr\":{\"ah_attr\":{\"nope\":1}}",
	 "unknown member 'attr.ah_attr.nope' for qp.modify"},
	{"ah.create", "\"pd\":1,\"attr\":{\"dgid\":1}", "bad member 'attr.dgid' for ah.create"},
	{"srq.modify", "\"handle\":1,\"mask\":[\"max_sge\"]", "bad member 'mask' for srq.modify"},
	{"obj.list", "\"type\":\"vm\"",
	 "bad member 'type' for obj.list: must be one of seg, pd, mr, channel, cq, srq, qp, ah"},
	{"obj.list", "\"type\":\"pd\",\"start\":5", "unknown member 'start' for obj.list"},
	{"cq.create", "\"cqe\":16,\"channel\":1", "unknown member 'channel' for cq.create"},
};

static void wrong_types_and_ranges_are_einval_naming_the_member(void **state)
{
	struct pt *p = *state;
	long long ops = pt_ctl_ops(p, "vm1");

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		pt_expect(p, EINVAL, bads[i].needle, "{\"cmd\":\"%s\",\"endpoint\":\"vm1\",%s}",
			  bads[i].cmd, bads[i].members);
	assert_int_equal(pt_ctl_ops(p, "vm1"), ops);
}

static const struct bad missing[] = {
	{"pd.dealloc", "", "missing member 'handle' for pd.dealloc"},
	{"mr.reg", "\"pd\":1,\"iova\":1", "missing member 'length' for mr.reg"},
	{"cq.create", "", "missing member 'cqe' for cq.create"},
	{"srq.create", "\"pd\":1,\"max_wr\":1", "missing member 'max_sge' for srq.create"},
	{"qp.create", "\"pd\":1,\"qp_type\":\"rc\",\"send_cq\":1,\"recv_cq\":1",
	 "missing member 'cap' for qp.create"},
	{"qp.modify", "\"handle\":1,\"attr\":{}", "missing member 'mask' for qp.modify"},
	{"ah.create", "\"pd\":1", "missing member 'attr' for ah.create"},
	{"obj.list", "", "missing member 'type' for obj.list"},
};

static void missing_required_member_is_einval(void **state)
{
	struct pt *p = *state;

	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		pt_expect(p, EINVAL, missing[i].needle, "{\"cmd\":\"%s\",\"endpoint\":\"vm1\"%s%s}",
			  missing[i].cmd, *missing[i].members ? "," : "", missing[i].members);
}

/* "fds" that disagrees with the fds received, and fds sent to a command
 * that takes none: refused, and ciovd closes every fd it received. */
static void fd_count_mismatch_closes_every_received_fd(void **state)
{
	struct pt *p = *state;
	int base, fd = pt_memfd(65536, 1);

	/* warm up: the admin connection and anything allocated lazily */
	json_object_put(th_admin(&p->d, "{\"cmd\":\"adapter.show\"}"));
	base = th_daemon_nfds(&p->d);
	assert_true(base > 0);
	for (int i = 0; i < 100; i++) {
		struct json_object *r;

		r = th_admin(&p->d, "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":65536,\"length\":65536,\"fds\":1}");
		expect_err(r, EINVAL, "fds", "fds:1 without an fd");
		r = th_admin_fds(&p->d, &fd, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":65536,\"length\":65536,\"fds\":0}");
		expect_err(r, EINVAL, "fds", "an fd with fds:0");
		r = th_admin_fds(&p->d, &fd, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":65536,\"length\":65536}");
		expect_err(r, EINVAL, "fds", "an fd without fds");
		r = th_admin_fds(&p->d, &fd, 1, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm1\",\"fds\":1}");
		expect_err(r, EINVAL, "pd.alloc takes no fds", "an fd to pd.alloc");
		/* valid count, refused later: the codec and the endpoint check */
		r = th_admin_fds(&p->d, &fd, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":\"x\",\"length\":65536,\"fds\":1}");
		expect_err(r, EINVAL, "bad member 'iova'", "bad iova with an fd");
		r = th_admin_fds(&p->d, &fd, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"nope\",\"iova\":65536,\"length\":65536,\"fds\":1}");
		expect_err(r, ENOENT, "no endpoint nope", "missing endpoint with an fd");
		r = th_admin_fds(&p->d, &fd, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm2\",\"iova\":65536,\"length\":65536,\"fds\":1}");
		expect_err(r, EPERM, "passthrough", "passthrough with an fd");
	}
	close(fd);
	assert_int_equal(th_daemon_nfds(&p->d), base);
}

/* A memfd that the adapter refuses (not sealed), or accepts and detaches
 * again: the fd count comes back to where it was. */
static void seg_attach_keeps_no_fd_it_does_not_need(void **state)
{
	struct pt *p = *state;
	int base, bad = pt_memfd(65536, 0), good = pt_memfd(65536, 1);

	json_object_put(th_admin(&p->d, "{\"cmd\":\"adapter.show\"}"));
	base = th_daemon_nfds(&p->d);
	for (int i = 0; i < 100; i++) {
		struct json_object *r;

		r = th_admin_fds(&p->d, &bad, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":65536,\"length\":65536,\"fds\":1}");
		assert_false(th_ok(r));
		assert_true(th_errno(r) == EINVAL || th_errno(r) == EOPNOTSUPP);
		json_object_put(r);
		r = th_admin_fds(&p->d, &good, 1,
				 "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm1\",\"iova\":65536,\"length\":65536,\"fds\":1}");
		if (th_ok(r)) {
			long long h = th_get_int(r, "handle", NULL);

			json_object_put(r);
			r = th_admin_ok(&p->d, "{\"cmd\":\"seg.detach\",\"endpoint\":\"vm1\",\"handle\":%lld}", h);
			assert_non_null(r);
		} else {
			assert_int_equal(th_errno(r), EOPNOTSUPP);
		}
		json_object_put(r);
	}
	close(bad);
	close(good);
	assert_int_equal(th_daemon_nfds(&p->d), base);
}

/* Hostile values for the fuzzer. */
static const char *const hostile[] = {
	"null", "true", "false", "-1", "0", "1", "255", "256", "65536", "4294967295", "4294967296",
	"18446744073709551615", "18446744073709551616", "-9223372036854775809", "1e308", "-0.0",
	"0.5", "\"\"", "\"0x\"", "\"0x0x1\"", "\"0xffffffffffffffffff\"", "\" 1\"", "\"-1\"",
	"\"1 \"", "\"99999999999999999999999\"", "[]", "[[[[[[[[]]]]]]]]", "{}",
	"{\"a\":{\"b\":{\"c\":{}}}}", "[\"local_write\",1]", "[\"state\",\"state\",\"av\"]",
	"\"fd00::1\"", "\"::ffff:1.2.3.4\"", "\"init\"", "\"RTS\"", "\"rc\"", "\"pd\"", "\"vm1\"",
	"\"%s%n%x\"", "\"\\u0000\"", "{\"qp_state\":\"rts\",\"ah_attr\":[]}",
	"{\"ah_attr\":{\"dgid\":\"::\",\"sl\":-1}}", "{\"max_send_wr\":4294967295}",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static struct json_object *mutate(const struct tmpl *t, unsigned *seed)
{
	char line[4096];
	struct json_object *o, *target;
	int nkeys, k = 0, pick;

	snprintf(line, sizeof(line), "{\"cmd\":\"%s\",\"endpoint\":\"vm1\"%s%s}", t->cmd,
		 *t->members ? "," : "", t->members);
	o = json_tokener_parse(line);
	assert_non_null(o);
	for (int round = 0; round < 1 + rand_r(seed) % 3; round++) {
		struct json_object *v = json_tokener_parse(hostile[rand_r(seed) % NHOSTILE]);

		target = o;
		nkeys = json_object_object_length(target);
		pick = rand_r(seed) % (nkeys + 2);
		k = 0;
		json_object_object_foreach(o, key, val)
		{
			if (k++ != pick)
				continue;
			if (json_object_is_type(val, json_type_object) && rand_r(seed) % 2) {
				/* one level down */
				int n2 = json_object_object_length(val), p2 = n2 ? rand_r(seed) % n2 : 0, k2 = 0;

				json_object_object_foreach(val, key2, val2)
				{
					(void)val2;
					if (k2++ == p2) {
						json_object_object_add(val, key2, v);
						v = NULL;
						break;
					}
				}
			} else if (strcmp(key, "cmd") != 0) {
				json_object_object_add(o, key, v);
				v = NULL;
			}
			break;
		}
		if (v && pick == nkeys) {
			char name[16];

			snprintf(name, sizeof(name), "x%d", rand_r(seed) % 4);
			json_object_object_add(o, name, v);
			v = NULL;
		}
		json_object_put(v);
	}
	return o;
}

static void hostile_requests_get_a_reply_and_never_crash_the_daemon(void **state)
{
	struct pt *p = *state;
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		const struct tmpl *t = &tmpls[rand_r(&seed) % NTMPLS];
		struct json_object *o = mutate(t, &seed), *r, *v;
		int fd = t->nfds ? pt_memfd(65536, rand_r(&seed) % 2) : -1;

		/* the fd goes with the request whatever its (mutated) "fds" says */
		r = th_admin_fds(&p->d, &fd, t->nfds, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		if (fd >= 0)
			close(fd);
		if (!r)
			fail_msg("no reply to %s", json_object_to_json_string(o));
		assert_true(json_object_object_get_ex(r, "ok", &v));
		assert_true(json_object_is_type(v, json_type_boolean));
		if (!json_object_get_boolean(v)) {
			assert_true(th_errno(r) > 0);
			assert_true(json_object_object_get_ex(r, "error", &v));
			assert_true(json_object_is_type(v, json_type_string));
		}
		json_object_put(r);
		json_object_put(o);
	}
	/* still answering, and the endpoint is intact */
	json_object_put(th_admin_ok(&p->d, "{\"cmd\":\"endpoint.show\",\"name\":\"vm1\"}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(every_command_rejects_an_unknown_member_before_the_adapter_sees_it),
		PT_TEST(every_command_needs_an_existing_endpoint),
		PT_TEST(resource_commands_on_a_passthrough_endpoint_are_eperm),
		PT_TEST(unknown_command_is_einval),
		PT_TEST(wrong_types_and_ranges_are_einval_naming_the_member),
		PT_TEST(missing_required_member_is_einval),
		PT_TEST(fd_count_mismatch_closes_every_received_fd),
		PT_TEST(seg_attach_keeps_no_fd_it_does_not_need),
		PT_TEST(hostile_requests_get_a_reply_and_never_crash_the_daemon),
	};

	return PT_RUN(tests);
}
