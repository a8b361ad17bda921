/* SPDX-License-Identifier: MIT */
/*
 * Tenant connections: framing of the binary control protocol.
 *
 * Security model: every byte a tenant sends is hostile. A message is read
 * whole (SOCK_SEQPACKET) into a private buffer with its fds; the header's
 * magic, version, op and length and the fd count are checked against the
 * op table before anything else; a malformed message gets an error reply
 * and all its fds are closed. A tenant that does not read its replies is
 * disconnected. Its resources are reclaimed whenever it goes away.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "adapter/adapter.h"
#include "adapter/client.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "adapter/obj.h"
#include "common/fdmsg.h"

/* Messages handled per wake-up, so that one flooding tenant cannot starve
 * the others (the loop is level-triggered and comes back). */
#define CLIENT_BATCH 16

static void client_reap(struct loop_deferred *d)
{
	struct client *c = container_of(d, struct client, reap);

	free(c->att);
	free(c);
}

static void client_unlink(struct client *c)
{
	struct client **pp;

	if (!c->ep)
		return;
	for (pp = &c->ep->clients; *pp; pp = &(*pp)->ep_next) {
		if (*pp == c) {
			*pp = c->ep_next;
			break;
		}
	}
	ep_uncharge(c->ep, CIOV_QUOTA_connections, 1);
}

void client_kill(struct client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_del(&c->ad->loop, &c->src);
	c->src.fn = NULL; /* events already fetched for it are skipped */
	while (c->natt)
		client_detach(c, c->att[c->natt - 1]);
	if (c->ep)
		ep_destroy_objects(c->ep, c, false);
	client_unlink(c);
	close(c->src.fd);
	engine_unwatch_doorbell(&c->ad->engine, c);
	if (c->doorbell >= 0)
		close(c->doorbell);
	async_fini(&c->async);
	c->ad->nconns--;
	c->reap.fn = client_reap;
	loop_defer(&c->ad->loop, &c->reap);
}

void client_bind(struct client *c, struct endpoint *ep)
{
	c->ep = ep;
	c->ep_next = ep->clients;
	ep->clients = c;
}

bool client_attached(const struct client *c, const struct obj *o)
{
	for (uint32_t i = 0; i < c->natt; i++)
		if (c->att[i] == o)
			return true;
	return false;
}

int client_attach(struct client *c, struct obj *o)
{
	if (client_attached(c, o))
		return -EALREADY;
	if (c->natt == c->catt) {
		uint32_t ncap = c->catt ? c->catt * 2 : 8;
		struct obj **att = realloc(c->att, ncap * sizeof(*att));

		if (!att)
			return -ENOMEM;
		c->att = att;
		c->catt = ncap;
	}
	c->att[c->natt++] = o;
	obj_get(o);
	return 0;
}

int client_detach(struct client *c, struct obj *o)
{
	for (uint32_t i = 0; i < c->natt; i++) {
		if (c->att[i] == o) {
			c->att[i] = c->att[--c->natt];
			obj_put(o);
			return 0;
		}
	}
	return -ENOENT;
}

/* OPEN: binds the connection to an endpoint (SO_PEERCRED decides). */
int ctl_open(struct caller *cl, const struct ciov_ctl_open_req *rq, struct ciov_ctl_open_rep *rp,
	     int *fds_in, int *fds_out)
{
	struct client *c = cl->client;
	const struct adapter_limits *lim = &c->ad->lim;
	char name[CIOV_NAME_MAX];
	struct endpoint *ep;
	int err;

	if (!c || c->ep)
		return -EISCONN;
	if (rq->abi != CIOV_ABI_VERSION)
		return -EPROTO;
	memcpy(name, rq->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	ep = ep_find(c->ad, name);
	if (!ep)
		return -ENOENT;
	if (!ep_may_open(ep, c->cred.uid, c->cred.gid)) {
		ep_count_op(ep, -EACCES);
		return -EACCES;
	}
	err = ep_charge(ep, CIOV_QUOTA_connections, 1);
	if (err) {
		ep_count_op(ep, err);
		return err;
	}
	/* The doorbell is a pipe: the tenant writes, the engine reads its own
	 * end, whose flags no tenant can change (an eventfd shared by dup
	 * would let the tenant make the engine's read block). */
	{
		int p[2];

		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
			err = -errno;
			goto err_uncharge;
		}
		c->doorbell = p[0];
		fds_out[0] = p[1];
	}
	err = engine_watch_doorbell(&c->ad->engine, c);
	if (err)
		goto err_doorbell;
	err = async_init(&c->async, fds_out + 1, rp);
	if (err)
		goto err_async;
	client_bind(c, ep);
	rp->endpoint_id = ep->id;
	rp->mode = ep->mode;
	memcpy(rp->gid, ep_fabric_gid(ep), sizeof(rp->gid));
	memcpy(rp->quota, ep->quota, sizeof(rp->quota));
	rp->max_sge = lim->max_sge;
	rp->max_inline = lim->max_inline;
	rp->max_qp_wr = lim->max_qp_wr;
	rp->max_cqe = lim->max_cqe;
	rp->active_mtu = ep->ad->nports ? ep->ad->ports[0]->mtu : ENGINE_UD_MTU;
	ep_count_op(ep, 0);
	return 0;

	/* The dispatcher closes what is in fds_out. */
err_async:
	async_fini(&c->async);
	engine_unwatch_doorbell(&c->ad->engine, c);
err_doorbell:
	close(c->doorbell);
	c->doorbell = -1;
err_uncharge:
	ep_uncharge(ep, CIOV_QUOTA_connections, 1);
	return err;
}

