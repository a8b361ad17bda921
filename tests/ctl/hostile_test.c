/* SPDX-License-Identifier: MIT */
/*
 * Hostile clients on both sockets: malformed, truncated and oversized
 * messages, wrong fd counts, floods, clients dying mid-request. ciovd must
 * answer with errors, keep serving a well-behaved tenant, and leak nothing
 * (fd count and RSS before and after 1,000 such clients).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ciov/ciov.h>

#include "common/fdmsg.h"
#include "harness.h"

static struct th_daemon d;
static struct ciov_adapter *ad;
static struct ciov_endpoint *good; /* a well-behaved tenant throughout */

static int setup(void **state)
{
	struct json_object *r;

	if (th_daemon_start(&d) || ciov_adapter_open(NULL, &ad))
		return -1;
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"good\"}");
	json_object_put(r);
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"bad\",\"quota\":{\"connections\":4096}}");
	json_object_put(r);
	return ciov_open_endpoint(ad, "good", &good);
}

static int teardown(void **state)
{
	int rc;

	ciov_close_endpoint(good);
	ciov_adapter_close(ad);
	rc = th_daemon_stop(&d);
	th_daemon_cleanup(&d);
	return rc == 0 ? 0 : -1;
}

static int tenant_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/tenant.sock", d.rt);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends a raw message and returns the status of the reply (or a positive
 * value for "no reply": 1 = connection closed). */
static int raw_call(int fd, const void *msg, size_t len, const int *fds, int nfds)
{
	char buf[CIOV_CTL_MSG_MAX];
	struct ciov_ctl_hdr h;
	int rfds[CIOV_CTL_FDS_MAX], nr;
	ssize_t n;

	if (fdmsg_send(fd, msg, len, fds, nfds))
		return 1;
	n = fdmsg_recv(fd, buf, sizeof(buf), rfds, CIOV_CTL_FDS_MAX, &nr);
	fdmsg_close_all(rfds, nr);
	if (n < (ssize_t)sizeof(h))
		return 1;
	memcpy(&h, buf, sizeof(h));
	return h.status;
}

static size_t build(char *buf, uint16_t op, const void *payload, uint32_t len)
{
	struct ciov_ctl_hdr h = {
		.magic = CIOV_CTL_MAGIC, .version = CIOV_ABI_VERSION, .op = op, .seq = 7, .len = len,
	};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	return sizeof(h) + len;
}

static void open_raw(int fd, const char *name)
{
	struct ciov_ctl_open_req rq = {.abi = CIOV_ABI_VERSION};
	char buf[CIOV_CTL_MSG_MAX];

	strcpy(rq.name, name);
	assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_OPEN, &rq, sizeof(rq)), NULL, 0), 0);
}

/* Waits until the adapter counts N tenant connections (hang-ups are
 * noticed asynchronously). */
static void wait_connections(long long n)
{
	for (int i = 0; i < 500; i++) {
		struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"adapter.show\"}");
		long long conns = th_get_int(r, "adapter", "connections", NULL);

		json_object_put(r);
		if (conns == n)
			return;
		usleep(10000);
	}
	fail_msg("adapter never settled at %lld connections", n);
}

static void good_tenant_still_served(void)
{
	struct ciov_pd *pd;

	assert_int_equal(ciov_alloc_pd(good, &pd), 0);
	assert_int_equal(ciov_dealloc_pd(pd), 0);
}

