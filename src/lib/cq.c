/* SPDX-License-Identifier: MIT */
/*
 * libciov: completion channels and completion queues (control side; the
 * data path is in post.c).
 *
 * Events: one channel may serve several CQs. ciovd, when an armed CQ gets
 * a completion, increments that CQ's ctrl->event_seq and then writes one
 * byte to the channel's pipe. ciov_get_cq_event() reads the pipe (one byte
 * per event) and hands out, for each byte, a CQ of the channel whose
 * event_seq is ahead of what the library has handed out for it, searching
 * round robin so that a busy CQ cannot hide the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "lib/ring.h"

/* ------------------------------------------------------------------------ */
/* Channels. */

static void chan_release(struct lib_obj *lo)
{
	struct chan_priv *ch = lib_container_of(lo, struct chan_priv, lo);

	for (struct cq_priv *cq = ch->cqs; cq; cq = cq->ch_next)
		cq->chan = NULL;
	close(ch->pub.fd);
	pthread_mutex_destroy(&ch->lock);
	free(ch);
}

int ciov_create_comp_channel(struct ciov_endpoint *ep, struct ciov_comp_channel **ret)
{
	struct ciov_ctl_none rq = {0};
	struct ciov_ctl_chan_rep rp;
	struct chan_priv *ch;
	int fd = -1, flags, err;

	if (!ep || !ret)
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	err = lib_call(ep, CIOV_CTL_CHAN_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd, 1);
	if (err)
		goto err_free;
	/* Blocking by default, as libibverbs' channels: the application sets
	 * O_NONBLOCK itself to poll. (ciovd never relies on the flag.) */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		err = -errno;
		goto err_destroy;
	}
	err = -pthread_mutex_init(&ch->lock, NULL);
	if (err)
		goto err_destroy;
	ch->pub.ep = ep;
	ch->pub.handle = rp.handle;
	ch->pub.fd = fd;
	lib_track(ep, &ch->lo, chan_release);
	*ret = &ch->pub;
	return 0;

err_destroy:
	close(fd);
	{
		struct ciov_ctl_handle d = {.handle = rp.handle};

		lib_call(ep, CIOV_CTL_CHAN_DESTROY, &d, sizeof(d), &rq, sizeof(rq), NULL, 0, NULL, 0);
	}
err_free:
	free(ch);
	return err;
}

int ciov_destroy_comp_channel(struct ciov_comp_channel *pub)
{
	struct ciov_ctl_handle rq;
	struct ciov_ctl_none rp;
	struct chan_priv *ch;
	int err;

	if (!pub)
		return 0;
	ch = chan_priv_of(pub);
	rq = (struct ciov_ctl_handle){.handle = pub->handle};
	err = lib_call(pub->ep, CIOV_CTL_CHAN_DESTROY, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
		       NULL, 0);
	if (err)
		return err; /* -EBUSY while CQs use it */
	lib_untrack(&ch->lo);
	chan_release(&ch->lo);
	return 0;
}

static void chan_link(struct chan_priv *ch, struct cq_priv *cq)
{
	pthread_mutex_lock(&ch->lock);
	cq->chan = ch;
	cq->ch_next = ch->cqs;
	ch->cqs = cq;
	pthread_mutex_unlock(&ch->lock);
}

void lib_chan_unlink(struct cq_priv *cq)
{
	struct chan_priv *ch = cq->chan;

	if (!ch)
		return;
	pthread_mutex_lock(&ch->lock);
	for (struct cq_priv **pp = &ch->cqs; *pp; pp = &(*pp)->ch_next) {
		if (*pp == cq) {
			*pp = cq->ch_next;
			break;
		}
	}
	if (ch->scan == cq)
		ch->scan = NULL;
	pthread_mutex_unlock(&ch->lock);
	cq->chan = NULL;
}

/* A CQ of CH with an event not yet handed out, or NULL. Called locked. */
static struct cq_priv *chan_find_fired(struct chan_priv *ch)
{
	struct cq_priv *start = ch->scan ? ch->scan : ch->cqs;
	struct cq_priv *cq = start;

