/* SPDX-License-Identifier: MIT */
/*
 * The fabric port datapath (fabric/port.h) between two "hosts": two
 * network namespaces joined by a veth pair, one port in each, one process
 * (port_add() runs inside each namespace through setns(); the sockets keep
 * theirs). What a user of the transport would notice: a packet sent is the
 * packet received (headers, payload byte for byte, in order), a GSO batch
 * crosses as one frame and arrives as its packets, a bad ICRC or a hostile
 * frame is counted and dropped, the link address is resolved from a cold
 * neighbour table (and through a gateway), captures hold every wire packet
 * with an ICRC that checks.
 *
 * Needs root and iproute2: exits 77 otherwise, saying why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "adapter/adapter.h"
#include "adapter/log.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define IP4_A "10.77.0.1"
#define IP4_B "10.77.0.2"
#define IP6_A "fd77::1"
#define IP6_B "fd77::2"

static char ns_a[32], ns_b[32], pcap_path[64];
static int ns_self = -1, ns_fd_a = -1, ns_fd_b = -1;

static struct host {
	struct adapter ad;
	struct port *p4, *p6;
	int ns;
} *ha, *hb;

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void cleanup(void)
{
	if (ns_a[0])
		sh("ip netns del %s 2>/dev/null", ns_a);
	if (ns_b[0])
		sh("ip netns del %s 2>/dev/null", ns_b);
	if (pcap_path[0])
		unlink(pcap_path);
	ns_a[0] = ns_b[0] = 0;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void enter(int ns)
{
	if (setns(ns, CLONE_NEWNET)) {
		perror("setns");
		abort();
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the callbacks of whatever H's loop has ready, waiting up to MS. */
static int pump(struct host *h, int ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(h->ad.loop.epfd, ev, 16, ms);

	for (int i = 0; i < n; i++) {
		struct loop_src *s = ev[i].data.ptr;

		s->fn(s, ev[i].events);
	}
	return n;
}

static int host_open(struct host *h, int ns, const char *a4, const char *a6)
{
	const char *err = NULL;
	int e;

	if (loop_init(&h->ad.loop) || engine_init(&h->ad.engine, &h->ad))
		return -1;
	h->ns = ns;
	enter(ns);
	e = port_add(&h->ad, "p4", a4, 0, 0, &h->p4, &err);
	if (!e)
		e = port_add(&h->ad, "p6", a6, 0, 0, &h->p6, &err);
	enter(ns_self);
	if (e)
		fprintf(stderr, "port_add: %s (%s)\n", strerror(-e), err);
	return e;
}

static void host_close(struct host *h)
{
	if (!h)
		return;
	port_fini_all(&h->ad);
	if (h->ad.loop.epfd > 0)
		loop_fini(&h->ad.loop);
	free(h);
}

static int group_setup(void **state)
{
	(void)state;
	log_threshold = LOG_LVL_ERR;
	if (geteuid() != 0) {
		printf("SKIP: port_test needs root (network namespaces, AF_PACKET)\n");
		exit(77);
	}
	if (sh("ip -V >/dev/null 2>&1") != 0) {
		printf("SKIP: port_test needs iproute2's ip\n");
		exit(77);
	}
	snprintf(ns_a, sizeof(ns_a), "ciov-portA-%d", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "ciov-portB-%d", (int)getpid());
	snprintf(pcap_path, sizeof(pcap_path), "/tmp/ciov-port-test-%d.pcap", (int)getpid());
	atexit(cleanup);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGABRT, on_signal);
	if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) ||
	    sh("ip -n %s link add va type veth peer name vb netns %s", ns_a, ns_b) ||
	    sh("ip -n %s addr add " IP4_A "/24 dev va && ip -n %s addr add " IP6_A "/64 dev va nodad",
	       ns_a, ns_a) ||
	    sh("ip -n %s addr add " IP4_B "/24 dev vb && ip -n %s addr add " IP6_B "/64 dev vb nodad",
	       ns_b, ns_b) ||
	    sh("ip -n %s link set va up && ip -n %s link set lo up", ns_a, ns_a) ||
	    sh("ip -n %s link set vb up && ip -n %s link set lo up", ns_b, ns_b) ||
	    /* A route through B, for the gateway test. */
	    sh("ip -n %s route add 10.78.0.0/24 via " IP4_B, ns_a)) {
		printf("SKIP: cannot build the two namespaces (veth, netns)\n");
		cleanup();
		exit(77);
	}
	ns_self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	{
		char path[96];

		snprintf(path, sizeof(path), "/var/run/netns/%s", ns_a);
		ns_fd_a = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/var/run/netns/%s", ns_b);
		ns_fd_b = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (ns_self < 0 || ns_fd_a < 0 || ns_fd_b < 0)
		return -1;
	ha = calloc(1, sizeof(*ha));
	hb = calloc(1, sizeof(*hb));
	if (!ha || !hb || host_open(ha, ns_fd_a, IP4_A, IP6_A) ||
	    host_open(hb, ns_fd_b, IP4_B, IP6_B))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	host_close(ha);
	host_close(hb);
	ha = hb = NULL;
	cleanup();
	return 0;
}

