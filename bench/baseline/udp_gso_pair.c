/* SPDX-License-Identifier: MIT */
/*
 * The kernel's best UDP path between two hosts (two network namespaces over
 * veth, FACTS.md): the sender hands the kernel 64 KiB at a time with UDP GSO
 * (UDP_SEGMENT, one datagram per --payload bytes on the wire), the receiver
 * takes coalesced batches with UDP_GRO. The peer of a fabric port's RDMA
 * WRITE bandwidth: the same payload per packet as a RoCE WRITE_MIDDLE at
 * path MTU 1024 (BTH 12 + 1024 + ICRC 4 = 1040 bytes, the default).
 *
 *   bench-udp-gso-pair --server [--bind ADDR] [--port N]
 *   bench-udp-gso-pair --client ADDR [--port N] [--seconds S] [--payload N]
 *                      [--send N] [--no-gso] [--no-gro] [--json]
 *   bench-udp-gso-pair [--json] ...   (no role: both, over 127.0.0.1)
 *
 * Run the roles under `ip netns exec`. The data goes to PORT; a second
 * socket at PORT+1 carries the control exchange (a separate flow, so GRO
 * never merges it into the data): the client says HELLO until the server
 * answers, sends for --seconds, then says END until the server answers with
 * what it received. The client prints one line: what it sent and what
 * arrived (the honest figure: UDP drops what the receiver cannot take).
 * The server serves one run and exits.
 *
 * Fallbacks, said in the output ("gso"/"gro" false, and a note on stderr):
 * no UDP_SEGMENT (or EIO on the first send: the device has no checksum
 * offload) → sendmmsg of single datagrams; no UDP_GRO → recvmmsg.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define MAX_UDP_PAYLOAD 65507 /* 65535 - IPv4 20 - UDP 8 */
#define MAX_GSO_SEGS 64	      /* UDP_MAX_SEGMENTS on older kernels */
#define BATCH 64	      /* sendmmsg / recvmmsg batch without GSO/GRO */
#define BUF (64 * 1024 * 16)
#define CTL_MAGIC 0x43494f56u /* "CIOV" */

enum ctl_op { CTL_HELLO = 1, CTL_HELLO_ACK, CTL_END, CTL_STATS };

/* The control message, host byte order (both ends are this program on one
 * machine). */
struct ctl_msg {
	uint32_t magic, op;
	uint64_t bytes, datagrams, recv_calls, first_ns, last_ns;
	uint32_t gro, pad;
};

struct opts {
	enum { ROLE_BOTH, ROLE_SERVER, ROLE_CLIENT } role;
	const char *addr, *bind;
	unsigned port, payload, send;
	double seconds;
	int gso, gro, json;
};

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s --server [--bind ADDR] [--port N] [--no-gro]\n"
		"       %s --client ADDR [--port N] [--seconds S] [--payload N] [--send N]\n"
		"             [--no-gso] [--json]\n"
		"       %s [options]   (no role: server and client over 127.0.0.1)\n"
		"UDP GSO sender -> UDP GRO receiver bandwidth. Defaults: port 19800 (and\n"
		"19801 for control), 3 s, payload 1040 (RoCE WRITE_MIDDLE at PMTU 1024),\n"
		"send 65536 (rounded down to whole datagrams, at most 64 of them).\n",
		argv0, argv0, argv0);
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){
	    .port = 19800, .payload = 1040, .send = 65536, .seconds = 3, .gso = 1, .gro = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!strcmp(a, "--server")) {
			o->role = ROLE_SERVER;
		} else if (!strcmp(a, "--client") && v) {
			o->role = ROLE_CLIENT;
			o->addr = v;
			i++;
		} else if (!strcmp(a, "--bind") && v) {
			o->bind = v;
			i++;
		} else if (!strcmp(a, "--port") && v) {
			o->port = (unsigned)strtoul(v, &end, 10);
			i++;
			if (*end || !o->port || o->port > 65534)
				goto bad;
		} else if (!strcmp(a, "--payload") && v) {
			o->payload = (unsigned)strtoul(v, &end, 10);
			i++;
			if (*end || o->payload < sizeof(uint64_t) || o->payload > 65000)
				goto bad;
		} else if (!strcmp(a, "--send") && v) {
			o->send = (unsigned)strtoul(v, &end, 10);
			i++;
			if (*end || !o->send)
				goto bad;
		} else if (!strcmp(a, "--seconds") && v) {
			o->seconds = strtod(v, &end);
			i++;
			if (*end || o->seconds <= 0 || o->seconds > 3600)
				goto bad;
		} else if (!strcmp(a, "--no-gso")) {
			o->gso = 0;
		} else if (!strcmp(a, "--no-gro")) {
			o->gro = 0;
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, argv[0]);
			exit(0);
		} else {
			goto bad;
		}
		continue;
