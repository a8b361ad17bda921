/* SPDX-License-Identifier: MIT */
/*
 * xfer: numbered messages from host A to one or more peers over RC, each
 * checked on arrival for exactly once, in order, byte for byte.
 *
 *   xfer [options] RUNTIME_DIR_A RUNTIME_DIR_PEER [RUNTIME_DIR_PEER...]
 *
 * One process is the tenant of every adapter named (libciov talks to each
 * ciovd over its Unix sockets, which are files, whatever network namespace
 * the daemon runs in); each adapter has endpoint "e" (--endpoint). A gets
 * one RC QP per peer, connected to the peer's QP by GID (the port's RoCEv2
 * GID) and QPN, so every byte crosses the fabric.
 *
 * Message i (0-based) of a stream has operation ops[i % nops] (SEND,
 * WRITE_WITH_IMM carrying i, plain RDMA WRITE) and size
 * sizes[(i / nops) % nsizes]; its bytes are a pattern of (peer, i, size).
 * SENDs land in the peer's receive slots (i-th receive, in order), WRITEs
 * in write slot i % depth. The peer checks each receive completion against
 * the next message it expects: opcode, length, immediate, slot and every
 * byte; a plain WRITE is checked when the next message that consumes a
 * receive arrives (RC places it before that one completes). A duplicate, a
 * loss, a reorder or a corrupted byte fails. The last message is never a
 * plain WRITE. At the end a quiet period must bring no further completion.
 *
 * --vanish: after the messages, print "READY", wait for SIGUSR1 (the test
 * kills the peer's ciovd or deletes its namespace, then signals), post one
 * more WRITE and time its completion: it must be RETRY_EXC_ERR within
 * 4.096 us * 2^timeout * (retry_cnt + 1) plus slack. Prints the status
 * and the time.
 *
 * Exit 0 on success, 1 on any failure (with the reason on stderr).
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "../harness/rc_connect.h"

#define PEERS_MAX 8
#define SIZES_MAX 32
#define OPS_MAX 8
#define STALL_MS 15000 /* no progress for this long: fail */
#define QUIET_MS 200

enum op { OP_SEND, OP_IMM, OP_WRITE };
static const char *op_name[] = {"send", "imm", "write"};

struct opts {
	const char *endpoint;
	uint64_t count;
	uint32_t sizes[SIZES_MAX];
	int nsizes;
	enum op ops[OPS_MAX];
	int nops;
	uint32_t depth;
	int timeout, retry_cnt;
	bool vanish;
	bool verbose;
} o = {
	.endpoint = "e",
	.count = 500,
	.depth = 16,
	.timeout = 12, /* 16.8 ms */
	.retry_cnt = 7,
};

struct side {
	struct ciov_adapter *ad;
	struct ciov_endpoint *ep;
	uint8_t gid[16];
	struct ciov_pd *pd;
};

struct peer {
	int idx;
	struct side *a;	   /* host A (shared) */
	struct side b;	   /* the peer host */
	struct ciov_cq *a_scq, *a_rcq, *b_scq, *b_rcq;
	struct ciov_qp *qa, *qb;
	uint8_t *src;	   /* A: depth slots */
	uint8_t *rcv, *wr; /* peer: receive slots, write slots */
	struct ciov_mr *src_mr, *rcv_mr, *wr_mr;
	uint64_t posted, send_done, verified, consumed;
	uint64_t bytes;
	double t0, t1;
};

static uint32_t max_size;
static volatile sig_atomic_t got_usr1;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xfer: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define CHECK(call)                                                            \
	do {                                                                   \
		int err_ = (call);                                             \
		if (err_)                                                      \
			die("%s: %s", #call, strerror(err_ < 0 ? -err_ : err_)); \
	} while (0)

static enum op op_of(uint64_t i)
{
	enum op op = o.ops[i % (uint64_t)o.nops];

	return op == OP_WRITE && i == o.count - 1 ? OP_SEND : op;
}

static uint32_t size_of(uint64_t i)
{
	return o.sizes[(i / (uint64_t)o.nops) % (uint64_t)o.nsizes];
}

/* The bytes of message I of peer P: xorshift64* from (p, i, size); the
 * first 8 bytes (if they fit) are I itself, for the diagnostics. */
static void pattern(uint8_t *b, uint32_t n, int p, uint64_t i)
{
	uint64_t s = ((uint64_t)p << 56) ^ (i * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)n << 24) ^ 1;

	for (uint32_t k = 0; k < n; k += 8) {
		uint64_t v;

		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		v = s * 0x2545f4914f6cdd1dull;
		memcpy(b + k, &v, n - k < 8 ? n - k : 8);
	}
	if (n >= 8)
		memcpy(b, &i, 8);
}

