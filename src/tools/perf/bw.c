/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: the bandwidth tests (perftest's ib_*_bw).
 *
 * The client keeps tx_depth WRs outstanding on each QP (QPs served round
 * robin) and signals one WR in every `sig` (and the last), so it measures
 * from the first post to the last completion. The server is passive: for
 * send it keeps receives posted and reposts them; for write, read and
 * atomic it only waits for the client's DONE.
 *
 * --verify: the source of QP q holds the pattern of (q, size); the
 * destination is cleared before the size starts and checked byte for byte
 * (write: by the server after DONE; read: by the client after its last
 * completion; send: by the server on every receive; atomic: the server's
 * counters must add up to the number of operations completed).
 */
#include <stdlib.h>
#include <string.h>

#include "perf.h"

#define WRID_QP_SHIFT 48 /* wr_id = QP index << 48 | count after this WR */
#define WRID_COUNT_MASK ((1ull << WRID_QP_SHIFT) - 1)
#define SIG_MAX 64	 /* signal at least every 64 WRs */
#define POLL_BATCH 32
#define DONE_BAD UINT64_MAX /* DONE value: the server found bad data */

/* Seeds of the patterns, per role. */
#define SEED_BW(test, q) (((uint64_t)(test) << 16) | (q))

/* (time, messages completed) at each signaled completion: the peak. */
struct points {
	double *t;
	uint64_t *msgs;
	size_t n, cap;
};

static int points_add(struct points *pt, double t, uint64_t msgs)
{
	if (pt->n == pt->cap) {
		size_t cap = pt->cap ? 2 * pt->cap : 4096;
		double *nt = realloc(pt->t, cap * sizeof(*nt));
		uint64_t *nm;

		if (!nt)
			return -1;
		pt->t = nt;
		nm = realloc(pt->msgs, cap * sizeof(*nm));
		if (!nm)
			return -1;
		pt->msgs = nm;
		pt->cap = cap;
	}
	pt->t[pt->n] = t;
	pt->msgs[pt->n++] = msgs;
	return 0;
}

static void points_free(struct points *pt)
{
	free(pt->t);
	free(pt->msgs);
}

/* The WR of QP q for this test, without wr_id and flags. */
static void make_wr(const struct perf_run *run, uint32_t q, uint64_t size, struct ciov_sge *sge,
		    struct ciov_send_wr *wr)
{
	const struct perf_res *r = run->r;

	*sge = (struct ciov_sge){.length = (uint32_t)size, .lkey = r->mr->lkey};
	*wr = (struct ciov_send_wr){.sg_list = sge, .num_sge = 1};
	switch (run->o->p.test) {
	case PERF_TEST_WRITE:
		wr->opcode = CIOV_WR_RDMA_WRITE;
		sge->addr = perf_iova(r, perf_tx(r, q));
		wr->wr.rdma.remote_addr = perf_peer_rx(r, q);
		wr->wr.rdma.rkey = r->peer.rkey;
		break;
	case PERF_TEST_READ:
		wr->opcode = CIOV_WR_RDMA_READ;
		sge->addr = perf_iova(r, perf_rx(r, q));
		wr->wr.rdma.remote_addr = perf_peer_tx(r, q);
		wr->wr.rdma.rkey = r->peer.rkey;
		break;
	case PERF_TEST_SEND:
		wr->opcode = CIOV_WR_SEND;
		sge->addr = perf_iova(r, perf_tx(r, q));
		break;
	case PERF_TEST_ATOMIC:
	case PERF_TEST_MAX:
		wr->opcode = CIOV_WR_ATOMIC_FETCH_AND_ADD;
		sge->addr = perf_iova(r, perf_rx(r, q));
		sge->length = PERF_ATOMIC_SIZE;
		wr->wr.atomic.remote_addr = perf_peer_rx(r, q); /* 8-aligned: slots are */
		wr->wr.atomic.rkey = r->peer.rkey;
		wr->wr.atomic.compare_add = 1;
		break;
	}
}

/* Clears what the peer will write into, fills what it will read or
 * receive from (verify only). */
static void prepare(struct perf_run *run, uint64_t size)
{
	struct perf_res *r = run->r;
	enum perf_test t = run->o->p.test;

	for (uint32_t q = 0; q < r->num_qps; q++) {
		memset(perf_rx(r, q), 0, size);
		if (!run->o->p.verify)
			continue;
		/* the side that supplies data: client for write/send, server for read */
		if ((run->client && (t == PERF_TEST_WRITE || t == PERF_TEST_SEND)) ||
		    (!run->client && t == PERF_TEST_READ))
			perf_pattern_fill(perf_tx(r, q), size, SEED_BW(t, q), size);
	}
}

static int check_slots(struct perf_run *run, uint64_t size)
{
	struct perf_res *r = run->r;
	enum perf_test t = run->o->p.test;

	for (uint32_t q = 0; q < r->num_qps; q++) {
		long bad = perf_pattern_check(perf_rx(r, q), size, SEED_BW(t, q), size);

		if (bad >= 0) {
			fprintf(stderr, "ciov-perf: verify: QP %u, %llu-byte messages: byte %ld differs\n",
				q, (unsigned long long)size, bad);
			return -1;
		}
	}
	return 0;
}

static int active(struct perf_run *run, uint64_t size, struct perf_bw_result *res)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	uint64_t posted[PERF_MAX_QPS] = {0}, done[PERF_MAX_QPS] = {0}, limit[PERF_MAX_QPS];
	struct ciov_send_wr wr[PERF_MAX_QPS];
	struct ciov_sge sge[PERF_MAX_QPS];
	struct ciov_wc wc[POLL_BATCH];
	uint32_t depth = r->sq_depth, sig = depth / 2;
	bool stopping = !p->duration, inl;
	double t0, t_last, deadline;
	struct points pt = {0};
	uint64_t total = 0;
	int rc = -1;

	if (sig < 1)
		sig = 1;
	if (sig > SIG_MAX)
		sig = SIG_MAX;
	inl = (p->test == PERF_TEST_WRITE || p->test == PERF_TEST_SEND) && size <= p->inline_max;
	for (uint32_t q = 0; q < r->num_qps; q++) {
		make_wr(run, q, size, &sge[q], &wr[q]);
		limit[q] = p->duration ? UINT64_MAX : p->iters;
	}

	t0 = perf_now();
	t_last = t0;
	deadline = t0 + p->duration;
	for (;;) {
		bool all_done = true;
		int n;

		if (!stopping && perf_now() >= deadline) {
			/* stop: the last WR of each QP must be signaled to be seen */
			stopping = true;
			for (uint32_t q = 0; q < r->num_qps; q++)
				limit[q] = posted[q] + (posted[q] && posted[q] % sig == 0 ? 0 : 1);
		}
		for (uint32_t q = 0; q < r->num_qps; q++) {
			while (posted[q] - done[q] < depth && posted[q] < limit[q]) {
				uint64_t count = posted[q] + 1;

				wr[q].wr_id = (uint64_t)q << WRID_QP_SHIFT | count;
				wr[q].send_flags = (inl ? CIOV_SEND_INLINE : 0) |
						   (count % sig == 0 || count == limit[q]
							    ? CIOV_SEND_SIGNALED
							    : 0);
				if (perf_post_send(r, q, &wr[q]))
					goto out;
				posted[q] = count;
			}
			if (done[q] < limit[q])
				all_done = false;
		}
		if (all_done)
			break;
		n = perf_cq_wait(r, run->o, &r->scq, POLL_BATCH, wc, false, -1);
		if (n < 0)
			goto out;
		t_last = perf_now();
		for (int i = 0; i < n; i++) {
			uint32_t q = (uint32_t)(wc[i].wr_id >> WRID_QP_SHIFT);
			uint64_t c = wc[i].wr_id & WRID_COUNT_MASK;

			if (q >= r->num_qps || c <= done[q] || c > posted[q]) {
				fprintf(stderr, "ciov-perf: completion for an unknown WR 0x%llx\n",
					(unsigned long long)wc[i].wr_id);
				goto out;
			}
			total += c - done[q];
			done[q] = c;
		}
		if (points_add(&pt, t_last, total)) {
			fprintf(stderr, "ciov-perf: out of memory\n");
			goto out;
		}
	}

	*res = (struct perf_bw_result){
		.bytes = size,
		.iters = total / r->num_qps,
		.msgs = total,
		.num_qps = r->num_qps,
		.seconds = t_last - t0,
	};
	if (res->seconds > 0) {
		res->bw_bytes_per_sec = (double)total * (double)size / res->seconds;
		res->msg_per_sec = (double)total / res->seconds;
	}
	res->bw_peak_bytes_per_sec = perf_bw_peak(pt.t, pt.msgs, pt.n,
						  (uint64_t)depth * r->num_qps, size);
	if (res->bw_peak_bytes_per_sec < res->bw_bytes_per_sec)
		res->bw_peak_bytes_per_sec = res->bw_bytes_per_sec;
	rc = 0;
out:
	points_free(&pt);
	return rc;
}

