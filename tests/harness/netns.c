/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

/* Every namespace this process made and has not deleted yet (atexit). */
#define NS_MAX 16
static char created[NS_MAX][48];
static bool atexit_set;
static unsigned seq;

static int run_argv(char *const argv[], bool quiet)
{
	pid_t pid;
	int status;

	fflush(NULL); /* a child must not write this process's buffers again */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = quiet ? open("/dev/null", O_WRONLY) : -1;

		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int th_netns_run(const char *ns, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (ns && *ns) {
		char *argv[] = {"ip", "netns", "exec", (char *)ns, "sh", "-c", cmd, NULL};

		rc = run_argv(argv, true);
	} else {
		char *argv[] = {"sh", "-c", cmd, NULL};

		rc = run_argv(argv, true);
	}
	if (rc != 0)
		fprintf(stderr, "netns: failed (%d)%s%s: %s\n", rc, ns ? " in " : "", ns ? ns : "",
			cmd);
	return rc;
}

static void forget(const char *ns)
{
	for (int i = 0; i < NS_MAX; i++)
		if (strcmp(created[i], ns) == 0)
			created[i][0] = 0;
}

static void ns_del(const char *ns)
{
	char *argv[] = {"ip", "netns", "del", (char *)ns, NULL};
	bool mine = false;

	for (int i = 0; i < NS_MAX; i++)
		mine = mine || strcmp(created[i], ns) == 0;
	if (!mine)
		return;
	if (run_argv(argv, true) != 0)
		fprintf(stderr, "netns: cannot delete namespace %s\n", ns);
	forget(ns);
}

static void destroy_all(void)
{
	for (int i = 0; i < NS_MAX; i++)
		if (created[i][0])
			ns_del(created[i]);
}

int th_net_available(bool skip_prefix)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "network namespaces need root";
	else if (system("ip -V >/dev/null 2>&1") != 0)
		why = "ip (iproute2) is not installed";
	if (!why)
		return 0;
	printf("%s%s\n", skip_prefix ? "SKIP: " : "", why);
	return -1;
}

/* A fresh namespace named ciovfx-<pid>-<seq><tag> in OUT, lo up. */
static int ns_new(char *out, size_t len, const char *tag)
{
	int slot = -1;

	for (int i = 0; i < NS_MAX && slot < 0; i++)
		if (!created[i][0])
			slot = i;
	if (slot < 0) {
		fprintf(stderr, "netns: more than %d namespaces\n", NS_MAX);
		return -1;
	}
	if (!atexit_set) {
		atexit(destroy_all);
		atexit_set = true;
	}
	snprintf(out, len, "ciovfx-%d-%u%s", (int)getpid(), ++seq, tag);
	if (th_netns_run(NULL, "ip netns add %s", out))
		return -1;
	snprintf(created[slot], sizeof(created[slot]), "%s", out);
	return th_netns_run(NULL, "ip -n %s link set lo up", out);
}

/* The subnet of this process: 10.A.B.0/24 or fdXX:PID::/64. */
static void host_addr(const struct th_net *n, int i, char *out, size_t len)
{
	unsigned p = (unsigned)getpid();

	if (n->family == 6)
		snprintf(out, len, "fd%02x:%x::%d", (p >> 16) & 0xff, p & 0xffff, i + 1);
	else
		snprintf(out, len, "10.%u.%u.%d", 100 + (p >> 8) % 100, p & 0xff, i + 1);
}

/* Address up on host I's device, link up.
 *
 * IPv6: no duplicate address detection on the device at all, not only on
 * our address (nodad). When the link comes up the kernel gives the device
 * a link-local address too, and while that one is tentative (DAD: a random
 * delay up to 1 s, then 1 s) it sends no Neighbor Solicitation for a
 * resolution that has no packet queued, as ciovd's NTF_USE has none
 * (ndisc_send_ns() needs a usable link-local source): it tries again at its
 * next probe, 1 s later. The peer's solicitation comes from the peer's
 * link-local address, so it does not teach this host the peer's port
 * address either. A responder whose host is still in DAD thus holds its
 * first ACK for about a second, longer than the requester's 8 local ACK
 * timeouts of 67 ms (fixture.c): RETRY_EXC_ERR. */