/* ---- Sending and receiving ---- */

#define RX_MAX 1200

struct got {
	unsigned n;
	struct {
		uint8_t opcode;
		uint32_t psn;
		uint16_t ip_id;
		uint32_t paylen;
		uint8_t payload[4096];
	} pkt[RX_MAX];
};

static struct got got;

static void on_rx(void *arg, struct port *p, const struct wire_pkt *pkt)
{
	struct got *g = arg;

	(void)p;
	if (g->n == RX_MAX)
		return;
	g->pkt[g->n].opcode = pkt->opcode;
	g->pkt[g->n].psn = bth_psn(pkt->hdr);
	g->pkt[g->n].ip_id = pkt->family == AF_INET ? wire_ld16(pkt->ip + 4) : 0;
	g->pkt[g->n].paylen = pkt->paylen;
	assert_true(pkt->paylen <= sizeof(g->pkt[0].payload));
	memcpy(g->pkt[g->n].payload, pkt->payload, pkt->paylen);
	g->n++;
}

/* Receives on P until WANT packets came or MS passed; the packets seen. */
static unsigned rx_wait(struct port *p, unsigned want, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	got.n = 0;
	while (got.n < want && now_ms() < end) {
		struct pollfd pfd = {.fd = port_rx_fd(p), .events = POLLIN};

		poll(&pfd, 1, 10);
		port_rx_poll(p, on_rx, &got, 64);
	}
	/* Anything more that should not be there. */
	port_rx_poll(p, on_rx, &got, 64);
	return got.n;
}

static struct port_dst dst_of(struct port *from, const char *to)
{
	uint8_t ip[16] = {0}, gid[16];
	struct port_dst d;
	int family = strchr(to, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, to, ip), 1);
	port_gid_of(family, ip, gid);
	assert_ptr_equal(port_route(from->ad, gid, &d), from);
	d.sport = 0xc123;
	return d;
}

static struct wire_pkt_desc desc(uint8_t opcode, uint32_t psn)
{
	return (struct wire_pkt_desc){
		.bth = {.opcode = opcode, .pkey = 0xffff, .dqpn = 0x123456, .psn = psn},
	};
}

/* port_tx(), retried while the link address is being resolved. */
static int tx_resolved(struct port *p, const struct port_dst *dst, const struct wire_pkt_desc *d,
		       const struct iovec *iov, int iovcnt)
{
	uint64_t end = now_ms() + 5000;
	int err;

	while ((err = port_tx(p, dst, d, iov, iovcnt)) == -EAGAIN && now_ms() < end)
		usleep(2000);
	return err;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* ---- Tests ---- */

static void port_add_reports_link_and_refuses_bad_requests(void **state)
{
	const char *err = NULL;
	struct port *p = NULL;
	uint8_t gid[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 1};

	(void)state;
	assert_string_equal(ha->p4->ifname, "va");
	assert_int_equal(ha->p4->mtu, 1024); /* veth MTU 1500 */
	assert_int_equal(ha->p6->mtu, 1024);
	assert_int_equal(ha->p4->udp_port, 4791);
	assert_memory_equal(ha->p4->gid, gid, 16);
	assert_ptr_equal(port_by_gid(&ha->ad, gid), ha->p4);
	assert_true(ha->p4->up);
	assert_int_equal(port_count(&ha->ad), 2);
	assert_ptr_equal(port_at(&ha->ad, 1), ha->p6);
	assert_ptr_equal(port_find(&ha->ad, "p6"), ha->p6);

	enter(ns_fd_a);
	assert_int_equal(port_add(&ha->ad, "p4", "10.77.0.1", 4792, 0, &p, &err), -EEXIST);
	assert_int_equal(port_add(&ha->ad, "", "10.77.0.1", 4792, 0, &p, &err), -EINVAL);
	assert_int_equal(port_add(&ha->ad, "0123456789abcdef", "10.77.0.1", 4792, 0, &p, &err),
			 -EINVAL);
	assert_int_equal(port_add(&ha->ad, "a/b", "10.77.0.1", 4792, 0, &p, &err), -EINVAL);
	assert_int_equal(port_add(&ha->ad, "x", "10.77.0.1", 4792, 1000, &p, &err), -EINVAL);
	assert_int_equal(port_add(&ha->ad, "x", "10.77.0.9", 0, 0, &p, &err), -EADDRNOTAVAIL);
	assert_non_null(err);
	assert_int_equal(port_add(&ha->ad, "x", "not-an-ip", 0, 0, &p, &err), -EINVAL);
	assert_int_equal(port_add(&ha->ad, "x", "10.77.0.1", 0, 0, &p, &err), -EADDRINUSE);
	assert_null(p);
	/* Another UDP port on the same address, with a smaller MTU. */
	assert_int_equal(port_add(&ha->ad, "x", "10.77.0.1", 4800, 512, &p, &err), 0);
	assert_int_equal(p->mtu, 512);
	enter(ns_self);
	port_del(p);
	assert_int_equal(port_count(&ha->ad), 2);
	assert_null(port_find(&ha->ad, "x"));
}

static void neighbour_resolves_from_a_cold_cache(void **state)
{
	struct port_dst d = dst_of(ha->p4, IP4_B);
	struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 1);
	uint8_t buf[64];
	struct iovec iov = {buf, sizeof(buf)};
	uint64_t end;
	int err, tries = 0;

	(void)state;
	fill(buf, sizeof(buf), 1);
	/* Nothing was ever sent: the kernel has no entry for B, and B does
	 * not answer ARP for now (over veth it answers before the request
	 * returns). */
	assert_int_equal(sh("ip -n %s link set vb arp off", ns_b), 0);
	err = port_tx(ha->p4, &d, &w, &iov, 1);
	assert_int_equal(err, -EAGAIN);
	assert_int_equal(port_tx_room(ha->p4), 1024); /* nothing queued */
	assert_int_equal(port_tx(ha->p4, &d, &w, &iov, 1), -EAGAIN);
	assert_int_equal(sh("ip -n %s link set vb arp on", ns_b), 0);
	/* The kernel's next probe (about 1 s later) is answered: the event
	 * comes on the port's netlink socket and kicks A's engine. */
	ha->ad.engine.last_work_ns = 0;
	end = now_ms() + 2500;
	while (!ha->ad.engine.last_work_ns && now_ms() < end)
		pump(ha, 10);
	assert_true(ha->ad.engine.last_work_ns != 0);
	end = now_ms() + 1000;
	while ((err = port_tx(ha->p4, &d, &w, &iov, 1)) == -EAGAIN && now_ms() < end) {
		tries++;
		usleep(1000);
	}
	assert_int_equal(err, 0);
	assert_int_equal(tries, 0); /* known when the engine was kicked */
	port_tx_flush(ha->p4);
	assert_int_equal(rx_wait(hb->p4, 1, 2000), 1);
	assert_memory_equal(got.pkt[0].payload, buf, sizeof(buf));
}

