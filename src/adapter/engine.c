/* SPDX-License-Identifier: MIT */
/*
 * The engine's polling policy and bookkeeping; the work itself is in
 * req.c (requester), resp.c (responder) and flush.c.
 */
#include <errno.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "adapter/client.h"
#include "adapter/endpoint.h"
#include "adapter/engine.h"
#include "adapter/fabric/xport.h"
#include "adapter/log.h"
#include "adapter/qp.h"
#include "adapter/scheduler.h"
#include "common/container.h"
#include "common/ring.h"

/* Passes run back to back before the loop looks at its sockets again, and
 * the longest such a turn lasts (64 passes of 1 MiB each took 2 ms: a
 * tenant's death went unnoticed while its peers' 48 MiB moved). */
#define ENGINE_PASSES_PER_TURN 64
#define ENGINE_TURN_NS (100u * 1000)

uint64_t engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int engine_init(struct engine *e, struct adapter *ad)
{
	*e = (struct engine){.ad = ad, .chunk = ENGINE_CHUNK, .step = ENGINE_STEP};
	e->qps.next = e->qps.prev = &e->qps;
	return 0;
}

void engine_fini(struct engine *e)
{
	e->qps.next = e->qps.prev = &e->qps;
}

void engine_qp_add(struct engine *e, struct qp *qp)
{
	struct qp_exec *x = &qp->x;

	x->next = &e->qps;
	x->prev = e->qps.prev;
	e->qps.prev->next = x;
	e->qps.prev = x;
	x->listed = true;
	e->nqps++;
	/* Receives need no doorbell: the engine looks at a receive queue
	 * when a message arrives, or on its RNR timer. */
	if (!qp->srq)
		ring_store_relaxed(&qp->rq.ctrl->need_kick, 0);
	ring_store_relaxed(&qp->sq.ctrl->need_kick, e->asleep);
}

void qp_counters_add(struct qp_counters *sum, const struct qp_counters *c)
{
	const uint64_t *from = (const uint64_t *)c;
	uint64_t *to = (uint64_t *)sum;

	_Static_assert(sizeof(*c) % sizeof(uint64_t) == 0, "counters are u64s");
	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		to[i] += from[i];
}

void engine_qp_del(struct engine *e, struct qp *qp)
{
	struct qp_exec *x = &qp->x;

	if (!x->listed)
		return;
	qp_counters_add(&qp->obj.ep->retired, &x->cnt);
	x->prev->next = x->next;
	x->next->prev = x->prev;
	x->listed = false;
	e->nqps--;
	xport_qp_free(qp);
}

void engine_qp_modified(struct engine *e, struct qp *qp)
{
	if (qp->state == CIOV_QPS_RTS && qp->x.req.state == REQ_ERROR) {
		/* SQE -> RTS (UD): the send queue resumes. */
		qp->x.req.state = REQ_IDLE;
		ring_show_error(&qp->sq, false);
	}
	if (xport_qp_modified(qp))
		log_warn("qp#%u: no memory for its fabric state", qp->qpn);
	if (qp->state == CIOV_QPS_RESET) {
		qp->x.req = (struct req){.state = REQ_IDLE};
		qp->x.resp = (struct resp){0};
		if (!qp->srq)
			ring_store_relaxed(&qp->rq.ctrl->need_kick, 0);
	}
	if (qp->state == CIOV_QPS_SQD && qp->attr.en_sqd_async_notify)
		qp->x.sqd_notify = true;
	/* A modify may make work runnable (RTS with WQEs already posted). */
	e->last_work_ns = engine_now_ns();
}

/* ------------------------------------------------------------------------ */
/* Doorbells. */

static void engine_wake(struct engine *e)
{
	if (!e->asleep)
		return;
	e->asleep = false;
	e->wakeups++;
	/* Tenants need not kick while we poll. */
	for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next)
		ring_store_relaxed(&qp_of_exec(x)->sq.ctrl->need_kick, 0);
}

void engine_kick(struct engine *e)
{
	e->last_work_ns = engine_now_ns();
	engine_wake(e);
}

