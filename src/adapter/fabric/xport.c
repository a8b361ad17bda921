/* SPDX-License-Identifier: MIT */
/*
 * The transport's glue: a QP's fabric state from RTR to reset, the
 * engine's per-pass work (receive, responses, flush), timers, and UD
 * datagrams.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/adapter.h"
#include "adapter/ah.h"
#include "adapter/endpoint.h"
#include "adapter/fabric/xport_int.h"
#include "adapter/log.h"
#include "adapter/qp.h"

/* Frames one port delivers per engine pass. */
#define XPORT_RX_BUDGET 32
/* How often to look again while a link address is being resolved. */
#define XPORT_RESOLVE_NS 1000000ull
/* The P_Key of every packet: the default partition, full member (IBA
 * 10.9.1.2; the adapter has one P_Key table entry, 0xffff). */
#define XPORT_PKEY 0xffffu

struct xq *xq_of(const struct qp *qp)
{
	return qp->x.xq;
}

bool xport_gid_is_local(struct engine *e, const uint8_t gid[16])
{
	return port_by_gid(e->ad, gid) || ep_by_gid(e->ad, gid);
}

bool xport_qp_remote(const struct qp *qp)
{
	return qp->x.xq != NULL;
}

struct port *xport_qp_port(const struct qp *qp)
{
	struct adapter *ad = qp->obj.ep->ad;

	if (qp->x.xq)
		return qp->x.xq->port;
	return ad->nports ? ad->ports[0] : NULL;
}

static uint32_t xq_pmtu(const struct qp *qp, const struct port *p)
{
	uint32_t m = qp->attr.path_mtu >= CIOV_MTU_256 && qp->attr.path_mtu <= CIOV_MTU_4096
			     ? 128u << qp->attr.path_mtu
			     : p->mtu;

	return m < p->mtu ? m : p->mtu;
}

/* The port an address vector sends from: the fabric port its source GID
 * index names (1 + the port's index, abi.h), else the one that routes to
 * its destination. NULL when that port is gone, down or of the other
 * family: unreachable. Fills DST (sport 0). */
static struct port *av_port(struct adapter *ad, const struct ciov_ah_attr *av,
			    struct port_dst *dst)
{
	uint8_t ip[16];
	struct port *p;
	int family;

	if (!av->sgid_index)
		return port_route(ad, av->dgid, dst);
	p = port_at(ad, av->sgid_index - 1u);
	family = port_ip_of_gid(av->dgid, ip);
	if (!p || !p->up || p->family != family)
		return NULL;
	*dst = (struct port_dst){.family = family};
	memcpy(dst->ip, ip, 16);
	return p;
}

/* The requester's PSNs start at sq_psn, set at RTS (IBA 11.2.4.2). */
static void xq_start_requester(struct xq *xq)
{
	struct qp *qp = xq->qp;

	xq->next_psn = xq->snd_psn = xq->snd_hi = xq->una = qp->attr.sq_psn & WIRE_PSN_MASK;
	xq->retry_left = qp->attr.retry_cnt;
	xq->rnr_left = qp->attr.rnr_retry;
}

int xport_qp_modified(struct qp *qp)
{
	struct engine *e = &qp->obj.ep->ad->engine;
	struct xq *xq = qp->x.xq;
	struct port_dst dst;
	struct port *p;

	if (qp->type != CIOV_QPT_RC)
		return 0;
	if (qp->state == CIOV_QPS_RESET || qp->state == CIOV_QPS_INIT) {
		xport_qp_free(qp);
		return 0;
	}
	if (qp->state == CIOV_QPS_RTS && xq && !xq->sent_any) {
		xq_start_requester(xq);
		return 0;
	}
	if (qp->state != CIOV_QPS_RTR || xq)
		return 0;
	if (xport_gid_is_local(e, qp->attr.ah_attr.dgid))
		return 0;
	p = av_port(qp->obj.ep->ad, &qp->attr.ah_attr, &dst);
	if (!p)
		return 0; /* unreachable: the requester times out (IBA 9.7.6) */
	xq = calloc(1, sizeof(*xq));
	if (!xq)
		return -ENOMEM;
	xq->qp = qp;
	xq->port = p;
	xq->dst = dst;
	/* Flow entropy for ECMP (RoCEv2 annex: any source port). */
	xq->dst.sport = (uint16_t)(0xc000 | ((qp->qpn ^ qp->attr.dest_qp_num) & 0x3fff));
	xq->pmtu = xq_pmtu(qp, p);
	xq->epsn = qp->attr.rq_psn & WIRE_PSN_MASK;
	xq_start_requester(xq);
	qp->x.xq = xq;
	return 0;
}