static void single_packets_arrive_whole_and_in_order(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 255, 1000, 1023, 1024};
	const size_t n = sizeof(sizes) / sizeof(sizes[0]);
	struct port_dst d = dst_of(ha->p4, IP4_B);
	static uint8_t buf[10][1024];
	struct port_counters a0 = ha->p4->cnt, b0 = hb->p4->cnt;

	(void)state;
	/* Each packet alone: different sizes never share a GSO frame. */
	for (size_t i = 0; i < n; i++) {
		struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 100 + (uint32_t)i);
		/* The payload in up to three pieces. */
		struct iovec iov[3] = {{buf[i], sizes[i] / 3},
				       {buf[i] + sizes[i] / 3, sizes[i] / 3},
				       {buf[i] + 2 * (sizes[i] / 3), sizes[i] - 2 * (sizes[i] / 3)}};

		fill(buf[i], sizes[i], (unsigned)i);
		assert_int_equal(tx_resolved(ha->p4, &d, &w, iov, 3), 0);
	}
	port_tx_flush(ha->p4);
	assert_int_equal(rx_wait(hb->p4, (unsigned)n, 2000), n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got.pkt[i].opcode, WIRE_OP_RC_SEND_ONLY);
		assert_int_equal(got.pkt[i].psn, 100 + i);
		assert_int_equal(got.pkt[i].paylen, sizes[i]);
		assert_memory_equal(got.pkt[i].payload, buf[i], sizes[i]);
		if (i)
			assert_int_equal((uint16_t)(got.pkt[i].ip_id - got.pkt[i - 1].ip_id), 1);
	}
	assert_int_equal(ha->p4->cnt.xmit_pkts - a0.xmit_pkts, n);
	assert_int_equal(hb->p4->cnt.rcv_pkts - b0.rcv_pkts, n);
	assert_int_equal(hb->p4->cnt.rcv_data - b0.rcv_data, ha->p4->cnt.xmit_data - a0.xmit_data);
	assert_int_equal(hb->p4->cnt.icrc_errors, b0.icrc_errors);
	assert_int_equal(hb->p4->cnt.rcv_errors, b0.rcv_errors);
}

/* A raw AF_PACKET socket with a vnet header on IFNAME in NS: sees frames
 * as the kernel hands them to packet sockets. */
static int spy_open(int ns, const char *ifname)
{
	int one = 1, fd;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};

	enter(ns);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	enter(ns_self);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* The next IP frame to DST on spy FD (IPv4): its length, vnet header. */
