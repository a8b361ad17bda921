/* SPDX-License-Identifier: MIT */
/*
 * libciov's side of the shared-memory rings, and the private state of the
 * queue objects built on them (channels, CQs, SRQs, QPs, AHs), shared by
 * cq.c, srq.c, qp.c, ah.c and post.c.
 *
 * The library trusts ciovd, but it checks the geometry of every ring it
 * maps against the mapping, so that a confused reply cannot make it touch
 * memory outside the map.
 */
#ifndef CIOV_LIB_RING_H
#define CIOV_LIB_RING_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/ring.h"
#include "lib/lib.h"

struct lib_ring {
	struct ciov_ring_ctrl *ctrl;
	uint8_t *slots;
	uint32_t entries; /* power of two */
	uint32_t mask;
	uint32_t entry_size;
	pthread_spinlock_t lock; /* one poster / poller at a time */
};

struct chan_priv;
struct qp_priv;

/* A CQ's table of the QPs whose completions it takes (by QPN), so that a
 * polled CQE frees its WQE's slot (ciov_cqe.wqe_idx). */
#define CQ_QP_BUCKETS 64u

struct cq_priv {
	struct ciov_cq pub;
	struct lib_obj lo;
	void *map;
	size_t map_size;
	struct lib_ring ring;
	uint32_t cons;		/* the library's consumer index */
	uint32_t events_seen;	/* ctrl->event_seq values consumed */
	uint32_t events_acked;
	struct chan_priv *chan; /* for unlinking */
	struct cq_priv *ch_next; /* the channel's list of CQs */
	/* Under ring.lock: */
	struct qp_priv *qps[CQ_QP_BUCKETS];
	struct qp_priv *last_qp; /* the last one found */
	int opened;
};

struct chan_priv {
	struct ciov_comp_channel pub;
	struct lib_obj lo;
	pthread_mutex_t lock; /* cqs, pending, scan */
	struct cq_priv *cqs;
	struct cq_priv *scan; /* where the next search starts (fairness) */
	uint64_t pending;     /* events read from the channel pipe, not handed out */
};

struct srq_priv {
	struct ciov_srq pub;
	struct lib_obj lo;
	void *map;
	size_t map_size;
	struct lib_ring ring;
	int opened;
};

struct qp_priv {
	struct ciov_qp pub;
	struct lib_obj lo;
	void *map;
	size_t map_size;
	struct lib_ring sq;
	struct lib_ring rq; /* ctrl NULL with an SRQ */
	/* The ring index past the last WQE whose completion was polled: the
	 * slots from here on are not the poster's yet (the verbs rule: a WR is
	 * outstanding until its completion is polled). Written by poll_cq
	 * under the CQ's lock, read by post under the queue's. */
	uint32_t sq_done;
	uint32_t rq_done;
	struct qp_priv *cq_next[2]; /* chains in send_cq's and recv_cq's tables */
	int opened;
};

struct ah_priv {
	struct ciov_ah pub;
	struct lib_obj lo;
};

#define cq_priv_of(p) lib_container_of(p, struct cq_priv, pub)
#define chan_priv_of(p) lib_container_of(p, struct chan_priv, pub)
#define srq_priv_of(p) lib_container_of(p, struct srq_priv, pub)
#define qp_priv_of(p) lib_container_of(p, struct qp_priv, pub)
#define ah_priv_of(p) lib_container_of(p, struct ah_priv, pub)

/* Maps MAP_SIZE bytes of ring memfd FD read/write and closes FD. */
static inline int lib_ring_map(int fd, uint64_t map_size, void **ret)
{
	void *p;
	int err = 0;

	if (map_size == 0 || map_size > SIZE_MAX / 2) {
		close(fd);
		return -EPROTO;
	}
	p = mmap(NULL, (size_t)map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err = -errno;
	close(fd);
	if (err)
		return err;
	*ret = p;
	return 0;
}

/* Finds the ring of KIND at OFFSET in MAP and checks that it fits. */
static inline int lib_ring_attach(struct lib_ring *r, void *map, size_t map_size,
				  uint64_t offset, enum ciov_ring_kind kind)
{
	struct ciov_ring_ctrl *c;
	uint64_t need;

	if (offset > map_size || map_size - offset < sizeof(*c))
		return -EPROTO;
	c = (struct ciov_ring_ctrl *)((uint8_t *)map + offset);
	need = sizeof(*c) + (uint64_t)c->entries * c->entry_size;
	if (c->magic != CIOV_RING_MAGIC || c->version != CIOV_ABI_VERSION || c->kind != kind ||
	    c->entries == 0 || (c->entries & (c->entries - 1)) || need > map_size - offset)
		return -EPROTO;
	/* A CQE names a work queue's slot in 16 bits (ciov_cqe.wqe_idx). */
	if ((kind == CIOV_RING_SQ || kind == CIOV_RING_RQ) && c->entries > CIOV_WQ_MAX)
		return -EPROTO;
	r->ctrl = c;
	r->slots = (uint8_t *)(c + 1);
	r->entries = c->entries;
	r->mask = c->entries - 1;
	r->entry_size = c->entry_size;
	return -pthread_spin_init(&r->lock, PTHREAD_PROCESS_PRIVATE);
}

/* The CQ tables (cq.c): a QP is linked into its CQs' while it lives. */
void lib_cq_link_qp(struct qp_priv *q);
void lib_cq_unlink_qp(struct qp_priv *q);
struct qp_priv *lib_cq_find_qp(struct cq_priv *cq, uint32_t qpn);

static inline void lib_ring_detach(struct lib_ring *r)
{
	if (r->ctrl)
		pthread_spin_destroy(&r->lock);
	r->ctrl = NULL;
}

static inline void *lib_ring_slot(const struct lib_ring *r, uint32_t idx)
{
	return r->slots + (size_t)(idx & r->mask) * r->entry_size;
}

/* After publishing prod: kicks the endpoint's doorbell if the engine said
 * it sleeps. The fence orders the release store of prod before the load
 * of need_kick; it pairs with the engine's fence between setting
 * need_kick and re-reading prod (so one of the two sees the other). */
static inline void lib_ring_kick(struct ciov_endpoint *ep, struct lib_ring *r)
{
	uint64_t one = 1;

	ring_fence();
	if (!ring_load_relaxed(&r->ctrl->need_kick))
		return;
	ring_store_relaxed(&r->ctrl->need_kick, 0);
	if (ep->doorbell >= 0 && write(ep->doorbell, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the engine has wake-ups. */
	}
}

/* Channel membership of a CQ (cq.c). */
void lib_chan_unlink(struct cq_priv *cq);

#endif