static void check_bytes(const struct peer *p, const uint8_t *got, uint64_t i, const char *where)
{
	static uint8_t *want;
	uint32_t n = size_of(i);

	if (!want && !(want = malloc(max_size)))
		die("out of memory");
	pattern(want, n, p->idx, i);
	if (memcmp(got, want, n) != 0) {
		uint32_t k = 0;
		uint64_t which = UINT64_MAX;

		while (got[k] == want[k])
			k++;
		if (n >= 8)
			memcpy(&which, got, 8);
		die("peer %d: message %" PRIu64 " (%s, %u bytes) in %s: byte %u differs (0x%02x, want "
		    "0x%02x); the slot holds message %" PRIu64,
		    p->idx, i, op_name[op_of(i)], n, where, k, got[k], want[k], which);
	}
}

static void side_open(struct side *s, const char *rt)
{
	struct ciov_endpoint_attr ea;
	int err = ciov_adapter_open(rt, &s->ad);

	if (err)
		die("adapter %s: %s", rt, strerror(-err));
	err = ciov_open_endpoint(s->ad, o.endpoint, &s->ep);
	if (err)
		die("endpoint %s on %s: %s (add it: ciovctl endpoint add %s)", o.endpoint, rt,
		    strerror(-err), o.endpoint);
	CHECK(ciov_query_endpoint(s->ep, &ea));
	memcpy(s->gid, ea.gid, 16);
	CHECK(ciov_alloc_pd(s->ep, &s->pd));
}

static uint8_t *mem(struct side *s, size_t len, struct ciov_mr **mr)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *b;

	len = (len + page - 1) / page * page;
	b = aligned_alloc(page, len);
	if (!b)
		die("out of memory");
	memset(b, 0, len);
	CHECK(ciov_reg_mr(s->pd, b, len, CIOV_ACCESS_ALL, mr));
	return b;
}

static void post_recv(struct peer *p, uint64_t slot)
{
	struct ciov_sge s = {.addr = (uint64_t)(uintptr_t)(p->rcv + slot * max_size),
			     .length = max_size,
			     .lkey = p->rcv_mr->lkey};
	struct ciov_recv_wr wr = {.wr_id = slot, .sg_list = &s, .num_sge = 1};
	const struct ciov_recv_wr *bad;

	s.addr = p->rcv_mr->iova + slot * max_size;
	CHECK(ciov_post_recv(p->qb, &wr, &bad));
}

static void peer_setup(struct peer *p, int idx, struct side *a, const char *rt)
{
	struct ciov_qp_init_attr ia = {
		.qp_type = CIOV_QPT_RC,
		.cap = {.max_send_wr = o.depth + 1, .max_recv_wr = o.depth, .max_send_sge = 1,
			.max_recv_sge = 1},
	};
	size_t area = (size_t)o.depth * max_size;

	p->idx = idx;
	p->a = a;
	side_open(&p->b, rt);
	CHECK(ciov_create_cq(a->ep, (int)(4 * o.depth), NULL, NULL, &p->a_scq));
	CHECK(ciov_create_cq(a->ep, (int)(4 * o.depth), NULL, NULL, &p->a_rcq));
	CHECK(ciov_create_cq(p->b.ep, (int)(4 * o.depth), NULL, NULL, &p->b_scq));
	CHECK(ciov_create_cq(p->b.ep, (int)(4 * o.depth), NULL, NULL, &p->b_rcq));
	ia.send_cq = p->a_scq;
	ia.recv_cq = p->a_rcq;
	CHECK(ciov_create_qp(a->pd, &ia, &p->qa));
	ia.send_cq = p->b_scq;
	ia.recv_cq = p->b_rcq;
	CHECK(ciov_create_qp(p->b.pd, &ia, &p->qb));
	p->src = mem(a, area, &p->src_mr);
	p->rcv = mem(&p->b, area, &p->rcv_mr);
	p->wr = mem(&p->b, area, &p->wr_mr);
	CHECK(th_rc_connect(p->qa, p->b.gid, p->qb->qp_num, 0, (uint8_t)o.timeout, (uint8_t)o.retry_cnt));
	CHECK(th_rc_connect(p->qb, a->gid, p->qa->qp_num, 0, (uint8_t)o.timeout, (uint8_t)o.retry_cnt));
	for (uint64_t s = 0; s < o.depth; s++)
		post_recv(p, s);
	if (o.verbose) {
		printf("peer %d: QP %u -> QP %u, write slots at va 0x%" PRIx64 " rkey 0x%x\n", idx,
		       p->qa->qp_num, p->qb->qp_num, p->wr_mr->iova, p->wr_mr->rkey);
		fflush(stdout);
	}
}