static ssize_t spy_next(int fd, const char *dst, struct virtio_net_hdr *vh, uint8_t *buf,
			size_t cap, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct in_addr a;

	inet_pton(AF_INET, dst, &a);
	while (now_ms() < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		poll(&pfd, 1, 10);
		n = recv(fd, buf, cap, MSG_DONTWAIT);
		if (n < (ssize_t)(sizeof(*vh) + 14 + 20))
			continue;
		memcpy(vh, buf, sizeof(*vh));
		if (buf[sizeof(*vh) + 12] == 0x08 && buf[sizeof(*vh) + 13] == 0 &&
		    memcmp(buf + sizeof(*vh) + 14 + 16, &a, 4) == 0)
			return n;
	}
	return -1;
}

/* 64 KiB of SEND_MIDDLE at path MTU 1024 (and a short SEND_LAST): GSO
 * frames on the wire between the ports, each packet delivered. */
static void gso_batch_arrives_as_its_packets(struct host *tx, struct host *rx, bool v6)
{
	enum { N = 64, PL = 1024, LAST = 100 };
	static uint8_t data[N * PL + LAST];
	struct port *a = v6 ? tx->p6 : tx->p4, *b = v6 ? rx->p6 : rx->p4;
	struct port_dst d = dst_of(a, rx == hb ? (v6 ? IP6_B : IP4_B) : (v6 ? IP6_A : IP4_A));
	struct port_counters a0 = a->cnt, b0 = b->cnt;
	static uint8_t frame[70000];
	struct virtio_net_hdr vh;
	int spy = v6 ? -1 : spy_open(rx->ns, "vb");
	ssize_t flen;

	fill(data, sizeof(data), v6 ? 7 : 5);
	for (unsigned i = 0; i <= N; i++) {
		struct wire_pkt_desc w = desc(i < N ? WIRE_OP_RC_SEND_MIDDLE : WIRE_OP_RC_SEND_LAST,
					      1000 + i);
		/* Each packet's payload in two spans, straight from DATA. */
		size_t len = i < N ? PL : LAST;
		struct iovec iov[2] = {{data + i * PL, 100}, {data + i * PL + 100, len - 100}};

		assert_int_equal(tx_resolved(a, &d, &w, iov, 2), 0);
	}
	assert_int_equal(port_tx_room(a), 1024 - (N + 1));
	port_tx_flush(a);
	assert_int_equal(rx_wait(b, N + 1, 3000), N + 1);
	for (unsigned i = 0; i <= N; i++) {
		assert_int_equal(got.pkt[i].psn, 1000 + i);
		assert_int_equal(got.pkt[i].paylen, i < N ? PL : LAST);
		assert_memory_equal(got.pkt[i].payload, data + i * PL, got.pkt[i].paylen);
		if (i && !v6)
			assert_int_equal((uint16_t)(got.pkt[i].ip_id - got.pkt[i - 1].ip_id), 1);
	}
	assert_int_equal(a->cnt.xmit_pkts - a0.xmit_pkts, N + 1);
	assert_int_equal(b->cnt.rcv_pkts - b0.rcv_pkts, N + 1);
	assert_int_equal(b->cnt.icrc_errors, b0.icrc_errors);
	assert_int_equal(b->cnt.rcv_errors, b0.rcv_errors);
	assert_int_equal(b->cnt.rcv_data - b0.rcv_data, a->cnt.xmit_data - a0.xmit_data);
	if (spy < 0)
		return;
	/* What crossed the veth: a GSO super-packet, not 65 packets. */
	flen = spy_next(spy, IP4_B, &vh, frame, sizeof(frame), 1000);
	close(spy);
	assert_true(flen > 0);
	assert_int_equal(vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(vh.gso_size, WIRE_BTH_BYTES + PL + WIRE_ICRC_BYTES);
	assert_true(flen > 60000);
}

static void gso_batch_ipv4(void **state)
{
	(void)state;
	gso_batch_arrives_as_its_packets(ha, hb, false);
}

static void gso_batch_ipv6(void **state)
{
	struct port_dst d = dst_of(ha->p6, IP6_B);
	struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 7);
	uint8_t buf[333];
	struct iovec iov = {buf, sizeof(buf)};

	(void)state;
	fill(buf, sizeof(buf), 3);
	/* A single packet first (IPv6 neighbour discovery from cold: over
	 * veth it may be done before the request returns). */
	assert_int_equal(tx_resolved(ha->p6, &d, &w, &iov, 1), 0);
	port_tx_flush(ha->p6);
	assert_int_equal(rx_wait(hb->p6, 1, 2000), 1);
	assert_int_equal(got.pkt[0].paylen, sizeof(buf));
	assert_memory_equal(got.pkt[0].payload, buf, sizeof(buf));
	gso_batch_arrives_as_its_packets(ha, hb, true);
	/* And back, B to A. */
	gso_batch_arrives_as_its_packets(hb, ha, true);
}

