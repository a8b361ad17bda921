/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: the latency tests (perftest's ib_*_lat).
 *
 *  write: ping-pong. Each side RDMA-WRITEs the peer's rx slot and polls
 *         the last byte of its own rx slot for the iteration's tag (as
 *         ib_write_lat does). Reports RTT/2.
 *  send:  ping-pong of SENDs into posted receives, waiting on the receive
 *         CQ. Reports RTT/2.
 *  read, atomic: one RDMA READ / FETCH_AND_ADD outstanding at a time, from
 *         post to completion. Reports the full RTT (as perftest).
 *
 * Waiting yields the CPU between polls (see cq.c), and every wait also
 * watches the out-of-band socket, so a peer that stops (--duration) or
 * dies ends the wait instead of spinning forever.
 *
 * --verify: ping i carries the pattern of (client seed, i), pong i that of
 * (server seed, i); every received buffer is checked byte for byte. For
 * write, whose arrival is seen by its last byte, the other bytes may land
 * in any order: the check waits up to VERIFY_SETTLE_NS for them before it
 * reports a difference.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf.h"

#define SEED_CLIENT 0x11
#define SEED_SERVER 0x22
#define SEED_READ 0x33
#define VERIFY_SETTLE_NS 100000000ull /* 100 ms */
#define SPIN_CHECK_EVERY 64	     /* empty spins between looks at the socket */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The tag in the last byte of message i: never 0 (the cleared buffer) and
 * never the previous message's. */
static uint8_t tag(uint64_t i)
{
	return (uint8_t)(i % 255 + 1);
}

struct samples {
	double *v; /* ns */
	size_t n, cap;
};

static int samples_add(struct samples *s, double ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "ciov-perf: out of memory for samples\n");
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
	return 0;
}

/* The send queue of the ping-pong: WRs signaled one in `sig`, reaped as
 * they complete, never more than sq_depth unreaped. */
struct sq {
	uint64_t posted, done;
	uint32_t sig;
};

static int sq_reap(struct perf_run *run, struct sq *sq, bool block)
{
	struct ciov_wc wc[16];
	int n;

	do {
		n = perf_cq_wait(run->r, run->o, &run->r->scq, 16, wc, !block, run->fd);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++)
			if (wc[i].wr_id > sq->done && wc[i].wr_id <= sq->posted)
				sq->done = wc[i].wr_id;
		if (n == 0 && block && perf_readable(run->fd)) {
			perf_oob_poll_msg(run->fd, PERF_MSG_DONE, NULL);
			fprintf(stderr, "ciov-perf: the peer stopped while a send was pending\n");
			return -1;
		}
	} while (block && n == 0);
	return 0;
}

static int sq_post(struct perf_run *run, struct sq *sq, struct ciov_send_wr *wr, unsigned flags)
{
	while (sq->posted - sq->done >= run->r->sq_depth)
		if (sq_reap(run, sq, true))
			return -1;
	wr->wr_id = sq->posted + 1;
	wr->send_flags = flags | ((sq->posted + 1) % sq->sig == 0 ? CIOV_SEND_SIGNALED : 0);
	if (perf_post_send(run->r, 0, wr))
		return -1;
	sq->posted++;
	return 0;
}

/* The peer ended the run (1) or broke the protocol (-1): called when the
 * socket became readable during a wait. */
static int peer_stopped(struct perf_run *run)
{
	int m = perf_oob_poll_msg(run->fd, PERF_MSG_DONE, &run->peer_done);

	if (m < 0)
		return -1;
	if (m == 0)
		return 0; /* half a message: keep waiting */
	if (!run->o->p.duration || run->client) {
		fprintf(stderr, "ciov-perf: the peer ended the run early\n");
		return -1;
	}
	return 1;
}

/* Waits for byte *b == want. 0, 1 when the peer stopped, -1. */
static int spin_tag(struct perf_run *run, const volatile uint8_t *b, uint8_t want)
{
	for (unsigned miss = 1; *b != want; miss++) {
		if (miss % SPIN_CHECK_EVERY == 0 && perf_readable(run->fd)) {
			int s = peer_stopped(run);

			if (s)
				return s;
		}
		sched_yield();
	}
	/* the rest of the message before its tag (a no-op on x86) */
	atomic_thread_fence(memory_order_acquire);
	return 0;
}

static int verify(const volatile uint8_t *buf, uint64_t len, uint64_t seed, uint64_t i,
		  bool settle)
{
	uint64_t until = now_ns() + VERIFY_SETTLE_NS;
	long bad;

	while ((bad = perf_pattern_check(buf, len, seed, i)) >= 0 && settle && now_ns() < until)
		sched_yield();
	if (bad < 0)
		return 0;
	fprintf(stderr, "ciov-perf: verify: message %llu: byte %ld differs\n",
		(unsigned long long)i, bad);
	return -1;
}