static void malformed_messages_get_errors(void **state)
{
	char buf[CIOV_CTL_MSG_MAX + 64];
	struct ciov_ctl_hdr h;
	int fd = tenant_connect();
	char zero[64] = {0};

	/* Before OPEN, only OPEN. */
	assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), NULL, 0), -ENOTCONN);
	open_raw(fd, "bad");
	/* Shorter than a header. */
	assert_int_equal(raw_call(fd, "xyz", 3, NULL, 0), -EBADMSG);
	/* Bad magic, bad version. */
	build(buf, CIOV_CTL_PD_ALLOC, zero, 4);
	memcpy(&h, buf, sizeof(h));
	h.magic ^= 1;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(raw_call(fd, buf, sizeof(h) + 4, NULL, 0), -EBADMSG);
	h.magic ^= 1;
	h.version = 99;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(raw_call(fd, buf, sizeof(h) + 4, NULL, 0), -EPROTO);
	/* Length field lies about the payload. */
	h.version = CIOV_ABI_VERSION;
	h.len = 400;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(raw_call(fd, buf, sizeof(h) + 4, NULL, 0), -EBADMSG);
	/* Payload size wrong for the op, unknown ops. */
	assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 8), NULL, 0), -EINVAL);
	assert_int_equal(raw_call(fd, buf, build(buf, 0, zero, 4), NULL, 0), -EOPNOTSUPP);
	assert_int_equal(raw_call(fd, buf, build(buf, 0xffff, zero, 4), NULL, 0), -EOPNOTSUPP);
	/* OPEN twice. */
	{
		struct ciov_ctl_open_req rq = {.abi = CIOV_ABI_VERSION};

		strcpy(rq.name, "good");
		assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_OPEN, &rq, sizeof(rq)), NULL, 0),
				 -EISCONN);
	}
	/* Oversized: more than the adapter reads in one message. */
	memset(buf, 'A', sizeof(buf));
	assert_int_equal(raw_call(fd, buf, sizeof(buf), NULL, 0), -EMSGSIZE);
	/* Still a working connection after all that. */
	assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), NULL, 0), 0);
	close(fd);
	good_tenant_still_served();
}

static void wrong_fd_counts_close_every_fd(void **state)
{
	char buf[CIOV_CTL_MSG_MAX];
	char zero[64] = {0};
	int fd = tenant_connect();
	int before, fds[8];
	int mfd = memfd_create("x", MFD_CLOEXEC);

	open_raw(fd, "bad");
	for (int i = 0; i < 8; i++)
		fds[i] = mfd;
	wait_connections(2);
	before = th_daemon_nfds(&d);
	for (int i = 0; i < 200; i++) {
		/* An op that takes no fds, with one; with four; with more fds
		 * than any message may carry. */
		assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), fds, 1),
				 -EINVAL);
		assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), fds, 4),
				 -EINVAL);
		assert_int_equal(raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), fds, 8),
				 -EMSGSIZE);
		/* An op that takes one fd, with none. */
		assert_int_equal(raw_call(fd, buf,
					  build(buf, CIOV_CTL_SEG_ATTACH, zero,
						sizeof(struct ciov_ctl_seg_attach_req)),
					  NULL, 0),
				 -EINVAL);
	}
	assert_int_equal(th_daemon_nfds(&d), before);
	close(mfd);
	close(fd);
	good_tenant_still_served();
}

static void flooding_tenant_is_cut_off_others_served(void **state)
{
	char buf[CIOV_CTL_MSG_MAX];
	char zero[64] = {0};
	int fd = tenant_connect();
	size_t len;
	int sent = 0;

	open_raw(fd, "bad");
	/* Never read a reply: the adapter must not block on us. */
	len = build(buf, CIOV_CTL_QUERY_EP, zero, 4);
	for (int i = 0; i < 100000; i++) {
		if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		sent++;
	}
	assert_true(sent > 0);
	good_tenant_still_served();
	close(fd);
	good_tenant_still_served();
}