/* Sends the IP packet PKT (LEN bytes) from A's veth to B's MAC, behind a
 * vnet header VH (NULL: none), N times. */
static void raw_send_n(const void *pkt, size_t len, const struct virtio_net_hdr *vh, unsigned n)
{
	static uint8_t frame[70000];
	size_t off = 0;
	int one = 1, fd;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				  .sll_halen = 6};

	enter(ns_fd_a);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sll.sll_ifindex = (int)if_nametoindex("va");
	enter(ns_self);
	assert_true(fd >= 0);
	memcpy(sll.sll_addr, hb->p4->mac, 6);
	if (vh) {
		assert_int_equal(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
		memcpy(frame, vh, sizeof(*vh));
		off = sizeof(*vh);
	}
	memcpy(frame + off, hb->p4->mac, 6);
	memcpy(frame + off + 6, ha->p4->mac, 6);
	frame[off + 12] = 0x08;
	frame[off + 13] = 0x00;
	memcpy(frame + off + 14, pkt, len);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sendto(fd, frame, off + 14 + len, 0, (struct sockaddr *)&sll,
					sizeof(sll)),
				 (ssize_t)(off + 14 + len));
	close(fd);
}

static void raw_send(const void *pkt, size_t len, const struct virtio_net_hdr *vh)
{
	raw_send_n(pkt, len, vh, 1);
}

static size_t build(uint8_t *buf, size_t cap, uint8_t opcode, uint32_t psn, size_t paylen)
{
	static uint8_t pay[4096];
	struct wire_pkt_desc w = desc(opcode, psn);
	struct iovec iov = {pay, paylen};
	size_t len;

	w.ip.family = AF_INET;
	inet_pton(AF_INET, IP4_A, w.ip.src);
	inet_pton(AF_INET, IP4_B, w.ip.dst);
	w.ip.sport = 0xc000;
	w.csum = WIRE_CSUM_NONE;
	fill(pay, paylen, psn);
	assert_int_equal(wire_pkt_build(buf, cap, &w, &iov, 1, &len), 0);
	return len;
}

static void bad_icrc_is_counted_and_dropped(void **state)
{
	uint8_t pkt[2048];
	size_t len = build(pkt, sizeof(pkt), WIRE_OP_RC_SEND_ONLY, 42, 200);
	struct port_counters b0 = hb->p4->cnt;

	(void)state;
	/* The good one is delivered: the frame is right but for the ICRC. */
	raw_send(pkt, len, NULL);
	assert_int_equal(rx_wait(hb->p4, 1, 2000), 1);
	assert_int_equal(got.pkt[0].psn, 42);
	pkt[len - 1] ^= 0x01;
	raw_send(pkt, len, NULL);
	assert_int_equal(rx_wait(hb->p4, 1, 300), 0);
	assert_int_equal(hb->p4->cnt.icrc_errors - b0.icrc_errors, 1);
	assert_int_equal(hb->p4->cnt.rcv_pkts - b0.rcv_pkts, 1);
}