/* Posts message I (or, with OP_WRITE forced, the vanish probe). */
static void post_msg(struct peer *p, uint64_t i, enum op op)
{
	uint64_t slot = i % o.depth;
	uint32_t n = size_of(i);
	struct ciov_sge s = {.addr = p->src_mr->iova + slot * max_size, .length = n,
			     .lkey = p->src_mr->lkey};
	struct ciov_send_wr wr = {.wr_id = i, .sg_list = &s, .num_sge = 1,
				  .send_flags = CIOV_SEND_SIGNALED};
	const struct ciov_send_wr *bad;

	pattern(p->src + slot * max_size, n, p->idx, i);
	switch (op) {
	case OP_SEND:
		wr.opcode = CIOV_WR_SEND;
		break;
	case OP_IMM:
		wr.opcode = CIOV_WR_RDMA_WRITE_WITH_IMM;
		wr.imm_data = (uint32_t)i;
		/* fall through */
	case OP_WRITE:
		if (op == OP_WRITE)
			wr.opcode = CIOV_WR_RDMA_WRITE;
		wr.wr.rdma.remote_addr = p->wr_mr->iova + slot * max_size;
		wr.wr.rdma.rkey = p->wr_mr->rkey;
		break;
	}
	CHECK(ciov_post_send(p->qa, &wr, &bad));
}

static const enum ciov_wc_opcode send_wc_op[] = {CIOV_WC_OP_SEND, CIOV_WC_OP_RDMA_WRITE,
						 CIOV_WC_OP_RDMA_WRITE};