int xport_connect_check(const struct qp *qp, const struct ciov_qp_attr_wire *attr)
{
	struct engine *e = &qp->obj.ep->ad->engine;
	struct port_dst dst;
	uint8_t ip[16];
	int family;

	if (xport_gid_is_local(e, attr->ah_attr.dgid) || !av_port(e->ad, &attr->ah_attr, &dst))
		return 0;
	family = port_ip_of_gid(attr->ah_attr.dgid, ip);
	for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next) {
		const struct qp *o = qp_of_exec(x);
		const struct xq *oq = o->x.xq;

		if (o == qp || !oq || o->state == CIOV_QPS_ERR || o->state == CIOV_QPS_RESET)
			continue;
		if (o->attr.dest_qp_num == attr->dest_qp_num && oq->dst.family == family &&
		    memcmp(oq->dst.ip, ip, 16) == 0)
			return -EADDRINUSE;
	}
	return 0;
}

void xport_qp_free(struct qp *qp)
{
	struct xq *xq = qp->x.xq;
	struct engine *e = &qp->obj.ep->ad->engine;

	if (!xq)
		return;
	if (xq->due) {
		for (struct xq **pp = &e->xdue; *pp; pp = &(*pp)->due_next)
			if (*pp == xq) {
				*pp = xq->due_next;
				break;
			}
	}
	qp->x.xq = NULL;
	free(xq);
}

unsigned xport_flush(struct qp *qp)
{
	struct xq *xq = qp->x.xq;
	unsigned n;

	if (!xq)
		return 0;
	/* The WQEs in flight still hold their SQ slots: qp_flush() completes
	 * them from the ring with WR_FLUSH_ERR, in order. Forget them here. */
	n = xq->count;
	xq->count = 0;
	xq->timer_ns = xq->rnr_until = xq->resolve_until = 0;
	xq->snd_psn = xq->una = xq->next_psn;
	xq->cur = 0;
	xq->ack = XQ_ACK_NONE;
	for (unsigned i = 0; i < XQ_RD_MAX; i++)
		xq->rd[i].next = xq->rd[i].npsn;
	return n;
}

void xport_port_gone(struct adapter *ad, struct port *p)
{
	struct engine *e = &ad->engine;

	for (struct qp_exec *x = e->qps.next; x != &e->qps; x = x->next) {
		struct qp *qp = qp_of_exec(x);

		if (!qp->x.xq || qp->x.xq->port != p)
			continue;
		/* Its link is gone: the connection is (IBA 10.3.1: a QP whose
		 * path fails goes to error). */
		if (qp->state != CIOV_QPS_ERR)
			engine_qp_error(qp);
		xport_qp_free(qp);
	}
}

void xq_due(struct xq *xq)
{
	struct engine *e = &xq->qp->obj.ep->ad->engine;

	if (xq->due)
		return;
	xq->due = true;
	xq->due_next = e->xdue;
	e->xdue = xq;
}

void xq_desc(const struct xq *xq, struct wire_pkt_desc *d, uint8_t opcode, uint32_t psn)
{
	/* Only what port_tx() reads: the BTH and the extension headers (the
	 * whole descriptor, IP part included, cost a string store per packet). */
	d->bth = (struct wire_bth_desc){
		.opcode = opcode,
		.pkey = XPORT_PKEY,
		.dqpn = xq->qp->attr.dest_qp_num,
		.psn = psn & WIRE_PSN_MASK,
	};
	memset(&d->ext, 0, sizeof(d->ext));
}

int xq_tx(struct xq *xq, const struct wire_pkt_desc *d, const struct iovec *iov, int iovcnt)
{
	int err = port_tx(xq->port, &xq->dst, d, iov, iovcnt);

	if (err == -ENOBUFS) {
		port_tx_flush(xq->port);
		err = port_tx(xq->port, &xq->dst, d, iov, iovcnt);
	}
	return err;
}