static void thousand_hostile_clients_leak_nothing(void **state)
{
	char buf[CIOV_CTL_MSG_MAX];
	char zero[64] = {0};
	int fds_before = 0, fds_after;
	long rss_before = 0, rss_after;

	/* Warm up allocator pools so that RSS reflects leaks, not first use. */
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			wait_connections(1);
			fds_before = th_daemon_nfds(&d);
			rss_before = th_daemon_rss_kb(&d);
		}
		for (int i = 0; i < 1000; i++) {
			int fd = tenant_connect();
			int mfd = memfd_create("h", MFD_CLOEXEC);

			switch (i % 5) {
			case 0: /* dies right after connecting */
				break;
			case 1: /* dies mid-session, resources held */
				open_raw(fd, "bad");
				for (int k = 0; k < 3; k++)
					raw_call(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), NULL, 0);
				break;
			case 2: /* sends a request and dies before the reply */
				open_raw(fd, "bad");
				fdmsg_send(fd, buf, build(buf, CIOV_CTL_PD_ALLOC, zero, 4), &mfd, 1);
				break;
			case 3: /* garbage with fds */
				memset(buf, 0x5a, 200);
				fdmsg_send(fd, buf, 200, &mfd, 1);
				break;
			case 4: /* truncated header then gone */
				fdmsg_send(fd, buf, 5, NULL, 0);
				break;
			}
			close(mfd);
			close(fd);
		}
		wait_connections(1); /* every hang-up noticed */
	}
	fds_after = th_daemon_nfds(&d);
	rss_after = th_daemon_rss_kb(&d);
	printf("# ciovd fds %d -> %d, RSS %ld -> %ld KiB over 1000 hostile clients\n", fds_before,
	       fds_after, rss_before, rss_after);
	assert_int_equal(fds_after, fds_before);
#ifndef __SANITIZE_ADDRESS__
	/* Slack for allocator noise; a leak of even 1 KiB per client is not.
	 * (Under ASan the quarantine grows RSS; LeakSanitizer checks ciovd's
	 * heap at exit instead.) */
	assert_true(rss_after - rss_before < 512);
#endif
	{
		struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"endpoint.show\",\"name\":\"bad\"}");

		assert_int_equal(th_get_int(r, "endpoints", "0", "usage", "pds", NULL), 0);
		assert_int_equal(th_get_int(r, "endpoints", "0", "usage", "connections", NULL), 0);
		json_object_put(r);
	}
	good_tenant_still_served();
}

static int admin_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/admin.sock", d.rt);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void admin_socket_survives_garbage(void **state)
{
	static const char *const bad[] = {
		"\n", "null\n", "[]\n", "{\"cmd\":5}\n", "{\"cmd\":\"endpoint.add\",\"name\":7}\n",
		"{\"cmd\":\"endpoint.add\",\"name\":\"../../etc\"}\n",
		"{\"cmd\":\"endpoint.add\",\"name\":\"x\",\"owner\":\"-1\"}\n",
		"{\"cmd\":\"endpoint.add\",\"name\":\"x\",\"quota\":{\"qps\":-5}}\n",
		"{\"cmd\":\"endpoint.add\",\"name\":\"x\",\"mode\":\"software!\"}\n",
		"{\"cmd\":\"endpoint.show\",\"name\":[1,2]}\n",
		"{\"cmd\":\"no.such\"}\n", "{{{{{{{{{{\n",
	};
	int fd = admin_connect();
	char reply[4096];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t n;

		assert_int_equal(send(fd, bad[i], strlen(bad[i]), MSG_NOSIGNAL), (ssize_t)strlen(bad[i]));
		n = recv(fd, reply, sizeof(reply) - 1, 0);
		assert_true(n > 0);
		reply[n] = '\0';
		if (!strstr(reply, "\"ok\":false"))
			fail_msg("request %zu (%s) got %s", i, bad[i], reply);
	}
	/* A line longer than the limit: error, then the adapter hangs up. */
	{
		size_t big = 70 * 1024;
		char *line = malloc(big);
		ssize_t n;

		memset(line, ' ', big);
		n = send(fd, line, big, MSG_NOSIGNAL);
		assert_true(n > 0);
		n = recv(fd, reply, sizeof(reply) - 1, 0);
		assert_true(n > 0);
		reply[n] = '\0';
		assert_non_null(strstr(reply, "\"errno\":90"));
		free(line);
	}
	close(fd);
	good_tenant_still_served();
	{
		struct json_object *r = th_admin_ok(&d, "{\"cmd\":\"endpoint.show\",\"name\":\"x\"}");

		assert_null(r); /* none of the bad adds created anything */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(malformed_messages_get_errors),
		cmocka_unit_test(wrong_fd_counts_close_every_fd),
		cmocka_unit_test(flooding_tenant_is_cut_off_others_served),
		cmocka_unit_test(thousand_hostile_clients_leak_nothing),
		cmocka_unit_test(admin_socket_survives_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
