/* SPDX-License-Identifier: MIT */
/*
 * The transport over the fabric (IBA chapter 9): what the engine calls
 * when a QP's peer is on another adapter. A connected RC QP gets a struct
 * xq at modify to RTR when its destination GID is not this adapter's; a UD
 * QP sends each datagram through the port that reaches the AH's GID.
 *
 * Requester (xport_req.c), completer (xport_comp.c) and responder
 * (xport_resp.c) are explicit state machines over the QP's xq; packets
 * arrive through xport_rx.c. doc/fabric.md describes them.
 */
#ifndef CIOV_FABRIC_XPORT_H
#define CIOV_FABRIC_XPORT_H

#include <stdbool.h>
#include <stdint.h>

struct adapter;
struct ah;
struct port;
struct engine;
struct qp;

/* QP reached RTR (or its address changed): set up or drop its fabric
 * state. 0, or -ENOMEM. */
int xport_qp_modified(struct qp *qp);
/* QP is about to connect (RTR) with attributes ATTR: -EADDRINUSE when
 * another QP of this adapter is connected to the same remote QP. Every
 * endpoint sends from the port's address, so the remote responder cannot
 * tell two of them apart: the adapter must not let a second one in. */
struct ciov_qp_attr_wire;
int xport_connect_check(const struct qp *qp, const struct ciov_qp_attr_wire *attr);
/* QP destroyed or reset: frees its fabric state. */
void xport_qp_free(struct qp *qp);
/* Whether QP's RC peer is across the fabric. */
bool xport_qp_remote(const struct qp *qp);
/* The port QP's requests leave through: its fabric peer's; for a QP on
 * loopback the adapter's first port (its GID is the tenant's); NULL when
 * the adapter has no port. */
struct port *xport_qp_port(const struct qp *qp);

/* The requester's step for a fabric RC QP (called from req_step()). */
bool xport_req_step(struct qp *qp, uint64_t now);
/* Sends the UD WQE in hand (qp->x.req) to AH's GID across the fabric:
 * 0 sent (or lost, as datagrams may be); -ENOENT the GID is not across the
 * fabric; -EAGAIN the link address is being resolved (try again at
 * qp->x.req.deadline_ns); -EMSGSIZE longer than the path MTU; -EFAULT. */
int xport_ud_send(struct qp *qp, const struct ah *ah, uint64_t now);
/* Completes with WR_FLUSH_ERR every WQE QP has in flight (QP in error);
 * how many. */
unsigned xport_flush(struct qp *qp);

/* Port P is being deleted: the QPs connected through it go to error and
 * forget it. */
void xport_port_gone(struct adapter *ad, struct port *p);

/* Once per engine pass: receive on every port, send pending ACKs and
 * responses, flush the ports' batches. Whether anything moved. */
bool xport_pass(struct engine *e, uint64_t now);
/* At the end of a pass: sends what the ports have queued. */
void xport_flush_ports(struct engine *e);
/* QP's next timer (retransmit, RNR), 0 if none. */
uint64_t xport_deadline(const struct qp *qp);

/* Whether GID names this adapter (one of its ports) or endpoint EP. */
bool xport_gid_is_local(struct engine *e, const uint8_t gid[16]);

#endif
