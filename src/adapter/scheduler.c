/* SPDX-License-Identifier: MIT */
#include "adapter/adapter.h"
#include "adapter/endpoint.h"
#include "adapter/engine.h"
#include "adapter/fabric/xport.h"
#include "adapter/qp.h"
#include "adapter/rate.h"
#include "adapter/scheduler.h"
#include "adapter/vlarb.h"

/* Deficit round robin quantum of an average leaf (bytes): one chunk. */
#define SCHED_QUANTUM (4 * (int64_t)ENGINE_CHUNK)
/* The smallest quantum a leaf gets, however small its share. */
#define SCHED_QUANTUM_MIN ((int64_t)VLARB_WEIGHT_UNIT)
/* Token bucket depth: this long at the rate, and never below two chunks,
 * so a cap shapes the average without starving a large message. */
#define SCHED_BURST_NS 2000000ull
/* The smallest low-priority turn on loopback under VL arbitration: one
 * 4 KiB MTU. */
#define VLARB_CHUNK_MIN 4096u
/* IBA 7.6.9: the arbiter chooses between packets. A low-priority turn
 * copies in packets of this size and looks at the high-priority VLs
 * between them, so a high-priority request waits for one such copy at
 * most (about 0.1 us; a whole 16 KiB turn doubled a ping-pong's p99). */
#define VLARB_PKT 1024u
/* High-priority QPs a pass remembers, to look at them between low turns
 * (beyond that it scans every QP). */
#define SCHED_HI_MAX 32

enum sched_class { SCHED_HIGH, SCHED_LOW, SCHED_CLASSES };

/* Where a QP stands for VL arbitration. */
struct place {
	struct port *port; /* NULL: no port, no SL/VL */
	unsigned sl, vl;
	bool arb; /* the port arbitrates (its QoS is not the default) */
	enum sched_class cls;
};

/* One pass. */
struct pass {
	struct engine *e;
	uint64_t now, dt;
	unsigned top[SCHED_CLASSES]; /* highest tx_priority with work */
	bool work;
	bool held;		       /* a cap held work */
	bool waiting[SCHED_CLASSES];   /* a leaf waited for its deficit */
	bool moved[SCHED_CLASSES];     /* a weighted turn moved something */
	bool low_ready;		       /* low-priority work exists */
	bool in_high;		       /* serving high between low turns */
	struct qp *hi[SCHED_HI_MAX];   /* the high-priority QPs */
	unsigned nhi;
	bool hi_all; /* more than SCHED_HI_MAX: scan them all */
};

/* ------------------------------------------------------------------------ */
/* VL arbitration. */

/* Whether VL has a nonzero weight in the high-priority table. */
static bool vlarb_is_high(const struct port_qos *q, unsigned vl)
{
	for (unsigned i = 0; i < q->high.n; i++)
		if (q->high.e[i].vl == vl && q->high.e[i].weight)
			return true;
	return false;
}

/* A VL's bytes per arbitration round in its class: the sum of its
 * entries' weights times 64 (entries of the table it is served from). */
static int64_t vlarb_quantum(const struct port_qos *q, unsigned vl)
{
	const struct vlarb_table *t = vlarb_is_high(q, vl) ? &q->high : &q->low;
	int64_t w = 0;

	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].vl == vl)
			w += t->e[i].weight;
	return w * VLARB_WEIGHT_UNIT;
}

void port_vl_derive(struct port_vl *v)
{
	v->arb = !port_qos_is_default(&v->cfg);
	v->high_vls = 0;
	for (unsigned vl = 0; vl < VLARB_VLS; vl++) {
		v->high_vls |= vlarb_is_high(&v->cfg, vl) ? 1u << vl : 0;
		v->quantum[vl] = vlarb_quantum(&v->cfg, vl);
	}
}

static bool vl_high(const struct port_vl *v, unsigned vl)
{
	return v->high_vls & (1u << vl);
}