uint64_t xport_deadline(const struct qp *qp)
{
	const struct xq *xq = qp->x.xq;
	uint64_t t[3], first = 0;

	if (!xq)
		return 0;
	t[0] = xq->timer_ns;
	t[1] = xq->rnr_until;
	t[2] = xq->resolve_until;
	for (int i = 0; i < 3; i++)
		if (t[i] && (!first || t[i] < first))
			first = t[i];
	return first;
}

bool xport_pass(struct engine *e, uint64_t now)
{
	struct adapter *ad = e->ad;
	bool work = false;
	struct xq *xq, *next, *left = NULL;

	(void)now;
	for (unsigned i = 0; i < ad->nports; i++)
		work |= port_rx_poll(ad->ports[i], xport_rx, e, XPORT_RX_BUDGET) > 0;
	/* Responses and ACKs, in the order the QPs became due; a QP whose
	 * port filled stays due. */
	xq = e->xdue;
	e->xdue = NULL;
	for (; xq; xq = next) {
		next = xq->due_next;
		xq->due = false;
		work = true;
		if (!xresp_output(xq)) {
			xq->due = true;
			xq->due_next = left;
			left = xq;
		}
	}
	for (xq = left; xq; xq = next) {
		next = xq->due_next;
		xq->due_next = e->xdue;
		e->xdue = xq;
	}
	return work;
}

void xport_flush_ports(struct engine *e)
{
	for (unsigned i = 0; i < e->ad->nports; i++)
		port_tx_flush(e->ad->ports[i]);
}

/* ------------------------------------------------------------------------ */
/* UD (IBA 9.8): one packet per message, no acknowledgement. */

int xport_ud_send(struct qp *qp, const struct ah *ah, uint64_t now)
{
	struct adapter *ad = qp->obj.ep->ad;
	struct req *r = &qp->x.req;
	const struct ciov_send_wqe *w = &r->w.wqe;
	struct iovec iov[XQ_PKT_IOV];
	struct wire_pkt_desc d;
	struct dma_cursor c;
	struct port_dst dst;
	struct port *p;
	int n, err;

	if (!ad->nports || xport_gid_is_local(&ad->engine, ah->attr.dgid))
		return -ENOENT;
	p = av_port(ad, &ah->attr, &dst);
	if (!p)
		return -ENOENT;
	if (r->len > p->mtu)
		return -EMSGSIZE;
	dst.sport = (uint16_t)(0xc000 | ((qp->qpn ^ w->remote_qpn) & 0x3fff));
	if (w->flags & CIOV_SEND_INLINE)
		dma_cursor_buf(&c, r->w.raw + sizeof(*w));
	else
		dma_cursor_sgl(&c, qp->obj.ep->iommu, r->lseg, r->nlseg);
	n = dma_iov(&c, r->len, iov, XQ_PKT_IOV);
	if (n < 0)
		return -EFAULT;
	d = (struct wire_pkt_desc){
		.bth = {
			.opcode = w->opcode == CIOV_WR_SEND_WITH_IMM ? WIRE_OP_UD_SEND_ONLY_WITH_IMMEDIATE
								     : WIRE_OP_UD_SEND_ONLY,
			.se = (w->flags & CIOV_SEND_SOLICITED) != 0,
			.pkey = XPORT_PKEY,
			.dqpn = w->remote_qpn,
			.psn = qp->attr.sq_psn & WIRE_PSN_MASK,
		},
		/* IBA 10.2.4.1: a Q_Key with the high bit set means the QP's. */
		.ext.deth = {(w->remote_qkey & 0x80000000u) ? qp->attr.qkey : w->remote_qkey,
			     qp->qpn},
		.ext.imm = be32toh(w->imm_data),
	};
	err = port_tx(p, &dst, &d, iov, n);
	if (err == -ENOBUFS) {
		port_tx_flush(p);
		err = port_tx(p, &dst, &d, iov, n);
	}
	if (err == -EAGAIN) {
		r->deadline_ns = now + XPORT_RESOLVE_NS;
		return -EAGAIN;
	}
	/* Sent, or lost like any datagram (unreachable). */
	qp->attr.sq_psn = psn_add(qp->attr.sq_psn, 1);
	port_tx_flush(p); /* the payload is the tenant's: send before it moves */
	return 0;
}