/* Fills tx with message i: the pattern (verify) and the tag. */
static void put_msg(const struct perf_run *run, uint8_t *tx, uint64_t size, uint64_t seed,
		    uint64_t i)
{
	if (run->o->p.verify)
		perf_pattern_fill(tx, size, seed, i);
	tx[size - 1] = tag(i);
}

/* True when the client should stop before iteration i. */
static bool client_done(const struct perf_run *run, uint64_t i, uint64_t deadline)
{
	const struct perf_params *p = &run->o->p;

	return p->duration ? now_ns() >= deadline : i >= p->iters;
}

/* Waits for one receive on QP 0 and reposts. 0, 1 when the peer stopped,
 * -1. */
static int recv_one(struct perf_run *run, uint64_t size)
{
	struct perf_res *r = run->r;
	struct ciov_wc wc;

	for (;;) {
		int n = perf_cq_wait(r, run->o, &r->rcq, 1, &wc, false, run->fd);

		if (n < 0)
			return -1;
		if (n == 1)
			break;
		n = peer_stopped(run);
		if (n)
			return n;
	}
	if (wc.byte_len != size) {
		fprintf(stderr, "ciov-perf: received %u bytes, expected %llu\n", wc.byte_len,
			(unsigned long long)size);
		return -1;
	}
	r->rq_posted[0]--;
	return 0;
}

/* Message I has arrived in RX: write lat sees its last byte change, send
 * lat its receive complete. 0, 1 when the peer stopped, -1. */
static int pp_wait(struct perf_run *run, const uint8_t *rx, uint64_t size, uint64_t i, bool send)
{
	return send ? recv_one(run, size) : spin_tag(run, &rx[size - 1], tag(i));
}

/* Checks message I (with --verify) and, for sends, reposts receives. */
static int pp_check(struct perf_run *run, const uint8_t *rx, uint64_t size, uint64_t i,
		    uint64_t theirs, bool send)
{
	const struct perf_params *p = &run->o->p;

	/* A write's bytes may land after its last one; a receive's CQE
	 * follows all of them: no settling. */
	if (p->verify && verify(rx, size - 1, theirs, i, !send))
		return -1;
	if (!send)
		return 0;
	if (p->verify && rx[size - 1] != tag(i)) {
		fprintf(stderr, "ciov-perf: verify: message %llu: bad tag\n", (unsigned long long)i);
		return -1;
	}
	return perf_fill_recvs(run->r);
}

/* write and send lat: ping-pong, each side answering the other's message;
 * the client times round trips and records half of each. */
static int pingpong_lat(struct perf_run *run, uint64_t size, struct samples *s, bool send)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	uint8_t *tx = perf_tx(r, 0), *rx = perf_rx(r, 0);
	struct ciov_sge sge = {.addr = perf_iova(r, tx), .length = (uint32_t)size,
			       .lkey = r->mr->lkey};
	struct ciov_send_wr wr = {.sg_list = &sge, .num_sge = 1};
	unsigned flags = size <= p->inline_max ? CIOV_SEND_INLINE : 0;
	uint64_t mine = run->client ? SEED_CLIENT : SEED_SERVER;
	uint64_t theirs = run->client ? SEED_SERVER : SEED_CLIENT;
	uint64_t deadline = now_ns() + (uint64_t)p->duration * 1000000000ull;
	struct sq sq = {.sig = r->sq_depth / 2 ? r->sq_depth / 2 : 1};

	if (send) {
		wr.opcode = CIOV_WR_SEND;
	} else {
		wr.opcode = CIOV_WR_RDMA_WRITE;
		wr.wr.rdma.remote_addr = perf_peer_rx(r, 0);
		wr.wr.rdma.rkey = r->peer.rkey;
	}
	for (uint64_t i = 0;; i++) {
		uint64_t t0 = 0;
		int st;

		if (run->client) {
			if (client_done(run, i, deadline))
				return 0;
			put_msg(run, tx, size, mine, i);
			t0 = now_ns();
			if (sq_post(run, &sq, &wr, flags))
				return -1;
		} else if (!p->duration && i >= p->iters) {
			return 0;
		}
		st = pp_wait(run, rx, size, i, send);
		if (st)
			return st < 0 ? -1 : 0;
		if (run->client && samples_add(s, (double)(now_ns() - t0) / 2))
			return -1;
		if (pp_check(run, rx, size, i, theirs, send))
			return -1;
		if (!run->client) {
			put_msg(run, tx, size, mine, i);
			if (sq_post(run, &sq, &wr, flags))
				return -1;
		}
		if (sq_reap(run, &sq, false))
			return -1;
	}
}

