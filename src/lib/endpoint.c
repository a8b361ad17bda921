/* SPDX-License-Identifier: MIT */
/* libciov: adapter, endpoint connection and the control round trip. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdmsg.h"
#include "lib/lib.h"

int ciov_adapter_open(const char *runtime_dir, struct ciov_adapter **ret)
{
	struct ciov_adapter *ad;

	if (!runtime_dir || !*runtime_dir)
		runtime_dir = getenv("CIOV_RUNTIME_DIR");
	if (!runtime_dir || !*runtime_dir)
		runtime_dir = CIOV_DEFAULT_RUNTIME_DIR;
	if (strlen(runtime_dir) + sizeof(CIOV_TENANT_SOCKET) + 1 > sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	ad = calloc(1, sizeof(*ad));
	if (!ad)
		return -ENOMEM;
	strcpy(ad->runtime_dir, runtime_dir);
	*ret = ad;
	return 0;
}

void ciov_adapter_close(struct ciov_adapter *ad)
{
	free(ad);
}

void lib_track(struct ciov_endpoint *ep, struct lib_obj *lo, void (*release)(struct lib_obj *))
{
	lo->release = release;
	lo->next = ep->objs.next;
	lo->prev = &ep->objs;
	ep->objs.next->prev = lo;
	ep->objs.next = lo;
}

void lib_untrack(struct lib_obj *lo)
{
	lo->prev->next = lo->next;
	lo->next->prev = lo->prev;
	lo->prev = lo->next = lo;
}

static int lib_connect(const char *runtime_dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	/* Length checked by ciov_adapter_open(). */
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/%s", runtime_dir,
			     CIOV_TENANT_SOCKET) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err == -ENOENT ? -ECONNREFUSED : err;
	}
	return fd;
}

int lib_call(struct ciov_endpoint *ep, enum ciov_ctl_op op, const void *req, size_t req_len,
	     void *rep, size_t rep_len, const int *fds_in, int nfds_in, int *fds_out,
	     int nfds_out)
{
	union {
		char buf[CIOV_CTL_MSG_MAX];
		struct ciov_ctl_hdr hdr;
	} msg;
	struct ciov_ctl_hdr h;
	int fds[CIOV_CTL_FDS_MAX];
	int nfds, err;
	ssize_t n;

	if (sizeof(msg.hdr) + req_len > sizeof(msg.buf))
		return -EMSGSIZE;
	msg.hdr = (struct ciov_ctl_hdr){
		.magic = CIOV_CTL_MAGIC,
		.version = CIOV_ABI_VERSION,
		.op = (uint16_t)op,
		.seq = ++ep->seq,
		.len = (uint32_t)req_len,
	};
	memcpy(msg.buf + sizeof(msg.hdr), req, req_len);
	err = fdmsg_send(ep->sock, msg.buf, sizeof(msg.hdr) + req_len, fds_in, nfds_in);
	if (err)
		return err == -EPIPE || err == -ECONNRESET ? -ENOTCONN : err;
	n = fdmsg_recv(ep->sock, msg.buf, sizeof(msg.buf), fds, CIOV_CTL_FDS_MAX, &nfds);
	if (n <= 0)
		return n == 0 || n == -ECONNRESET ? -ENOTCONN : (int)n;
	memcpy(&h, msg.buf, sizeof(h) <= (size_t)n ? sizeof(h) : (size_t)n);
	if ((size_t)n < sizeof(h) || h.magic != CIOV_CTL_MAGIC || h.seq != ep->seq ||
	    h.op != op || h.len != (size_t)n - sizeof(h) ||
	    (h.status == 0 && (h.len != rep_len || nfds != nfds_out))) {
		fdmsg_close_all(fds, nfds);
		return -EPROTO;
	}
	if (h.status) {
		fdmsg_close_all(fds, nfds);
		return h.status < 0 ? h.status : -EPROTO;
	}
	memcpy(rep, msg.buf + sizeof(h), rep_len);
	if (nfds)
		memcpy(fds_out, fds, sizeof(int) * (size_t)nfds);
	return 0;
}

