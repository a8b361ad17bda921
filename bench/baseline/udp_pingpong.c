/* SPDX-License-Identifier: MIT */
/*
 * 8-byte UDP ping-pong between two hosts (two network namespaces over veth,
 * FACTS.md): the kernel's path for the smallest message, the peer of a
 * fabric port's 8-byte RDMA WRITE latency. Reports the half round trip
 * p50/p99/min in us, in two modes, both ends the same:
 *   "blocking": recv() sleeps in the kernel: the honest kernel path;
 *   "spin":     recv(MSG_DONTWAIT) in a loop: the fair peer of an adapter
 *               that polls.
 *
 *   bench-udp-pingpong --server [--bind ADDR] [--port N] [--cpu N]
 *   bench-udp-pingpong --client ADDR [--port N] [--iters N]
 *                      [--mode blocking|spin|both] [--cpu N] [--json]
 *   bench-udp-pingpong [options]   (no role: both, over 127.0.0.1)
 *
 * Run the roles under `ip netns exec`. Each ping is one 8-byte datagram, a
 * sequence number whose top bit asks the server to spin for the next one;
 * the server echoes it back, and exits on the all-ones quit word (or after
 * 60 s without a ping).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"

#define DEFAULT_ITERS 20000
#define WARMUP 1000
#define SPIN_BIT (1ull << 63)
#define QUIT UINT64_MAX
#define TIMEOUT_NS 1000000000ull /* a ping with no answer in 1 s is lost */

struct opts {
	enum { ROLE_BOTH, ROLE_SERVER, ROLE_CLIENT } role;
	const char *addr, *bind;
	unsigned port;
	uint64_t iters;
	int cpu, json, blocking, spin;
};

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s --server [--bind ADDR] [--port N] [--cpu N]\n"
		"       %s --client ADDR [--port N] [--iters N] [--mode blocking|spin|both]\n"
		"             [--cpu N] [--json]\n"
		"       %s [options]   (no role: server and client over 127.0.0.1)\n"
		"8-byte UDP ping-pong; half round trip p50/p99 in us. Defaults: port 19810,\n"
		"20000 round trips per mode, both modes, not pinned.\n",
		argv0, argv0, argv0);
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){
	    .port = 19810, .iters = DEFAULT_ITERS, .cpu = -1, .blocking = 1, .spin = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!strcmp(a, "--server")) {
			o->role = ROLE_SERVER;
		} else if (!strcmp(a, "--client") && v) {
			o->role = ROLE_CLIENT;
			o->addr = argv[++i];
		} else if (!strcmp(a, "--bind") && v) {
			o->bind = argv[++i];
		} else if (!strcmp(a, "--port") && v) {
			o->port = (unsigned)strtoul(argv[++i], &end, 10);
			if (*end || !o->port || o->port > 65535)
				goto bad;
		} else if (!strcmp(a, "--iters") && v) {
			o->iters = strtoull(argv[++i], &end, 10);
			if (*end || !o->iters || o->iters > 100000000)
				goto bad;
		} else if (!strcmp(a, "--cpu") && v) {
			o->cpu = (int)strtol(argv[++i], &end, 10);
			if (*end || o->cpu < 0)
				goto bad;
		} else if (!strcmp(a, "--mode") && v) {
			i++;
			o->blocking = !strcmp(v, "blocking") || !strcmp(v, "both");
			o->spin = !strcmp(v, "spin") || !strcmp(v, "both");
			if (!o->blocking && !o->spin)
				goto bad;
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

static struct sockaddr_in addr_of(const char *addr, unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address '%s'\n", addr);
		exit(2);
	}
	return sin;
}

static int server(const struct opts *o)
{
	struct sockaddr_in sin = addr_of(o->bind ? o->bind : "0.0.0.0", o->port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), spin = 0;
	struct timeval idle = {.tv_sec = 60};

	/* No SO_REUSEADDR: a server left over on this port must make bind
	 * fail, not share the port and answer in our place. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle))) {
		perror("socket");
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "udp_pingpong: bind %s:%u: %s\n", o->bind ? o->bind : "0.0.0.0",
			o->port, strerror(errno));
		return 1;
	}
	if (o->cpu >= 0)
		bl_pin(o->cpu);
	for (uint64_t spins = 0;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		uint64_t w;
		ssize_t n = recvfrom(fd, &w, sizeof(w), spin ? MSG_DONTWAIT : 0,
				     (struct sockaddr *)&from, &fl);

		if (n < 0 && spin && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Fall back to sleeping if the client went quiet (1 s of
			 * spinning, checked now and then). */
			static uint64_t since;

			if (!spins++)
				since = bl_now_ns();
			else if (!(spins & 0xffff) && bl_now_ns() - since > TIMEOUT_NS)
				spin = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "udp_pingpong: server: %s\n",
				errno == EAGAIN ? "no ping for 60 s, giving up" : strerror(errno));
			return 1;
		}
		spins = 0;
		if (n != sizeof(w))
			continue;
		if (w == QUIT)
			return 0;
		spin = !!(w & SPIN_BIT);
		sendto(fd, &w, sizeof(w), 0, (struct sockaddr *)&from, fl);
	}
}