bad:
		fprintf(stderr, "%s: bad argument '%s'\n", argv[0], a);
		usage(stderr, argv[0]);
		return -1;
	}
	return 0;
}

static int udp_socket(const char *addr, unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 32 << 20;

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	/* Root may pass net.core.{r,w}mem_max; others get what the sysctl allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	/* No SO_REUSEADDR: a server left over on this port must make bind
	 * fail, not share the port and take the data. */
	if (addr) { /* bind */
		if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
			fprintf(stderr, "bad IPv4 address '%s'\n", addr);
			exit(2);
		}
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			fprintf(stderr, "bind %s:%u: %s\n", addr, port, strerror(errno));
			exit(1);
		}
	}
	return fd;
}

static struct sockaddr_in peer_addr(const char *addr, unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address '%s'\n", addr);
		exit(2);
	}
	return sin;
}

/* ---- server ---------------------------------------------------------- */

/* One recvmsg with UDP_GRO: how many datagrams the batch held. */
static ssize_t recv_gro(int fd, char *buf, unsigned payload_hint, uint64_t *dgrams)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = BUF};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	int seg = 0;

	if (n <= 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO)
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
	if (seg <= 0)
		seg = (int)(payload_hint ? payload_hint : (unsigned)n);
	*dgrams += ((uint64_t)n + (uint64_t)seg - 1) / (uint64_t)seg;
	return n;
}

static int server(const struct opts *o)
{
	const char *bind_addr = o->bind ? o->bind : "0.0.0.0";
	int data = udp_socket(bind_addr, o->port), ctl = udp_socket(bind_addr, o->port + 1);
	int one = 1, gro = o->gro;
	char *buf = malloc(BUF);
	struct ctl_msg st = {0};
	static struct mmsghdr mm[BATCH];
	static struct iovec iov[BATCH];
	uint64_t idle_deadline;

	if (!buf)
		return 1;
	if (gro && setsockopt(data, SOL_UDP, UDP_GRO, &one, sizeof(one))) {
		fprintf(stderr,
			"udp_gso_pair: UDP_GRO unavailable (%s): falling back to recvmmsg\n",
			strerror(errno));
		gro = 0;
	}
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){buf + (size_t)i * (BUF / BATCH), BUF / BATCH};
		mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	idle_deadline = bl_now_ns() + 60 * 1000000000ull;
	for (;;) {
		struct pollfd p[2] = {{.fd = data, .events = POLLIN},
				      {.fd = ctl, .events = POLLIN}};

		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			return 1;
		if (bl_now_ns() > idle_deadline) {
			fprintf(stderr, "udp_gso_pair: server idle for 60 s, giving up\n");
			return 1;
		}
		if (p[0].revents & POLLIN) {
			/* Drain; one poll wake-up per burst. */
			for (int k = 0; k < 256; k++) {
				ssize_t n;
				int got;

				if (gro) {
					n = recv_gro(data, buf, o->payload, &st.datagrams);
					if (n <= 0)
						break;
					st.bytes += (uint64_t)n;
				} else {
					got = recvmmsg(data, mm, BATCH, MSG_DONTWAIT, NULL);
					if (got <= 0)
						break;
					for (int i = 0; i < got; i++)
						st.bytes += mm[i].msg_len;
					st.datagrams += (uint64_t)got;
				}
				st.recv_calls++;
				st.last_ns = bl_now_ns();
				if (!st.first_ns)
					st.first_ns = st.last_ns;
			}
			idle_deadline = bl_now_ns() + 60 * 1000000000ull;
		}
		if (p[1].revents & POLLIN) {
			struct ctl_msg m;
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(ctl, &m, sizeof(m), 0, (struct sockaddr *)&from, &fl);

			if (n != (ssize_t)sizeof(m) || m.magic != CTL_MAGIC)
				continue;
			if (m.op == CTL_HELLO) {
				memset(&st, 0, sizeof(st));
				m.op = CTL_HELLO_ACK;
				sendto(ctl, &m, sizeof(m), 0, (struct sockaddr *)&from, fl);
			} else if (m.op == CTL_END) {
				/* Whatever is still queued arrived in time. */
				for (;;) {
					ssize_t r =
					    gro ? recv_gro(data, buf, o->payload, &st.datagrams)
						: recv(data, buf, BUF, MSG_DONTWAIT);

					if (r <= 0)
						break;
					if (!gro)
						st.datagrams++;
					st.bytes += (uint64_t)r;
					st.recv_calls++;
					st.last_ns = bl_now_ns();
				}
				st.magic = CTL_MAGIC;
				st.op = CTL_STATS;
				st.gro = (uint32_t)gro;
				/* Several copies: the client may have missed one. */
				for (int i = 0; i < 3; i++)
					sendto(ctl, &st, sizeof(st), 0, (struct sockaddr *)&from,
					       fl);
				return 0;
			}
		}
	}
}