static int host_up(struct th_net *n, int i)
{
	struct th_host *h = &n->host[i];

	host_addr(n, i, h->addr, sizeof(h->addr));
	if (n->family == 6 &&
	    th_netns_run(h->ns, "echo 0 > /proc/sys/net/ipv6/conf/%s/accept_dad", h->dev))
		return -1;
	return th_netns_run(NULL, "ip -n %s addr add %s/%s dev %s %s && ip -n %s link set %s up",
			    h->ns, h->addr, n->family == 6 ? "64" : "24", h->dev,
			    n->family == 6 ? "nodad" : "", h->ns, h->dev);
}

/* Until every host's device has carrier (the bridge takes a moment) and,
 * IPv6, a usable link-local address (host_up(): neighbour discovery needs
 * one; the kernel adds it a moment after carrier, when it sees the link). */
static int wait_carrier(const struct th_net *n)
{
	for (int i = 0; i < n->nhosts; i++) {
		const struct th_host *h = &n->host[i];
		int ok = 0;

		for (int t = 0; t < 250 && !ok; t++) {
			char cmd[256];
			char *argv[] = {"ip", "netns", "exec", (char *)h->ns, "sh", "-c", cmd, NULL};
			int len = snprintf(cmd, sizeof(cmd), "grep -qs 1 /sys/class/net/%s/carrier",
					   h->dev);

			if (n->family == 6)
				snprintf(cmd + len, sizeof(cmd) - (size_t)len,
					 " && ip -6 addr show dev %s scope link -tentative"
					 " | grep -q inet6", h->dev);
			ok = run_argv(argv, true) == 0;
			if (!ok)
				usleep(20000);
		}
		if (!ok) {
			fprintf(stderr, "netns: %s in %s has no carrier%s\n", h->dev, h->ns,
				n->family == 6 ? " or no usable link-local address" : "");
			return -1;
		}
	}
	return 0;
}

static void net_init(struct th_net *n, int nhosts, int family)
{
	memset(n, 0, sizeof(*n));
	n->nhosts = nhosts;
	n->family = family == 6 ? 6 : 4;
}

int th_net_pair(struct th_net *n, int family, int mtu)
{
	static const char *tag[2] = {"a", "b"};

	net_init(n, 2, family);
	mtu = mtu ? mtu : 1500;
	for (int i = 0; i < 2; i++) {
		if (ns_new(n->host[i].ns, sizeof(n->host[i].ns), tag[i]))
			return -1;
		snprintf(n->host[i].dev, sizeof(n->host[i].dev), "cfx%d%s", (int)getpid(), tag[i]);
	}
	if (th_netns_run(NULL, "ip link add %s netns %s mtu %d type veth peer name %s netns %s mtu %d",
			 n->host[0].dev, n->host[0].ns, mtu, n->host[1].dev, n->host[1].ns, mtu))
		return -1;
	for (int i = 0; i < 2; i++)
		if (host_up(n, i))
			return -1;
	return wait_carrier(n);
}

int th_net_bridge3(struct th_net *n, int family, int mtu)
{
	static const char *tag[3] = {"a", "b", "c"};

	net_init(n, 3, family);
	mtu = mtu ? mtu : 1500;
	if (ns_new(n->br_ns, sizeof(n->br_ns), "br") ||
	    th_netns_run(NULL, "ip -n %s link add br0 mtu %d type bridge && ip -n %s link set br0 up",
			 n->br_ns, mtu, n->br_ns))
		return -1;
	for (int i = 0; i < 3; i++) {
		struct th_host *h = &n->host[i];

		if (ns_new(h->ns, sizeof(h->ns), tag[i]))
			return -1;
		snprintf(h->dev, sizeof(h->dev), "cfx%d%s", (int)getpid(), tag[i]);
		if (th_netns_run(NULL,
				 "ip link add %s netns %s mtu %d type veth peer name p%d netns %s mtu %d"
				 " && ip -n %s link set p%d master br0 up",
				 h->dev, h->ns, mtu, i + 1, n->br_ns, mtu, n->br_ns, i + 1) ||
		    host_up(n, i))
			return -1;
	}
	return wait_carrier(n);
}

void th_net_destroy(struct th_net *n)
{
	for (int i = 0; i < n->nhosts; i++)
		if (n->host[i].ns[0])
			ns_del(n->host[i].ns);
	if (n->br_ns[0])
		ns_del(n->br_ns);
	memset(n, 0, sizeof(*n));
}