/* Server of send bw: receives until the client's count is reached. */
static int receiver(struct perf_run *run, uint64_t size, uint64_t *got_ret)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	uint64_t expected = p->duration ? UINT64_MAX : p->iters * r->num_qps, got = 0, v = 0;
	struct ciov_wc wc[POLL_BATCH];
	bool have_done = false;

	while (got < expected) {
		int stop_fd = p->duration && !have_done ? run->fd : -1;
		int n = perf_cq_wait(r, run->o, &r->rcq, POLL_BATCH, wc, false, stop_fd);

		if (n < 0)
			return -1;
		if (n == 0) {
			int m = perf_oob_poll_msg(run->fd, PERF_MSG_DONE, &v);

			if (m < 0)
				return -1;
			if (m == 1) {
				have_done = true;
				expected = v; /* its sends completed: the CQEs follow */
			}
			continue;
		}
		for (int i = 0; i < n; i++) {
			uint32_t q = (uint32_t)wc[i].wr_id;

			if (q >= r->num_qps || wc[i].byte_len != size) {
				fprintf(stderr, "ciov-perf: unexpected receive: wr_id %llu, %u bytes\n",
					(unsigned long long)wc[i].wr_id, wc[i].byte_len);
				return -1;
			}
			r->rq_posted[q]--;
			if (p->verify) {
				long bad = perf_pattern_check(perf_rx(r, q), size,
							      SEED_BW(p->test, q), size);

				if (bad >= 0) {
					fprintf(stderr, "ciov-perf: verify: QP %u, receive %llu: byte %ld differs\n",
						q, (unsigned long long)got, bad);
					return -1;
				}
			}
			got++;
		}
		if (perf_fill_recvs(r))
			return -1;
	}
	if (!have_done && perf_oob_recv_msg(run->fd, PERF_MSG_DONE, &v))
		return -1;
	if (v != got) {
		fprintf(stderr, "ciov-perf: the client completed %llu sends, %llu arrived\n",
			(unsigned long long)v, (unsigned long long)got);
		return -1;
	}
	*got_ret = got;
	return 0;
}

