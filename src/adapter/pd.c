/* SPDX-License-Identifier: MIT */
/* Protection domains (IBA 10.2.3): a PD only groups MRs, QPs, SRQs, AHs. */
#include <errno.h>

#include "adapter/ctl.h"
#include "adapter/obj.h"
#include "adapter/pd.h"

void pd_destroy(struct obj *o)
{
	(void)o; /* dependents hold references: refs == 0 means nothing left */
}

int pd_lookup(struct caller *c, uint32_t handle, struct pd **ret)
{
	struct obj *o;
	int err = ctl_lookup(c, CIOV_OBJ_PD, handle, &o);

	if (!err)
		*ret = container_of(o, struct pd, obj);
	return err;
}

int ctl_pd_alloc(struct caller *c, const struct ciov_ctl_none *rq, struct ciov_ctl_handle *rp,
		 int *fds_in, int *fds_out)
{
	struct obj *o;
	int err = ctl_obj_create(c, CIOV_OBJ_PD, sizeof(struct pd), &o);

	if (!err)
		rp->handle = o->handle;
	return err;
}

int ctl_pd_dealloc(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_none *rp,
		   int *fds_in, int *fds_out)
{
	return ctl_obj_destroy(c, CIOV_OBJ_PD, rq->handle);
}

int ctl_pd_open(struct caller *c, const struct ciov_ctl_handle *rq, struct ciov_ctl_handle *rp,
		int *fds_in, int *fds_out)
{
	struct obj *o;
	int err = ctl_obj_open(c, CIOV_OBJ_PD, rq->handle, &o);

	if (!err)
		rp->handle = o->handle;
	return err;
}
