/* SPDX-License-Identifier: MIT */
#include "adapter/adapter.h"
#include "adapter/endpoint.h"
#include "adapter/engine.h"
#include "adapter/qp.h"
#include "adapter/rate.h"
#include "adapter/scheduler.h"

/* Deficit round robin quantum per unit of weight (bytes): one chunk. */
#define SCHED_QUANTUM ((int64_t)ENGINE_CHUNK)
/* Token bucket depth: this long at the rate, and never below two chunks,
 * so a cap shapes the average without starving a large message. */
#define SCHED_BURST_NS 2000000ull

static bool node_set(const struct rate_node *n)
{
	return n->a.tx_share || n->a.tx_max || n->a.tx_weight || n->a.parent;
}

bool sched_active(struct adapter *ad)
{
	struct endpoint *ep;
	uint32_t h = 0;

	if (ad->rate_groups.n)
		return true;
	while ((ep = pool_next(&ad->endpoints, &h)))
		if (node_set(&ep->rate))
			return true;
	return false;
}

static int64_t burst(uint64_t rate)
{
	int64_t b = (int64_t)(rate * SCHED_BURST_NS / 1000000000ull);

	return b < 2 * SCHED_QUANTUM ? 2 * SCHED_QUANTUM : b;
}

/* Adds what RATE earned since the node's last refill, up to the burst. */
static void refill_bucket(int64_t *tokens, uint64_t rate, uint64_t dt_ns)
{
	int64_t b = burst(rate);

	*tokens += (int64_t)(rate * dt_ns / 1000000000ull);
	if (*tokens > b)
		*tokens = b;
}

static void refill(struct rate_node *n, uint64_t now)
{
	uint64_t dt = n->run.last_ns ? now - n->run.last_ns : 0;

	/* Whole microseconds only, so that rounding loses nothing. */
	if (n->run.last_ns && dt < 1000)
		return;
	n->run.last_ns = now;
	if (n->a.tx_max)
		refill_bucket(&n->run.max_tokens, n->a.tx_max, dt);
	if (n->a.tx_share)
		refill_bucket(&n->run.share_tokens, n->a.tx_share, dt);
}

static void refill_all(struct adapter *ad, uint64_t now)
{
	struct endpoint *ep;
	uint32_t h = 0;

	for (struct rate_node *g = ad->rate_groups.head; g; g = g->next)
		refill(g, now);
	while ((ep = pool_next(&ad->endpoints, &h)))
		refill(&ep->rate, now);
}

/* Whether every cap from LEAF up has tokens. */
static bool under_caps(const struct rate_node *leaf)
{
	for (const struct rate_node *n = leaf; n; n = n->a.parent)
		if (n->a.tx_max && n->run.max_tokens <= 0)
			return false;
	return true;
}

static void charge(struct rate_node *leaf, uint64_t bytes, int phase)
{
	for (struct rate_node *n = leaf; n; n = n->a.parent)
		if (n->a.tx_max)
			n->run.max_tokens -= (int64_t)bytes;
	if (phase == 0) {
		leaf->run.share_tokens -= (int64_t)bytes;
		leaf->run.bytes_guaranteed += bytes;
	} else {
		leaf->run.deficit -= (int64_t)bytes;
	}
}

static uint64_t qp_bytes(const struct qp *qp)
{
	uint64_t b = 0;

	for (int op = 0; op < CIOV_WR_MAX; op++)
		b += qp->x.cnt.bytes_out[op];
	return b;
}

static bool qp_has_work(struct qp *qp)
{
	return qp->x.req.state != REQ_IDLE || ring_pending(&qp->sq);
}

/* A leaf's strict priority (devlink's tx_priority, among siblings): its
 * top-level node's first, then its own when it sits in a group. Higher is
 * served first; weights share only among the highest backlogged. */
static unsigned leaf_prio(const struct rate_node *leaf)
{
	const struct rate_node *top = leaf;

	while (top->a.parent)
		top = top->a.parent;
	return top->a.tx_priority * (RATE_PRIO_MAX + 1) + (top != leaf ? leaf->a.tx_priority : 0);
}

/* A new round: every leaf's deficit grows by its weight's quantum. */
static void replenish(struct adapter *ad)
{
	struct endpoint *ep;
	uint32_t h = 0;

	while ((ep = pool_next(&ad->endpoints, &h))) {
		int64_t q = SCHED_QUANTUM * (ep->rate.a.tx_weight ? ep->rate.a.tx_weight : 1);

		ep->rate.run.deficit += q;
		if (ep->rate.run.deficit > q)
			ep->rate.run.deficit = q; /* an idle leaf banks one round */
	}
}

bool sched_pass(struct engine *e, uint64_t now, bool *held)
{
	bool work = false, waiting = false;
	uint64_t dt = e->sched_last_ns ? now - e->sched_last_ns : 0;
	unsigned top = 0;

	*held = false;
	refill_all(e->ad, now);
	e->passes++;
	e->sched_last_ns = now;
	/* The highest priority with work it may do now. */
	for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next) {
		struct rate_node *leaf = &qp_of_exec(x)->obj.ep->rate;

		if (qp_has_work(qp_of_exec(x)) && under_caps(leaf) && leaf_prio(leaf) > top)
			top = leaf_prio(leaf);
	}
	for (int phase = 0; phase < 2; phase++) {
		for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next) {
			struct qp *qp = qp_of_exec(x);
			struct rate_node *leaf = &qp->obj.ep->rate;
			uint64_t before;

			if (!qp_has_work(qp))
				continue;
			if (!under_caps(leaf)) {
				*held = true;
				/* Count each held leaf once per pass, for the
				 * time since the previous pass. */
				if (leaf->run.held_pass != e->passes) {
					leaf->run.held_pass = e->passes;
					leaf->run.throttled_ns += dt;
				}
				continue;
			}
			if (phase == 1 && leaf_prio(leaf) < top)
				continue; /* a higher priority is backlogged */
			if (phase == 0 ? !(leaf->a.tx_share && leaf->run.share_tokens > 0)
				       : leaf->run.deficit <= 0) {
				waiting |= phase == 1;
				continue;
			}
			before = qp_bytes(qp);
			work |= req_step(qp, now);
			charge(leaf, qp_bytes(qp) - before, phase);
		}
	}
	if (!work && waiting) {
		replenish(e->ad);
		work = true; /* the next pass serves the new round */
	}
	return work;
}