/* Server of write/read/atomic: nothing to do but wait, then check. */
static int passive(struct perf_run *run, uint64_t size, uint64_t *value)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	uint64_t n;

	if (perf_oob_recv_msg(run->fd, PERF_MSG_DONE, &n))
		return -1;
	*value = n;
	if (!p->verify)
		return 0;
	if (p->test == PERF_TEST_WRITE && check_slots(run, size))
		*value = DONE_BAD;
	if (p->test == PERF_TEST_ATOMIC) {
		uint64_t sum = 0;

		for (uint32_t q = 0; q < r->num_qps; q++) {
			uint64_t c;

			memcpy(&c, perf_rx(r, q), sizeof(c));
			sum += c;
		}
		if (sum != n) {
			fprintf(stderr, "ciov-perf: verify: %llu fetch-and-adds completed, the counters hold %llu\n",
				(unsigned long long)n, (unsigned long long)sum);
			*value = DONE_BAD;
		}
	}
	return 0;
}

int perf_run_bw(struct perf_run *run, uint64_t size)
{
	struct perf_res *r = run->r;
	const struct perf_params *p = &run->o->p;
	struct perf_bw_result res;
	uint64_t mine = 0, peer;

	prepare(run, size);
	if (!run->client && p->test == PERF_TEST_SEND && perf_fill_recvs(r))
		return -1;
	if (perf_oob_sync(run->fd, PERF_MSG_READY, size, NULL))
		return -1;

	if (!run->client) {
		int err = p->test == PERF_TEST_SEND ? receiver(run, size, &mine)
						    : passive(run, size, &mine);

		if (err) {
			perf_oob_send_msg(run->fd, PERF_MSG_DONE, DONE_BAD);
			return -1;
		}
		if (perf_oob_send_msg(run->fd, PERF_MSG_DONE, mine))
			return -1;
		return mine == DONE_BAD ? -1 : 0;
	}

	if (active(run, size, &res))
		return -1;
	mine = res.msgs;
	if (perf_oob_sync(run->fd, PERF_MSG_DONE, mine, &peer))
		return -1;
	if (peer != mine) {
		fprintf(stderr, "ciov-perf: the server %s (see its output)\n",
			peer == DONE_BAD ? "found bad data" : "disagrees on the count");
		return -1;
	}
	if (p->verify && p->test == PERF_TEST_READ && check_slots(run, size))
		return -1;
	perf_print_bw(stdout, run->o, &res);
	return 0;
}
