/* SPDX-License-Identifier: MIT */
/*
 * Control-operation dispatch and authorization.
 *
 * Security model: requests come from tenants, who may be hostile. The
 * dispatcher has already copied the payload out of the socket buffer; here
 * every length and fd count is checked against the op table before a
 * handler sees the request, and every handle is looked up in the caller's
 * own endpoint, restricted to the objects the caller may use.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "adapter/adapter.h"
#include "adapter/client.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/fabric/port.h"
#include "adapter/iommu.h"
#include "adapter/obj.h"
#include "common/fdmsg.h"

/* Who may call an op (DESIGN.md, "The three IOV modes"). */
enum ctl_class {
	CLS_QUERY,    /* read-only: anyone with access to the endpoint */
	CLS_RESOURCE, /* create/destroy a resource: passthrough tenant or native manager */
	CLS_CONFIG,   /* use/configure own objects: tenant or manager */
	CLS_ATTACH,   /* open a provisioned object: tenants only */
};

static const struct ctl_op_desc {
	const char *name;
	size_t req_size;
	size_t rep_size;
	int fds_in;
	int fds_out;
	enum ctl_class cls;
} ctl_ops[CIOV_CTL_OP_MAX] = {
#define X(N, n, req, rep, fi, fo) [CIOV_CTL_##N] = {#n, sizeof(struct req), sizeof(struct rep), fi, fo},
	CIOV_CTL_OPS(X)
#undef X
};

/* The class of each op; ops not listed are CLS_QUERY. */
static enum ctl_class ctl_class_of(enum ciov_ctl_op op)
{
	switch (op) {
	case CIOV_CTL_SEG_ATTACH:
	case CIOV_CTL_SEG_DETACH:
	case CIOV_CTL_PD_ALLOC:
	case CIOV_CTL_PD_DEALLOC:
	case CIOV_CTL_MR_REG:
	case CIOV_CTL_MR_DEREG:
	case CIOV_CTL_CQ_CREATE:
	case CIOV_CTL_CQ_DESTROY:
	case CIOV_CTL_SRQ_CREATE:
	case CIOV_CTL_SRQ_DESTROY:
	case CIOV_CTL_QP_CREATE:
	case CIOV_CTL_QP_DESTROY:
		return CLS_RESOURCE;
	case CIOV_CTL_CHAN_CREATE:
	case CIOV_CTL_CHAN_DESTROY:
	case CIOV_CTL_QP_MODIFY:
	case CIOV_CTL_SRQ_MODIFY:
	case CIOV_CTL_AH_CREATE:
	case CIOV_CTL_AH_DESTROY:
		return CLS_CONFIG;
	case CIOV_CTL_OPEN:
	case CIOV_CTL_CLOSE:
	case CIOV_CTL_SEG_OPEN:
	case CIOV_CTL_PD_OPEN:
	case CIOV_CTL_MR_OPEN:
	case CIOV_CTL_CQ_OPEN:
	case CIOV_CTL_SRQ_OPEN:
	case CIOV_CTL_QP_OPEN:
		return CLS_ATTACH;
	default:
		return CLS_QUERY;
	}
}

/* The authorization matrix: [mode][caller is manager][class]. */
static const bool ctl_allowed[3][2][4] = {
	[CIOV_MODE_PASSTHROUGH] = {
		/* tenant */  {[CLS_QUERY] = 1, [CLS_RESOURCE] = 1, [CLS_CONFIG] = 1, [CLS_ATTACH] = 1},
		/* manager */ {[CLS_QUERY] = 1},
	},
	[CIOV_MODE_NATIVE] = {
		/* tenant */  {[CLS_QUERY] = 1, [CLS_CONFIG] = 1, [CLS_ATTACH] = 1},
		/* manager */ {[CLS_QUERY] = 1, [CLS_RESOURCE] = 1, [CLS_CONFIG] = 1},
	},
	[CIOV_MODE_SOFTWARE] = {
		/* tenant: the software-IOV service drives its endpoint itself */
		/* tenant */  {[CLS_QUERY] = 1, [CLS_RESOURCE] = 1, [CLS_CONFIG] = 1, [CLS_ATTACH] = 1},
		/* manager */ {[CLS_QUERY] = 1},
	},
};

const char *ctl_op_name(enum ciov_ctl_op op)
{
	return op > CIOV_CTL_INVALID && op < CIOV_CTL_OP_MAX ? ctl_ops[op].name : NULL;
}

static int ctl_authorize(const struct caller *c, enum ciov_ctl_op op)
{
	unsigned mode = c->ep->mode;

	if (mode > CIOV_MODE_SOFTWARE)
		return -EPERM;
	return ctl_allowed[mode][c->client == NULL][ctl_class_of(op)] ? 0 : -EPERM;
}

static int ctl_run(struct caller *c, enum ciov_ctl_op op, const void *req, void *rep, int *fds_in,
		   int *fds_out)
{
	switch (op) {
#define X(N, n, rq, rp, fi, fo)                                                \
	case CIOV_CTL_##N:                                                     \
		return ctl_##n(c, req, rep, fds_in, fds_out);
		CIOV_CTL_OPS(X)
#undef X
	default:
		return -EINVAL;
	}
}

