/* SPDX-License-Identifier: MIT */
/*
 * The admin socket's provisioning commands ("pd.alloc", "qp.create"...):
 * each runs the tenant protocol's control operation through ctl_call() as
 * the endpoint's manager (a caller without a client). The JSON <-> struct
 * translation is table-driven (admin_prov_abi.c); there is no second
 * implementation of any operation here.
 *
 * Security model: the request has been parsed by admin.c but its members
 * are unchecked: codec_decode() type- and range-checks every member and
 * refuses unknown ones before anything runs; handles are looked up by the
 * handler in the named endpoint only; every fd that came with the line is
 * closed or handed to ctl_call() (which closes what the handler does not
 * keep) on every path, and reply fds are closed (the manager gets JSON).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ciov/ciov.h>

#include "adapter/adapter.h"
#include "adapter/admin.h"
#include "adapter/admin_prov.h"
#include "adapter/ctl.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "common/fdmsg.h"

/* Why an errno happened, in words that say what to do. */
struct prov_hint {
	int err; /* positive errno; 0 ends a list */
	const char *text;
};

struct prov_cmd;
typedef int prov_run_fn(struct caller *c, const struct prov_cmd *pc, const void *rq, int *fds,
			int nfds, struct json_object *rep);

struct prov_cmd {
	const char *name;
	enum ciov_ctl_op op;
	prov_run_fn *run;
	const struct prov_hint *hints; /* this command's, before the generic ones */
};

static prov_run_fn run_call, run_list;

#define HINTS(...) ((const struct prov_hint[]){__VA_ARGS__, {0, NULL}})
#define NO_HINTS HINTS({0, NULL})

static const char busy_pd[] =
	"a tenant has it open, or MRs, SRQs, QPs or AHs still use it: destroy those first";

/* Ops for the manager only: OPEN, CLOSE and *_OPEN are a tenant's; a
 * completion channel is a pipe for a process, useless over JSON. */
static const struct prov_cmd prov_cmds[] = {
	{"pd.alloc", CIOV_CTL_PD_ALLOC, run_call, NO_HINTS},
	{"pd.dealloc", CIOV_CTL_PD_DEALLOC, run_call, HINTS({EBUSY, busy_pd})},
	{"seg.attach", CIOV_CTL_SEG_ATTACH, run_call,
	 HINTS({EINVAL, "the fd must be a memfd sealed with F_SEAL_SHRINK; offset, length and "
			"iova page-aligned, the range inside the memfd and free in the I/O space"},
	       {EEXIST, "iova..iova+length overlaps a segment already attached"})},
	{"seg.detach", CIOV_CTL_SEG_DETACH, run_call,
	 HINTS({EBUSY, "a tenant has it open or MRs still use it"})},
	{"mr.reg", CIOV_CTL_MR_REG, run_call,
	 HINTS({EINVAL, "length must be 1..max_mr_size, and remote_write or remote_atomic need "
			"local_write (IBA 10.6.3.1)"},
	       {EFAULT, "iova..iova+length must lie inside segments attached with seg.attach"},
	       {ENOENT, "no such PD on this endpoint; obj.list lists them"})},
	{"mr.dereg", CIOV_CTL_MR_DEREG, run_call, HINTS({EBUSY, "a tenant has it open"})},
	{"cq.create", CIOV_CTL_CQ_CREATE, run_call,
	 HINTS({EINVAL, "cqe must be 1..max_cqe (adapter.show lists the limits)"})},
	{"cq.destroy", CIOV_CTL_CQ_DESTROY, run_call,
	 HINTS({EBUSY, "a tenant has it open or QPs still use it"})},
	{"srq.create", CIOV_CTL_SRQ_CREATE, run_call,
	 HINTS({ENOENT, "no such PD on this endpoint; obj.list lists them"})},
	{"srq.modify", CIOV_CTL_SRQ_MODIFY, run_call,
	 HINTS({EOPNOTSUPP, "an SRQ cannot be resized (max_wr): only srq_limit can change"})},
	{"srq.destroy", CIOV_CTL_SRQ_DESTROY, run_call,
	 HINTS({EBUSY, "a tenant has it open or QPs still use it"})},
	{"qp.create", CIOV_CTL_QP_CREATE, run_call,
	 HINTS({ENOENT, "pd, send_cq, recv_cq and srq must name objects of this endpoint"})},
	{"qp.modify", CIOV_CTL_QP_MODIFY, run_call,
	 HINTS({EINVAL, "the transition is not allowed from the QP's state, or the mask lacks an "
			"attribute it requires or has one it forbids (IBA 10.3.1)"})},
	{"qp.query", CIOV_CTL_QP_QUERY, run_call, NO_HINTS},
	{"qp.destroy", CIOV_CTL_QP_DESTROY, run_call, HINTS({EBUSY, "a tenant has it open"})},
	{"ah.create", CIOV_CTL_AH_CREATE, run_call,
	 HINTS({ENOENT, "no such PD on this endpoint; obj.list lists them"})},
	{"ah.destroy", CIOV_CTL_AH_DESTROY, run_call, NO_HINTS},
	{"obj.list", CIOV_CTL_LIST, run_list, NO_HINTS},
};