static void place_of(struct qp *qp, struct place *pl)
{
	pl->port = xport_qp_port(qp);
	/* UD's SL is per AH (IBA 10.2.3): its datagrams count on SL 0. */
	pl->sl = qp->type == CIOV_QPT_RC ? qp->attr.ah_attr.sl & (VLARB_SLS - 1) : 0;
	pl->vl = pl->port ? pl->port->vl.cfg.sl2vl[pl->sl] % VLARB_VLS : 0;
	pl->arb = pl->port && pl->port->vl.arb;
	pl->cls = pl->arb && vl_high(&pl->port->vl, pl->vl) ? SCHED_HIGH : SCHED_LOW;
}

/* Whether high-priority work must let one low-priority turn go first. */
static bool high_limited(const struct port *p)
{
	uint8_t l = p->vl.cfg.high_limit;

	if (l == VLARB_LIMIT_NONE)
		return false;
	/* 0: one packet (IBA 7.6.9), here one turn. */
	return p->vl.high_run >= (l ? (uint64_t)l * VLARB_LIMIT_UNIT : 1);
}

/* At the end of a pass: a class whose backlogged VLs have all spent their
 * deficit starts a new round, by as many quanta as its nearest VL needs
 * (so that one large message does not cost a pass per quantum). */
static bool vl_replenish(struct port *p)
{
	struct port_vl *v = &p->vl;
	bool any = false;

	for (int hi = 0; hi < 2; hi++) {
		int64_t k = 0;

		for (unsigned vl = 0; vl < VLARB_VLS; vl++) {
			int64_t qv = v->quantum[vl], need;

			if (!(v->busy & (1u << vl)) || vl_high(v, vl) != !hi || !qv)
				continue;
			if (v->deficit[vl] > 0) {
				k = 0;
				break;
			}
			need = (-v->deficit[vl] + qv) / qv;
			if (!k || need < k)
				k = need;
		}
		if (!k)
			continue;
		for (unsigned vl = 0; vl < VLARB_VLS; vl++) {
			int64_t qv = v->quantum[vl];

			if (vl_high(v, vl) != !hi || !qv)
				continue;
			v->deficit[vl] += k * qv;
			if (v->deficit[vl] > qv)
				v->deficit[vl] = qv; /* an idle VL banks one round */
		}
		any = true;
	}
	return any;
}

/* ------------------------------------------------------------------------ */
/* The rate hierarchy. */

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
	for (unsigned i = 0; i < ad->nports; i++)
		if (ad->ports[i]->vl.arb)
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