/* One round trip of seq: 0 done, -1 no answer within TIMEOUT_NS. Stale
 * answers (to pings counted as lost) are skipped. */
static int round_trip(int fd, uint64_t seq, int spin)
{
	uint64_t w = seq | (spin ? SPIN_BIT : 0), r, t0 = 0;

	if (send(fd, &w, sizeof(w), 0) != sizeof(w))
		return -1;
	for (uint64_t k = 0;; k++) {
		ssize_t n = recv(fd, &r, sizeof(r), spin ? MSG_DONTWAIT : 0);

		if (n == sizeof(r) && r == w)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNREFUSED)
			return -1;
		if (n < 0 && !spin && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1; /* SO_RCVTIMEO */
		if (spin && !(k & 0xfff)) {
			if (!t0)
				t0 = bl_now_ns();
			else if (bl_now_ns() - t0 > TIMEOUT_NS)
				return -1;
		}
	}
}

static int measure(int fd, const struct opts *o, int spin, double *s, FILE *out)
{
	uint64_t n = o->iters, lost = 0, seq = (spin ? 1ull : 2ull) << 40;

	for (uint64_t i = 0; i < WARMUP + n;) {
		uint64_t t0 = bl_now_ns();

		if (round_trip(fd, ++seq, spin)) {
			if (++lost > 100) {
				fprintf(stderr, "udp_pingpong: more than 100 pings lost\n");
				return 1;
			}
			continue;
		}
		if (i >= WARMUP)
			s[i - WARMUP] = (double)(bl_now_ns() - t0) / 2;
		i++;
	}
	bl_sort(s, n);
	if (o->json)
		fprintf(
		    out,
		    "{\"bench\":\"udp_pingpong\",\"mode\":\"%s\",\"payload\":8,\"iterations\":%llu,"
		    "\"half_rtt_p50_us\":%.3f,\"half_rtt_p99_us\":%.3f,\"half_rtt_min_us\":%.3f,"
		    "\"lost\":%llu}\n",
		    spin ? "spin" : "blocking", (unsigned long long)n, bl_pct(s, n, 0.5) / 1e3,
		    bl_pct(s, n, 0.99) / 1e3, s[0] / 1e3, (unsigned long long)lost);
	else
		fprintf(
		    out,
		    "UDP ping-pong, 8 bytes, %s: half RTT p50 %.2f us, p99 %.2f us, min %.2f us\n",
		    spin ? "spin (MSG_DONTWAIT)" : "blocking", bl_pct(s, n, 0.5) / 1e3,
		    bl_pct(s, n, 0.99) / 1e3, s[0] / 1e3);
	fflush(out);
	return 0;
}

static int client(const struct opts *o, FILE *out)
{
	struct sockaddr_in dst = addr_of(o->addr, o->port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0, up = 0;
	struct timeval tmo = {.tv_sec = 1};
	double *s = malloc(o->iters * sizeof(*s));
	uint64_t quit = QUIT;

	if (fd < 0 || !s || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo))) {
		perror("udp_pingpong: client socket");
		return 1;
	}
	if (o->cpu >= 0)
		bl_pin(o->cpu);
	/* Until the server answers (it may still be starting): 10 s. The
	 * socket is connected, so a ping before the server binds comes back
	 * as ECONNREFUSED at once; wait out the rest of the 100 ms then. */
	for (uint64_t end = bl_now_ns() + 10 * 1000000000ull; !up && bl_now_ns() < end;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t w = 1, r, t = bl_now_ns();

		send(fd, &w, sizeof(w), 0);
		if (poll(&p, 1, 100) > 0 && recv(fd, &r, sizeof(r), MSG_DONTWAIT) == sizeof(r))
			up = 1;
		else if (bl_now_ns() - t < 100000000ull)
			usleep((useconds_t)((100000000ull - (bl_now_ns() - t)) / 1000));
	}
	if (!up) {
		fprintf(stderr, "udp_pingpong: no server at %s:%u\n", o->addr, o->port);
		return 1;
	}
	if (o->blocking)
		rc |= measure(fd, o, 0, s, out);
	if (o->spin && !rc)
		rc |= measure(fd, o, 1, s, out);
	for (int i = 0; i < 3; i++)
		send(fd, &quit, sizeof(quit), 0);
	free(s);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	pid_t pid;
	int rc;

	if (parse(argc, argv, &o))
		return 2;
	if (o.role == ROLE_SERVER)
		return server(&o);
	if (o.role == ROLE_CLIENT)
		return client(&o, stdout);
	/* Both, over loopback: a smoke run and the meson benchmark. */
	o.bind = o.addr = "127.0.0.1";
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
