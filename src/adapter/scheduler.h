/* SPDX-License-Identifier: MIT */
/*
 * The scheduler (DESIGN.md "QoS"): which QP's next chunk the engine moves.
 * Three levels, in this order:
 *
 * 1. VL arbitration per port (vlarb.h, IBA 7.6.9): a QP's SL maps to a VL;
 *    a low-priority turn goes only when the high-priority VLs have nothing
 *    they may send, or when high_limit x 4 KiB of high-priority bytes went
 *    while low-priority work waited (then one 4 KiB turn). The arbiter
 *    serves the high-priority VLs before every low-priority turn, and
 *    low-priority turns are short (their VL's weight x 64 bytes), so a
 *    high-priority request waits for one short turn at most. Within a
 *    table, VLs share by deficit round robin on their weights.
 * 2. The rate hierarchy (rate.h, devlink rate), within each class (own
 *    rounds per class): guarantees (tx_share) first, then the rest by
 *    deficit round robin on hierarchical weights
 *    (a node's tx_weight shares among its backlogged siblings, what a group
 *    gets is shared among its children), among the highest tx_priority
 *    backlogged; caps (tx_max, on a leaf and every group above it) are
 *    token buckets.
 * 3. Round robin among an endpoint's QPs (the engine's list order).
 *
 * Charging. On loopback the engine's copy bandwidth is the shared
 * resource: a message's bytes are charged to the requester when it
 * completes, whatever the direction (an RDMA READ's data and an atomic's
 * 8 bytes included: the requester pulls them). On the fabric the port is:
 * the requester is charged as its packets go out, a READ for the length
 * its responses will bring, an atomic 8 bytes. Responses themselves (READ
 * responses, ACKs, atomic acknowledgements) are sent by the responder's
 * receive work ahead of arbitration: they were charged to the requester.
 *
 * Bytes per SL and per VL are counted on the QP's port (xport_qp_port()):
 * its fabric port, or the first port for a QP on loopback.
 */
#ifndef CIOV_SCHED_H
#define CIOV_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct adapter;
struct engine;
struct qp;

/* One engine pass under the scheduler; whether anything moved. Sets
 * *held when work waits only for a cap to refill. */
bool sched_pass(struct engine *e, uint64_t now, bool *held);
/* Whether any rate setting or non-default port QoS exists (else the
 * engine's plain pass runs). */
bool sched_active(struct adapter *ad);
/* The plain pass's step: req_step, with the bytes counted per SL and VL. */
bool sched_step_counted(struct qp *qp, uint64_t now);

#endif