static void hostile_frames_are_counted_and_dropped(void **state)
{
	static uint8_t pkt[65536];
	size_t len = build(pkt, sizeof(pkt), WIRE_OP_RC_SEND_ONLY, 43, 16);
	struct port_counters b0 = hb->p4->cnt;
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = 14 + 20 + 8,
		.csum_start = 14 + 20,
		.csum_offset = 6,
	};
	unsigned long errs;

	(void)state;
	/* UDP length shorter than a BTH + ICRC. */
	wire_st16(pkt + 2, 20 + 8 + 6);
	wire_st16(pkt + 10, 0);
	wire_st16(pkt + 10, wire_ip4_csum(pkt));
	wire_st16(pkt + 24, 8 + 6);
	raw_send(pkt, 20 + 8 + 6, NULL);
	/* A GSO frame of garbage cut in 16-byte segments, then one with a
	 * segment size so small no packet fits. */
	len = 20 + 8 + 1000;
	fill(pkt + 28, len - 28, 9);
	wire_st16(pkt + 2, (uint16_t)len);
	wire_st16(pkt + 10, 0);
	wire_st16(pkt + 10, wire_ip4_csum(pkt));
	wire_st16(pkt + 24, (uint16_t)(len - 20));
	vh.gso_size = 16;
	raw_send(pkt, len, &vh);
	len = 20 + 8 + 400;
	wire_st16(pkt + 2, (uint16_t)len);
	wire_st16(pkt + 10, 0);
	wire_st16(pkt + 10, wire_ip4_csum(pkt));
	wire_st16(pkt + 24, (uint16_t)(len - 20));
	vh.gso_size = 8;
	raw_send(pkt, len, &vh);
	/* A GSO frame whose segments are good packets but for the last,
	 * which has a wrong ICRC. */
	{
		uint8_t one[2048];
		size_t seg = build(one, sizeof(one), WIRE_OP_RC_SEND_ONLY, 50, 256) - 28;
		uint8_t *p = pkt + 28;

		memcpy(pkt, one, 28);
		for (int i = 0; i < 5; i++) {
			uint8_t s[2048];

			/* Each segment's ICRC over its own ID and lengths. */
			struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 50 + (uint32_t)i);
			static uint8_t pay[256];
			struct iovec iov = {pay, sizeof(pay)};
			size_t l;

			w.ip.family = AF_INET;
			w.ip.id = (uint16_t)(0x1000 + i);
			inet_pton(AF_INET, IP4_A, w.ip.src);
			inet_pton(AF_INET, IP4_B, w.ip.dst);
			w.ip.sport = 0xc000;
			w.csum = WIRE_CSUM_NONE;
			fill(pay, sizeof(pay), (unsigned)i);
			assert_int_equal(wire_pkt_build(s, sizeof(s), &w, &iov, 1, &l), 0);
			if (i == 0)
				memcpy(pkt, s, 28);
			memcpy(p, s + 28, seg);
			p += seg;
		}
		pkt[28 + 5 * seg - 1] ^= 0x80;
		len = 28 + 5 * seg;
		wire_st16(pkt + 2, (uint16_t)len);
		wire_st16(pkt + 10, 0);
		wire_st16(pkt + 10, wire_ip4_csum(pkt));
		wire_st16(pkt + 24, (uint16_t)(len - 20));
		vh.gso_size = (uint16_t)seg;
		raw_send(pkt, len, &vh);
	}
	assert_int_equal(rx_wait(hb->p4, 4, 1000), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(got.pkt[i].psn, 50 + i);
	assert_int_equal(hb->p4->cnt.icrc_errors - b0.icrc_errors >= 1, 1);
	errs = (unsigned long)(hb->p4->cnt.rcv_errors - b0.rcv_errors +
			       hb->p4->cnt.icrc_errors - b0.icrc_errors);
	print_message("hostile frames: %lu packets dropped\n", errs);
	assert_true(errs >= 3);
	assert_int_equal(hb->p4->cnt.rcv_pkts - b0.rcv_pkts, 4);
	/* The same GSO frame with a wrong IPv4 header checksum (checked once
	 * per frame, not per packet): none of its packets, one error. */
	b0 = hb->p4->cnt;
	pkt[10] ^= 0x01;
	raw_send(pkt, len, &vh);
	assert_int_equal(rx_wait(hb->p4, 1, 300), 0);
	assert_int_equal(hb->p4->cnt.rcv_errors - b0.rcv_errors, 1);
	assert_int_equal(hb->p4->cnt.rcv_pkts - b0.rcv_pkts, 0);
}

/* More small packets than the receive ring's 8192 slots, none read
 * meanwhile: each one is either delivered or counted as an overrun. */
static void ring_overrun_is_counted(void **state)
{
	uint8_t pkt[256];
	size_t len = build(pkt, sizeof(pkt), WIRE_OP_RC_SEND_ONLY, 60, 16);
	struct port_counters b0;
	uint64_t got_pkts, overruns;
	const unsigned sent = 9000;
	int idle = 0;

	(void)state;
	port_rx_sync(hb->p4);
	b0 = hb->p4->cnt;
	raw_send_n(pkt, len, NULL, sent);
	while (idle < 3) {
		if (port_rx_poll(hb->p4, on_rx, &got, 64) > 0) {
			got.n = 0;
			idle = 0;
		} else {
			idle++;
			usleep(20000);
		}
	}
	port_rx_sync(hb->p4);
	got_pkts = hb->p4->cnt.rcv_pkts - b0.rcv_pkts;
	overruns = hb->p4->cnt.rcv_overruns - b0.rcv_overruns;
	print_message("%u sent: %llu received, %llu overruns\n", sent,
		      (unsigned long long)got_pkts, (unsigned long long)overruns);
	assert_true(overruns > 0);
	assert_int_equal(got_pkts + overruns, sent);
}

static void full_batch_refuses_then_flushes_all(void **state)
{
	struct port_dst d = dst_of(ha->p4, IP4_B);
	static uint8_t buf[64];
	struct iovec iov = {buf, sizeof(buf)};
	unsigned n = 0, room = port_tx_room(ha->p4);
	int err;

	(void)state;
	fill(buf, sizeof(buf), 11);
	assert_int_equal(room, 1024);
	for (;;) {
		struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, n);

		err = tx_resolved(ha->p4, &d, &w, &iov, 1);
		if (err)
			break;
		n++;
	}
	assert_int_equal(err, -ENOBUFS);
	assert_int_equal(n, room);
	assert_int_equal(port_tx_room(ha->p4), 0);
	port_tx_flush(ha->p4);
	assert_int_equal(port_tx_room(ha->p4), 1024);
	assert_int_equal(rx_wait(hb->p4, n, 3000), n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(got.pkt[i].psn, i);
}