/* One pass over peer P; returns whether anything happened. */
static bool step(struct peer *p)
{
	struct ciov_wc wc[32];
	bool moved = false;
	int n;

	while (p->posted < o.count && p->posted < p->verified + o.depth &&
	       p->posted < p->send_done + o.depth) {
		post_msg(p, p->posted, op_of(p->posted));
		p->posted++;
		moved = true;
	}
	n = ciov_poll_cq(p->a_scq, 32, wc);
	if (n < 0)
		die("poll A's send CQ: %s", strerror(-n));
	for (int k = 0; k < n; k++, moved = true) {
		uint64_t i = p->send_done;

		if (wc[k].status != CIOV_WC_SUCCESS)
			die("peer %d: send of message %" PRIu64 " completed %s", p->idx, wc[k].wr_id,
			    ciov_wc_status_str(wc[k].status));
		if (wc[k].wr_id != i || i >= p->posted)
			die("peer %d: send completion for message %" PRIu64 ", want %" PRIu64
			    " (duplicate or out of order)",
			    p->idx, wc[k].wr_id, i);
		if (wc[k].opcode != send_wc_op[op_of(i)])
			die("peer %d: message %" PRIu64 " completed as opcode %d", p->idx, i,
			    wc[k].opcode);
		p->send_done++;
	}
	n = ciov_poll_cq(p->b_rcq, 32, wc);
	if (n < 0)
		die("poll the peer's receive CQ: %s", strerror(-n));
	for (int k = 0; k < n; k++, moved = true) {
		uint64_t slot = p->consumed % o.depth, i;
		enum op op;

		/* The plain WRITEs before it have landed. */
		while (p->verified < o.count && op_of(p->verified) == OP_WRITE) {
			i = p->verified++;
			check_bytes(p, p->wr + (i % o.depth) * max_size, i, "write slot");
			p->bytes += size_of(i);
		}
		i = p->verified;
		if (i >= p->posted)
			die("peer %d: a receive completed (wr_id %" PRIu64 ", %u bytes, %s) but only %"
			    PRIu64 " messages were posted: a duplicate",
			    p->idx, wc[k].wr_id, wc[k].byte_len, ciov_wc_status_str(wc[k].status),
			    p->posted);
		op = op_of(i);
		if (wc[k].status != CIOV_WC_SUCCESS)
			die("peer %d: receive for message %" PRIu64 " completed %s", p->idx, i,
			    ciov_wc_status_str(wc[k].status));
		if (wc[k].wr_id != slot)
			die("peer %d: receive slot %" PRIu64 " completed, want %" PRIu64, p->idx,
			    wc[k].wr_id, slot);
		if (wc[k].byte_len != size_of(i))
			die("peer %d: message %" PRIu64 " (%s) arrived with %u bytes, want %u", p->idx,
			    i, op_name[op], wc[k].byte_len, size_of(i));
		if (op == OP_SEND) {
			if (wc[k].opcode != CIOV_WC_OP_RECV)
				die("peer %d: message %" PRIu64 " is a SEND, completed as opcode %d",
				    p->idx, i, wc[k].opcode);
			check_bytes(p, p->rcv + slot * max_size, i, "receive slot");
		} else {
			if (wc[k].opcode != CIOV_WC_OP_RECV_RDMA_WITH_IMM ||
			    !(wc[k].wc_flags & CIOV_WC_WITH_IMM) || wc[k].imm_data != (uint32_t)i)
				die("peer %d: message %" PRIu64 " is a WRITE with immediate %" PRIu64
				    ", completed as opcode %d flags %#x immediate %u",
				    p->idx, i, i, wc[k].opcode, wc[k].wc_flags, wc[k].imm_data);
			check_bytes(p, p->wr + (i % o.depth) * max_size, i, "write slot");
		}
		p->bytes += size_of(i);
		p->verified++;
		p->consumed++;
		post_recv(p, slot);
	}
	n = ciov_poll_cq(p->b_scq, 1, wc);
	if (n != 0)
		die("peer %d: the responder's send CQ completed something (%d)", p->idx, n);
	n = ciov_poll_cq(p->a_rcq, 1, wc);
	if (n != 0)
		die("peer %d: the requester's receive CQ completed something (%d)", p->idx, n);
	return moved;
}

static void parse_sizes(const char *arg)
{
	char *copy = strdup(arg), *save = NULL;

	o.nsizes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long v = strtol(t, NULL, 0);

		if (v < 1 || v > (64 << 20) || o.nsizes == SIZES_MAX)
			die("--sizes: %s", arg);
		o.sizes[o.nsizes++] = (uint32_t)v;
	}
	free(copy);
}