int lib_close_handle(struct ciov_endpoint *ep, enum ciov_obj_type type, uint32_t handle)
{
	struct ciov_ctl_close_req rq = {.type = type, .handle = handle};
	struct ciov_ctl_none rp;

	return lib_call(ep, CIOV_CTL_CLOSE, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
}

int ciov_open_endpoint(struct ciov_adapter *ad, const char *name, struct ciov_endpoint **ret)
{
	struct ciov_ctl_open_req rq = {.abi = CIOV_ABI_VERSION};
	struct ciov_endpoint *ep;
	int fds[3], err;

	if (!name || !*name)
		name = getenv("CIOV_ENDPOINT");
	if (!ad || !name || !*name)
		return -EINVAL;
	if (strlen(name) >= CIOV_NAME_MAX)
		return -ENAMETOOLONG;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->ad = ad;
	ep->doorbell = -1;
	ep->async_fd = -1;
	ep->objs.next = ep->objs.prev = &ep->objs;
	strcpy(ep->name, name);
	strcpy(rq.name, name);
	ep->sock = lib_connect(ad->runtime_dir);
	if (ep->sock < 0) {
		err = ep->sock;
		goto err_free;
	}
	err = lib_call(ep, CIOV_CTL_OPEN, &rq, sizeof(rq), &ep->info, sizeof(ep->info), NULL, 0,
		       fds, 3);
	if (err)
		goto err_close;
	ep->doorbell = fds[0];
	err = lib_async_attach(ep, fds[1], fds[2]);
	if (err)
		goto err_async;
	*ret = ep;
	return 0;

err_async:
	lib_async_detach(ep);
	close(ep->doorbell);
err_close:
	close(ep->sock);
err_free:
	free(ep);
	return err;
}

void ciov_close_endpoint(struct ciov_endpoint *ep)
{
	if (!ep)
		return;
	/* The adapter reclaims everything when the connection closes; here we
	 * only free this process's side, newest first. */
	close(ep->sock);
	while (ep->objs.next != &ep->objs) {
		struct lib_obj *lo = ep->objs.next;

		lib_untrack(lo);
		lo->release(lo);
	}
	mem_fini(ep);
	lib_async_detach(ep);
	if (ep->doorbell >= 0)
		close(ep->doorbell);
	free(ep);
}

/* QUERY_PORTS, its count checked against the ABI's bound. */
static int query_ports(struct ciov_endpoint *ep, struct ciov_ctl_query_ports_rep *rp)
{
	struct ciov_ctl_none rq = {0};
	int err;

	err = lib_call(ep, CIOV_CTL_QUERY_PORTS, &rq, sizeof(rq), rp, sizeof(*rp), NULL, 0, NULL, 0);
	if (err)
		return err;
	return rp->count > CIOV_PORTS_MAX ? -EPROTO : 0;
}

int ciov_query_endpoint(struct ciov_endpoint *ep, struct ciov_endpoint_attr *attr)
{
	struct ciov_ctl_none rq = {0};
	struct ciov_ctl_query_ep_rep rp;
	struct ciov_ctl_query_ports_rep pr;
	int err;

	err = lib_call(ep, CIOV_CTL_QUERY_EP, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0, NULL, 0);
	if (err)
		return err;
	err = query_ports(ep, &pr);
	if (err)
		return err;
	memset(attr, 0, sizeof(*attr));
	attr->endpoint_id = rp.endpoint_id;
	attr->mode = (enum ciov_mode)rp.mode;
	memcpy(attr->gid, ep->info.gid, sizeof(attr->gid));
	memcpy(attr->quota, rp.quota, sizeof(attr->quota));
	memcpy(attr->usage, rp.usage, sizeof(attr->usage));
	attr->iotlb_hits = rp.iotlb_hits;
	attr->iotlb_misses = rp.iotlb_misses;
	attr->max_sge = ep->info.max_sge;
	attr->max_inline = ep->info.max_inline;
	attr->max_qp_wr = ep->info.max_qp_wr;
	attr->max_cqe = ep->info.max_cqe;
	attr->active_mtu = ep->info.active_mtu ? ep->info.active_mtu : 4096;
	attr->num_ports = pr.count;
	return 0;
}

int ciov_query_port(struct ciov_endpoint *ep, unsigned index, struct ciov_port_attr *attr)
{
	struct ciov_ctl_query_ports_rep pr;
	const struct ciov_port_info *pi;
	int err = query_ports(ep, &pr);

	if (err)
		return err;
	if (index >= pr.count)
		return -EINVAL;
	pi = &pr.port[index];
	memset(attr, 0, sizeof(*attr));
	memcpy(attr->name, pi->name, sizeof(attr->name) - 1); /* NUL-terminated whatever came */
	memcpy(attr->gid, pi->gid, sizeof(attr->gid));
	attr->active_mtu = pi->active_mtu;
	attr->state = pi->state == CIOV_PORT_ACTIVE ? CIOV_PORT_ACTIVE : CIOV_PORT_DOWN;
	attr->sgid_index = (uint8_t)(index + 1); /* abi.h: the GID table */
	return 0;
}

int ciov_list(struct ciov_endpoint *ep, enum ciov_obj_type type, uint32_t *handles, int max)
{
	struct ciov_ctl_list_req rq = {.type = type};
	struct ciov_ctl_list_rep rp;
	int n = 0;

	if (max < 0)
		return -EINVAL;
	for (;;) {
		int err = lib_call(ep, CIOV_CTL_LIST, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0,
				   NULL, 0);

		if (err)
			return err;
		if (rp.count > CIOV_CTL_LIST_MAX)
			return -EPROTO;
		for (uint32_t i = 0; i < rp.count && n < max; i++)
			handles[n++] = rp.handles[i];
		if (!rp.more || n == max || rp.count == 0)
			return n;
		rq.start = rp.handles[rp.count - 1] + 1;
	}
}