static int client_reply(struct client *c, const struct ciov_ctl_hdr *rqh, int status,
			const void *rep, size_t rep_len, int *fds, int nfds)
{
	union {
		char buf[CIOV_CTL_MSG_MAX];
		struct ciov_ctl_hdr hdr;
	} msg;
	int err;

	msg.hdr = (struct ciov_ctl_hdr){
		.magic = CIOV_CTL_MAGIC,
		.version = CIOV_ABI_VERSION,
		.op = rqh->op,
		.seq = rqh->seq,
		.status = status,
		.len = (uint32_t)rep_len,
	};
	if (rep_len)
		memcpy(msg.buf + sizeof(msg.hdr), rep, rep_len);
	err = fdmsg_send(c->src.fd, msg.buf, sizeof(msg.hdr) + rep_len, fds, nfds);
	fdmsg_close_all(fds, nfds);
	return err;
}

/* Handles one received message; returns -errno to drop the connection. */
static int client_handle(struct client *c, const char *buf, size_t len, int *fds, int nfds)
{
	union {
		char buf[CIOV_CTL_MSG_MAX];
		uint64_t align;
	} rep;
	struct ciov_ctl_hdr h = {0};
	struct caller caller = {.ep = c->ep, .client = c};
	int fds_out[CIOV_CTL_FDS_MAX];
	int nfds_out = 0;
	size_t rep_len = 0;
	int err;

	if (len < sizeof(h)) {
		fdmsg_close_all(fds, nfds);
		return client_reply(c, &h, -EBADMSG, NULL, 0, NULL, 0);
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != CIOV_CTL_MAGIC || h.version != CIOV_ABI_VERSION ||
	    h.len != len - sizeof(h)) {
		fdmsg_close_all(fds, nfds);
		err = h.magic != CIOV_CTL_MAGIC || h.len != len - sizeof(h) ? -EBADMSG : -EPROTO;
		if (c->ep)
			ep_count_op(c->ep, err);
		return client_reply(c, &h, err, NULL, 0, NULL, 0);
	}
	if (!c->ep) {
		/* Before OPEN, nothing but OPEN. */
		if (h.op != CIOV_CTL_OPEN || h.len != sizeof(struct ciov_ctl_open_req) || nfds) {
			fdmsg_close_all(fds, nfds);
			return client_reply(c, &h, h.op == CIOV_CTL_OPEN ? -EINVAL : -ENOTCONN,
					    NULL, 0, NULL, 0);
		}
		struct ciov_ctl_open_req rq;

		memcpy(&rq, buf + sizeof(h), sizeof(rq));
		memset(rep.buf, 0, sizeof(struct ciov_ctl_open_rep));
		fds_out[0] = fds_out[1] = fds_out[2] = -1;
		err = ctl_open(&caller, &rq, (void *)rep.buf, NULL, fds_out);
		if (!err) {
			rep_len = sizeof(struct ciov_ctl_open_rep);
			nfds_out = 3;
		} else {
			fdmsg_close_all(fds_out, 3);
		}
		return client_reply(c, &h, err, rep.buf, rep_len, fds_out, nfds_out);
	}
	err = ctl_call(&caller, h.op, buf + sizeof(h), h.len, rep.buf, &rep_len, fds, nfds,
		       fds_out, &nfds_out);
	return client_reply(c, &h, err, rep.buf, rep_len, fds_out, nfds_out);
}

static void client_event(struct loop_src *src, uint32_t events)
{
	struct client *c = container_of(src, struct client, src);
	char buf[CIOV_CTL_MSG_MAX];
	int fds[CIOV_CTL_FDS_MAX];
	int nfds;

	for (int i = 0; i < CLIENT_BATCH && !c->dead; i++) {
		ssize_t n = fdmsg_recv(c->src.fd, buf, sizeof(buf), fds, CIOV_CTL_FDS_MAX, &nfds);
		int err;

		if (n == -EAGAIN)
			return;
		if (n == -EMSGSIZE) {
			/* Oversized message or too many fds: all fds are
			 * closed already; say so and go on. */
			struct ciov_ctl_hdr h = {0};

			if (c->ep)
				ep_count_op(c->ep, -EMSGSIZE);
			err = client_reply(c, &h, -EMSGSIZE, NULL, 0, NULL, 0);
		} else if (n <= 0) {
			err = n ? (int)n : -ECONNRESET;
		} else {
			err = client_handle(c, buf, (size_t)n, fds, nfds);
		}
		if (err) {
			client_kill(c);
			return;
		}
	}
	(void)events;
}

void client_accept(struct loop_src *src, uint32_t events)
{
	struct listener *l = container_of(src, struct listener, src);
	struct adapter *ad = l->ad;
	socklen_t len = sizeof(struct ucred);
	struct client *c;
	int fd;

	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (ad->nconns >= ad->lim.connections) {
		log_warn_rl("tenant socket: connection limit %u reached, refusing",
			    ad->lim.connections);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->ad = ad;
	c->doorbell = -1;
	c->async.mem.fd = -1;
	c->async.pipe_w = -1;
	c->src.fd = fd;
	c->src.fn = client_event;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 ||
	    loop_add(&ad->loop, &c->src, EPOLLIN) < 0) {
		close(fd);
		free(c);
		return;
	}
	ad->nconns++;
	(void)events;
}