static void parse_ops(const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	bool consuming = false;

	o.nops = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k = 0;

		while (k < 3 && strcmp(t, op_name[k]) != 0)
			k++;
		if (k == 3 || o.nops == OPS_MAX)
			die("--ops: %s (send, imm, write)", arg);
		o.ops[o.nops++] = (enum op)k;
		consuming = consuming || k != OP_WRITE;
	}
	free(copy);
	if (!consuming)
		die("--ops needs send or imm (a plain WRITE is checked at the next one)");
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* The peer is gone: one more WRITE must complete RETRY_EXC_ERR in time. */
static int vanish(struct peer *p)
{
	double budget = 4.096e-3 * (double)(1u << o.timeout) * (o.retry_cnt + 1), t0, dt;
	struct ciov_wc wc;
	int n = 0;

	printf("READY\n");
	fflush(stdout);
	while (!got_usr1)
		usleep(1000);
	t0 = now_ms();
	post_msg(p, p->posted, OP_WRITE);
	while ((n = ciov_poll_cq(p->a_scq, 1, &wc)) == 0 && now_ms() - t0 < budget + 10000)
		sched_yield();
	dt = now_ms() - t0;
	if (n != 1)
		die("no completion %.0f ms after the peer vanished (budget %.0f ms)", dt, budget);
	printf("vanish: %s after %.1f ms (timeout %d, retry_cnt %d: budget %.1f ms)\n",
	       ciov_wc_status_str(wc.status), dt, o.timeout, o.retry_cnt, budget);
	if (wc.status != CIOV_WC_RETRY_EXC_ERR)
		die("the WRITE to the vanished peer completed %s", ciov_wc_status_str(wc.status));
	if (dt < 0.9 * budget || dt > budget + 1000)
		die("RETRY_EXC_ERR after %.1f ms, want about %.1f", dt, budget);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"count", required_argument, NULL, 'n'}, {"sizes", required_argument, NULL, 's'},
		{"ops", required_argument, NULL, 'o'},	 {"depth", required_argument, NULL, 'd'},
		{"timeout", required_argument, NULL, 't'}, {"retry", required_argument, NULL, 'r'},
		{"endpoint", required_argument, NULL, 'e'}, {"vanish", no_argument, NULL, 'V'},
		{"verbose", no_argument, NULL, 'v'},	 {NULL, 0, NULL, 0},
	};
	struct side a;
	struct peer peers[PEERS_MAX];
	int np, c;
	double last;
	bool all;

	parse_sizes("1,100,1023,1024,1025,3077,16384,65536,262144");
	parse_ops("send,imm,write");
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o.count = strtoull(optarg, NULL, 0); break;
		case 's': parse_sizes(optarg); break;
		case 'o': parse_ops(optarg); break;
		case 'd': o.depth = (uint32_t)atoi(optarg); break;
		case 't': o.timeout = atoi(optarg); break;
		case 'r': o.retry_cnt = atoi(optarg); break;
		case 'e': o.endpoint = optarg; break;
		case 'V': o.vanish = true; break;
		case 'v': o.verbose = true; break;
		default:
			fprintf(stderr, "usage: xfer [--count N] [--sizes A,B,..] [--ops send,imm,write] "
					"[--depth D] [--timeout T] [--retry R] [--endpoint NAME] "
					"[--vanish] [--verbose] RT_A RT_PEER [RT_PEER...]\n");
			return 1;
		}
	}
	np = argc - optind - 1;
	if (np < 1 || np > PEERS_MAX || o.count < 1 || o.depth < 4 || o.depth > 256 ||
	    o.timeout < 1 || o.timeout > 20 || o.retry_cnt < 0 || o.retry_cnt > 7)
		die("bad arguments (see the usage at the top of xfer.c)");
	for (int k = 0; k < o.nsizes; k++)
		max_size = o.sizes[k] > max_size ? o.sizes[k] : max_size;
	max_size = (max_size + 63) / 64 * 64;
	signal(SIGUSR1, on_usr1);
	side_open(&a, argv[optind]);
	memset(peers, 0, sizeof(peers));
	for (int k = 0; k < np; k++)
		peer_setup(&peers[k], k + 1, &a, argv[optind + 1 + k]);
	last = now_ms();
	for (int k = 0; k < np; k++)
		peers[k].t0 = last;
	do {
		all = true;
		for (int k = 0; k < np; k++) {
			struct peer *p = &peers[k];

			if (p->verified == o.count && p->send_done == o.count)
				continue;
			all = false;
			if (step(p)) {
				last = now_ms();
				if (p->verified == o.count && p->send_done == o.count)
					p->t1 = last;
			}
		}
		if (!all && now_ms() - last > STALL_MS) {
			for (int k = 0; k < np; k++)
				fprintf(stderr, "peer %d: posted %" PRIu64 ", sends done %" PRIu64
						", verified %" PRIu64 " of %" PRIu64 "\n",
					k + 1, peers[k].posted, peers[k].send_done, peers[k].verified,
					o.count);
			die("no progress for %d ms", STALL_MS);
		}
		if (!all)
			sched_yield();
	} while (!all);
	/* Nothing more may complete anywhere. */
	last = now_ms();
	while (now_ms() - last < QUIET_MS)
		for (int k = 0; k < np; k++)
			step(&peers[k]);
	for (int k = 0; k < np; k++) {
		const struct peer *p = &peers[k];
		double ms = p->t1 - p->t0;

		printf("peer %d: %" PRIu64 " messages (%s; %d sizes %u..%u), %" PRIu64
		       " bytes, each once, in order, verified, in %.0f ms (%.1f MB/s)\n",
		       p->idx, o.count, o.nops == 3 ? "send, write+imm, write" : "ops as given",
		       o.nsizes, o.sizes[0], o.sizes[o.nsizes - 1], p->bytes, ms,
		       ms > 0 ? (double)p->bytes / ms / 1e3 : 0.0);
	}
	fflush(stdout);
	if (o.vanish)
		return vanish(&peers[0]);
	return 0;
}
