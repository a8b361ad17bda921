/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: posting and waiting for completions.
 *
 * Polling policy: busy polling by default, but every empty poll calls
 * sched_yield(). These machines have two cores and ciovd's engine needs
 * one: a hard spinner would share a core with the engine or the peer and
 * turn a microsecond round trip into a scheduler time slice (FACTS.md: the
 * three-process relay costs 2-9 us per half round trip when each spin
 * yields, milliseconds when all three spin hard). --event sleeps on the
 * completion channel instead (one blocking wake-up, ~20 us, per event).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>

#include "perf.h"

/* Empty polls between two looks at stop_fd in busy mode: a look is a
 * syscall (~1 us), a yield about the same. */
#define STOP_CHECK_EVERY 64
#define SQ_FULL_RETRIES 100000 /* yields, ~0.1 s */

bool perf_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, 0) > 0;
}

static int check_wcs(const struct ciov_wc *wc, int n)
{
	for (int i = 0; i < n; i++)
		if (wc[i].status != CIOV_WC_SUCCESS) {
			fprintf(stderr,
				"ciov-perf: completion error on QP %u: %s (status %d, opcode %d, wr_id 0x%llx)\n",
				wc[i].qp_num, ciov_wc_status_str(wc[i].status), (int)wc[i].status,
				(int)wc[i].opcode, (unsigned long long)wc[i].wr_id);
			return -1;
		}
	return n;
}

/* Event mode: blocks until the channel has an event (or stop_fd is
 * readable: returns 1), acknowledges it and disarms the CQ that fired. */
static int wait_event(struct perf_res *r, int stop_fd)
{
	struct ciov_cq *fired;
	void *ctx;
	int err;

	if (stop_fd >= 0) {
		struct pollfd pfd[2] = {{.fd = r->ch->fd, .events = POLLIN},
					{.fd = stop_fd, .events = POLLIN}};

		while (poll(pfd, 2, -1) < 0)
			if (errno != EINTR)
				return -errno;
		if (pfd[1].revents)
			return 1; /* the caller reads it; the CQ stays armed */
	}
	err = ciov_get_cq_event(r->ch, &fired, &ctx);
	if (err)
		return err;
	ciov_ack_cq_events(fired, 1);
	if (fired == r->scq.cq)
		r->scq.armed = false;
	if (fired == r->rcq.cq)
		r->rcq.armed = false;
	return 0;
}

int perf_cq_wait(struct perf_res *r, const struct perf_opts *o, struct perf_cq *c, int n,
		 struct ciov_wc *wc, bool nowait, int stop_fd)
{
	for (unsigned empty = 1;; empty++) {
		int got = ciov_poll_cq(c->cq, n, wc), err;

		if (got < 0) {
			fprintf(stderr, "ciov-perf: poll CQ: %s\n", strerror(-got));
			return -1;
		}
		if (got > 0)
			return check_wcs(wc, got);
		if (nowait)
			return 0;
		if (!o->event) {
			if (stop_fd >= 0 && empty % STOP_CHECK_EVERY == 0 && perf_readable(stop_fd))
				return 0;
			sched_yield();
			continue;
		}
		if (!c->armed) {
			err = ciov_req_notify_cq(c->cq, 0);
			if (err) {
				fprintf(stderr, "ciov-perf: arm CQ: %s\n", strerror(-err));
				return -1;
			}
			c->armed = true;
			continue; /* poll again: a CQE may have landed before arming */
		}
		err = wait_event(r, stop_fd);
		if (err < 0) {
			fprintf(stderr, "ciov-perf: wait for a completion event: %s\n",
				strerror(-err));
			return -1;
		}
		if (err == 1)
			return 0;
	}
}

int perf_post_send(struct perf_res *r, uint32_t q, struct ciov_send_wr *wr)
{
	const struct ciov_send_wr *bad;
	int err = ciov_post_send(r->qp[q], wr, &bad);

	/* A full SQ although our count says there is room: ciovd writes a
	 * send CQE just before it releases the WQE's slot (req_complete()),
	 * so a slot may lag its completion by an instant. Wait for it. */
	for (int i = 0; err == -ENOMEM && i < SQ_FULL_RETRIES; i++) {
		sched_yield();
		err = ciov_post_send(r->qp[q], wr, &bad);
	}
	if (err) {
		fprintf(stderr, "ciov-perf: post send on QP %u: %s\n", r->qp[q]->qp_num,
			strerror(-err));
		return -1;
	}
	return 0;
}

int perf_post_recv(struct perf_res *r, uint32_t q, uint64_t wr_id, void *addr, uint32_t len)
{
	struct ciov_sge sge = {.addr = perf_iova(r, addr), .length = len, .lkey = r->mr->lkey};
	struct ciov_recv_wr wr = {.wr_id = wr_id, .sg_list = &sge, .num_sge = 1};
	const struct ciov_recv_wr *bad;
	int err = ciov_post_recv(r->qp[q], &wr, &bad);

	if (err) {
		fprintf(stderr, "ciov-perf: post receive on QP %u: %s\n", r->qp[q]->qp_num,
			strerror(-err));
		return -1;
	}
	return 0;
}

int perf_fill_recvs(struct perf_res *r)
{
	for (uint32_t q = 0; q < r->num_qps; q++)
		for (; r->rq_posted[q] < r->rq_depth; r->rq_posted[q]++)
			if (perf_post_recv(r, q, q, perf_rx(r, q), (uint32_t)r->slot))
				return -1;
	return 0;
}