/* read and atomic: the client alone, one operation at a time. */
static int rtt_lat(struct perf_run *run, uint64_t size, struct samples *s)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	uint8_t *rx = perf_rx(r, 0);
	bool atomic = p->test == PERF_TEST_ATOMIC;
	struct ciov_sge sge = {.addr = perf_iova(r, rx), .length = (uint32_t)size,
			       .lkey = r->mr->lkey};
	struct ciov_send_wr wr = {.sg_list = &sge, .num_sge = 1, .send_flags = CIOV_SEND_SIGNALED};
	uint64_t deadline = now_ns() + (uint64_t)p->duration * 1000000000ull;
	struct ciov_wc wc;

	if (atomic) {
		wr.opcode = CIOV_WR_ATOMIC_FETCH_AND_ADD;
		wr.wr.atomic.remote_addr = perf_peer_rx(r, 0);
		wr.wr.atomic.rkey = r->peer.rkey;
		wr.wr.atomic.compare_add = 1;
	} else {
		wr.opcode = CIOV_WR_RDMA_READ;
		wr.wr.rdma.remote_addr = perf_peer_tx(r, 0);
		wr.wr.rdma.rkey = r->peer.rkey;
	}
	for (uint64_t i = 0; !client_done(run, i, deadline); i++) {
		uint64_t t0, t1;
		int n;

		if (p->verify && !atomic)
			memset(rx, 0, size);
		wr.wr_id = i;
		t0 = now_ns();
		if (perf_post_send(r, 0, &wr))
			return -1;
		do {
			n = perf_cq_wait(r, run->o, &r->scq, 1, &wc, false, run->fd);
			if (n < 0 || (n == 0 && peer_stopped(run)))
				return -1;
		} while (n == 0);
		t1 = now_ns();
		if (samples_add(s, (double)(t1 - t0)))
			return -1;
		if (!p->verify)
			continue;
		if (atomic) {
			uint64_t old;

			memcpy(&old, rx, sizeof(old));
			if (old != i) {
				fprintf(stderr, "ciov-perf: verify: fetch-and-add %llu returned %llu\n",
					(unsigned long long)i, (unsigned long long)old);
				return -1;
			}
		} else if (verify(rx, size, SEED_READ, size, false)) {
			return -1;
		}
	}
	return 0;
}

int perf_run_lat(struct perf_run *run, uint64_t size)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	struct samples s = {0};
	struct perf_lat_result res;
	uint64_t mine, peer;
	int err = -1;

	/* the peer writes rx only after READY; the first tag must not be there */
	memset(perf_rx(r, 0), 0, size);
	memset(perf_tx(r, 0), 0, size);
	if (p->test == PERF_TEST_READ && !run->client && p->verify)
		perf_pattern_fill(perf_tx(r, 0), size, SEED_READ, size);
	if (p->test == PERF_TEST_SEND && perf_fill_recvs(r))
		return -1;
	if (!p->duration && run->client) {
		s.v = malloc(p->iters * sizeof(*s.v));
		if (!s.v) {
			fprintf(stderr, "ciov-perf: no memory for %llu samples\n",
				(unsigned long long)p->iters);
			return -1;
		}
		s.cap = p->iters;
	}
	if (perf_oob_sync(run->fd, PERF_MSG_READY, size, NULL))
		goto out;

	switch (p->test) {
	case PERF_TEST_WRITE:
		err = pingpong_lat(run, size, &s, false);
		break;
	case PERF_TEST_SEND:
		err = pingpong_lat(run, size, &s, true);
		break;
	default:
		err = run->client ? rtt_lat(run, size, &s) : 0;
		break;
	}
	if (err)
		goto out;
	err = -1;

	if (run->client) {
		/* a stopped ping-pong server has read our DONE already */
		mine = s.n;
		if (perf_oob_sync(run->fd, PERF_MSG_DONE, mine, &peer))
			goto out;
		if (peer != mine) {
			fprintf(stderr, "ciov-perf: the server %s (see its output)\n",
				peer == UINT64_MAX ? "found bad data" : "disagrees on the count");
			goto out;
		}
		perf_lat_stats(s.v, s.n, size, &res);
		perf_print_lat(stdout, run->o, &res);
		err = 0;
		goto out;
	}

	/* server: DONE is already read when --duration stopped a ping-pong */
	peer = run->peer_done;
	if (!(p->duration && (p->test == PERF_TEST_WRITE || p->test == PERF_TEST_SEND)) &&
	    perf_oob_recv_msg(run->fd, PERF_MSG_DONE, &peer))
		goto out;
	mine = peer;
	if (p->verify && p->test == PERF_TEST_ATOMIC) {
		memcpy(&mine, perf_rx(r, 0), sizeof(mine));
		if (mine != peer) {
			fprintf(stderr, "ciov-perf: verify: %llu fetch-and-adds completed, the counter holds %llu\n",
				(unsigned long long)peer, (unsigned long long)mine);
			mine = UINT64_MAX;
		}
	}
	if (perf_oob_send_msg(run->fd, PERF_MSG_DONE, mine))
		goto out;
	err = mine == UINT64_MAX ? -1 : 0;
out:
	free(s.v);
	return err;
}