/* A frame is one sendmsg, which takes at most 1024 spans: packets of
 * many spans each start new frames rather than make one the kernel
 * refuses; one packet of too many spans is refused at once. */
static void many_spans_split_frames(void **state)
{
	enum { N = 8, SPANS = 256, PL = 1024 };
	static uint8_t data[N * PL];
	static struct iovec iov[1100];
	static uint8_t one[1100];
	struct port_dst d = dst_of(ha->p4, IP4_B);
	struct port_counters a0 = ha->p4->cnt;

	(void)state;
	fill(data, sizeof(data), 17);
	for (unsigned i = 0; i < N; i++) {
		struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_MIDDLE, 500 + i);

		for (unsigned k = 0; k < SPANS; k++)
			iov[k] = (struct iovec){data + i * PL + k * (PL / SPANS), PL / SPANS};
		assert_int_equal(tx_resolved(ha->p4, &d, &w, iov, SPANS), 0);
	}
	for (unsigned k = 0; k < 1100; k++)
		iov[k] = (struct iovec){one + k, 1};
	{
		struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_MIDDLE, 999);

		assert_int_equal(port_tx(ha->p4, &d, &w, iov, 1100), -EMSGSIZE);
	}
	port_tx_flush(ha->p4);
	assert_int_equal(ha->p4->cnt.xmit_discards, a0.xmit_discards);
	assert_int_equal(rx_wait(hb->p4, N, 2000), N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(got.pkt[i].psn, 500 + i);
		assert_memory_equal(got.pkt[i].payload, data + i * PL, PL);
	}
}

static void readable_port_kicks_the_engine(void **state)
{
	struct port_dst d = dst_of(ha->p4, IP4_B);
	struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 9);
	uint8_t buf[8] = {0};
	struct iovec iov = {buf, sizeof(buf)};
	uint64_t end = now_ms() + 1000;

	(void)state;
	hb->ad.engine.last_work_ns = 0;
	assert_int_equal(tx_resolved(ha->p4, &d, &w, &iov, 1), 0);
	port_tx_flush(ha->p4);
	while (!hb->ad.engine.last_work_ns && now_ms() < end)
		pump(hb, 10);
	assert_true(hb->ad.engine.last_work_ns != 0);
	assert_int_equal(rx_wait(hb->p4, 1, 1000), 1);
}

static void unresolvable_neighbour_gives_ehostunreach(void **state)
{
	struct port_dst d = dst_of(ha->p4, "10.77.0.99");
	struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 1);
	struct iovec iov = {NULL, 0};
	uint64_t t0 = now_ms();
	int err;

	(void)state;
	while ((err = port_tx(ha->p4, &d, &w, &iov, 0)) == -EAGAIN && now_ms() < t0 + 8000)
		usleep(5000);
	assert_int_equal(err, -EHOSTUNREACH);
	print_message("gave up after %llu ms\n", (unsigned long long)(now_ms() - t0));
	assert_true(now_ms() - t0 >= 2500);
	assert_int_equal(port_tx_room(ha->p4), 1024);
}

static void off_subnet_goes_to_the_gateway(void **state)
{
	struct port_dst d = dst_of(ha->p4, "10.78.0.5");
	struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_ONLY, 77);
	uint8_t buf[40] = {1, 2, 3};
	struct iovec iov = {buf, sizeof(buf)};
	static uint8_t frame[4096];
	struct virtio_net_hdr vh;
	int spy = spy_open(ns_fd_b, "vb");
	ssize_t n;

	(void)state;
	assert_int_equal(tx_resolved(ha->p4, &d, &w, &iov, 1), 0);
	port_tx_flush(ha->p4);
	n = spy_next(spy, "10.78.0.5", &vh, frame, sizeof(frame), 2000);
	close(spy);
	/* To B's MAC (the gateway's), for 10.78.0.5. */
	assert_true(n > 0);
	assert_memory_equal(frame + sizeof(vh), hb->p4->mac, 6);
}

/* The ports' traffic reached B's IP stack too (AF_PACKET only taps it):
 * the port's reserving UDP socket took it, so the kernel sent no ICMP
 * port unreachable for any of it; and the UDP port is taken. */
static void kernel_neither_answers_nor_lets_the_port_be_taken(void **state)
{
	char cmd[256], line[1024];
	FILE *f;
	long unreach = -1;
	int fd;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(4791)};

	(void)state;
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nstat -az IcmpOutDestUnreachs", ns_b);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "IcmpOutDestUnreachs %ld", &unreach) == 1)
			break;
	pclose(f);
	assert_int_equal(unreach, 0);
	assert_true(hb->p4->cnt.rcv_pkts > 1000);

	enter(ns_fd_b);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	enter(ns_self);
	inet_pton(AF_INET, IP4_B, &sa.sin_addr);
	assert_true(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == EADDRINUSE);
	close(fd);
}

/* ---- Captures ---- */