static void doorbell_event(struct loop_src *src, uint32_t events)
{
	struct client *c = container_of(src, struct client, bell);
	char buf[512];

	/* Drain the doorbell pipe (non-blocking: our own end). */
	while (read(src->fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
	c->ad->engine.last_work_ns = engine_now_ns();
	engine_wake(&c->ad->engine);
	(void)events;
}

int engine_watch_doorbell(struct engine *e, struct client *c)
{
	c->bell.fd = c->doorbell;
	c->bell.fn = doorbell_event;
	return loop_add(&e->ad->loop, &c->bell, EPOLLIN);
}

void engine_unwatch_doorbell(struct engine *e, struct client *c)
{
	if (c->bell.fn)
		loop_del(&e->ad->loop, &c->bell);
	c->bell.fn = NULL;
}

/* ------------------------------------------------------------------------ */
/* Passes. */

/* One pass over every QP; returns whether anything moved. */
static bool engine_pass_qps(struct engine *e, uint64_t now)
{
	bool work = false;
	struct qp_exec *x, *next;

	if (e->ad->rate_groups.n || e->rates) {
		bool held;

		work = sched_pass(e, now, &held);
		e->held = held;
		return work;
	}
	e->passes++;
	for (x = e->qps.next; x != &e->qps; x = next) {
		next = x->next; /* req_step may not unlink, but stay safe */
		work |= sched_step_counted(qp_of_exec(x), now);
	}
	return work;
}

/* A pass, with the fabric's receive before and its sends after. */
static bool engine_pass(struct engine *e, uint64_t now)
{
	bool work;

	if (!e->ad->nports)
		return engine_pass_qps(e, now);
	work = xport_pass(e, now);
	work |= engine_pass_qps(e, now);
	xport_flush_ports(e);
	return work;
}

/* Earliest timer (RNR / retry wait), 0 if none. */
static uint64_t engine_next_deadline(struct engine *e)
{
	uint64_t first = e->held ? engine_now_ns() + 200000 : 0; /* caps refill */

	if (e->xdue) /* responses wait for room on a port */
		first = engine_now_ns() + 1000000;

	for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next) {
		enum req_state s = x->req.state;

		uint64_t xd = xport_deadline(qp_of_exec(x));

		if ((s == REQ_RNR_WAIT || s == REQ_RETRY_WAIT) &&
		    (!first || x->req.deadline_ns < first))
			first = x->req.deadline_ns;
		if (xd && (!first || xd < first))
			first = xd;
	}
	return first;
}

/* Sets need_kick on every send queue, then looks once more: a tenant that
 * published after our last look but before it could see need_kick is
 * caught here (pairs with the fence in libciov's post path). */
static bool engine_prepare_sleep(struct engine *e)
{
	for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next)
		ring_store_relaxed(&qp_of_exec(x)->sq.ctrl->need_kick, 1);
	ring_fence();
	e->asleep = true;
	e->sleeps++;
	if (engine_pass(e, engine_now_ns())) {
		engine_wake(e);
		return false;
	}
	return true;
}

int engine_idle(void *arg)
{
	struct engine *e = arg;
	uint64_t now = engine_now_ns();
	uint64_t turn_start = now;
	uint64_t deadline;

	for (int i = 0; i < ENGINE_PASSES_PER_TURN; i++) {
		if (engine_pass(e, now)) {
			e->last_work_ns = now = engine_now_ns();
			engine_wake(e); /* a timer fired while we slept */
			/* Passes that move a lot: look at the sockets in time
			 * (a tenant that died, an admin request). */
			if (now - turn_start >= ENGINE_TURN_NS)
				return 0;
			continue;
		}
		now = engine_now_ns();
		if (now - e->last_work_ns >= ENGINE_SPIN_NS)
			break;
		/* Give the tenants the CPU (FACTS.md: three spinners on two
		 * cores otherwise take milliseconds per round trip). */
		sched_yield();
	}
	if (now - e->last_work_ns < ENGINE_SPIN_NS)
		return 0; /* still hot: look at the sockets, come back */
	if (!e->asleep && !engine_prepare_sleep(e)) {
		e->last_work_ns = engine_now_ns();
		return 0;
	}
	deadline = engine_next_deadline(e);
	if (!deadline)
		return -1;
	now = engine_now_ns();
	return deadline <= now ? 0 : (int)((deadline - now + 999999) / 1000000);
}