static void charge(struct rate_node *leaf, uint64_t bytes, int phase, enum sched_class cls)
{
	for (struct rate_node *n = leaf; n; n = n->a.parent)
		if (n->a.tx_max)
			n->run.max_tokens -= (int64_t)bytes;
	if (phase == 0) {
		leaf->run.share_tokens -= (int64_t)bytes;
		leaf->run.bytes_guaranteed += bytes;
	} else {
		leaf->run.deficit[cls] -= (int64_t)bytes;
	}
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

static uint32_t weight(const struct rate_node *n)
{
	return n->a.tx_weight ? n->a.tx_weight : 1;
}

/*
 * A new round of class CLS: every leaf backlogged in it gets its share of
 * the round. Shares are hierarchical, as devlink's: a node's weight
 * divides what its parent gets among the parent's backlogged children (at
 * the top, the adapter among the backlogged top-level nodes). A round is
 * one quantum per backlogged leaf. Each class has its own rounds: the rate
 * hierarchy shares a VL class among its QPs, after VL arbitration.
 */
static void replenish(struct adapter *ad, uint64_t pass, enum sched_class cls)
{
	struct rate_node *n, *pos = NULL;
	uint64_t top = 0, nbusy = 0;
	uint32_t h = 0;

	for (struct rate_node *g = ad->rate_groups.head; g; g = g->next)
		g->run.wsum = 0;
	while ((n = rate_next(ad, &h, &pos)))
		if (n->run.busy_pass[cls] == pass) {
			if (n->a.parent)
				n->a.parent->run.wsum += weight(n);
			else
				top += weight(n);
			nbusy += n->type == RATE_LEAF;
		}
	h = 0;
	pos = NULL;
	while ((n = rate_next(ad, &h, &pos))) {
		double share = 1.0;
		int64_t q;

		if (n->type != RATE_LEAF || n->run.busy_pass[cls] != pass)
			continue;
		for (const struct rate_node *m = n; m; m = m->a.parent)
			share *= (double)weight(m) / (double)(m->a.parent ? m->a.parent->run.wsum : top);
		q = (int64_t)((double)(SCHED_QUANTUM * (int64_t)nbusy) * share);
		if (q < SCHED_QUANTUM_MIN)
			q = SCHED_QUANTUM_MIN;
		n->run.deficit[cls] += q;
		if (n->run.deficit[cls] > q)
			n->run.deficit[cls] = q; /* an idle leaf banks one round */
	}
}

/* Marks LEAF and the groups above it backlogged in class CLS this pass. */
static void mark_busy(struct rate_node *leaf, uint64_t pass, enum sched_class cls)
{
	for (struct rate_node *n = leaf; n && n->run.busy_pass[cls] != pass; n = n->a.parent)
		n->run.busy_pass[cls] = pass;
}

/* ------------------------------------------------------------------------ */
/* The pass. */

/* What a step moved: on the fabric what went out (or was asked for), on
 * loopback the messages completed. */
static uint64_t qp_moved(const struct qp *qp)
{
	uint64_t b = 0;

	if (qp->x.xq)
		return qp->x.wire_bytes;
	for (int op = 0; op < CIOV_WR_MAX; op++)
		b += qp->x.cnt.bytes_out[op];
	return b;
}

static bool qp_has_work(struct qp *qp)
{
	return qp->x.req.state != REQ_IDLE || ring_pending(&qp->sq);
}

static void count(const struct place *pl, uint64_t bytes)
{
	if (!pl->port || !bytes)
		return;
	pl->port->vl.sl_bytes[pl->sl] += bytes;
	pl->port->vl.vl_bytes[pl->vl] += bytes;
}

bool sched_step_counted(struct qp *qp, uint64_t now)
{
	struct place pl;
	uint64_t before;
	bool work;

	if (!qp->obj.ep->ad->nports)
		return req_step(qp, now);
	before = qp_moved(qp);
	work = req_step(qp, now);
	place_of(qp, &pl);
	count(&pl, qp_moved(qp) - before);
	return work;
}

/* Whether QP may take a turn in PHASE (0: guarantees, 1: weights). */
static bool may_step(struct pass *ps, struct qp *qp, const struct place *pl, int phase)
{
	struct rate_node *leaf = &qp->obj.ep->rate;

	if (!under_caps(leaf)) {
		ps->held = true;
		/* Count each held leaf once per pass, for the time since the
		 * previous pass. */
		if (leaf->run.held_pass != ps->e->passes) {
			leaf->run.held_pass = ps->e->passes;
			leaf->run.throttled_ns += ps->dt;
		}
		return false;
	}
	if (phase == 1 && leaf_prio(leaf) < ps->top[pl->cls])
		return false; /* a higher priority is backlogged */
	if (phase == 0 ? !(leaf->a.tx_share && leaf->run.share_tokens > 0)
		       : leaf->run.deficit[pl->cls] <= 0) {
		ps->waiting[pl->cls] |= phase == 1;
		return false;
	}
	if (pl->arb) {
		/* A VL with deficit left when the pass began serves each of its
		 * QPs once in the pass (so that list order favours none). */
		if (!(pl->port->vl.open & (1u << pl->vl)))
			return false; /* its VL spent its round (vl_replenish) */
		if (pl->cls == SCHED_HIGH && ps->low_ready && high_limited(pl->port))
			return false;
	}
	return true;
}

/* The bytes a low-priority turn of a QP on VL of port V moves: what the
 * VL's weights give it per round (IBA 7.6.9: the arbiter moves on after
 * weight x 64 bytes), within [VLARB_CHUNK_MIN, ENGINE_CHUNK]. */
static uint32_t vl_chunk(const struct port_vl *v, unsigned vl)
{
	int64_t c = v->quantum[vl];

	return c < VLARB_CHUNK_MIN ? VLARB_CHUNK_MIN : c > ENGINE_CHUNK ? ENGINE_CHUNK : (uint32_t)c;
}

/* Whether a high-priority QP of the pass has work it may start (a low
 * turn ends at the next packet boundary then). */
static bool high_waiting(const void *arg)
{
	const struct pass *ps = arg;

	for (unsigned i = 0; i < ps->nhi; i++)
		if (qp_has_work(ps->hi[i]) && under_caps(&ps->hi[i]->obj.ep->rate))
			return true;
	return false;
}

/* A low-priority turn under VL arbitration: up to TURN bytes, which
 * high-priority work interrupts at the next packet unless the turn is
 * one that high_limit grants (ALL). Whether it moved anything. */
static bool low_turn(struct pass *ps, struct qp *qp, uint32_t turn, bool all)
{
	struct engine *e = ps->e;
	bool w;

	e->chunk = e->step = turn;
	if (ps->nhi && !all) {
		e->preempt = high_waiting;
		e->preempt_arg = ps;
		e->pkt = VLARB_PKT;
	}
	w = req_step(qp, ps->now);
	e->chunk = ENGINE_CHUNK;
	e->step = ENGINE_STEP;
	e->preempt = NULL;
	return w;
}

/* QP's turn in PHASE; CAP, when not 0, bounds the bytes it may move (a
 * low-priority turn that high_limit grants is one 4 KiB packet, and goes
 * whole). Whether it moved anything. */
static bool step(struct pass *ps, struct qp *qp, const struct place *pl, int phase, uint32_t cap)
{
	uint64_t before = qp_moved(qp), b;
	bool w;

	/* Low-priority turns yield to high priority at every packet; the
	 * high-priority turns are the engine's usual. */
	if (pl->arb && pl->cls == SCHED_LOW)
		w = low_turn(ps, qp, cap ? cap : vl_chunk(&pl->port->vl, pl->vl), cap);
	else
		w = req_step(qp, ps->now);

	ps->work |= w;
	b = qp_moved(qp) - before;
	charge(&qp->obj.ep->rate, b, phase, pl->cls);
	count(pl, b);
	ps->moved[pl->cls] |= w && phase == 1;
	if (pl->arb) {
		pl->port->vl.deficit[pl->vl] -= (int64_t)b;
		if (pl->cls == SCHED_HIGH)
			pl->port->vl.high_run += b;
		else
			pl->port->vl.high_run = 0;
	}
	return w;
}

static void serve(struct pass *ps, enum sched_class cls, int phase);

/* The high-priority VLs' turns (before any low-priority turn); whether
 * they moved anything. */
static bool serve_high(struct pass *ps)
{
	bool moved = false;

	if (!ps->nhi && !ps->hi_all)
		return false;
	ps->in_high = true;
	if (ps->hi_all) {
		bool before = ps->work;

		ps->work = false;
		serve(ps, SCHED_HIGH, 0);
		serve(ps, SCHED_HIGH, 1);
		moved = ps->work;
		ps->work |= before;
	} else {
		/* Phase 1 twice at most: a new round when every backlogged
		 * leaf has spent its deficit, so that low priority does not
		 * get the rest of the pass merely because a round ended. */
		for (int phase = 0, again = 1; phase < 2; phase++) {
			for (unsigned i = 0; i < ps->nhi; i++) {
				struct place pl;

				if (!qp_has_work(ps->hi[i]))
					continue;
				place_of(ps->hi[i], &pl);
				if (pl.cls == SCHED_HIGH && may_step(ps, ps->hi[i], &pl, phase))
					moved |= step(ps, ps->hi[i], &pl, phase, 0);
			}
			if (phase == 1 && !moved && ps->waiting[SCHED_HIGH] && again--) {
				replenish(ps->e->ad, ps->e->passes, SCHED_HIGH);
				ps->waiting[SCHED_HIGH] = false;
				phase = 0;
			}
		}
	}
	ps->in_high = false;
	return moved;
}

static void serve(struct pass *ps, enum sched_class cls, int phase)
{
	for (struct qp_exec *x = ps->e->qps.next; x != &ps->e->qps; x = x->next) {
		struct qp *qp = qp_of_exec(x);
		uint32_t cap = 0;
		struct place pl;

		if (!qp_has_work(qp))
			continue;
		place_of(qp, &pl);
		if (pl.cls != cls || !may_step(ps, qp, &pl, phase))
			continue;
		/* IBA 7.6.9: a low-priority turn goes only when the high-priority
		 * VLs have nothing they may send, or when high_limit says one
		 * low-priority packet is due. */
		if (cls == SCHED_LOW && pl.arb && !ps->in_high && serve_high(ps)) {
			if (!high_limited(pl.port))
				continue;
			cap = VLARB_CHUNK_MIN;
		}
		step(ps, qp, &pl, phase, cap);
	}
}

/* The pass's look before it serves: who has work, at which priority. */
static void survey(struct pass *ps)
{
	struct adapter *ad = ps->e->ad;

	for (unsigned i = 0; i < ad->nports; i++) {
		struct port_vl *v = &ad->ports[i]->vl;

		v->busy = v->open = 0;
		for (unsigned vl = 0; vl < VLARB_VLS; vl++)
			if (v->deficit[vl] > 0)
				v->open |= 1u << vl;
	}
	for (struct qp_exec *x = ps->e->qps.next; x != &ps->e->qps; x = x->next) {
		struct qp *qp = qp_of_exec(x);
		struct rate_node *leaf = &qp->obj.ep->rate;
		struct place pl;

		place_of(qp, &pl);
		if (pl.cls == SCHED_HIGH) {
			if (ps->nhi < SCHED_HI_MAX)
				ps->hi[ps->nhi++] = qp;
			else
				ps->hi_all = true;
		}
		if (!qp_has_work(qp) || !under_caps(leaf))
			continue;
		mark_busy(leaf, ps->e->passes, pl.cls);
		if (pl.port)
			pl.port->vl.busy |= 1u << pl.vl;
		if (leaf_prio(leaf) > ps->top[pl.cls])
			ps->top[pl.cls] = leaf_prio(leaf);
		ps->low_ready |= pl.arb && pl.cls == SCHED_LOW;
	}
}

/* The next pass starts one QP further along the engine's list, so that an
 * endpoint's budget (deficit, tokens) does not always go to its first QPs
 * (its others could wait seconds behind a cap). */
static void rotate(struct engine *e)
{
	struct qp_exec *first = e->qps.next;

	if (first == &e->qps || first->next == &e->qps)
		return;
	e->qps.next = first->next;
	first->next->prev = &e->qps;
	first->prev = e->qps.prev;
	first->next = &e->qps;
	e->qps.prev->next = first;
	e->qps.prev = first;
}

bool sched_pass(struct engine *e, uint64_t now, bool *held)
{
	struct pass ps = {.e = e, .now = now, .dt = e->sched_last_ns ? now - e->sched_last_ns : 0};
	bool refilled = false;

	refill_all(e->ad, now);
	e->passes++;
	e->sched_last_ns = now;
	survey(&ps);
	/* VL arbitration first (the high class, then the low one with the
	 * high class looked at between its turns), the rate hierarchy within. */
	for (int cls = SCHED_HIGH; cls < SCHED_CLASSES; cls++)
		for (int phase = 0; phase < 2; phase++)
			serve(&ps, (enum sched_class)cls, phase);
	for (unsigned i = 0; i < e->ad->nports; i++)
		refilled |= vl_replenish(e->ad->ports[i]);
	for (int cls = SCHED_HIGH; cls < SCHED_CLASSES; cls++)
		if (ps.waiting[cls] && !ps.moved[cls]) {
			replenish(e->ad, e->passes, (enum sched_class)cls);
			refilled = true;
		}
	*held = ps.held;
	rotate(e);
	/* A new round: the next pass serves it. */
	return ps.work || refilled;
}