static struct {
	int calls;
	uint64_t pkts;
	int err;
} cap;

static void cap_done(void *arg, uint64_t pkts, int err)
{
	(void)arg;
	cap.calls++;
	cap.pkts = pkts;
	cap.err = err;
}

/* Reads PATH back: the records, each parsed as a wire packet (ICRC
 * checked). IDS gets the IPv4 IDs. */
static unsigned pcap_check(const char *path, uint16_t *ids, unsigned max)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned n = 0;

	assert_non_null(pc);
	assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct wire_parse_cfg cfg = {.udp_port = 4791, .pmtu = 1024};
		struct wire_pkt pkt;

		assert_int_equal(h->caplen, h->len);
		assert_true(h->caplen > 14);
		assert_int_equal(data[12], 0x08);
		assert_int_equal(wire_pkt_parse(data + 14, h->caplen - 14, &cfg, &pkt), WIRE_OK);
		if (n < max)
			ids[n] = wire_ld16(data + 14 + 4);
		n++;
	}
	pcap_close(pc);
	return n;
}

static void capture_writes_each_wire_packet(void **state)
{
	enum { N = 12, CAP = 10 };
	static uint8_t data[N * 1024];
	struct port_dst d = dst_of(ha->p4, IP4_B);
	uint16_t ids[N];

	(void)state;
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(port_capture_start(ha->p4, pcap_path, CAP, 0, cap_done, NULL), 0);
	assert_int_equal(port_capture_start(ha->p4, "/tmp/x.pcap", 1, 0, cap_done, NULL), -EBUSY);
	fill(data, sizeof(data), 13);
	for (unsigned i = 0; i < N; i++) {
		struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_MIDDLE, 200 + i);
		struct iovec iov = {data + i * 1024, 1024};

		assert_int_equal(tx_resolved(ha->p4, &d, &w, &iov, 1), 0);
	}
	port_tx_flush(ha->p4);
	assert_int_equal(cap.calls, 1);
	assert_int_equal(cap.pkts, CAP);
	assert_int_equal(cap.err, 0);
	/* Every segment of the GSO send on its own, its ICRC right over its
	 * own ID. */
	assert_int_equal(pcap_check(pcap_path, ids, N), CAP);
	for (unsigned i = 1; i < CAP; i++)
		assert_int_equal((uint16_t)(ids[i] - ids[i - 1]), 1);
	assert_int_equal(rx_wait(hb->p4, N, 2000), N);

	/* The receiving side, stopped by its duration. */
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(port_capture_start(hb->p4, pcap_path, 0, 200, cap_done, NULL), 0);
	for (unsigned i = 0; i < 3; i++) {
		struct wire_pkt_desc w = desc(WIRE_OP_RC_SEND_MIDDLE, 300 + i);
		struct iovec iov = {data + i * 1024, 1024};

		assert_int_equal(tx_resolved(ha->p4, &d, &w, &iov, 1), 0);
	}
	port_tx_flush(ha->p4);
	assert_int_equal(rx_wait(hb->p4, 3, 2000), 3);
	{
		uint64_t end = now_ms() + 2000;

		while (!cap.calls && now_ms() < end)
			pump(hb, 50);
	}
	assert_int_equal(cap.calls, 1);
	assert_int_equal(cap.pkts, 3);
	assert_int_equal(pcap_check(pcap_path, ids, N), 3);
	for (unsigned i = 1; i < 3; i++)
		assert_int_equal((uint16_t)(ids[i] - ids[i - 1]), 1);

	/* Stopped early. */
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(port_capture_start(hb->p4, pcap_path, 0, 0, cap_done, NULL), 0);
	port_capture_stop(hb->p4);
	assert_int_equal(cap.calls, 1);
	assert_int_equal(cap.err, -ECANCELED);
	assert_int_equal(pcap_check(pcap_path, ids, N), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_add_reports_link_and_refuses_bad_requests),
		cmocka_unit_test(neighbour_resolves_from_a_cold_cache),
		cmocka_unit_test(single_packets_arrive_whole_and_in_order),
		cmocka_unit_test(gso_batch_ipv4),
		cmocka_unit_test(gso_batch_ipv6),
		cmocka_unit_test(bad_icrc_is_counted_and_dropped),
		cmocka_unit_test(hostile_frames_are_counted_and_dropped),
		cmocka_unit_test(ring_overrun_is_counted),
		cmocka_unit_test(full_batch_refuses_then_flushes_all),
		cmocka_unit_test(many_spans_split_frames),
		cmocka_unit_test(readable_port_kicks_the_engine),
		cmocka_unit_test(kernel_neither_answers_nor_lets_the_port_be_taken),
		cmocka_unit_test(capture_writes_each_wire_packet),
		cmocka_unit_test(off_subnet_goes_to_the_gateway),
		cmocka_unit_test(unresolvable_neighbour_gives_ehostunreach),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
