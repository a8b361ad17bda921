/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prov_util.h"

int pt_skipped;

int pt_result(int failed)
{
	if (failed)
		return 1;
	return pt_skipped ? 77 : 0;
}

int pt_setup(void **state)
{
	static const char *const eps[] = {
		"{\"cmd\":\"endpoint.add\",\"name\":\"vm1\",\"mode\":\"native\"}",
		"{\"cmd\":\"endpoint.add\",\"name\":\"vm2\",\"mode\":\"passthrough\"}",
	};
	struct pt *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	if (th_daemon_start(&p->d)) {
		fprintf(stderr, "cannot start ciovd\n");
		th_daemon_cleanup(&p->d);
		free(p);
		return -1;
	}
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct json_object *r = th_admin_ok(&p->d, "%s", eps[i]);

		if (!r) {
			th_daemon_kill(&p->d);
			th_daemon_cleanup(&p->d);
			free(p);
			return -1;
		}
		json_object_put(r);
	}
	*state = p;
	return 0;
}

int pt_teardown(void **state)
{
	struct pt *p = *state;
	int rc;

	pt_tenant_close(p);
	rc = th_daemon_stop(&p->d);
	th_daemon_cleanup(&p->d);
	free(p);
	if (rc != 0)
		fprintf(stderr, "ciovd exited with %d (sanitizer report above?)\n", rc);
	return rc == 0 ? 0 : -1;
}

void pt_tenant(struct pt *p, const char *name)
{
	int err;

	pt_tenant_close(p);
	assert_int_equal(ciov_adapter_open(NULL, &p->ad), 0);
	err = ciov_open_endpoint(p->ad, name, &p->ep);
	if (err)
		fail_msg("ciov_open_endpoint(%s): %s", name, strerror(-err));
}

void pt_tenant_close(struct pt *p)
{
	ciov_close_endpoint(p->ep);
	p->ep = NULL;
	ciov_adapter_close(p->ad);
	p->ad = NULL;
}

static struct json_object *vcall(struct pt *p, const char *fmt, va_list ap)
{
	char buf[8192];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return th_admin(&p->d, "%s", buf);
}

static struct json_object *prov_v(struct pt *p, const char *fmt, va_list ap)
{
	struct json_object *r = vcall(p, fmt, ap);

	if (!r)
		fail_msg("no reply from ciovd");
	if (th_errno(r) == EOPNOTSUPP) {
		char why[512];

		snprintf(why, sizeof(why), "%s", json_object_to_json_string(r));
		json_object_put(r);
		PT_SKIP("not implemented yet: %s", why);
	}
	if (!th_ok(r)) {
		char why[512];

		snprintf(why, sizeof(why), "%s", json_object_to_json_string(r));
		json_object_put(r);
		fail_msg("request failed: %s", why);
	}
	return r;
}

struct json_object *pt_prov(struct pt *p, const char *fmt, ...)
{
	struct json_object *r;
	va_list ap;

	va_start(ap, fmt);
	r = prov_v(p, fmt, ap);
	va_end(ap);
	return r;
}

uint32_t pt_prov_handle(struct pt *p, const char *fmt, ...)
{
	struct json_object *r;
	long long h;
	va_list ap;

	va_start(ap, fmt);
	r = prov_v(p, fmt, ap);
	va_end(ap);
	h = th_get_int(r, "handle", NULL);
	json_object_put(r);
	assert_true(h > 0 && h <= UINT32_MAX);
	return (uint32_t)h;
}

void pt_expect(struct pt *p, int want, const char *needle, const char *fmt, ...)
{
	struct json_object *r, *m;
	const char *msg;
	char copy[512];
	va_list ap;

	va_start(ap, fmt);
	r = vcall(p, fmt, ap);
	va_end(ap);
	if (!r)
		fail_msg("no reply from ciovd");
	msg = json_object_object_get_ex(r, "error", &m) ? json_object_get_string(m) : "";
	snprintf(copy, sizeof(copy), "%s", json_object_to_json_string(r));
	if (th_errno(r) == EOPNOTSUPP && want != EOPNOTSUPP) {
		json_object_put(r);
		PT_SKIP("not implemented yet: %s", copy);
	}
	if (th_ok(r) || th_errno(r) != want || (needle && !strstr(msg, needle))) {
		json_object_put(r);
		fail_msg("want errno %d%s%s, got %s", want, needle ? " mentioning " : "",
			 needle ? needle : "", copy);
	}
	json_object_put(r);
}

static long long ep_int(struct pt *p, const char *name, const char *sect, const char *key)
{
	struct json_object *r = th_admin_ok(&p->d, "{\"cmd\":\"endpoint.show\",\"name\":\"%s\"}", name);
	long long v = th_get_int(r, "endpoints", "0", sect, key, NULL);

	json_object_put(r);
	return v;
}

long long pt_usage(struct pt *p, const char *name, const char *key)
{
	return ep_int(p, name, "usage", key);
}

long long pt_ctl_ops(struct pt *p, const char *name)
{
	return ep_int(p, name, "counters", "ctl_ops");
}

int pt_memfd(size_t len, int seal)
{
	int fd = memfd_create("prov-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	if (seal)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}
