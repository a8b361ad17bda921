/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: the out-of-band exchange over TCP (perftest's port 18515).
 *
 * Security model: the peer is another ciov-perf, but the bytes come from
 * the network. Every message has a fixed size and a fixed little-endian
 * layout; it is copied out of the socket into a local struct and each field
 * is checked against its range before use (a QPN or PSN that does not fit
 * 24 bits, a size or QP count beyond our limits, an unknown flag, all fail
 * the exchange). Buffer bounds the peer advertises are checked against what
 * the test will touch before any WR is posted (res.c).
 *
 * Conversation (the client speaks first in each step):
 *   1. params: client -> server its test parameters; server -> client its
 *      own TEST/KIND and whether it accepts (TEST and KIND must match).
 *   2. conn:   each side's GID, PSN, rkey, buffer and QPNs.
 *   3. msgs:   READY / DONE barriers around each message size.
 */
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "perf.h"

#define PERF_OOB_MAGIC 0x46525043u /* "CPRF" read as a little-endian u32 */
#define PERF_OOB_VERSION 1

enum { WIRE_PARAMS = 1, WIRE_CONN = 2 };

enum {
	WIRE_F_ALL = 1 << 0,
	WIRE_F_VERIFY = 1 << 1,
};
#define WIRE_F_KNOWN (WIRE_F_ALL | WIRE_F_VERIFY)

/* Step 1. A server's reply carries its own test and kind, and status 0
 * (accepted) or 1 (TEST/KIND differ). */
struct wire_params {
	uint32_t magic;
	uint16_t version;
	uint16_t type; /* WIRE_PARAMS */
	uint8_t test;
	uint8_t kind;
	uint8_t sl;
	uint8_t mtu;
	uint32_t flags;
	uint64_t size;
	uint64_t iters;
	uint32_t duration;
	uint32_t num_qps;
	uint32_t tx_depth;
	uint32_t inline_max;
	uint32_t status;
	uint32_t rsvd;
};
_Static_assert(sizeof(struct wire_params) == 56, "wire params");
_Static_assert(offsetof(struct wire_params, size) == 16, "wire params size");
_Static_assert(offsetof(struct wire_params, status) == 48, "wire params status");

/* Step 2. */
struct wire_conn {
	uint32_t magic;
	uint16_t version;
	uint16_t type; /* WIRE_CONN */
	uint8_t gid[16];
	uint32_t psn;
	uint32_t rkey;
	uint64_t addr;
	uint64_t buf_size;
	uint32_t num_qps;
	uint32_t rsvd;
	uint32_t qpn[PERF_MAX_QPS]; /* entries past num_qps are 0 */
};
_Static_assert(offsetof(struct wire_conn, psn) == 24, "wire conn psn");
_Static_assert(offsetof(struct wire_conn, addr) == 32, "wire conn addr");
_Static_assert(offsetof(struct wire_conn, qpn) == 56, "wire conn qpn");
_Static_assert(sizeof(struct wire_conn) == 56 + 4 * PERF_MAX_QPS, "wire conn");

/* Step 3. */
struct wire_msg {
	uint32_t magic;
	uint32_t type; /* enum perf_msg_type */
	uint64_t value;
};
_Static_assert(sizeof(struct wire_msg) == 16, "wire msg");

#define IBA_PSN_MASK 0xffffffu /* PSNs and QPNs are 24 bits (IBA 9.2) */

/* ------------------------------------------------------------------------ */
/* Encoding. */

size_t perf_params_wire_size(void)
{
	return sizeof(struct wire_params);
}

static void params_encode(const struct perf_params *p, uint32_t status, void *wire)
{
	struct wire_params w = {
		.magic = htole32(PERF_OOB_MAGIC),
		.version = htole16(PERF_OOB_VERSION),
		.type = htole16(WIRE_PARAMS),
		.test = (uint8_t)p->test,
		.kind = (uint8_t)p->kind,
		.sl = p->sl,
		.mtu = p->mtu,
		.flags = htole32((p->all ? WIRE_F_ALL : 0) | (p->verify ? WIRE_F_VERIFY : 0)),
		.size = htole64(p->size),
		.iters = htole64(p->iters),
		.duration = htole32(p->duration),
		.num_qps = htole32(p->num_qps),
		.tx_depth = htole32(p->tx_depth),
		.inline_max = htole32(p->inline_max),
		.status = htole32(status),
	};
	memcpy(wire, &w, sizeof(w));
}

void perf_params_encode(const struct perf_params *p, void *wire)
{
	params_encode(p, 0, wire);
}

static int bad(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

static int check_hdr(uint32_t magic, uint16_t version, uint16_t type, uint16_t want, char *why,
		     size_t len)
{
	if (le32toh(magic) != PERF_OOB_MAGIC)
		return bad(why, len, -EPROTO, "the peer is not ciov-perf (bad magic)");
	if (le16toh(version) != PERF_OOB_VERSION)
		return bad(why, len, -EPROTO, "the peer speaks version %u, this is %u",
			   le16toh(version), PERF_OOB_VERSION);
	if (le16toh(type) != want)
		return bad(why, len, -EPROTO, "unexpected message type %u", le16toh(type));
	return 0;
}

static int params_decode(const void *wire, struct perf_params *p, uint32_t *status, char *why,
			 size_t len)
{
	struct wire_params w;
	struct perf_params v;
	uint32_t flags;
	int err;

	memcpy(&w, wire, sizeof(w)); /* copy, then validate */
	err = check_hdr(w.magic, w.version, w.type, WIRE_PARAMS, why, len);
	if (err)
		return err;
	flags = le32toh(w.flags);
	v = (struct perf_params){
		.test = (enum perf_test)w.test,
		.kind = (enum perf_kind)w.kind,
		.size = le64toh(w.size),
		.iters = le64toh(w.iters),
		.duration = le32toh(w.duration),
		.num_qps = le32toh(w.num_qps),
		.tx_depth = le32toh(w.tx_depth),
		.inline_max = le32toh(w.inline_max),
		.sl = w.sl,
		.mtu = w.mtu,
		.all = flags & WIRE_F_ALL,
		.verify = flags & WIRE_F_VERIFY,
	};
	if (w.test >= PERF_TEST_MAX || w.kind >= PERF_KIND_MAX)
		return bad(why, len, -EINVAL, "unknown test %u/%u", w.test, w.kind);
	if (flags & ~(uint32_t)WIRE_F_KNOWN)
		return bad(why, len, -EINVAL, "unknown flags 0x%x", flags);
	if (v.size < 1 || v.size > PERF_MAX_SIZE ||
	    (v.test == PERF_TEST_ATOMIC && v.size != PERF_ATOMIC_SIZE))
		return bad(why, len, -EINVAL, "bad size %llu", (unsigned long long)v.size);
	if (v.duration > PERF_MAX_DURATION || v.iters > PERF_MAX_ITERS ||
	    (v.duration == 0) == (v.iters == 0))
		return bad(why, len, -EINVAL, "bad iterations %llu / duration %u",
			   (unsigned long long)v.iters, v.duration);
	if (v.num_qps < 1 || v.num_qps > PERF_MAX_QPS ||
	    (v.kind == PERF_KIND_LAT && v.num_qps != 1))
		return bad(why, len, -EINVAL, "bad QP count %u", v.num_qps);
	if (v.tx_depth < 1 || v.tx_depth > PERF_MAX_TX_DEPTH)
		return bad(why, len, -EINVAL, "bad tx depth %u", v.tx_depth);
	if (v.inline_max > 65536)
		return bad(why, len, -EINVAL, "bad inline size %u", v.inline_max);
	if (v.sl > 15 || v.mtu < CIOV_MTU_256 || v.mtu > CIOV_MTU_4096)
		return bad(why, len, -EINVAL, "bad SL %u or MTU %u", v.sl, v.mtu);
	*p = v;
	if (status)
		*status = le32toh(w.status);
	return 0;
}

int perf_params_decode(const void *wire, struct perf_params *p, char *why, size_t len)
{
	return params_decode(wire, p, NULL, why, len);
}

size_t perf_conn_wire_size(void)
{
	return sizeof(struct wire_conn);
}

void perf_conn_encode(const struct perf_conn *c, void *wire)
{
	struct wire_conn w = {
		.magic = htole32(PERF_OOB_MAGIC),
		.version = htole16(PERF_OOB_VERSION),
		.type = htole16(WIRE_CONN),
		.psn = htole32(c->psn),
		.rkey = htole32(c->rkey),
		.addr = htole64(c->addr),
		.buf_size = htole64(c->buf_size),
		.num_qps = htole32(c->num_qps),
	};
	memcpy(w.gid, c->gid, sizeof(w.gid));
	for (uint32_t i = 0; i < c->num_qps && i < PERF_MAX_QPS; i++)
		w.qpn[i] = htole32(c->qpn[i]);
	memcpy(wire, &w, sizeof(w));
}

int perf_conn_decode(const void *wire, struct perf_conn *c, char *why, size_t len)
{
	struct wire_conn w;
	struct perf_conn v = {0};
	int err;

	memcpy(&w, wire, sizeof(w)); /* copy, then validate */
	err = check_hdr(w.magic, w.version, w.type, WIRE_CONN, why, len);
	if (err)
		return err;
	memcpy(v.gid, w.gid, sizeof(v.gid));
	v.psn = le32toh(w.psn);
	v.rkey = le32toh(w.rkey);
	v.addr = le64toh(w.addr);
	v.buf_size = le64toh(w.buf_size);
	v.num_qps = le32toh(w.num_qps);
	if (v.psn & ~IBA_PSN_MASK)
		return bad(why, len, -EINVAL, "bad PSN 0x%x", v.psn);
	if (v.num_qps < 1 || v.num_qps > PERF_MAX_QPS)
		return bad(why, len, -EINVAL, "bad QP count %u", v.num_qps);
	if (v.buf_size == 0 || v.addr + v.buf_size < v.addr)
		return bad(why, len, -EINVAL, "bad buffer 0x%llx+%llu",
			   (unsigned long long)v.addr, (unsigned long long)v.buf_size);
	for (uint32_t i = 0; i < v.num_qps; i++) {
		v.qpn[i] = le32toh(w.qpn[i]);
		if (v.qpn[i] & ~IBA_PSN_MASK)
			return bad(why, len, -EINVAL, "bad QPN 0x%x", v.qpn[i]);
	}
	*c = v;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Sockets. */

int perf_oob_listen(uint16_t port)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
				  .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	int one = 1, zero = 0, fd, err;

	/* All addresses: IPv6 with IPv4-mapped ones, or IPv4 alone when the
	 * host has no IPv6. */
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0 && listen(fd, 1) == 0)
			return fd;
		err = -errno;
		close(fd);
		if (err != -EAFNOSUPPORT && err != -EADDRNOTAVAIL)
			return err;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0 || listen(fd, 1) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int perf_oob_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void tune(int fd)
{
	int one = 1;

	/* barriers are tiny and latency-bound */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int perf_oob_accept(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		fd = -errno;
	else
		tune(fd);
	close(lfd);
	return fd;
}

int perf_oob_connect(const char *host, uint16_t port, int retry_ms)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	char service[8];
	int fd = -ECONNREFUSED, gai;

	snprintf(service, sizeof(service), "%u", port);
	gai = getaddrinfo(host, service, &hints, &res);
	if (gai)
		return gai == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (int waited = 0;; waited += 100) {
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0) {
				fd = -errno;
				continue;
			}
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				goto out;
			close(fd);
			fd = -errno;
		}
		/* the server may not be listening yet: retry a refusal */
		if (fd != -ECONNREFUSED || waited >= retry_ms)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
	}
	freeaddrinfo(res);
	return fd;
out:
	freeaddrinfo(res);
	tune(fd);
	return fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0, -ECONNRESET when the peer closed, or -errno. */
static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int io_fail(FILE *err, const char *what, int e)
{
	if (e == -ECONNRESET)
		fprintf(err, "ciov-perf: %s: the peer closed the connection (see its output)\n",
			what);
	else
		fprintf(err, "ciov-perf: %s: %s\n", what, strerror(-e));
	return -1;
}

static bool same_test(const struct perf_params *a, const struct perf_params *b)
{
	return a->test == b->test && a->kind == b->kind;
}

int perf_oob_params_client(int fd, const struct perf_params *mine, FILE *err)
{
	struct wire_params w;
	struct perf_params srv;
	uint32_t status;
	char why[128];
	int e;

	params_encode(mine, 0, &w);
	e = write_all(fd, &w, sizeof(w));
	if (e)
		return io_fail(err, "sending the test parameters", e);
	e = read_all(fd, &w, sizeof(w));
	if (e)
		return io_fail(err, "receiving the server's answer", e);
	/* the server answers with its own (valid) parameters and a status */
	if (params_decode(&w, &srv, &status, why, sizeof(why))) {
		fprintf(err, "ciov-perf: bad answer from the server: %s\n", why);
		return -1;
	}
	if (status || !same_test(mine, &srv)) {
		fprintf(err, "ciov-perf: test mismatch: the server runs %s %s, this client %s %s\n",
			perf_test_name(srv.test), perf_kind_name(srv.kind),
			perf_test_name(mine->test), perf_kind_name(mine->kind));
		return -1;
	}
	return 0;
}

int perf_oob_params_server(int fd, struct perf_params *mine, FILE *err)
{
	struct wire_params w;
	struct perf_params cli;
	char why[128];
	int e;

	e = read_all(fd, &w, sizeof(w));
	if (e)
		return io_fail(err, "receiving the client's parameters", e);
	if (params_decode(&w, &cli, NULL, why, sizeof(why))) {
		fprintf(err, "ciov-perf: bad parameters from the client: %s\n", why);
		return -1;
	}
	if (!same_test(mine, &cli)) {
		params_encode(mine, 1, &w);
		write_all(fd, &w, sizeof(w)); /* best effort: we fail anyway */
		fprintf(err, "ciov-perf: test mismatch: the client runs %s %s, this server %s %s\n",
			perf_test_name(cli.test), perf_kind_name(cli.kind),
			perf_test_name(mine->test), perf_kind_name(mine->kind));
		return -1;
	}
	*mine = cli; /* the client chooses the parameters */
	params_encode(mine, 0, &w);
	e = write_all(fd, &w, sizeof(w));
	if (e)
		return io_fail(err, "answering the client", e);
	return 0;
}

int perf_oob_conn(int fd, bool client, const struct perf_conn *mine, struct perf_conn *peer,
		  FILE *err)
{
	struct wire_conn out, in;
	char why[128];
	int e;

	perf_conn_encode(mine, &out);
	if (client) {
		e = write_all(fd, &out, sizeof(out));
		if (!e)
			e = read_all(fd, &in, sizeof(in));
	} else {
		e = read_all(fd, &in, sizeof(in));
		if (!e)
			e = write_all(fd, &out, sizeof(out));
	}
	if (e)
		return io_fail(err, "exchanging QP information", e);
	if (perf_conn_decode(&in, peer, why, sizeof(why))) {
		fprintf(err, "ciov-perf: bad QP information from the peer: %s\n", why);
		return -1;
	}
	return 0;
}

int perf_oob_send_msg(int fd, enum perf_msg_type type, uint64_t value)
{
	struct wire_msg m = {.magic = htole32(PERF_OOB_MAGIC),
			     .type = htole32((uint32_t)type),
			     .value = htole64(value)};
	int e = write_all(fd, &m, sizeof(m));

	return e ? io_fail(stderr, "sending a barrier", e) : 0;
}

static int check_msg(const struct wire_msg *m, enum perf_msg_type want, uint64_t *value)
{
	if (le32toh(m->magic) != PERF_OOB_MAGIC || le32toh(m->type) != (uint32_t)want) {
		fprintf(stderr, "ciov-perf: out of step with the peer (message type %u, expected %u)\n",
			le32toh(m->type), (unsigned)want);
		return -1;
	}
	if (value)
		*value = le64toh(m->value);
	return 0;
}

int perf_oob_recv_msg(int fd, enum perf_msg_type want, uint64_t *value)
{
	struct wire_msg m;
	int e = read_all(fd, &m, sizeof(m));

	if (e)
		return io_fail(stderr, "waiting for the peer", e);
	return check_msg(&m, want, value);
}

int perf_oob_poll_msg(int fd, enum perf_msg_type want, uint64_t *value)
{
	struct wire_msg m;
	ssize_t n = recv(fd, &m, sizeof(m), MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0)
		return io_fail(stderr, "waiting for the peer", -ECONNRESET);
	if (n < 0)
		return io_fail(stderr, "waiting for the peer", -errno);
	if ((size_t)n < sizeof(m))
		return 0; /* the rest is on its way */
	return perf_oob_recv_msg(fd, want, value) ? -1 : 1;
}

int perf_oob_sync(int fd, enum perf_msg_type type, uint64_t mine, uint64_t *peer)
{
	if (perf_oob_send_msg(fd, type, mine))
		return -1;
	return perf_oob_recv_msg(fd, type, peer);
}