int ctl_call(struct caller *c, enum ciov_ctl_op op, const void *req, size_t req_len, void *rep,
	     size_t *rep_len, int *fds_in, int nfds_in, int *fds_out, int *nfds_out)
{
	const struct ctl_op_desc *d;
	union {
		char buf[CIOV_CTL_MSG_MAX];
		uint64_t align;
	} rq;
	int err;

	*nfds_out = 0;
	*rep_len = 0;
	if (op <= CIOV_CTL_INVALID || op >= CIOV_CTL_OP_MAX) {
		err = -EOPNOTSUPP;
		goto out;
	}
	d = &ctl_ops[op];
	if (req_len != d->req_size || nfds_in != d->fds_in) {
		err = -EINVAL;
		goto out;
	}
	err = ctl_authorize(c, op);
	if (err)
		goto out;
	/* The handler gets its own aligned copy: the caller's buffer may be a
	 * receive buffer at any alignment. */
	memcpy(rq.buf, req, req_len);
	memset(rep, 0, d->rep_size);
	for (int i = 0; i < d->fds_out; i++)
		fds_out[i] = -1;
	err = ctl_run(c, op, rq.buf, rep, fds_in, fds_out);
	if (err) {
		fdmsg_close_all(fds_out, d->fds_out);
	} else {
		*rep_len = d->rep_size;
		*nfds_out = d->fds_out;
	}
out:
	fdmsg_close_all(fds_in, nfds_in);
	ep_count_op(c->ep, err);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Lookup rules shared by every handler. */

int ctl_lookup(struct caller *c, enum ciov_obj_type type, uint32_t handle, struct obj **ret)
{
	struct obj *o = obj_find(c->ep, type, handle);

	if (!o)
		return -ENOENT;
	if (o->owner != c->client && !(c->client && client_attached(c->client, o)))
		return -ENOENT;
	*ret = o;
	return 0;
}

int ctl_lookup_provisioned(struct caller *c, enum ciov_obj_type type, uint32_t handle,
			   struct obj **ret)
{
	struct obj *o = obj_find(c->ep, type, handle);

	if (!o || o->owner)
		return -ENOENT;
	*ret = o;
	return 0;
}

int ctl_obj_create(struct caller *c, enum ciov_obj_type type, size_t size, struct obj **ret)
{
	return obj_create(c->ep, c->client, type, size, ret);
}

int ctl_obj_destroy(struct caller *c, enum ciov_obj_type type, uint32_t handle)
{
	struct obj *o;
	int err = ctl_lookup(c, type, handle, &o);

	if (err)
		return err;
	if (o->owner != c->client)
		return -EPERM; /* opened, not created: release it with CLOSE */
	return obj_destroy(o);
}

int ctl_obj_open(struct caller *c, enum ciov_obj_type type, uint32_t handle, struct obj **ret)
{
	struct obj *o;
	int err = ctl_lookup_provisioned(c, type, handle, &o);

	if (err)
		return err;
	err = client_attach(c->client, o);
	if (err && err != -EALREADY)
		return err;
	*ret = o;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Endpoint-wide operations. */

int ctl_query_ep(struct caller *c, const struct ciov_ctl_none *rq, struct ciov_ctl_query_ep_rep *rp,
		 int *fds_in, int *fds_out)
{
	struct endpoint *ep = c->ep;

	rp->endpoint_id = ep->id;
	rp->mode = ep->mode;
	memcpy(rp->quota, ep->quota, sizeof(rp->quota));
	memcpy(rp->usage, ep->usage, sizeof(rp->usage));
	iommu_stats(ep->iommu, &rp->iotlb_hits, &rp->iotlb_misses);
	return 0;
}

/* The ABI's bounds hold every port ciovd can have. */
_Static_assert(CIOV_PORTS_MAX >= PORT_MAX, "QUERY_PORTS holds every port");
_Static_assert(CIOV_PORT_NAME_MAX >= PORT_NAME_MAX, "port names fit");

int ctl_query_ports(struct caller *c, const struct ciov_ctl_none *rq,
		    struct ciov_ctl_query_ports_rep *rp, int *fds_in, int *fds_out)
{
	struct adapter *ad = c->ep->ad;
	unsigned n = port_count(ad);

	for (unsigned i = 0; i < n && i < CIOV_PORTS_MAX; i++) {
		const struct port *p = port_at(ad, i);
		struct ciov_port_info *pi = &rp->port[rp->count++];

		/* rp is zeroed: the name stays NUL-terminated */
		memcpy(pi->name, p->name, strnlen(p->name, sizeof(pi->name) - 1));
		memcpy(pi->gid, p->gid, sizeof(pi->gid));
		pi->active_mtu = p->mtu;
		pi->state = p->up ? CIOV_PORT_ACTIVE : CIOV_PORT_DOWN;
	}
	return 0;
}

int ctl_list(struct caller *c, const struct ciov_ctl_list_req *rq, struct ciov_ctl_list_rep *rp,
	     int *fds_in, int *fds_out)
{
	uint32_t h;
	struct obj *o;

	if (rq->type <= CIOV_OBJ_NONE || rq->type >= CIOV_OBJ_MAX)
		return -EINVAL;
	/* Lists what the caller may open or use: provisioned objects, and
	 * the caller's own. Paging: handles are reported in index order from
	 * the index of rq->start on. */
	h = rq->start ? (rq->start & POOL_INDEX_MASK) - 1 : 0;
	while ((o = pool_next(&c->ep->obj[rq->type], &h))) {
		if (o->owner && o->owner != c->client)
			continue;
		if (rp->count == CIOV_CTL_LIST_MAX) {
			rp->more = 1;
			break;
		}
		rp->handles[rp->count++] = o->handle;
	}
	return 0;
}

int ctl_close(struct caller *c, const struct ciov_ctl_close_req *rq, struct ciov_ctl_none *rp,
	      int *fds_in, int *fds_out)
{
	struct obj *o = obj_find(c->ep, rq->type, rq->handle);

	if (!o)
		return -ENOENT;
	return client_detach(c->client, o);
}