static const struct prov_hint generic_hints[] = {
	{ENOENT, "no such handle on this endpoint; obj.list lists them"},
	{EBUSY, "the object is in use: a tenant has it open or other objects depend on it"},
	{EDQUOT, "over the endpoint's quota: endpoint.show shows usage, endpoint.set raises it"},
	{ENOSPC, "the adapter's limit is reached (adapter.show lists the limits)"},
	{EINVAL, "a value is out of range for this adapter (adapter.show lists the limits)"},
	{EOPNOTSUPP, "this ciovd does not implement the operation yet"},
	{ENOMEM, "ciovd is out of memory"},
	{0, NULL},
};

/* Members of every request that the command's struct does not describe. */
static const char *const envelope[] = {"cmd", "endpoint", "fds", NULL};

static const char *hint_for(const struct prov_hint *h, int err)
{
	for (; h->text; h++)
		if (h->err == err)
			return h->text;
	return NULL;
}

/* "pd.alloc on endpoint vm1: Operation not permitted (endpoint vm1 is ...)" */
static struct json_object *prov_error(const struct prov_cmd *pc, const struct endpoint *ep,
				      int err)
{
	const char *hint = hint_for(pc->hints, err);
	char buf[160];

	if (!hint)
		hint = hint_for(generic_hints, err);
	if (err == EPERM && ep->mode != CIOV_MODE_NATIVE) {
		snprintf(buf, sizeof(buf), "endpoint %s is %s: %s creates its own resources",
			 ep->name, ciov_mode_str(ep->mode),
			 ep->mode == CIOV_MODE_SOFTWARE ? "its software-IOV service" : "its tenant");
		hint = buf;
	} else if (err == EPERM) {
		hint = "the manager may not do this on a native endpoint";
	}
	log_debug("endpoint %s: admin %s: %s", ep->name, pc->name, strerror(err));
	if (!hint)
		return admin_error(err, "%s on endpoint %s: %s", pc->name, ep->name, strerror(err));
	return admin_error(err, "%s on endpoint %s: %s (%s)", pc->name, ep->name, strerror(err),
			   hint);
}

/* One control op; its reply struct becomes the reply's members. */
static int run_call(struct caller *c, const struct prov_cmd *pc, const void *rq, int *fds,
		    int nfds, struct json_object *rep)
{
	const struct prov_codec *pcd = &prov_codecs[pc->op];
	union {
		char buf[CIOV_CTL_MSG_MAX];
		uint64_t align;
	} rp;
	int fds_out[CIOV_CTL_FDS_MAX];
	int nfds_out = 0;
	size_t rep_len;
	int err;

	err = ctl_call(c, pc->op, rq, pcd->req->size, rp.buf, &rep_len, fds, nfds, fds_out,
		       &nfds_out);
	/* Ring memfds and channel pipes are for a tenant's process: the object
	 * keeps its own, a tenant gets them with the *_OPEN op. */
	fdmsg_close_all(fds_out, nfds_out);
	if (err)
		return err;
	codec_encode(pcd->rep, rp.buf, rep);
	return 0;
}