/* ---- client ---------------------------------------------------------- */

static int client(const struct opts *o, FILE *out)
{
	struct sockaddr_in dst = peer_addr(o->addr, o->port),
			   cdst = peer_addr(o->addr, o->port + 1);
	int data = udp_socket(NULL, 0), ctl = udp_socket(NULL, 0), gso = o->gso;
	unsigned segs = o->send / o->payload, chunk;
	struct ctl_msg m = {.magic = CTL_MAGIC, .op = CTL_HELLO};
	uint64_t sent = 0, dgrams = 0, errs = 0, t0, t1, deadline;
	char *buf = calloc(1, BUF);
	static struct mmsghdr mm[BATCH];
	static struct iovec iov[BATCH];
	double tx_s, rx_s, tx_gbps, rx_gbps, loss;

	if (!buf)
		return 1;
	if (segs > MAX_UDP_PAYLOAD / o->payload)
		segs = MAX_UDP_PAYLOAD / o->payload;
	if (segs > MAX_GSO_SEGS)
		segs = MAX_GSO_SEGS;
	if (!segs)
		segs = 1;
	chunk = segs * o->payload;
	if (connect(data, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("connect");
		return 1;
	}
	if (gso) {
		int sz = (int)o->payload;

		if (setsockopt(data, SOL_UDP, UDP_SEGMENT, &sz, sizeof(sz))) {
			fprintf(stderr,
				"udp_gso_pair: UDP_SEGMENT unavailable (%s): falling back to "
				"sendmmsg\n",
				strerror(errno));
			gso = 0;
		}
	}
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){buf, o->payload};
		mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	if (bl_ctl_exchange(ctl, &cdst, &m, sizeof(m), CTL_MAGIC, CTL_HELLO_ACK, 10000)) {
		fprintf(stderr, "udp_gso_pair: no server at %s:%u\n", o->addr, o->port + 1);
		return 1;
	}
	t0 = bl_now_ns();
	deadline = t0 + (uint64_t)(o->seconds * 1e9);
	do {
		for (int k = 0; k < 16; k++) {
			if (gso) {
				ssize_t n = send(data, buf, chunk, 0);

				if (n < 0 && errno == EIO && !sent) {
					fprintf(
					    stderr,
					    "udp_gso_pair: UDP GSO send failed (EIO: no checksum "
					    "offload on the route's device): falling back to "
					    "sendmmsg\n");
					gso = 0;
					break;
				}
				if (n < 0) {
					if (errno != ENOBUFS && errno != EAGAIN &&
					    errno != ECONNREFUSED) {
						perror("send");
						return 1;
					}
					errs++;
					continue;
				}
				sent += (uint64_t)n;
				dgrams += segs;
			} else {
				int n = sendmmsg(data, mm, BATCH, 0);

				if (n < 0) {
					if (errno != ENOBUFS && errno != EAGAIN &&
					    errno != ECONNREFUSED) {
						perror("sendmmsg");
						return 1;
					}
					errs++;
					continue;
				}
				sent += (uint64_t)n * o->payload;
				dgrams += (uint64_t)n;
			}
		}
		t1 = bl_now_ns();
	} while (t1 < deadline);
	/* Let the receiver drain what is in flight before asking. */
	usleep(50000);
	m = (struct ctl_msg){.magic = CTL_MAGIC, .op = CTL_END};
	if (bl_ctl_exchange(ctl, &cdst, &m, sizeof(m), CTL_MAGIC, CTL_STATS, 5000)) {
		fprintf(stderr, "udp_gso_pair: the server did not report\n");
		return 1;
	}
	tx_s = (double)(t1 - t0) / 1e9;
	/* Receiver time: first to last arrival, or the send time if that is
	 * longer (a receiver that saw one burst did not move the whole time). */
	rx_s = m.last_ns > m.first_ns ? (double)(m.last_ns - m.first_ns) / 1e9 : tx_s;
	if (rx_s < tx_s)
		rx_s = tx_s;
	tx_gbps = (double)sent * 8 / tx_s / 1e9;
	rx_gbps = (double)m.bytes * 8 / rx_s / 1e9;
	loss = sent ? 1.0 - (double)m.bytes / (double)sent : 0;
	if (o->json)
		fprintf(out,
			"{\"bench\":\"udp_gso_pair\",\"gso\":%s,\"gro\":%s,\"payload\":%u,\"send_"
			"bytes\":%u,"
			"\"segments_per_send\":%u,\"seconds\":%.3f,\"tx_gbit_per_s\":%.3f,"
			"\"rx_gbit_per_s\":%.3f,\"loss\":%.4f,\"tx_datagrams\":%llu,\"rx_"
			"datagrams\":%llu,"
			"\"rx_datagrams_per_recv\":%.1f,\"send_errors\":%llu}\n",
			gso ? "true" : "false", m.gro ? "true" : "false", o->payload,
			gso ? chunk : o->payload * BATCH, gso ? segs : 1, tx_s, tx_gbps, rx_gbps,
			loss < 0 ? 0 : loss, (unsigned long long)dgrams,
			(unsigned long long)m.datagrams,
			m.recv_calls ? (double)m.datagrams / (double)m.recv_calls : 0,
			(unsigned long long)errs);
	else
		fprintf(out,
			"UDP %s -> %s, %u-byte datagrams: sent %.2f Gbit/s, received %.2f Gbit/s "
			"(loss %.2f%%, %.1f datagrams per receive)\n",
			gso ? "GSO" : "sendmmsg", m.gro ? "GRO" : "recvmmsg", o->payload, tx_gbps,
			rx_gbps, loss < 0 ? 0 : loss * 100,
			m.recv_calls ? (double)m.datagrams / (double)m.recv_calls : 0);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	pid_t pid;
	int rc;

	if (parse(argc, argv, &o))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (o.role == ROLE_SERVER)
		return server(&o);
	if (o.role == ROLE_CLIENT)
		return client(&o, stdout);
	/* Both, over loopback: a smoke run and the meson benchmark. */
	o.bind = "127.0.0.1";
	o.addr = "127.0.0.1";
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(server(&o));
	rc = client(&o, stdout);
	if (bl_wait(pid))
		rc = 1;
	return rc;
}
