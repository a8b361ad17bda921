/* SPDX-License-Identifier: MIT */
/*
 * QP numbers, unique on the adapter (IBA 9.2: a packet names its
 * destination by DestQP alone, and every endpoint of an adapter sits
 * behind the same port address). A QPN is drawn at random from the 24-bit
 * space (never 0 and 1, the special QPs, nor 0xffffff, the multicast QPN)
 * so that an endpoint that migrates to another adapter is unlikely to meet
 * one of its QPNs there, and a recycled QP does not reuse its
 * predecessor's number at once.
 */
#ifndef CIOV_ADAPTER_QPN_H
#define CIOV_ADAPTER_QPN_H

#include <stdint.h>

struct qp;

/* Open addressing on the QPN, linear probing, backward-shift deletion. */
struct qpn_table {
	struct qp **slot;
	uint32_t cap; /* a power of two, or 0 */
	uint32_t n;
};

/* Gives QP a fresh QPN (qp->qpn) and indexes it. 0 or -ENOMEM. */
int qpn_alloc(struct qpn_table *t, struct qp *qp);
/* Forgets QP's QPN (no-op if it has none). */
void qpn_release(struct qpn_table *t, struct qp *qp);
/* The QP numbered QPN, or NULL. */
struct qp *qpn_find(const struct qpn_table *t, uint32_t qpn);
void qpn_fini(struct qpn_table *t);

#endif
