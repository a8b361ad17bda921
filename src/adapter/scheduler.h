/* SPDX-License-Identifier: MIT */
/*
 * The rate scheduler (DESIGN.md "QoS"): which QP's next chunk the engine
 * moves, under the devlink-rate style settings of rate.h.
 *
 * Two phases per engine pass: first the endpoints still under their
 * guarantee (tx_share), then the others by deficit round robin weighted by
 * tx_weight. Caps (tx_max, on a leaf and on every group above it) are
 * token buckets: a node whose bucket is empty moves nothing until it
 * refills. Bytes are charged to the requester's endpoint whatever the
 * direction (RDMA READ responses and atomic results included: the
 * requester pulls them), on loopback where the engine's copy bandwidth is
 * the shared resource.
 *
 * Not yet: tx_priority and VL arbitration; group weights (weights compare
 * leaves across the whole adapter).
 */
#ifndef CIOV_SCHED_H
#define CIOV_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct adapter;
struct engine;

/* One engine pass under the scheduler; whether anything moved. Sets
 * *held when work waits only for a cap to refill. */
bool sched_pass(struct engine *e, uint64_t now, bool *held);
/* Whether any rate setting exists (else the engine's plain pass runs). */
bool sched_active(struct adapter *ad);

#endif
