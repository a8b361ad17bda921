/* SPDX-License-Identifier: MIT */
/* The adapter's QPN table (qpn.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "adapter/qp.h"
#include "adapter/qpn.h"

#define QPN_FIRST 2u	    /* 0 and 1 are the SMI and GSI QPs (IBA 9.2) */
#define QPN_MCAST 0xffffffu /* IBA 9.2: the multicast QPN */

static uint32_t qpn_hash(uint32_t qpn, uint32_t cap)
{
	return (qpn * 2654435761u) & (cap - 1);
}

static void qpn_insert(struct qpn_table *t, struct qp *qp)
{
	uint32_t i = qpn_hash(qp->qpn, t->cap);

	while (t->slot[i])
		i = (i + 1) & (t->cap - 1);
	t->slot[i] = qp;
	t->n++;
}

/* Keeps the load at most one half. */
static int qpn_grow(struct qpn_table *t)
{
	struct qpn_table nt = {.cap = t->cap ? t->cap * 2 : 64};

	if ((t->n + 1) * 2 <= t->cap)
		return 0;
	nt.slot = calloc(nt.cap, sizeof(*nt.slot));
	if (!nt.slot)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->slot[i])
			qpn_insert(&nt, t->slot[i]);
	free(t->slot);
	*t = nt;
	return 0;
}

struct qp *qpn_find(const struct qpn_table *t, uint32_t qpn)
{
	if (!t->cap)
		return NULL;
	for (uint32_t i = qpn_hash(qpn, t->cap); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (t->slot[i]->qpn == qpn)
			return t->slot[i];
	return NULL;
}

int qpn_alloc(struct qpn_table *t, struct qp *qp)
{
	int err = qpn_grow(t);
	uint32_t qpn;

	if (err)
		return err;
	/* At most 2^24 / 2 QPs fit the table's load, so a free number is
	 * found in a few draws. */
	do {
		if (getrandom(&qpn, sizeof(qpn), 0) != sizeof(qpn))
			qpn = (uint32_t)random();
		qpn &= QPN_MASK;
	} while (qpn < QPN_FIRST || qpn == QPN_MCAST || qpn_find(t, qpn));
	qp->qpn = qpn;
	qpn_insert(t, qp);
	return 0;
}

void qpn_release(struct qpn_table *t, struct qp *qp)
{
	uint32_t i, j, h;

	if (!t->cap || !qp->qpn)
		return;
	for (i = qpn_hash(qp->qpn, t->cap); t->slot[i] != qp; i = (i + 1) & (t->cap - 1))
		if (!t->slot[i])
			return;
	t->slot[i] = NULL;
	t->n--;
	/* Backward shift: move up every entry of the run that hashed at or
	 * before the hole. */
	for (j = (i + 1) & (t->cap - 1); t->slot[j]; j = (j + 1) & (t->cap - 1)) {
		h = qpn_hash(t->slot[j]->qpn, t->cap);
		if (((j - h) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
			t->slot[i] = t->slot[j];
			t->slot[j] = NULL;
			i = j;
		}
	}
}

void qpn_fini(struct qpn_table *t)
{
	free(t->slot);
	*t = (struct qpn_table){0};
}