	if (!cq)
		return NULL;
	do {
		/* Pairs with ciovd's release store of event_seq in cq_post(),
		 * made before it wrote the byte we have read. */
		if (ring_load_acquire(&cq->ring.ctrl->event_seq) != cq->events_seen) {
			ch->scan = cq->ch_next;
			return cq;
		}
		cq = cq->ch_next ? cq->ch_next : ch->cqs;
	} while (cq != start);
	return NULL;
}

int ciov_get_cq_event(struct ciov_comp_channel *pub, struct ciov_cq **cq_out, void **cq_context)
{
	struct chan_priv *ch;

	if (!pub || !cq_out)
		return -EINVAL;
	ch = chan_priv_of(pub);
	for (;;) {
		struct cq_priv *cq = NULL;
		char buf[64];
		ssize_t r;

		pthread_mutex_lock(&ch->lock);
		if (ch->pending) {
			cq = chan_find_fired(ch);
			if (cq) {
				cq->events_seen++;
				ch->pending--;
			} else {
				ch->pending = 0; /* events of CQs destroyed since */
			}
		}
		pthread_mutex_unlock(&ch->lock);
		if (cq) {
			*cq_out = &cq->pub;
			if (cq_context)
				*cq_context = cq->pub.cq_context;
			return 0;
		}
		/* Outside the lock: this may block. */
		/* One byte per event (the channel is a pipe). */
		r = read(pub->fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ENOTCONN; /* the adapter closed the channel */
		pthread_mutex_lock(&ch->lock);
		ch->pending += (uint64_t)r;
		pthread_mutex_unlock(&ch->lock);
	}
}

void ciov_ack_cq_events(struct ciov_cq *pub, unsigned nevents)
{
	if (pub)
		__atomic_add_fetch(&cq_priv_of(pub)->events_acked, nevents, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------ */
/* A CQ's QPs, by QPN: poll_cq finds the queue a CQE frees a slot of. */

/* Which of Q's chains is CQ's: 0 for its send CQ, 1 for a distinct
 * receive CQ. */
static unsigned cq_chain(const struct qp_priv *q, const struct cq_priv *cq)
{
	return q->pub.send_cq == &cq->pub ? 0 : 1;
}

static void cq_link(struct cq_priv *cq, struct qp_priv *q)
{
	struct qp_priv **head = &cq->qps[q->pub.qp_num % CQ_QP_BUCKETS];

	pthread_spin_lock(&cq->ring.lock);
	q->cq_next[cq_chain(q, cq)] = *head;
	*head = q;
	pthread_spin_unlock(&cq->ring.lock);
}

static void cq_unlink(struct cq_priv *cq, struct qp_priv *q)
{
	struct qp_priv **p = &cq->qps[q->pub.qp_num % CQ_QP_BUCKETS];

	pthread_spin_lock(&cq->ring.lock);
	while (*p && *p != q)
		p = &(*p)->cq_next[cq_chain(*p, cq)];
	if (*p)
		*p = q->cq_next[cq_chain(q, cq)];
	if (cq->last_qp == q)
		cq->last_qp = NULL;
	pthread_spin_unlock(&cq->ring.lock);
}

void lib_cq_link_qp(struct qp_priv *q)
{
	cq_link(cq_priv_of(q->pub.send_cq), q);
	if (q->pub.recv_cq != q->pub.send_cq)
		cq_link(cq_priv_of(q->pub.recv_cq), q);
}

void lib_cq_unlink_qp(struct qp_priv *q)
{
	cq_unlink(cq_priv_of(q->pub.send_cq), q);
	if (q->pub.recv_cq != q->pub.send_cq)
		cq_unlink(cq_priv_of(q->pub.recv_cq), q);
}

struct qp_priv *lib_cq_find_qp(struct cq_priv *cq, uint32_t qpn)
{
	struct qp_priv *q = cq->last_qp;

	if (q && q->pub.qp_num == qpn)
		return q;
	for (q = cq->qps[qpn % CQ_QP_BUCKETS]; q; q = q->cq_next[cq_chain(q, cq)])
		if (q->pub.qp_num == qpn)
			return cq->last_qp = q;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* CQs. */

static void cq_free(struct cq_priv *cq)
{
	lib_chan_unlink(cq);
	lib_ring_detach(&cq->ring);
	if (cq->map)
		munmap(cq->map, cq->map_size);
	free(cq);
}

static void cq_release(struct lib_obj *lo)
{
	cq_free(lib_container_of(lo, struct cq_priv, lo));
}

/* Builds the library's CQ from a CQ_CREATE / CQ_OPEN reply (takes FD). */
static int cq_new(struct ciov_endpoint *ep, const struct ciov_ctl_cq_rep *rp, int fd,
		  void *cq_context, struct ciov_comp_channel *channel, int opened,
		  struct ciov_cq **ret)
{
	struct cq_priv *cq = calloc(1, sizeof(*cq));
	int err;

	if (!cq) {
		close(fd);
		return -ENOMEM;
	}
	err = lib_ring_map(fd, rp->map_size, &cq->map);
	if (err)
		goto err_free;
	cq->map_size = (size_t)rp->map_size;
	err = lib_ring_attach(&cq->ring, cq->map, cq->map_size, rp->ring_offset, CIOV_RING_CQ);
	if (err)
		goto err_free;
	cq->pub.ep = ep;
	cq->pub.channel = channel;
	cq->pub.handle = rp->handle;
	cq->pub.cqe = cq->ring.entries;
	cq->pub.cq_context = cq_context;
	cq->opened = opened;
	/* Events sent before we looked are not ours to report. */
	cq->events_seen = ring_load_acquire(&cq->ring.ctrl->event_seq);
	cq->cons = ring_load_acquire(&cq->ring.ctrl->cons);
	if (channel)
		chan_link(chan_priv_of(channel), cq);
	lib_track(ep, &cq->lo, cq_release);
	*ret = &cq->pub;
	return 0;

err_free:
	cq_free(cq);
	return err;
}

int ciov_create_cq(struct ciov_endpoint *ep, int cqe, void *cq_context,
		   struct ciov_comp_channel *channel, struct ciov_cq **ret)
{
	struct ciov_ctl_cq_create_req rq = {0};
	struct ciov_ctl_cq_rep rp;
	int fd, err;

	if (!ep || !ret || cqe <= 0 || (channel && channel->ep != ep))
		return -EINVAL;
	rq.cqe = (uint32_t)cqe;
	rq.channel = channel ? channel->handle : 0;
	err = lib_call(ep, CIOV_CTL_CQ_CREATE, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd, 1);
	if (err)
		return err;
	err = cq_new(ep, &rp, fd, cq_context, channel, 0, ret);
	if (err) {
		struct ciov_ctl_handle d = {.handle = rp.handle};
		struct ciov_ctl_none n;

		lib_call(ep, CIOV_CTL_CQ_DESTROY, &d, sizeof(d), &n, sizeof(n), NULL, 0, NULL, 0);
	}
	return err;
}

int ciov_open_cq(struct ciov_endpoint *ep, uint32_t handle, void *cq_context,
		 struct ciov_comp_channel *channel, struct ciov_cq **ret)
{
	struct ciov_ctl_cq_open_req rq = {.handle = handle};
	struct ciov_ctl_cq_rep rp;
	int fd, err;

	if (!ep || !ret || (channel && channel->ep != ep))
		return -EINVAL;
	rq.channel = channel ? channel->handle : 0;
	err = lib_call(ep, CIOV_CTL_CQ_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, &fd, 1);
	if (err)
		return err;
	err = cq_new(ep, &rp, fd, cq_context, channel, 1, ret);
	if (err)
		lib_close_handle(ep, CIOV_OBJ_CQ, handle);
	return err;
}

int ciov_destroy_cq(struct ciov_cq *pub)
{
	struct cq_priv *cq;
	int err;

	if (!pub)
		return 0;
	cq = cq_priv_of(pub);
	if (cq->opened) {
		err = lib_close_handle(pub->ep, CIOV_OBJ_CQ, pub->handle);
	} else {
		struct ciov_ctl_handle rq = {.handle = pub->handle};
		struct ciov_ctl_none rp;

		err = lib_call(pub->ep, CIOV_CTL_CQ_DESTROY, &rq, sizeof(rq), &rp, sizeof(rp),
			       NULL, 0, NULL, 0);
	}
	if (err)
		return err; /* -EBUSY while QPs use it */
	lib_untrack(&cq->lo);
	cq_free(cq);
	return 0;
}