/* LIST, paged until done: "handles":[...] of the provisioned objects. */
static int run_list(struct caller *c, const struct prov_cmd *pc, const void *rq, int *fds,
		    int nfds, struct json_object *rep)
{
	struct ciov_ctl_list_req lq;
	struct ciov_ctl_list_rep lp;
	struct json_object *arr = json_object_new_array();
	int fds_out[CIOV_CTL_FDS_MAX];
	int nfds_out;
	size_t len;

	memcpy(&lq, rq, sizeof(lq));
	lq.start = 0;
	for (;;) {
		uint32_t next;
		int err = ctl_call(c, CIOV_CTL_LIST, &lq, sizeof(lq), &lp, &len, fds, nfds,
				   fds_out, &nfds_out);

		fdmsg_close_all(fds_out, nfds_out);
		nfds = 0; /* ctl_call closed them */
		if (err) {
			json_object_put(arr);
			return err;
		}
		for (uint32_t i = 0; i < lp.count && i < CIOV_CTL_LIST_MAX; i++)
			json_object_array_add(arr, json_object_new_uint64(lp.handles[i]));
		if (!lp.more || lp.count == 0 || lp.count > CIOV_CTL_LIST_MAX)
			break;
		next = lp.handles[lp.count - 1] + 1;
		if (next <= lq.start)
			break; /* no progress: never loop */
		lq.start = next;
	}
	json_object_object_add(rep, "handles", arr);
	return 0;
}

static const struct prov_cmd *prov_find(const char *cmd)
{
	for (size_t i = 0; i < sizeof(prov_cmds) / sizeof(prov_cmds[0]); i++)
		if (strcmp(prov_cmds[i].name, cmd) == 0)
			return &prov_cmds[i];
	return NULL;
}

struct json_object *admin_provision(struct adapter *ad, const char *cmd, struct json_object *req,
				    int *fds, int nfds)
{
	const struct prov_cmd *pc = prov_find(cmd);
	const struct prov_codec *pcd;
	union {
		char buf[CIOV_CTL_MSG_MAX];
		uint64_t align;
	} rq;
	struct json_object *v, *rep;
	struct caller c = {0};
	const char *name;
	char why[512];
	int err;

	if (!pc) {
		fdmsg_close_all(fds, nfds);
		return NULL;
	}
	pcd = &prov_codecs[pc->op];
	if (nfds != pcd->fds_in) {
		fdmsg_close_all(fds, nfds);
		if (pcd->fds_in)
			return admin_error(EINVAL,
					   "%s takes %d fd (a memfd sealed with F_SEAL_SHRINK): send it with SCM_RIGHTS in the request's sendmsg() and say \"fds\":%d",
					   cmd, pcd->fds_in, pcd->fds_in);
		return admin_error(EINVAL, "%s takes no fds", cmd);
	}
	if (!json_object_object_get_ex(req, "endpoint", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		fdmsg_close_all(fds, nfds);
		return admin_error(EINVAL, "%s needs a string member \"endpoint\" (the endpoint's name)",
				   cmd);
	}
	name = json_object_get_string(v);
	memset(&rq, 0, sizeof(rq));
	err = codec_decode(pcd->req, req, rq.buf, envelope, pc->name, why, sizeof(why));
	if (err) {
		fdmsg_close_all(fds, nfds);
		return admin_error(err, "%s", why);
	}
	c.ep = ep_find(ad, name);
	if (!c.ep) {
		fdmsg_close_all(fds, nfds);
		return admin_error(ENOENT, "no endpoint %.64s", name);
	}
	rep = admin_ok();
	err = pc->run(&c, pc, rq.buf, fds, nfds, rep); /* takes the fds */
	if (err) {
		json_object_put(rep);
		return prov_error(pc, c.ep, -err);
	}
	return rep;
}
