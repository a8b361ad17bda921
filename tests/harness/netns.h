/* SPDX-License-Identifier: MIT */
/*
 * "Hosts" for fabric tests (FACTS.md, "Networks for tests"): network
 * namespaces joined by a veth pair (two hosts) or by a Linux bridge that
 * lives in a namespace of its own (three hosts), so the root namespace is
 * never touched. The C counterpart of bench/netns.sh. Needs root and
 * iproute2 (`ip`); everything goes through `ip`, run by system().
 *
 * Names carry this process's pid (namespaces "ciovfx-<pid>-<n><host>",
 * devices "cfx<pid><host>"), so concurrent test programs do not collide.
 * Every namespace created is remembered and deleted by th_net_destroy(),
 * and, whatever path the program leaves by, by an atexit handler.
 */
#ifndef CIOV_TEST_NETNS_H
#define CIOV_TEST_NETNS_H

#include <stdbool.h>

#define TH_NET_HOSTS_MAX 3

struct th_host {
	char ns[48];   /* namespace name */
	char dev[16];  /* its interface (veth end) */
	char addr[64]; /* its address, without prefix length */
};

struct th_net {
	int nhosts;
	int family;    /* 4 or 6 */
	char br_ns[48]; /* the bridge's namespace ("" for a veth pair) */
	struct th_host host[TH_NET_HOSTS_MAX];
};

/* 0 if this process may build namespaces; otherwise prints why (one line,
 * starting "SKIP: " when SKIP_PREFIX) and returns -1. */
int th_net_available(bool skip_prefix);

/* Two hosts on a veth pair. FAMILY 4: 10.<a>.<b>.1 and .2/24 (a, b from the
 * pid); 6: fdXX:<pid>::1 and ::2/64, no DAD on the device (netns.c,
 * host_up()). MTU 0: 1500. Waits for carrier and, IPv6, for a usable
 * link-local address (neighbour discovery's source).
 * Returns 0, or -1 after printing why (N is then partly built: destroy it). */
int th_net_pair(struct th_net *n, int family, int mtu);
/* Three hosts, each with a veth into bridge br0 in a fourth namespace;
 * addresses .1 .2 .3 (or ::1 ::2 ::3). */
int th_net_bridge3(struct th_net *n, int family, int mtu);
/* Deletes N's namespaces (the veths and the bridge go with them). */
void th_net_destroy(struct th_net *n);

/* Runs the shell command FMT in namespace NS (NULL: this one); returns its
 * exit status (-1 if it could not run or was killed), quiet on success. */
int th_netns_run(const char *ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
